"""The embedded backend against a fake llama.cpp (tests/support/fake_llama.py): streaming,
cancellation, errors mid-stream, why a start failed, and token counts with and without the
runtime's HTTP listener. No model is loaded and no socket is opened."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from personae.backends import GenerationParams, Message, collect
from personae.backends import embedded_start as start
from personae.backends.embedded import EmbeddedBackend, EmbeddedOptions
from personae.errors import (
    AdapterError,
    BackendError,
    BackendUnavailable,
    ContextOverflow,
    ModelError,
)
from personae.models import CATALOGUE, ResolvedModel
from personae.text.token_estimate import BYTE_LEVEL_RATES, estimate_tokens
from tests.support.fake_llama import (
    FakeLlamaServer,
    embedded,
    endless,
    finish,
    gguf_file,
    listener,
    refusing,
    reply,
    text,
    usage,
)

HI = [Message("user", "Hello there")]
PARAMS = GenerationParams(max_tokens=16)


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return gguf_file(tmp_path / "tiny.gguf")


def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert message and "\n" not in message and "Traceback" not in message
    return message


# -- streaming -----------------------------------------------------------------------------------


def test_chunks_stream_in_order_and_end_with_the_usage(model: Path) -> None:
    fake = FakeLlamaServer(script=[reply("Ele", "men", "tary.", prompt=40)])
    backend, _ = embedded(model, fake)
    chunks = list(backend.stream(HI, PARAMS))
    assert [c.text for c in chunks[:-1]] == ["Ele", "men", "tary."]
    final = chunks[-1]
    assert final.finish_reason == "stop" and final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (40, 3)
    [request] = fake.requests
    assert request["messages"] == [{"role": "user", "content": "Hello there"}]
    assert request["max_tokens"] == 16 and request["stream"] is True
    backend.close()


def test_a_reply_cut_at_the_token_limit_says_so(model: Path) -> None:
    fake = FakeLlamaServer(script=[[text("Once upon"), finish("length"), usage(5, 16)]])
    backend, _ = embedded(model, fake)
    reply_text, final = collect(backend.stream(HI, PARAMS))
    assert reply_text == "Once upon" and final.finish_reason == "length"


def test_several_candidates_come_tagged(model: Path) -> None:
    script = [[text("A", 0), text("B", 1), finish("stop", 0), finish("length", 1), usage(9, 2)]]
    backend, fake = embedded(model, FakeLlamaServer(script=script), n_parallel=2)
    chunks = list(backend.stream_candidates(HI, PARAMS, 2))
    assert [(c.text, c.candidate) for c in chunks if c.text] == [("A", 0), ("B", 1)]
    ends = [c for c in chunks if c.is_final]
    assert [(c.candidate, c.finish_reason) for c in ends] == [(0, "stop"), (1, "length")]
    assert ends[0].usage is None and ends[1].usage is not None  # the request's, on the last
    assert fake.requests[0]["n"] == 2


def test_closing_the_stream_early_cancels_generation_and_waits_for_it(model: Path) -> None:
    fake = FakeLlamaServer(script=[endless()])
    backend, _ = embedded(model, fake)
    stream = backend.stream(HI, PARAMS)
    first = next(stream)
    assert first.text == "t1 "
    stream.close()  # the consumer went away (Ctrl-C, a client that hung up)
    assert fake.stopped, "the callback never asked llama.cpp to stop"
    assert fake.returned.is_set(), "close() returned while llama.cpp was still generating"
    assert fake.sent < 100_000
    # The slot is free: the next request runs at once.
    fake.script = [reply("Again.")]
    assert collect(backend.stream(HI, PARAMS))[0] == "Again."


def test_an_error_mid_stream_keeps_what_came_before_and_ends_in_one_line(model: Path) -> None:
    fake = FakeLlamaServer(script=[[text("Half a "), RuntimeError("decode failed\nat step 3")]])
    backend, _ = embedded(model, fake)
    got: list[str] = []
    with pytest.raises(BackendError) as caught:
        for chunk in backend.stream(HI, PARAMS):
            got.append(chunk.text)
    assert got == ["Half a "]
    assert "llama.cpp failed: decode failed at step 3" in one_line(caught.value)
    assert fake.returned.is_set()


def test_a_prompt_over_the_context_is_a_context_overflow(model: Path) -> None:
    error = {"error": {"type": "exceed_context_size_error", "n_prompt_tokens": 5000}}
    backend, _ = embedded(model, FakeLlamaServer(script=[[error]]), n_ctx=2048)
    with pytest.raises(ContextOverflow) as caught:
        list(backend.stream(HI, PARAMS))
    assert "needs 5000 tokens" in one_line(caught.value) and "2048-token" in str(caught.value)


def test_another_refusal_is_a_backend_error(model: Path) -> None:
    error = {"error": {"type": "invalid_request_error", "message": "bad grammar"}}
    backend, _ = embedded(model, FakeLlamaServer(script=[[error]]))
    with pytest.raises(BackendError, match="rejected the request: bad grammar"):
        list(backend.stream(HI, PARAMS))


def test_a_continuation_renders_the_template_and_completes_the_partial_text(model: Path) -> None:
    transport, asked = listener(template="<|user|>Hi<|assistant|>")
    fake = FakeLlamaServer(script=[reply(" there.")])
    backend, _ = embedded(model, fake, transport)
    messages = [Message("user", "Hi"), Message("assistant", "Well,", prefix=True)]
    assert collect(backend.stream(messages, PARAMS))[0] == " there."
    assert asked == ["/apply-template"]
    assert fake.requests[0]["prompt"] == "<|user|>Hi<|assistant|>Well,"


def test_a_continuation_without_the_listener_fails_in_one_line(model: Path) -> None:
    transport, _ = refusing()
    backend, _ = embedded(model, FakeLlamaServer(), transport)
    messages = [Message("user", "Hi"), Message("assistant", "Well,", prefix=True)]
    with pytest.raises(BackendUnavailable) as caught:
        list(backend.stream(messages, PARAMS))
    assert "cannot be reached" in one_line(caught.value)


# -- counting tokens -----------------------------------------------------------------------------


def test_counts_are_exact_from_the_runtime_and_cached(model: Path) -> None:
    transport, asked = listener(tokens=lambda s: 7)
    backend, _ = embedded(model, transport=transport)
    assert backend.count_tokens("any text at all") == 7
    assert backend.count_tokens("any text at all") == 7
    assert asked == ["/tokenize"] and backend.exact_counts


def test_a_refused_tokenizer_falls_back_to_the_estimate_said_once(
    model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    transport, asked = refusing()
    backend, _ = embedded(model, transport=transport)
    texts = ["Hello there, Watson.", "안녕하세요, 저는 춘향입니다.", "Call 221-4567."]
    with caplog.at_level(logging.WARNING, logger="personae.backends.embedded"):
        counts = [backend.count_tokens(t) for t in texts * 3]
    # A .gguf file of unknown make is priced at the byte-level bound.
    assert counts == [estimate_tokens(t, BYTE_LEVEL_RATES) for t in texts * 3]
    assert asked == ["/tokenize"], "the listener is asked once, not on every count"
    assert not backend.exact_counts
    [warning] = [r for r in caplog.records if r.name == "personae.backends.embedded"]
    message = warning.getMessage()
    assert "estimated" in message and "ConnectError" in message and "\n" not in message
    assert warning.exc_info is None  # no traceback


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(401, json={"error": "bad key"}),
        httpx.Response(200, text="not json"),
        httpx.Response(200, json=["tokens"]),
        httpx.Response(200, json={"tokens": "123"}),
    ],
)
def test_an_answer_without_tokens_falls_back_too(model: Path, answer: httpx.Response) -> None:
    backend, _ = embedded(model, transport=httpx.MockTransport(lambda request: answer))
    assert backend.count_tokens("Hello there") == estimate_tokens("Hello there", BYTE_LEVEL_RATES)
    assert not backend.exact_counts


def test_a_catalogue_model_estimates_at_its_own_rates(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = CATALOGUE["qwen2.5-coder-1.5b"]
    catalogued(monkeypatch, model, spec.name)
    transport, _ = refusing()
    backend, _ = embedded(model, transport=transport)
    korean = "안녕하세요, 저는 춘향입니다."
    assert backend.count_tokens(korean) == estimate_tokens(korean, spec.token_rates)
    # Qwen2.5 learned Korean: far fewer than the byte-level bound.
    assert backend.count_tokens(korean) < estimate_tokens(korean, BYTE_LEVEL_RATES) / 2


def test_the_estimate_errs_high_against_the_counts_the_benchmark_measured() -> None:
    # Token counts of these lines on the catalogue models' tokenizers, as
    # benchmarks/bench_token_estimate.py measured them (SmolLM2, Qwen2.5).
    measured = {
        "Hello, world! I'm Sherlock Holmes.": (10, 9),
        "안녕하세요, 저는 춘향입니다.": (35, 10),
        "12345 and 2024": (11, 11),
    }
    qwen = CATALOGUE["qwen2.5-coder-1.5b"].token_rates
    smollm = CATALOGUE["smollm2-135m"].token_rates
    for line, (on_smollm, on_qwen) in measured.items():
        assert estimate_tokens(line, smollm) >= on_smollm
        assert estimate_tokens(line, qwen) >= on_qwen


# -- starting ------------------------------------------------------------------------------------


def failing(exc: BaseException) -> Any:
    def factory(params: Any) -> Any:
        raise exc

    return factory


GENERIC = RuntimeError("Failed to init server, please check the input params.")


@pytest.fixture
def healthy_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where the listener can bind and memory is plenty (so the file is to blame)."""
    monkeypatch.setattr(start, "listener_bind_error", lambda host="127.0.0.1": None)
    monkeypatch.setattr(start, "memory_limit", lambda: 64 * start.GIB)


def build(model: Path, factory: Any, **options: Any) -> EmbeddedBackend:
    return EmbeddedBackend(
        EmbeddedOptions(model=str(model), **options),
        server_factory=factory,
        http_transport=listener()[0],
    )


def catalogued(monkeypatch: pytest.MonkeyPatch, path: Path, name: str = "smollm2-135m") -> None:
    spec = CATALOGUE[name]
    monkeypatch.setattr(
        "personae.backends.embedded.resolve_model", lambda _: ResolvedModel(name, path, spec)
    )


@pytest.mark.usefixtures("healthy_machine")
def test_a_file_that_loads_nowhere_may_be_damaged(model: Path) -> None:
    with pytest.raises(ModelError) as caught:
        build(model, failing(GENERIC))
    message = one_line(caught.value)
    assert "may be damaged" in message and str(model) in message
    assert "check the input params" not in message  # xllamacpp's words would mislead


@pytest.mark.usefixtures("healthy_machine")
def test_a_start_that_fails_with_adapters_names_them(model: Path, tmp_path: Path) -> None:
    """An adapter that is damaged or made for another base fails llama.cpp's start like a
    damaged model would: the adapters are named, not the model file alone."""
    adapter = tmp_path / "holmes@v1.gguf"
    adapter.write_bytes(b"GGUF")  # the magic, then nothing: it passes the file check
    with pytest.raises(AdapterError) as caught:
        build(model, failing(GENERIC), adapters={"holmes@v1": adapter})
    message = one_line(caught.value)
    assert "with the LoRA adapters holmes@v1" in message and "another base model" in message
    assert "check the input params" not in message


@pytest.mark.usefixtures("healthy_machine")
def test_a_damaged_catalogue_model_is_pulled_again(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogued(monkeypatch, model)
    with pytest.raises(ModelError, match=r"personae models pull smollm2-135m` again"):
        build(model, failing(GENERIC))


def test_a_missing_catalogue_file_is_not_called_damaged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = tmp_path / "smollm2-135m.gguf"
    catalogued(monkeypatch, gone)
    with pytest.raises(ModelError) as caught:
        build(gone, failing(AssertionError("must not start")))
    message = one_line(caught.value)
    assert "is missing" in message and "damaged" not in message


def test_a_missing_local_file_is_said_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="does not exist"):
        build(tmp_path / "nope.gguf", failing(AssertionError("must not start")))


@pytest.mark.parametrize("content", [b"", b"GGU", b"PK\x03\x04 a zip", b"\x00" * 64])
def test_a_file_without_the_gguf_magic_is_refused_before_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    path = tmp_path / "smollm2-135m.gguf"
    path.write_bytes(content)
    catalogued(monkeypatch, path)
    with pytest.raises(ModelError) as caught:
        build(path, failing(AssertionError("must not start")))
    message = one_line(caught.value)
    assert "not a GGUF model" in message and "damaged" not in message
    assert "personae models pull smollm2-135m" in message


@pytest.mark.usefixtures("healthy_machine")
def test_a_file_that_vanishes_during_the_start_is_missing_not_damaged(model: Path) -> None:
    def factory(params: Any) -> Any:
        model.unlink()
        raise GENERIC

    with pytest.raises(ModelError, match="does not exist"):
        build(model, factory)


def test_a_listener_that_cannot_bind_is_said(model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(start, "listener_bind_error", lambda host="127.0.0.1": "Permission denied")
    with pytest.raises(BackendUnavailable) as caught:
        build(model, failing(GENERIC))
    message = one_line(caught.value)
    assert "listener on 127.0.0.1 (Permission denied)" in message and "damaged" not in message


def test_not_enough_memory_for_the_context_is_said(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(start, "listener_bind_error", lambda host="127.0.0.1": None)
    monkeypatch.setattr(start, "memory_limit", lambda: start.GIB)
    with pytest.raises(BackendUnavailable) as caught:
        build(model, failing(GENERIC), n_ctx=131072, n_parallel=2)
    message = one_line(caught.value)
    assert "not enough memory" in message and "262144-token context" in message
    assert "lower --ctx or --parallel" in message and "damaged" not in message


def test_a_memory_error_is_out_of_memory_whatever_the_limits(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(start, "listener_bind_error", lambda host="127.0.0.1": None)
    monkeypatch.setattr(start, "memory_limit", lambda: None)
    with pytest.raises(BackendUnavailable, match="not enough memory"):
        build(model, failing(MemoryError()))


def test_a_started_backend_asks_for_the_context_and_listener_it_needs(model: Path) -> None:
    backend, fake = embedded(model, n_ctx=1024, n_parallel=3)
    params = fake.params
    assert params.model.path == str(model)
    assert (params.n_ctx, params.n_parallel) == (3072, 3)
    assert params.hostnames == ["127.0.0.1"] and len(params.api_keys) == 1


def test_the_probes_answer_on_this_machine() -> None:
    assert start.listener_bind_error() is None
    limit = start.memory_limit()
    assert limit is None or limit > 0
