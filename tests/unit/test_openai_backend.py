"""The ``openai`` backend against a real HTTP stub on 127.0.0.1 (requirement R3). Retries sleep
through an injected recorder: the tests stay fast and can check how long the backend would wait."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterator
from itertools import pairwise
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.backends import Backend, Chunk, GenerationParams, Message, Usage, get_backend
from personae.backends.openai_compat import OpenAICompatBackend, OpenAICompatOptions
from personae.errors import (
    BackendAuthError,
    BackendError,
    BackendModelNotFound,
    BackendTimeout,
    BackendUnavailable,
    ConfigError,
    StreamInterrupted,
)
from tests.support.stub_openai import (
    DONE,
    Reply,
    StubOpenAI,
    answer,
    chunk,
    completion,
    error_body,
    refused_url,
    usage_chunk,
)

MESSAGES = [Message("system", "Be brief."), Message("user", "Hi!")]
PARAMS = GenerationParams(max_tokens=16)
Make = Callable[..., OpenAICompatBackend]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpx honours proxy variables; a test must only ever talk to 127.0.0.1 directly.
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def stub() -> Iterator[StubOpenAI]:
    with StubOpenAI() as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make(stub: StubOpenAI, sleeps: list[float]) -> Iterator[Make]:
    made: list[OpenAICompatBackend] = []

    def build(**options: Any) -> OpenAICompatBackend:
        options = {"base_url": stub.url, "model": "m", **options}
        made.append(OpenAICompatBackend(OpenAICompatOptions(**options), sleep=sleeps.append))
        return made[-1]

    yield build
    for backend in made:
        backend.close()


def run(backend: OpenAICompatBackend, params: GenerationParams = PARAMS) -> list[Chunk]:
    return list(backend.stream(MESSAGES, params))


def text_of(chunks: list[Chunk]) -> str:
    return "".join(c.text for c in chunks)


# --- replies: deltas, then exactly one final chunk ----------------------------------------------

NULLS = {"choices": [{"index": 0, "delta": {"content": None}}], "error": None}
SPLIT = json.dumps(chunk("lo"))
WIRE_QUIRKS = [
    ": keep-alive\r\n\r\n",
    f"data: {json.dumps(chunk('Hel'))}\r\n\r\n",
    f"data: {SPLIT[:17]}",  # one event split across two writes
    f"{SPLIT[17:]}\n\n",
    'data: {"choices": [{"delta":\ndata: {"content": " wor"}}]}\n\n',  # two data lines
    f"event: message\nid: 7\nretry: 100\ndata: {json.dumps(chunk('ld'))}\n\n",
    f"data:{json.dumps(chunk('!'))}\r\r",  # no space after the colon, CR line ends
    f"data: {json.dumps(chunk(finish='stop'))}\r\n\r\n: bye\r\n",
    "data: [DONE]\r\n\r\n",
]
ODD_TEXT = "a\u2028b\x85c\u2029d 한국어"  # legal raw in JSON strings, yet not line ends for SSE
ODD_EVENT = f"data: {json.dumps(chunk(ODD_TEXT), ensure_ascii=False)}\n\n"
USAGE = Usage(prompt_tokens=12, completion_tokens=2, cached_tokens=8)
DROPPED = [chunk("Hi"), chunk(finish="length"), usage_chunk(1, 1)]
WHOLE = {
    "choices": [{"message": {"role": "assistant", "content": "hi"}, "finish_reason": "length"}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1},
}


@pytest.mark.parametrize(
    ("reply", "text", "finish", "usage"),
    [
        (Reply(events=completion("Hel", "lo", usage=(12, 2, 8))), "Hello", "stop", USAGE),
        (Reply(events=[chunk("", role="assistant"), NULLS, chunk("x"), DONE]), "x", "stop", None),
        (Reply(events=completion("a", finish="length", usage=None)), "a", "length", None),
        (Reply(events=completion("a", finish="content_filter", usage=None)), "a", "stop", None),
        (Reply(events=WIRE_QUIRKS, event_delay=0.005), "Hello world!", "stop", None),
        (Reply(events=[ODD_EVENT, DONE]), ODD_TEXT, "stop", None),
        (Reply(json=WHOLE), "hi", "length", Usage(prompt_tokens=3, completion_tokens=1)),
        (Reply(events=DROPPED, cut_after=2), "Hi", "length", None),  # only the usage is lost
    ],
    ids=["usage", "nulls", "length", "filter", "wire-quirks", "odd-text", "no-stream", "drop"],
)
def test_replies(
    stub: StubOpenAI, make: Make, reply: Reply, text: str, finish: str, usage: Usage | None
) -> None:
    stub.enqueue(reply)
    *deltas, final = run(make())
    assert all(c.text and not c.is_final for c in deltas)
    assert text_of(deltas) == text and final.text == ""
    assert (final.finish_reason, final.usage) == (finish, usage)


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.text(max_size=8), max_size=6),
    eol=st.sampled_from(["\n", "\r\n", "\r"]),
    comment=st.sampled_from(["", ": ping"]),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_sse_parsing_survives_any_read_boundaries(
    texts: list[str], eol: str, comment: str, cuts: list[int]
) -> None:
    events = [chunk(t) for t in texts] + [chunk(finish="stop")]
    frames = [f"{comment}{eol}data: {json.dumps(e, ensure_ascii=False)}{eol}{eol}" for e in events]
    payload = ("".join(frames) + f"data: [DONE]{eol}{eol}").encode()
    bounds = sorted({0, len(payload), *(c % (len(payload) + 1) for c in cuts)})
    pieces = [payload[a:b] for a, b in pairwise(bounds)]

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "text/event-stream"}
        return httpx.Response(200, headers=headers, content=iter(pieces))

    options = OpenAICompatOptions(base_url="http://stub.test/v1", model="m")
    with OpenAICompatBackend(options, transport=httpx.MockTransport(handler)) as backend:
        chunks = run(backend)
    assert text_of(chunks) == "".join(texts)
    assert [c.is_final for c in chunks].count(True) == 1


def test_request_is_plain_openai(stub: StubOpenAI, make: Make) -> None:
    stub.enqueue(Reply(events=completion("ok")))
    run(make(base_url=stub.url + "/", api_key="sk-test", extra_headers={"X-Trace": "t1"}))
    (request,) = stub.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.body == {
        "model": "m",
        "messages": [m.as_dict() for m in MESSAGES],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": 16,
        "temperature": 0.8,
        "top_p": 0.95,
    }  # no stop, seed, top_k, min_p or repeat_penalty: OpenAI itself must accept it
    assert request.headers["Authorization"] == "Bearer sk-test"
    assert request.headers["X-Trace"] == "t1"
    assert request.headers["Accept"] == "text/event-stream"


def test_stop_seed_and_extra_body(stub: StubOpenAI, make: Make) -> None:
    stub.enqueue(Reply(events=completion("ok")))
    extra = {"top_k": 20, "options": {"num_ctx": 4096}, "stream_options": None, "stream": False}
    run(make(extra_body=extra), GenerationParams(stop=("\nUser:",), seed=7))
    body = stub.requests[0].body
    assert (body["stop"], body["seed"], body["top_k"]) == (["\nUser:"], 7, 20)
    assert body["options"] == {"num_ctx": 4096}
    assert "stream_options" not in body  # None removes a key a server rejects
    assert body["stream"] is True  # the reader needs a stream, whatever extra_body says


# --- failures before the first token: mapped, retried where safe --------------------------------


def test_connection_refused(sleeps: list[float]) -> None:
    url = refused_url()
    options = OpenAICompatOptions(base_url=url, model="m", retry_backoff=0.01)
    backend = OpenAICompatBackend(options, sleep=sleeps.append)
    with pytest.raises(BackendUnavailable) as caught:
        run(backend)
    assert str(caught.value) == f"cannot reach {url}: connection refused — is the server running?"
    assert len(sleeps) == 2  # max_retries=2: three attempts in all
    assert 0.005 <= sleeps[0] <= 0.01 <= sleeps[1] <= 0.02
    with backend, pytest.raises(BackendUnavailable, match="connection refused"):
        backend.list_models()


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (httpx.ConnectTimeout("timed out"), "no answer within 10s"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "host name not found"),
    ],
)
def test_connect_timeout_and_unknown_host(raised: Exception, expected: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise raised

    options = OpenAICompatOptions(base_url="http://llm.invalid/v1", model="m", max_retries=1)
    calls: list[float] = []
    transport = httpx.MockTransport(handler)
    backend = OpenAICompatBackend(options, transport=transport, sleep=calls.append)
    with backend, pytest.raises(BackendUnavailable, match=expected):
        run(backend)
    assert len(calls) == 1


@pytest.mark.parametrize(
    "hung",
    [Reply(hang=5.0, events=completion("too late")), Reply(events=completion("x"), stall_after=1)],
    ids=["before-the-status", "after-the-headers"],
)
def test_a_hung_server_is_asked_once(stub: StubOpenAI, make: Make, hung: Reply) -> None:
    """It took the request and went silent: asking twice more only triples the wait (the
    default 120 s read timeout with two retries kept a client waiting 362 s)."""
    stub.default = hung
    started = time.monotonic()
    with pytest.raises(BackendTimeout, match=r"sent nothing for 0\.2s"):
        run(make(timeout=0.2, max_retries=2))
    assert len(stub.requests) == 1
    assert time.monotonic() - started < 1.5


def test_default_timeouts() -> None:
    options = OpenAICompatOptions(base_url="http://127.0.0.1:1/v1", model="m")
    assert (options.connect_timeout, options.timeout) == (10.0, 120.0)
    with OpenAICompatBackend(options) as backend:
        timeout = backend._client.timeout
    assert (timeout.connect, timeout.read) == (10.0, 120.0)


@pytest.mark.parametrize(
    "first",
    [
        answer(500, error_body("boom")),
        answer(429, error_body("slow down"), retry_after="0"),
        Reply(events=completion("lost"), cut_after=1),  # dropped before any token
    ],
    ids=["500", "429", "cut"],
)
def test_retried_then_success(
    stub: StubOpenAI, make: Make, sleeps: list[float], first: Reply
) -> None:
    stub.enqueue(first, Reply(events=completion("ok")))
    assert text_of(run(make(retry_backoff=0.01))) == "ok"
    assert len(stub.requests) == 2
    assert len(sleeps) == 1
    assert first.status != 429 or sleeps == [0.0]  # Retry-After: 0 is honoured


def test_backoff_doubles_with_jitter(stub: StubOpenAI, make: Make, sleeps: list[float]) -> None:
    stub.default = answer(503, "busy")
    with pytest.raises(BackendError, match="HTTP 503: busy"):
        run(make(max_retries=3, retry_backoff=0.5))
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps):
        assert 0.25 * 2**attempt <= slept <= 0.5 * 2**attempt


KEY = "sk-secret-42"
MOVED = "https://llm.example/v1/chat/completions"
OPENAI_404 = error_body("The model `m` does not exist", code="model_not_found")
OLLAMA_404 = {"error": 'model "m" not found, try pulling it first'}
VLLM_404 = {"object": "error", "message": "The model `m` does not exist.", "code": 404}


HttpCase = tuple[Reply, type[BackendError], str, int]


@pytest.mark.parametrize(
    "case",  # the error mapping: answer, error, what it says, requests made (2 retries allowed)
    [
        (answer(500, error_body("GPU OOM")), BackendError, "(HTTP 500: GPU OOM); check the", 3),
        (answer(502, "bad gateway"), BackendError, "failed (HTTP 502: bad gateway)", 3),
        (answer(429, error_body("quota"), retry_after="3600"), BackendError, "HTTP 429: quota", 1),
        (answer(400, error_body("too long")), BackendError, "refused the request (HTTP 400", 1),
        (answer(501, "nope"), BackendError, "HTTP 501: nope", 1),
        (answer(401, error_body(f"bad key {KEY}")), BackendAuthError, "(HTTP 401: bad key ***)", 1),
        (answer(403, KEY), BackendAuthError, "rejected the API key (HTTP 403: ***); check", 1),
        (answer(404, OPENAI_404), BackendModelNotFound, "model 'm' not found on http", 1),
        (answer(404, OLLAMA_404), BackendModelNotFound, "; run `personae backends`", 1),
        (answer(404, VLLM_404), BackendModelNotFound, "(HTTP 404: The model `m` does not", 1),
        (answer(404, "404 page not found"), BackendError, "no /v1/chat/completions on http", 1),
        (answer(308, location=MOVED), BackendError, f"redirects to {MOVED} (HTTP 308)", 1),
        (Reply(events=[{"error": {"message": "too long"}}]), BackendError, ": too long", 1),
    ],
    ids=lambda case: f"{case[0].status}-{case[1].__name__}",
)
def test_http_errors(stub: StubOpenAI, make: Make, case: HttpCase) -> None:
    stub.default, error, says, attempts = case
    with pytest.raises(error) as caught:
        run(make(api_key=KEY))
    message = str(caught.value)
    assert type(caught.value) is error
    assert says in message and stub.url in message
    assert KEY not in message  # never echoed, even when the server echoes it
    assert len(stub.requests) == attempts


LONG_KEY = "sk-proj-Xy7Qa9Lm2Pz8Rt4Vb6Nc1Kd3Wf5Hg0Js"
ECHOES = [
    f"Incorrect API key provided: {LONG_KEY[:12]}****{LONG_KEY[-4:]}.",  # OpenAI's way
    f"invalid key {LONG_KEY[:12]}…",
    f"key '{LONG_KEY[8:20]}' unknown",  # the middle of it
    f"auth failed for Bearer {LONG_KEY}",
    "someone else's key sk-abcdefghijklmnop leaked",
    "upstream said: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
]


@pytest.mark.parametrize("status", [401, 400, 500])
@pytest.mark.parametrize("echo", ECHOES)
def test_no_part_of_a_key_is_echoed(stub: StubOpenAI, make: Make, echo: str, status: int) -> None:
    stub.default = answer(status, error_body(echo))
    with pytest.raises(BackendError) as caught:
        run(make(api_key=LONG_KEY, max_retries=0))
    message = str(caught.value)
    assert "***" in message
    for start in range(len(LONG_KEY) - 5):
        assert LONG_KEY[start : start + 6] not in message
    for leaked in ("abcdefghijklmnop", "eyJhbGciOiJIUzI1NiJ9"):
        assert leaked not in message


def test_keys_in_headers_and_broken_streams_are_scrubbed(stub: StubOpenAI, make: Make) -> None:
    header_key = "azure-0123456789abcdef"
    stub.default = Reply(events=[chunk("Hi"), f"data: {{oops {header_key[:14]}\n\n", DONE])
    backend = make(extra_headers={"api-key": header_key, "X-Title": "my application"})
    with pytest.raises(StreamInterrupted) as caught:
        run(backend)
    assert "malformed event" in str(caught.value) and header_key[:14] not in str(caught.value)
    stub.default = answer(400, error_body("expected my application/json here"))
    with pytest.raises(BackendError, match="my application/json"):  # not a secret: kept
        run(backend)


def test_missing_key(stub: StubOpenAI, make: Make) -> None:
    stub.default = answer(401, error_body("You didn't provide an API key."))
    with pytest.raises(BackendAuthError, match="wants an API key .*PERSONAE_API_KEY"):
        run(make())
    assert "Authorization" not in stub.requests[0].headers


# --- failures after tokens: never retried, the partial text is kept -----------------------------


CUT = completion("Hello", ", wor", "ld")


@pytest.mark.parametrize(
    ("reply", "options", "says", "partial"),
    [
        (Reply(events=CUT, cut_after=3), {}, "", "Hello, wor"),
        (Reply(events=CUT, cut_after=3, chunked=False), {}, "closed before the", "Hello, wor"),
        (Reply(events=CUT, stall_after=3), {"timeout": 0.2}, "no data for 0.2s", "Hello, wor"),
        (Reply(events=[chunk("Hi"), "data: {oops\n\n", DONE]), {}, "malformed event", "Hi"),
        (Reply(events=[chunk("Hi"), error_body("model crashed")]), {}, "model crashed", "Hi"),
        (Reply(events=[chunk("Hi"), 'event: error\ndata: "crash"\n\n']), {}, ": crash", "Hi"),
    ],
    ids=["cut", "cut-eof", "stall", "malformed", "error-event", "named-error-event"],
)
def test_broken_after_tokens(
    stub: StubOpenAI, make: Make, reply: Reply, options: dict[str, Any], says: str, partial: str
) -> None:
    stub.enqueue(reply)
    seen: list[str] = []
    with pytest.raises(StreamInterrupted) as caught:
        for piece in make(**options).stream(MESSAGES, PARAMS):
            seen.append(piece.text)
    assert caught.value.partial == partial == "".join(seen)
    assert f"broke off after {len(partial)} characters: " in str(caught.value)
    assert says in str(caught.value)
    assert len(stub.requests) == 1


# --- resources, listing, options ----------------------------------------------------------------


def test_early_close_releases_the_connection(stub: StubOpenAI, make: Make) -> None:
    stub.enqueue(Reply(events=[chunk(f"t{i} ") for i in range(1000)], event_delay=0.01))
    stream = make().stream(MESSAGES, PARAMS)
    assert isinstance(stream, Generator)  # so that a caller can close it
    assert next(stream).text == "t0 "
    stream.close()  # what a caller's `break` does once the generator is dropped
    assert stub.wait_for_disconnect(timeout=3.0)


def test_one_client_serves_many_replies_and_closes(stub: StubOpenAI) -> None:
    stub.enqueue(Reply(events=completion("one")), Reply(events=completion("two")))
    with OpenAICompatBackend.from_options(base_url=stub.url, model="m") as backend:
        assert [text_of(run(backend)) for _ in range(2)] == ["one", "two"]
    assert backend._client.is_closed


def test_list_models(stub: StubOpenAI, make: Make, sleeps: list[float]) -> None:
    listing = {"object": "list", "data": [{"id": "llama3", "object": "model"}, {"id": "qwen"}]}
    stub.enqueue(answer(503, "starting"), answer(200, listing))
    assert make(api_key="sk-x").list_models() == ["llama3", "qwen"]
    assert [(r.method, r.path) for r in stub.requests] == [("GET", "/v1/models")] * 2
    assert stub.requests[1].headers["Authorization"] == "Bearer sk-x"
    assert len(sleeps) == 1
    stub.enqueue(answer(401, error_body("bad key")), answer(200, "<html>hello</html>"))
    with pytest.raises(BackendAuthError):
        make().list_models()
    with pytest.raises(BackendError, match="did not return a model list"):
        make().list_models()


def test_registry_builds_it(stub: StubOpenAI) -> None:
    backend = get_backend("openai", base_url=stub.url, model="llama3", api_key="sk-hidden")
    assert isinstance(backend, OpenAICompatBackend)
    assert isinstance(backend, Backend)
    assert backend.name == "openai" and backend.model == "llama3"
    assert "sk-hidden" not in repr(backend.options)
    backend.close()


@pytest.mark.parametrize(
    ("options", "where"),
    [
        ({"model": "m"}, "base_url"),
        ({"base_url": "localhost:11434/v1", "model": "m"}, "base_url"),
        ({"base_url": "http://x/v1"}, "model"),
        ({"base_url": "http://x/v1", "model": "m", "temprature": 0.3}, "temprature"),
        ({"base_url": "http://x/v1", "model": "m", "timeout": -1}, "timeout"),
        ({"base_url": "http://x/v1", "model": "m", "max_retries": -1}, "max_retries"),
    ],
)
def test_bad_options(options: dict[str, Any], where: str) -> None:
    with pytest.raises(ConfigError, match=f"option '{where}'"):
        OpenAICompatBackend.from_options(**options)
