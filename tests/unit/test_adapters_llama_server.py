"""A character's adapter on llama.cpp's ``llama-server`` through the ``openai`` backend
(``lora_model = "lora-id"``): the request keeps the base model and applies the adapter by its id
in ``"lora"``, the id found by the adapter's path in ``GET /lora-adapters`` (or named in
``lora_ids``). The remote is the stub OpenAI server on 127.0.0.1, answering as llama-server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from personae.backends import GenerationParams, Message, collect
from personae.backends.llama_server_lora import (
    MAX_ADAPTERS,
    find_lora_id,
    labels_of_path,
    lora_adapters_url,
    lora_field,
    parse_lora_adapters,
)
from personae.backends.openai_compat import OpenAICompatBackend
from personae.config import home
from personae.errors import BackendError, ConfigError
from personae.training.adapters import AdapterRegistry
from tests.support.stub_openai import Reply, StubOpenAI, completion
from tests.unit.test_adapters_remote import _no_proxy, make_served_adapter  # noqa: F401
from tests.unit.test_cli import one_line_error, run


@pytest.fixture
def registry() -> AdapterRegistry:
    return AdapterRegistry(home() / "adapters")


@pytest.fixture
def stub(registry: AdapterRegistry) -> Iterator[StubOpenAI]:
    """llama-server started as `personae adapters serve-args --format llama-server` says."""
    with StubOpenAI() as server:
        server.models = ["qwen2.5-coder-0.5b.gguf"]  # llama-server lists its one model
        server.lora_adapters = [
            {"id": 0, "path": str(registry.folder("holmes", "v1") / "adapter.gguf"), "scale": 0.0},
            {"id": 1, "path": str(registry.folder("sherlock", "v1") / "adapter.gguf"), "scale": 0},
        ]
        yield server


def lora_sent(stub: StubOpenAI) -> list[Any]:
    return [r.body.get("lora") for r in stub.requests if isinstance(r.body, dict)]


# -- the rule, pure -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://gpu:8080/v1", "http://gpu:8080/lora-adapters"),
        ("http://gpu:8080/v1/", "http://gpu:8080/lora-adapters"),
        ("http://gpu:8080", "http://gpu:8080/lora-adapters"),
        ("http://gpu/llama/v1", "http://gpu/llama/lora-adapters"),
    ],
)
def test_the_list_is_at_the_servers_root(base_url: str, expected: str) -> None:
    assert lora_adapters_url(base_url) == expected


@pytest.mark.parametrize(
    ("path", "labels"),
    [
        ("/home/me/.local/share/personae/adapters/sherlock/v1/adapter.gguf", {"sherlock@v1"}),
        ("/srv/adapters/sherlock@v1/adapter.gguf", {"sherlock@v1", "adapters@sherlock@v1"}),
        ("/srv/sherlock@v1.gguf", {"sherlock@v1"}),
        (r"C:\adapters\mina\exp\adapter.gguf", {"mina@exp"}),
        ("/srv/lora/shakespeare.gguf", set()),
        ("adapter.gguf", set()),
        ("", set()),
    ],
)
def test_an_adapters_path_names_its_label(path: str, labels: set[str]) -> None:
    assert labels_of_path(path) == labels


def test_the_id_is_the_first_adapter_whose_path_names_the_label() -> None:
    held = {2: "/a/sherlock/v1/adapter.gguf", 0: "/b/other.gguf", 1: "/c/sherlock@v1.gguf"}
    assert find_lora_id(held, "sherlock@v1") == 1
    assert find_lora_id(held, "sherlock@v2") is None
    assert find_lora_id({}, "sherlock@v1") is None


def test_a_request_names_every_adapter_and_applies_one() -> None:
    assert lora_field([2, 0, 1], 1) == [
        {"id": 0, "scale": 0.0},
        {"id": 1, "scale": 1.0},
        {"id": 2, "scale": 0.0},
    ]
    assert lora_field([], 3) == [{"id": 3, "scale": 1.0}]


@pytest.mark.parametrize(
    "payload",
    [
        {"data": []},
        "adapters",
        [1, 2],
        [{"path": "/a.gguf"}],
        [{"id": "0", "path": "/a.gguf"}],
        [{"id": True, "path": "/a.gguf"}],
        [{"id": -1, "path": "/a.gguf"}],
        [{"id": i, "path": ""} for i in range(MAX_ADAPTERS + 1)],
    ],
)
def test_an_answer_that_is_not_an_adapter_list_is_refused(payload: Any) -> None:
    with pytest.raises(ValueError):
        parse_lora_adapters(payload)


def test_an_adapter_without_a_path_is_kept_by_id() -> None:
    assert parse_lora_adapters([{"id": 0}, {"id": 1, "path": 7}]) == {0: "", 1: ""}


@pytest.mark.parametrize(
    "lora_ids",
    [{"sherlock": 0}, {"sherlock@v1": -1}, {"sherlock@v1": MAX_ADAPTERS}, {"sherlock@v1": "x"}],
)
def test_bad_lora_ids_are_one_config_line(lora_ids: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as caught:
        OpenAICompatBackend.from_options(
            base_url="http://127.0.0.1:9/v1", model="m", lora_model="lora-id", lora_ids=lora_ids
        )
    assert "lora_ids" in str(caught.value) and "\n" not in str(caught.value)


# -- against the stub -----------------------------------------------------------------------------


def lora_backend(stub: StubOpenAI, **options: Any) -> OpenAICompatBackend:
    return OpenAICompatBackend.from_options(
        base_url=stub.url, model="base", lora_model="lora-id", **options
    )


def test_a_view_keeps_the_base_model_and_applies_the_adapter_by_id(stub: StubOpenAI) -> None:
    backend = lora_backend(stub, extra_body={"top_k": 20})
    view = backend.with_adapter("sherlock@v1")
    assert view is not None and view.model == "base"
    assert backend.with_adapter("sherlock@v9") is None
    stub.enqueue(Reply(events=completion("Elementary.")), Reply(events=completion("Plain.")))
    params = GenerationParams(max_tokens=8)
    assert collect(view.stream([Message("user", "Hi")], params))[0] == "Elementary."
    assert collect(backend.stream([Message("user", "Hi")], params))[0] == "Plain."
    sent = [r.body for r in stub.requests if isinstance(r.body, dict)]
    assert sent[0]["lora"] == [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 1.0}]
    assert sent[0]["top_k"] == 20 and sent[0]["model"] == "base"
    assert "lora" not in sent[1]  # the base backend is untouched
    assert [r.path for r in stub.requests if r.method == "GET"] == ["/lora-adapters"] * 2
    backend.close()


def test_named_ids_are_used_without_asking(stub: StubOpenAI) -> None:
    backend = lora_backend(stub, lora_ids={"holmes@v1": 4, "mina@exp": 5})
    view = backend.with_adapter("mina@exp")
    assert view is not None
    assert view.options.extra_body["lora"] == [{"id": 4, "scale": 0.0}, {"id": 5, "scale": 1.0}]
    assert stub.requests == []
    # a label not named is looked up in the server's list
    found = backend.with_adapter("sherlock@v1")
    assert found is not None and found.options.extra_body["lora"][1] == {"id": 1, "scale": 1.0}


def test_a_server_that_is_not_llama_server_is_one_line(stub: StubOpenAI) -> None:
    stub.lora_adapters = None
    stub.default = Reply(status=404, json={"error": {"message": "File Not Found"}})
    with pytest.raises(BackendError, match="/lora-adapters") as caught:
        lora_backend(stub).with_adapter("sherlock@v1")
    assert "\n" not in str(caught.value)
    stub.default = Reply(json={"object": "list", "data": []})
    with pytest.raises(BackendError, match='lora_model = "lora-id" is for llama-server'):
        lora_backend(stub).with_adapter("sherlock@v1")


def test_ask_applies_the_active_adapter_on_llama_server(
    stub: StubOpenAI, registry: AdapterRegistry
) -> None:
    (home() / "config.toml").write_text('[backend_options]\nlora_model = "lora-id"\n')
    make_served_adapter(registry, "sherlock", "v1")
    registry.activate("sherlock", "v1")
    stub.enqueue(Reply(events=completion("Elementary.")))
    ask = ["ask", "sherlock", "Hello", "--base-url", stub.url, "--model", "base"]
    result = run(*ask)
    assert result.exit_code == 0, result.stderr
    assert "Elementary." in result.stdout
    assert stub.models_asked == ["base"]
    assert lora_sent(stub) == [[{"id": 0, "scale": 0.0}, {"id": 1, "scale": 1.0}]]


def test_an_adapter_llama_server_does_not_hold_names_the_fix(
    stub: StubOpenAI, registry: AdapterRegistry
) -> None:
    (home() / "config.toml").write_text('[backend_options]\nlora_model = "lora-id"\n')
    make_served_adapter(registry, "sherlock", "v2")
    ask = ["ask", "sherlock", "Hello", "--base-url", stub.url, "--model", "base"]
    error = one_line_error(run(*ask, "--adapter", "v2"))
    gguf = (registry.folder("sherlock", "v2") / "adapter.gguf").resolve()
    assert f"--lora {gguf} --lora-init-without-apply" in error
    assert 'lora_ids = {"sherlock@v2" = ID}' in error and "--adapter none" in error
    assert stub.models_asked == []  # nothing generated without the adapter
