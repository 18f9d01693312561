"""The server and trained adapters: `/v1/models` lists `character@adapter`, a request for one is
answered by the base model with that adapter applied, a character's active adapter answers plain
requests when it fits the default model, and what cannot be served is a clear 400."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from personae.config import home
from personae.training.adapters import AdapterRegistry
from tests.support.scripted import ScriptedBackend
from tests.support.server import DEFAULT_MODEL, Backends, make_app
from tests.unit.test_training_adapters import make_adapter

URL = "/v1/chat/completions"


class AdaptingBackend(ScriptedBackend):
    """A scripted backend that records which adapter each view was asked for."""

    def __init__(self, model: str) -> None:
        super().__init__(model)
        self.views: list[str] = []

    def with_adapters(self, *names: str) -> ScriptedBackend:
        self.views.extend(names)
        if any(name.endswith("@late") for name in names):
            from personae.errors import AdapterError

            raise AdapterError("not loaded")
        return self


@pytest.fixture
def adapting() -> Backends:
    return Backends(default=AdaptingBackend(DEFAULT_MODEL))


@pytest.fixture
def served(tmp_path: Path, adapting: Backends) -> Iterator[TestClient]:
    registry = AdapterRegistry(home() / "adapters")
    for name in ("book", "late"):
        folder = make_adapter(registry, "holmes", name, ready=True)
        manifest = {"method": "sft", "base": {"name": DEFAULT_MODEL}}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    make_adapter(registry, "holmes", "half", ready=False)
    with TestClient(make_app(tmp_path, adapting)) as client:
        yield client


def ask(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "How did you know?"}]}


def test_models_lists_each_finished_adapter(served: TestClient) -> None:
    ids = [m["id"] for m in served.get("/v1/models").json()["data"]]
    assert ids == ["holmes", "irene", "holmes@book", "holmes@late", f"raw:{DEFAULT_MODEL}"]


def test_a_request_for_an_adapter_gets_the_base_with_it(
    served: TestClient, adapting: Backends
) -> None:
    backend = adapting.default
    assert isinstance(backend, AdaptingBackend)
    backend.enqueue("Elementary.")
    response = served.post(URL, json=ask("holmes@book"))
    assert response.status_code == 200, response.text
    assert response.json()["choices"][0]["message"]["content"] == "Elementary."
    assert backend.views == ["holmes@book"]
    # Without '@': the base alone until the character has an active adapter.
    backend.enqueue("Plain.")
    assert served.post(URL, json=ask("holmes")).status_code == 200
    assert backend.views == ["holmes@book"]
    AdapterRegistry(home() / "adapters").activate("holmes", "book")
    backend.enqueue("Adapted.")
    assert served.post(URL, json=ask("holmes")).status_code == 200
    assert backend.views == ["holmes@book", "holmes@book"]


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("holmes@half", "did not finish training"),
        ("holmes@late", "restart the server"),
    ],
)
def test_adapters_that_cannot_be_served_are_a_400(
    served: TestClient, model: str, message: str
) -> None:
    response = served.post(URL, json=ask(model))
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["message"]


def test_on_a_backend_without_adapters_an_adapter_is_a_400(tmp_path: Path) -> None:
    registry = AdapterRegistry(home() / "adapters")
    folder = make_adapter(registry, "holmes", "book", ready=True)
    (folder / "manifest.json").write_text(json.dumps({"base": {"name": DEFAULT_MODEL}}))
    with TestClient(make_app(tmp_path, Backends())) as client:
        response = client.post(URL, json=ask("holmes@book"))
    assert response.status_code == 400
    assert "embedded backend or a server" in response.json()["error"]["message"]
