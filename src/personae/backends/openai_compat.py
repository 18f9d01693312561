"""The ``openai`` backend: any OpenAI-compatible server (Ollama, vLLM, llama-server, OpenAI).

``base_url`` is used as given, like the openai client: for most servers it ends in ``/v1``. The
request stays strictly OpenAI-standard so OpenAI itself accepts it; server-specific knobs
(``top_k``, ``min_p``, ``repeat_penalty``) go in ``extra_body``. The repetition controls of
:class:`GenerationParams` are sent only when set: ``presence_penalty``/``frequency_penalty`` as
OpenAI's fields, ``repeat_last_n`` and DRY's ``dry_*`` under llama-server's names. A request is
retried only where that is safe (connection errors, 429, 500/502/503/504), only before the first
token. A server that accepted the request and then said nothing for ``timeout`` seconds is not
asked again: it is busy or hung, and asking twice more would keep the caller waiting three times
as long.

Text from the server (error messages, broken events) reaches users and logs only after
:func:`scrub_secrets`: servers echo the key they rejected, whole or in part.
"""

from __future__ import annotations

import copy
import json
import random
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar, Literal

import httpx
from pydantic import Field, JsonValue, field_validator

from personae.backends.base import (
    REPETITION_FIELDS,
    BackendOptions,
    Chunk,
    GenerationParams,
    Message,
    parse_options,
)
from personae.backends.candidates import MAX_CANDIDATES, threaded_candidates
from personae.backends.chunk_decoder import ChunkDecoder
from personae.backends.llama_server_lora import (
    MAX_ADAPTERS,
    find_lora_id,
    lora_adapters_url,
    lora_field,
    parse_lora_adapters,
)
from personae.backends.secret_scrub import scrub_secrets
from personae.backends.sse_reader import response_events
from personae.errors import (
    BackendAuthError,
    BackendError,
    BackendModelNotFound,
    BackendTimeout,
    BackendUnavailable,
    StreamInterrupted,
)
from personae.settings.urls import check_http_url

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A server asking for a longer pause gets an error now: a hidden long sleep looks like a hang.
_MAX_RETRY_AFTER = 30.0
_DNS_HINTS = ("name or service", "nodename", "name resolution", "getaddrinfo")
_SECRET_HEADER = re.compile(r"(?i)key|auth|token|secret|cookie|password")


class OpenAICompatOptions(BackendOptions):
    """Options of the ``openai`` backend. ``timeout``: longest silence between two bytes of a
    reply; ``retry_backoff``: first retry's pause in seconds (doubling, jittered); ``extra_body``:
    merged into each request, where a ``None`` value removes a standard key the server rejects.
    ``lora_model``: how a request names one of the server's LoRA adapters: ``name`` (vLLM's
    ``--lora-modules``: the adapter is a model of its own, listed by ``GET /models``),
    ``model:name`` (SGLang's ``--lora-paths``: the base model, a colon, the adapter) or
    ``lora-id`` (llama-server's ``--lora``: the base model, and the adapter by its id in the
    body, found by its path or in ``lora_ids``; see :mod:`personae.backends.llama_server_lora`)."""

    base_url: str = Field(min_length=1)
    model: str = Field(min_length=1)
    api_key: str | None = Field(default=None, repr=False)
    timeout: float = Field(default=120.0, gt=0)
    connect_timeout: float = Field(default=10.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=10)
    retry_backoff: float = Field(default=0.5, ge=0)
    extra_headers: dict[str, str] = Field(default_factory=dict)
    extra_body: dict[str, JsonValue] = Field(default_factory=dict)
    lora_model: Literal["name", "model:name", "lora-id"] = "name"
    lora_ids: dict[str, int] = Field(default_factory=dict, max_length=MAX_ADAPTERS)

    @field_validator("lora_ids")
    @classmethod
    def _check_lora_ids(cls, value: dict[str, int]) -> dict[str, int]:
        for label, number in value.items():
            if "@" not in label or not 0 <= number < MAX_ADAPTERS:
                raise ValueError(
                    f"{label!r} = {number}: name adapters as character@adapter, with the id "
                    f"llama-server lists (0 to {MAX_ADAPTERS - 1})"
                )
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return check_http_url(value)


class _Retry(Exception):
    """A failure seen before any token reached the caller, so sending the request again is safe."""

    def __init__(self, error: BackendError, retry_after: float | None = None) -> None:
        self.error, self.retry_after = error, retry_after


class OpenAICompatBackend:
    """Streams chat completions from an OpenAI-compatible server.

    One ``httpx.Client`` per instance (pooled connections, headers, timeouts): call :meth:`close`
    or use the backend as a context manager. ``transport`` and ``sleep`` are there for tests.
    """

    name: ClassVar[str] = "openai"
    options_model: ClassVar[type[OpenAICompatOptions]] = OpenAICompatOptions

    def __init__(
        self,
        options: OpenAICompatOptions,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options = options
        self.model: str = options.model
        self._sleep = sleep
        # Messages name the server, never credentials that may sit in the URL.
        self._where = str(httpx.URL(options.base_url).copy_with(username=None, password=None))
        # Keys also travel in headers of their own (api-key, x-api-key, cookies …).
        self._secrets = [options.api_key] if options.api_key else []
        self._secrets += [
            value
            for name, value in options.extra_headers.items()
            if _SECRET_HEADER.search(name) and value
        ]
        headers = {"User-Agent": "personae"}
        if options.api_key:
            headers["Authorization"] = f"Bearer {options.api_key}"
        headers.update(options.extra_headers)
        timeout = httpx.Timeout(options.timeout, connect=options.connect_timeout)
        self._client = httpx.Client(headers=headers, timeout=timeout, transport=transport)
        self._owns_client = True  # False in the views of with_adapter, which share it
        # Whether the server answers OpenAI's ``n`` with n replies: unknown until it is asked.
        self._native_n: bool | None = None

    @classmethod
    def from_options(cls, **options: Any) -> OpenAICompatBackend:
        """Build from plain options (the registry's entry point); bad options raise ConfigError."""
        return cls(parse_options(OpenAICompatOptions, cls.name, options))

    def close(self) -> None:
        """Close the HTTP client and its pooled connections (a view leaves them to its base)."""
        if self._owns_client:
            self._client.close()

    @property
    def adapter_engine(self) -> str:
        """The engine whose way of naming adapters ``lora_model`` follows."""
        return {"name": "vllm", "model:name": "sglang", "lora-id": "llama-server"}[
            self.options.lora_model
        ]

    def with_adapter(self, name: str) -> OpenAICompatBackend | None:
        """This backend asking for the server's LoRA adapter ``name`` (see ``lora_model``), on
        the same connections; None when the server does not list it (``GET /models``, or
        llama-server's ``GET /lora-adapters``). SGLang lists no adapters, so there a wrong name
        is the server's error at the first request."""
        model, extra_body = self.model, self.options.extra_body
        if self.options.lora_model == "model:name":
            model = f"{self.model}:{name}"
        elif self.options.lora_model == "lora-id":
            named = self.options.lora_ids
            ids: Iterable[int]
            chosen: int | None
            if name in named:
                chosen, ids = named[name], named.values()
            else:
                held = self.list_lora_adapters()
                chosen, ids = find_lora_id(held, name), held.keys()
            if chosen is None:
                return None
            extra_body = {**extra_body, "lora": lora_field(ids, chosen)}
        elif name in self.list_models():
            model = name
        else:
            return None
        view = copy.copy(self)
        view.model, view._owns_client = model, False
        view.options = self.options.model_copy(update={"extra_body": extra_body})
        return view

    def __enter__(self) -> OpenAICompatBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        """Yield text deltas, then exactly one final chunk with the finish reason and usage."""
        request = self._request(self._body(messages, params))

        def attempt() -> Iterator[Chunk]:
            decoder = ChunkDecoder()
            yield from self._attempt(request, decoder)
            yield from decoder.ends()

        return self._retrying(attempt)

    @property
    def max_candidates(self) -> int:
        """Replies asked for in one request (OpenAI's ``n``)."""
        return MAX_CANDIDATES

    def stream_candidates(
        self, messages: Sequence[Message], params: GenerationParams, n: int
    ) -> Iterator[Chunk]:
        """``n`` replies from one request with OpenAI's ``n`` (vLLM and OpenAI decode them
        together from one processed prompt); a server that answers one reply to it (Ollama and
        llama-servers ignore ``n``) gets the rest as separate requests, then and from then on
        (see :mod:`personae.backends.candidates`)."""
        if not 1 <= n <= MAX_CANDIDATES:
            raise ValueError(f"n must be between 1 and {MAX_CANDIDATES}, not {n}")
        if n == 1 or self._native_n is False:
            return threaded_candidates(self, messages, params, n)
        return self._native_candidates(messages, params, n)

    def _native_candidates(
        self, messages: Sequence[Message], params: GenerationParams, n: int
    ) -> Iterator[Chunk]:
        request = self._request({**self._body(messages, params), "n": n})
        decoders: list[ChunkDecoder] = []

        def attempt() -> Iterator[Chunk]:
            decoders.append(ChunkDecoder(n))
            yield from self._attempt(request, decoders[-1])

        yield from self._retrying(attempt)
        decoder = decoders[-1]
        if decoder.seen() <= {0}:
            self._native_n = False
            yield from decoder.ends(range(1))
            seed = None if params.seed is None else params.seed + 1
            rest = params.model_copy(update={"seed": seed})
            for chunk in threaded_candidates(self, messages, rest, n - 1):
                yield Chunk(chunk.text, chunk.finish_reason, chunk.usage, chunk.candidate + 1)
            return
        self._native_n = True
        yield from decoder.ends()

    def _request(self, body: dict[str, Any]) -> httpx.Request:
        url = f"{self.options.base_url}/chat/completions"
        # identity: a compressing proxy would buffer the stream instead of passing tokens on.
        headers = {"Accept": "text/event-stream", "Accept-Encoding": "identity"}
        return self._client.build_request("POST", url, json=body, headers=headers)

    def list_models(self) -> list[str]:
        """The model ids the server offers (``GET {base_url}/models``)."""
        response = self._get(f"{self.options.base_url}/models")
        try:
            return [str(item["id"]) for item in response.json()["data"]]
        except (ValueError, KeyError, TypeError):
            raise BackendError(
                f"{self._where}/models did not return a model list; check base_url "
                "(OpenAI-compatible servers usually serve under /v1)"
            ) from None

    def list_lora_adapters(self) -> dict[int, str]:
        """llama-server's adapters, ``{id: path}`` (``GET /lora-adapters`` at its root)."""
        response = self._get(lora_adapters_url(self.options.base_url))
        try:
            return parse_lora_adapters(response.json())
        except ValueError:
            raise BackendError(
                f"{self._where} did not list LoRA adapters at /lora-adapters as llama-server "
                'does; lora_model = "lora-id" is for llama-server'
            ) from None

    def _get(self, url: str) -> httpx.Response:
        request = self._client.build_request("GET", url)
        # Not streamed: a read failure then surfaces from send() and is retried like a connect one.
        response: httpx.Response = next(
            self._retrying(lambda: iter([self._send(request, stream=False)]))
        )
        return response

    def _body(self, messages: Sequence[Message], params: GenerationParams) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream_options": {"include_usage": True},
        }
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        # presence/frequency are OpenAI's own fields; the rest are llama.cpp's (llama-server,
        # and servers that copy its names), sent only when asked for so OpenAI still accepts it.
        for name in REPETITION_FIELDS:
            value = getattr(params, name)
            if value is not None:
                body[name] = value
        body.update(self.options.extra_body)
        # The reader needs a stream of exactly these messages, whatever extra_body says.
        body.update(messages=[m.as_dict() for m in messages], stream=True)
        return {key: value for key, value in body.items() if value is not None}

    def _retrying(self, attempt: Callable[[], Iterator[Any]]) -> Iterator[Any]:
        for tries in range(self.options.max_retries + 1):
            try:
                yield from attempt()
                return
            except _Retry as retry:
                delay = retry.retry_after
                last = tries == self.options.max_retries
                if last or (delay is not None and delay > _MAX_RETRY_AFTER):
                    raise retry.error from retry.__cause__
                if delay is None:
                    # Jitter keeps clients that failed together from retrying in lockstep.
                    delay = self.options.retry_backoff * 2**tries * random.uniform(0.5, 1.0)
                self._sleep(delay)

    def _attempt(self, request: httpx.Request, decoder: ChunkDecoder) -> Iterator[Chunk]:
        response = self._send(request)
        try:
            yield from self._read(response, decoder)
        finally:
            # Also runs when the caller stops early: the connection is released, never leaked.
            response.close()

    def _send(self, request: httpx.Request, *, stream: bool = True) -> httpx.Response:
        try:
            response = self._client.send(request, stream=stream)
        except httpx.ReadTimeout as exc:
            raise self._timeout_error() from exc  # not retried: see the module's notes
        except httpx.TransportError as exc:
            raise _Retry(self._unreachable(exc)) from exc
        if response.status_code >= 300:  # redirects too: a POST must not silently become a GET
            try:
                body = response.read()
            except httpx.HTTPError:
                body = b""  # the status alone still says what happened
            finally:
                response.close()
            raise self._status_error(response, body)
        return response

    def _unreachable(self, exc: httpx.TransportError) -> BackendError:
        text = str(exc).lower()
        if isinstance(exc, httpx.ConnectTimeout):
            why = f"no answer within {self.options.connect_timeout:g}s"
        elif isinstance(exc, httpx.TimeoutException):
            return self._timeout_error()
        elif "refused" in text:
            why = "connection refused"
        elif any(hint in text for hint in _DNS_HINTS):
            why = "host name not found"
        else:
            why = self._scrub(_describe(exc))
        return BackendUnavailable(f"cannot reach {self._where}: {why} — is the server running?")

    def _status_error(self, response: httpx.Response, body: bytes) -> Exception:
        status = response.status_code
        try:
            message, code = _error_fields(json.loads(body))
        except ValueError:  # not JSON: a proxy's or a web server's own error page
            message, code = _one_line(body.decode("utf-8", "replace")), None
        said = self._scrub(f"HTTP {status}: {message}" if message else f"HTTP {status}")
        where = self._where
        if status < 400:
            to = self._scrub(response.headers.get("location", "elsewhere"))
            return BackendError(f"{where} redirects to {to} ({said}); change base_url to match")
        if status in (401, 403):
            what = "rejected the API key" if self.options.api_key else "wants an API key"
            return BackendAuthError(f"{where} {what} ({said}); check --api-key / PERSONAE_API_KEY")
        if code == "model_not_found" or (status == 404 and "model" in message.lower()):
            return BackendModelNotFound(
                f"model {self.model!r} not found on {where} ({said}); "
                "run `personae backends` to see what it serves, or check the model name"
            )
        if status == 404:
            return BackendError(
                f"no {response.request.url.path} on {where} ({said}); check base_url "
                "(OpenAI-compatible servers usually serve under /v1)"
            )
        if status in _RETRY_STATUSES:
            fix = "wait a moment, then try again" if status == 429 else "check the server's log"
            error = BackendError(f"{where} failed ({said}); {fix}")
            return _Retry(error, _retry_after(response))
        return BackendError(f"{where} refused the request ({said}); check the backend options")

    def _read(self, response: httpx.Response, decoder: ChunkDecoder) -> Iterator[Chunk]:
        """The text chunks of one response; raises if it broke off before the server said how
        the reply ended. The end chunks are the caller's (``decoder.ends()``)."""
        done = False
        try:
            for event, data in response_events(response):
                if data == "[DONE]":
                    done = True
                    break
                try:
                    payload = json.loads(data)
                except ValueError as exc:
                    why = f"malformed event ({exc}): {self._scrub(_one_line(data, 80))}"
                    raise self._interrupted(decoder.text, why) from None
                if event == "error" or (isinstance(payload, dict) and payload.get("error")):
                    why = f"the server reported an error: {self._scrub(_error_fields(payload)[0])}"
                    if not decoder.text:
                        raise BackendError(f"{self._where}: {why}")
                    raise self._interrupted(decoder.text, why)
                if not isinstance(payload, dict):
                    shown = self._scrub(_one_line(data, 80))
                    raise self._interrupted(decoder.text, f"not a JSON object: {shown}")
                yield from decoder.feed(payload)
        except httpx.TransportError as exc:
            if not decoder.finished:  # after it only the usage is lost; the reply is complete
                timed_out = isinstance(exc, httpx.TimeoutException)
                if timed_out and not decoder.text:
                    raise self._timeout_error() from exc  # not retried: see the module's notes
                why = (
                    f"no data for {self.options.timeout:g}s"
                    if timed_out
                    else self._scrub(_describe(exc))
                )
                error = self._interrupted(decoder.text, why)
                raise error if decoder.text else _Retry(error) from exc
        if not done and not decoder.finished:
            error = self._interrupted(
                decoder.text, "the connection closed before the reply was complete"
            )
            raise error if decoder.text else _Retry(error)

    def _interrupted(self, partial: str, why: str) -> StreamInterrupted:
        return StreamInterrupted(
            f"the reply from {self._where} broke off after {len(partial)} characters: {why}; "
            "try again (the partial reply is kept)",
            partial=partial,
        )

    def _timeout_error(self) -> BackendTimeout:
        return BackendTimeout(
            f"{self._where} sent nothing for {self.options.timeout:g}s; the model may still be "
            "loading or the server is busy — try again or raise the timeout option"
        )

    def _scrub(self, text: str) -> str:
        # Servers sometimes echo the key they rejected; it must never reach a log or a screen.
        return scrub_secrets(text, self._secrets)


def _error_fields(payload: Any) -> tuple[str, str | None]:
    """Message and code of an error body in the shapes servers use: OpenAI ``{"error": {…}}``,
    Ollama ``{"error": "…"}``, vLLM's top-level ``message``, FastAPI's ``detail``."""
    error = payload.get("error", payload) if isinstance(payload, dict) else payload
    if isinstance(error, dict):
        message = error.get("message") or error.get("detail") or json.dumps(error)
        code = error.get("code")
        return _one_line(str(message)), None if code is None else str(code)
    return _one_line("" if error is None else str(error)), None


def _retry_after(response: httpx.Response) -> float | None:
    # Seconds only, which is what LLM servers send; an HTTP date falls back to our own backoff.
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return None


def _describe(exc: Exception) -> str:
    return _one_line(str(exc), 120) or type(exc).__name__


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
