"""Per-model sampling defaults and repetition control: the catalogue's values are checked, a
user's overrides land on top of them, and each backend sends the repetition fields (llama.cpp's
DRY, OpenAI's presence/frequency penalties) only when they are set."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result
from fastapi.testclient import TestClient

from personae.backends import GenerationParams, Message, register_backend
from personae.backends.base import REPETITION_FIELDS, SAMPLING_FIELDS
from personae.backends.embedded import EmbeddedBackend
from personae.backends.openai_compat import OpenAICompatBackend, OpenAICompatOptions
from personae.backends.sampling import check_catalogue, default_params, parse_sampling
from personae.cli import cli
from personae.errors import InvalidInput
from personae.models.catalogue import CATALOGUE, ModelSpec, WheelPart
from tests.support.scripted import ScriptedBackend
from tests.support.server import DEFAULT_MODEL, Backends, make_app

MESSAGES = [Message("user", "Hello")]
DRY: dict[str, Any] = {
    "dry_multiplier": 1.2,
    "dry_base": 1.5,
    "dry_allowed_length": 3,
    "dry_penalty_last_n": 512,
}


def spec(**sampling: Any) -> ModelSpec:
    return ModelSpec(
        name="tiny",
        title="Tiny",
        licence="MIT",
        parts=(WheelPart("tiny-model", "1.0", "tiny/model.gguf"),),
        size=1,
        sha256="0" * 64,
        default_ctx=512,
        trained_ctx=512,
        languages=("en",),
        sampling=sampling,
    )


# -- the catalogue -----------------------------------------------------------------------------


def test_catalogue_entries_validate_their_sampling() -> None:
    check_catalogue()  # the real catalogue
    good = spec(dry_multiplier=0.8, top_k=20)
    assert good.sampling["top_k"] == 20
    check_catalogue([good])
    with pytest.raises(ValueError, match="bogus"):
        check_catalogue([spec(bogus=1)])
    with pytest.raises(ValueError, match="seed"):
        # a seed or a reply length is the caller's, never a model default
        check_catalogue([spec(seed=3)])
    with pytest.raises(ValueError, match="max_tokens"):
        check_catalogue([spec(max_tokens=10)])
    with pytest.raises(ValueError, match="dry_base"):
        check_catalogue([spec(dry_base=0.5)])


def test_every_catalogue_model_has_repetition_control() -> None:
    for model in CATALOGUE.values():
        params = default_params(model.name)
        assert params.dry_multiplier and params.dry_multiplier > 0, model.name
        assert params.dry_penalty_last_n == -1  # the greeting and earlier replies count too
        assert set(model.sampling) <= set(SAMPLING_FIELDS)
    with pytest.raises(TypeError):
        CATALOGUE["smollm2-135m"].sampling["dry_multiplier"] = 0  # type: ignore[index]


# -- defaults and overrides --------------------------------------------------------------------


def test_default_params_merge_overrides() -> None:
    qwen = default_params("qwen2.5-coder-1.5b", temperature=0.2, max_tokens=9, seed=4)
    assert (qwen.temperature, qwen.max_tokens, qwen.seed) == (0.2, 9, 4)
    assert (qwen.top_k, qwen.dry_multiplier, qwen.dry_base) == (20, 0.8, 1.75)
    assert default_params("qwen2.5-coder-1.5b", dry_multiplier=0).dry_multiplier == 0


@pytest.mark.parametrize("model", ["/models/other.gguf", "llama3.1", None])
def test_models_outside_the_catalogue_get_the_plain_defaults(model: str | None) -> None:
    assert default_params(model) == GenerationParams()
    assert default_params(model, top_k=5) == GenerationParams(top_k=5)


def test_a_bad_override_is_one_line() -> None:
    with pytest.raises(InvalidInput, match="dry_base") as caught:
        default_params("smollm2-135m", dry_base=9.0)
    assert "\n" not in str(caught.value)


def test_parse_sampling() -> None:
    got = parse_sampling(["dry_multiplier=1.2, top_k=30", "presence-penalty=0.5", "min_p=none"])
    assert got == {"dry_multiplier": 1.2, "top_k": 30, "presence_penalty": 0.5, "min_p": None}
    assert parse_sampling("") == {}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("seed=3", "unknown key 'seed'"),
        ("bogus=1", "unknown key 'bogus'"),
        ("dry_multiplier", "KEY=VALUE"),
        ("dry_multiplier=", "KEY=VALUE"),
        ("dry_multiplier=lots", "dry_multiplier='lots'"),
        ("dry_allowed_length=2.5", "dry_allowed_length"),
        ("presence_penalty=3", "presence_penalty"),
        ("x" * 2000, "longer than"),
    ],
)
def test_parse_sampling_errors_name_the_keys(text: str, needle: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_sampling(text)
    message = str(caught.value)
    assert needle in message and "\n" not in message
    if "longer" not in needle:
        assert "dry_multiplier, dry_base" in message  # the allowed keys are listed


# -- what the backends send ---------------------------------------------------------------------


def embedded(n_ctx: int = 2048) -> EmbeddedBackend:
    backend = object.__new__(EmbeddedBackend)  # no model loaded: only the request is built
    backend.n_ctx = n_ctx
    return backend


def test_embedded_sends_repetition_fields_only_when_set() -> None:
    plain = embedded()._sampling(GenerationParams())
    assert not set(REPETITION_FIELDS) & set(plain)
    params = GenerationParams(
        presence_penalty=0.4, frequency_penalty=-0.2, repeat_last_n=128, **DRY
    )
    request = embedded()._sampling(params)
    assert {k: request[k] for k in REPETITION_FIELDS} == {
        "presence_penalty": 0.4,
        "frequency_penalty": -0.2,
        "repeat_last_n": 128,
        **DRY,
    }


def test_embedded_sends_the_slot_context_for_the_whole_context() -> None:
    # The llama.cpp build xllamacpp ships refuses -1 ("must be between 0 <= value").
    request = embedded(n_ctx=3072)._sampling(
        GenerationParams(dry_multiplier=0.8, dry_penalty_last_n=-1, repeat_last_n=-1)
    )
    assert request["dry_penalty_last_n"] == 3072 and request["repeat_last_n"] == 3072


def openai_body(params: GenerationParams, **options: Any) -> dict[str, Any]:
    backend = OpenAICompatBackend(
        OpenAICompatOptions(base_url="http://127.0.0.1:9/v1", model="m", **options)
    )
    try:
        return backend._body(MESSAGES, params)
    finally:
        backend.close()


def test_openai_backend_adds_penalties_and_dry_only_when_set() -> None:
    assert not set(REPETITION_FIELDS) & set(openai_body(GenerationParams()))
    body = openai_body(GenerationParams(presence_penalty=0.3, frequency_penalty=0.1, **DRY))
    assert (body["presence_penalty"], body["frequency_penalty"]) == (0.3, 0.1)
    assert {k: body[k] for k in DRY} == DRY  # llama-server's names, beside OpenAI's fields
    assert body["dry_penalty_last_n"] == 512
    # -1 goes as it is: llama-server reads it as its whole context.
    assert openai_body(GenerationParams(dry_penalty_last_n=-1))["dry_penalty_last_n"] == -1
    # extra_body still has the last word: None removes what a server refuses.
    removed = openai_body(GenerationParams(**DRY), extra_body={"dry_base": None, "top_k": 5})
    assert "dry_base" not in removed and removed["top_k"] == 5


# -- the command line ---------------------------------------------------------------------------


class Recorder(ScriptedBackend):
    name: ClassVar[str] = "sampling-scripted"
    seen: ClassVar[list[Any]] = []

    def __init__(self, model: str = "scripted", **kw: Any) -> None:
        super().__init__(model, **kw)
        self.calls = Recorder.seen
        self.enqueue("Elementary.")


@pytest.fixture
def recorder() -> Iterator[type[Recorder]]:
    register_backend("sampling-scripted", Recorder)
    Recorder.seen.clear()
    yield Recorder


def replies(calls: list[Any]) -> list[GenerationParams]:
    """The parameters of the replies asked for (not of a one-token warm-up)."""
    return [params for _, params in calls if params.max_tokens > 1]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_ask_samples_with_the_models_defaults_and_sampling(recorder: type[Recorder]) -> None:
    base = ["ask", "sherlock", "Who?", "--backend", "sampling-scripted", "--model"]
    result = run(*base, "smollm2-135m", "--sampling", "dry_multiplier=1.5,top_k=7")
    assert result.exit_code == 0, result.output
    params = replies(recorder.seen)[0]
    assert (params.dry_multiplier, params.top_k) == (1.5, 7)  # the user's settings
    assert (params.dry_base, params.repeat_penalty) == (1.75, 1.1)  # smollm2's defaults
    recorder.seen.clear()
    assert run(*base, "remote-model", "--temperature", "0.3").exit_code == 0
    sent = replies(recorder.seen)[0]  # the agent adds its own stop strings
    assert sent.model_copy(update={"stop": ()}) == GenerationParams(temperature=0.3)


@pytest.mark.parametrize("command", ["ask", "chat"])
@pytest.mark.parametrize(
    ("setting", "needle"),
    [("nope=1", "unknown key 'nope'"), ("dry_base=0.5", "dry_base"), ("top_k", "KEY=VALUE")],
)
def test_bad_sampling_is_one_line_before_any_model_loads(
    recorder: type[Recorder], command: str, setting: str, needle: str
) -> None:
    args = [command, "sherlock", *(["hi"] if command == "ask" else [])]
    result = run(*args, "--backend", "sampling-scripted", "--sampling", setting)
    assert result.exit_code == 1
    err = result.stderr.strip()
    assert err.startswith("error:") and "\n" not in err and needle in err, err
    assert "dry_multiplier" in err  # names the allowed keys
    assert recorder.seen == []


# -- the server ---------------------------------------------------------------------------------


URL = "/v1/chat/completions"


def ask(**fields: Any) -> dict[str, Any]:
    return {"model": "holmes", "messages": [{"role": "user", "content": "Hi"}], **fields}


@pytest.mark.parametrize(
    "fields",
    [
        {"presence_penalty": 3},
        {"frequency_penalty": -2.5},
        {"dry_multiplier": -1},
        {"dry_base": 1.0},
        {"dry_allowed_length": 0},
        {"dry_penalty_last_n": -2},
        {"repeat_last_n": 10**9},
        {"presence_penalty": "0.5"},  # strict: a string is not a number
    ],
)
def test_server_rejects_bad_penalties(client: TestClient, fields: dict[str, Any]) -> None:
    response = client.post(URL, json=ask(**fields))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == next(iter(fields)) or next(iter(fields)) in error["message"]


def test_server_passes_penalties_and_dry_to_the_backend(
    client: TestClient, backends: Backends
) -> None:
    backends.default.enqueue("Hm.")
    fields = {"presence_penalty": 0.5, "frequency_penalty": 0.25, "repeat_last_n": 256, **DRY}
    assert client.post(URL, json=ask(**fields)).status_code == 200
    params = replies(backends.default.calls)[0]
    assert {k: getattr(params, k) for k in fields} == fields


def test_server_samples_each_model_with_its_catalogue_defaults(tmp_path: Path) -> None:
    backends = Backends()
    backends.default.enqueue("Hm.")
    backends.built["qwen2.5-coder-1.5b"] = ScriptedBackend("qwen2.5-coder-1.5b").enqueue("Hm.")
    app = make_app(tmp_path, backends, sampling={"seed": 11, "top_k": 30})
    with TestClient(app) as client:
        for model in (DEFAULT_MODEL, "qwen2.5-coder-1.5b"):
            body = ask(model=f"holmes@{model}", dry_multiplier=1.1)
            assert client.post(URL, json=body).status_code == 200, model
    plain = replies(backends.default.calls)[0]
    qwen = replies(backends.built["qwen2.5-coder-1.5b"].calls)[0]
    assert (plain.seed, plain.top_k, plain.dry_base) == (11, 30, None)  # not in the catalogue
    assert (qwen.seed, qwen.top_k, qwen.dry_base, qwen.temperature) == (11, 30, 1.75, 0.7)
    assert plain.dry_multiplier == qwen.dry_multiplier == 1.1  # the request has the last word


def test_openapi_lists_the_penalties(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    text = json.dumps(spec)
    for name in ("presence_penalty", "frequency_penalty", "dry_multiplier"):
        assert name in text


def test_korean_replies_turn_dry_off_unless_the_user_set_it() -> None:
    from personae.backends.sampling import default_params, for_language

    params = default_params("qwen2.5-coder-1.5b", seed=3)
    ko = for_language(params, "qwen2.5-coder-1.5b", "ko")
    assert ko.dry_multiplier == 0.0 and ko.repeat_penalty == 1.1 and ko.seed == 3
    assert for_language(params, "qwen2.5-coder-1.5b", "en") == params
    assert for_language(params, "my.gguf", "ko") == params  # outside the catalogue: as given
    mine = default_params("qwen2.5-coder-1.5b", dry_multiplier=1.5)
    assert for_language(mine, "qwen2.5-coder-1.5b", "ko").dry_multiplier == 1.5
