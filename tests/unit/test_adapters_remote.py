"""A character's adapter on a remote server (vLLM, SGLang) through the ``openai`` backend: the
request's ``model`` is the LoRA module ``character@adapter`` (SGLang: ``MODEL:character@adapter``),
for chat and ask as for the server; a server that does not list it is one line naming the
``--lora-modules`` argument to add. The remote is a stub on 127.0.0.1 that records each model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from personae.backends.openai_compat import OpenAICompatBackend
from personae.config import home
from personae.training.adapters import AdapterRegistry
from tests.support.server import make_app
from tests.support.stub_openai import Reply, StubOpenAI, completion
from tests.unit.test_cli import CliBackend, one_line_error, run, scripted  # noqa: F401
from tests.unit.test_training_adapters import make_adapter

URL = "/v1/chat/completions"


def make_served_adapter(
    registry: AdapterRegistry, character: str, name: str, *, rank: int = 8, base: str = ""
) -> Path:
    """A finished adapter with the PEFT folder a GPU server loads (config + safetensors)."""
    folder = make_adapter(registry, character, name, ready=True)
    if base:
        manifest = {"method": "sft", "base": {"name": base}}
        (folder / "manifest.json").write_text(json.dumps(manifest))
    peft = folder / "peft"
    peft.mkdir()
    config = {
        "peft_type": "LORA",
        "r": rank,
        "lora_alpha": 2 * rank,
        "target_modules": ["q_proj", "v_proj"],
        "base_model_name_or_path": "/home/someone/.local/share/personae/models",
        "task_type": "CAUSAL_LM",
    }
    (peft / "adapter_config.json").write_text(json.dumps(config))
    header = b'{"__metadata__":{"format":"pt"}}'
    (peft / "adapter_model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header)
    return folder


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def stub() -> Iterator[StubOpenAI]:
    with StubOpenAI() as server:
        server.models = ["base", "sherlock@v1", "holmes@v1"]
        yield server


@pytest.fixture
def registry() -> AdapterRegistry:
    return AdapterRegistry(home() / "adapters")


def ask(stub: StubOpenAI, *extra: str) -> list[str]:
    return ["ask", "sherlock", "Hello", "--base-url", stub.url, "--model", "base", *extra]


def test_ask_sends_the_active_adapter_as_the_model(
    stub: StubOpenAI, registry: AdapterRegistry
) -> None:
    make_served_adapter(registry, "sherlock", "v1")
    registry.activate("sherlock", "v1")
    stub.enqueue(Reply(events=completion("Elementary.")), Reply(events=completion("Plain.")))
    result = run(*ask(stub))
    assert result.exit_code == 0, result.stderr
    assert "Elementary." in result.stdout
    assert run(*ask(stub, "--adapter", "none")).exit_code == 0
    assert stub.models_asked == ["sherlock@v1", "base"]


def test_chat_sends_the_chosen_adapter(stub: StubOpenAI, registry: AdapterRegistry) -> None:
    make_served_adapter(registry, "sherlock", "v1")
    stub.enqueue(Reply(events=completion("Good evening.")))
    chat = ("chat", "sherlock", "--base-url", stub.url, "--model", "base", "--no-memory")
    result = run(*chat, "--adapter", "v1", stdin="Hello\n")
    assert result.exit_code == 0, result.stderr
    assert "Good evening." in result.stdout
    assert stub.models_asked == ["sherlock@v1"]


def test_an_adapter_the_server_does_not_list_is_one_line(
    stub: StubOpenAI, registry: AdapterRegistry
) -> None:
    make_served_adapter(registry, "sherlock", "v2")
    registry.activate("sherlock", "v2")
    error = one_line_error(run(*ask(stub)))
    peft = (registry.folder("sherlock", "v2") / "peft").resolve()
    assert f"--lora-modules sherlock@v2={peft}" in error
    assert "does not list the model sherlock@v2" in error and "--adapter none" in error
    assert stub.models_asked == []  # nothing was generated with the wrong model


def test_a_backend_that_holds_no_adapters_still_says_so(
    scripted: type[CliBackend],  # noqa: F811
    registry: AdapterRegistry,
) -> None:
    make_served_adapter(registry, "sherlock", "v1")
    error = one_line_error(
        run("ask", "sherlock", "Hi", "--backend", "cli-scripted", "--adapter", "v1")
    )
    assert "embedded model or a server that holds them" in error


def test_sglang_is_asked_for_model_colon_adapter(
    stub: StubOpenAI, registry: AdapterRegistry
) -> None:
    (home() / "config.toml").write_text('[backend_options]\nlora_model = "model:name"\n')
    stub.models = ["base"]  # SGLang lists no adapters: the name is not checked first
    make_served_adapter(registry, "sherlock", "v1")
    stub.enqueue(Reply(events=completion("Elementary.")))
    assert run(*ask(stub, "--adapter", "v1")).exit_code == 0
    assert stub.models_asked == ["base:sherlock@v1"]
    assert [r.method for r in stub.requests] == ["POST"]
    (home() / "config.toml").write_text('[backend_options]\nlora_model = "sglang"\n')
    assert "lora_model" in one_line_error(run(*ask(stub, "--adapter", "v1")))


def test_sglang_names_the_adapter_after_the_base(stub: StubOpenAI) -> None:
    stub.models = ["base"]  # SGLang lists no adapters
    backend = OpenAICompatBackend.from_options(
        base_url=stub.url, model="base", lora_model="model:name"
    )
    view = backend.with_adapter("holmes@v1")
    assert view is not None and view.model == "base:holmes@v1"
    assert stub.requests == []  # not checked against the list: SGLang would not have it


def test_a_view_shares_the_connections_and_leaves_them_open(stub: StubOpenAI) -> None:
    from personae.backends import GenerationParams, Message, collect

    backend = OpenAICompatBackend.from_options(base_url=stub.url, model="base")
    assert backend.with_adapter("nobody@x") is None
    view = backend.with_adapter("holmes@v1")
    assert view is not None and view.model == "holmes@v1" and backend.model == "base"
    view.close()
    stub.enqueue(Reply(events=completion("Still here.")))
    text, _ = collect(backend.stream([Message("user", "Hi")], GenerationParams(max_tokens=8)))
    assert text == "Still here."
    backend.close()


# -- the server ----------------------------------------------------------------------------------


@pytest.fixture
def remote(tmp_path: Path, stub: StubOpenAI, registry: AdapterRegistry) -> Iterator[TestClient]:
    make_served_adapter(registry, "holmes", "v1")
    make_served_adapter(registry, "holmes", "v2")

    def backend(model: str) -> OpenAICompatBackend:
        return OpenAICompatBackend.from_options(base_url=stub.url, model=model)

    with TestClient(make_app(tmp_path, backend)) as client:  # type: ignore[arg-type]
        yield client


def body(model: str) -> dict[str, object]:
    return {"model": model, "messages": [{"role": "user", "content": "How did you know?"}]}


def test_the_server_asks_the_remote_for_the_adapter(
    remote: TestClient, stub: StubOpenAI, registry: AdapterRegistry
) -> None:
    for text in ("One.", "Two.", "Three.", "Four."):
        stub.enqueue(Reply(events=completion(text)))
    assert remote.post(URL, json=body("holmes@v1")).status_code == 200
    assert remote.post(URL, json=body("holmes@v1")).status_code == 200
    assert remote.post(URL, json=body("holmes")).status_code == 200  # no active adapter yet
    registry.activate("holmes", "v1")
    answered = remote.post(URL, json=body("holmes"))
    assert answered.json()["choices"][0]["message"]["content"] == "Four."
    assert stub.models_asked == ["holmes@v1", "holmes@v1", "scripted-default", "holmes@v1"]
    listings = [r for r in stub.requests if r.method == "GET"]
    assert len(listings) == 1  # the server remembers what the remote holds


def test_the_server_names_the_argument_a_remote_lacks(
    remote: TestClient, stub: StubOpenAI, registry: AdapterRegistry
) -> None:
    response = remote.post(URL, json=body("holmes@v2"))
    assert response.status_code == 404, response.text
    message = response.json()["error"]["message"]
    assert "--lora-modules holmes@v2=" in message and "\n" not in message
    registry.activate("holmes", "v2")
    assert "adapters activate holmes none" in remote.post(URL, json=body("holmes")).text
    # Restarted with the adapter, the remote lists it: the next request finds it.
    assert stub.models is not None
    stub.models.append("holmes@v2")
    stub.enqueue(Reply(events=completion("Found.")))
    assert remote.post(URL, json=body("holmes@v2")).status_code == 200
    assert stub.models_asked == ["holmes@v2"]
