"""The default backend: llama.cpp in-process through xllamacpp.

xllamacpp's ``Server`` runs llama.cpp's server loop on its own thread and calls a Python callback
for every streamed chunk; the callback returning ``True`` stops generation. We turn that push API
into the pull-style ``Iterator[Chunk]`` of the backend protocol with a thread and a queue.

Prompt caching: with ``n_parallel=1`` there is one slot whose KV cache survives between requests,
and llama.cpp reuses the longest common token prefix of the next prompt. The agent keeps the
prompt prefix byte-identical from turn to turn, so only the new turn is processed. With
``n_parallel=N`` (``personae serve --parallel N``) there are N slots, each with the full ``n_ctx``,
generating together (continuous batching); llama.cpp prefers a free slot whose cached prompt
shares a long prefix with the request.

Continuing a message (a last message marked ``prefix``): llama.cpp's own "assistant prefill"
continues *any* last assistant message, which would turn "the character speaks again" after its
own message into a continuation, so it is switched off and a continuation is asked for
explicitly: the chat template renders the messages before the partial one (ending with the
generation prompt that opens the assistant's turn), the partial text is appended, and the raw
completion path generates what follows. That is the prompt llama.cpp's prefill builds, so the
prompt cache is shared with ordinary turns.

xllamacpp also opens an HTTP listener on 127.0.0.1 (random port). We protect it with a random
API key and use it for what the Python binding lacks: ``/tokenize``, for exact token counts, and
``/apply-template``, to render the chat template for a continuation. The binding (xllamacpp
2026.10) has no tokenizer of its own: its ``Server`` offers chat and raw completions,
embeddings, rerank and metrics, and a completion's prompt count would cost a prompt evaluation
that evicts the slot's prompt cache. Where the listener cannot be reached (a sandbox without a
loopback interface, ``unshare -n``: the bind succeeds, every connection fails) generation still
works, in process; token counts fall back, once and for good, to an estimate priced for the
model's tokenizer (:attr:`~personae.models.ModelSpec.token_rates`; a file of unknown make gets
the byte-level bound), said once in a warning on the ``personae.backends.embedded`` logger.
Continuing a message then fails in one line. Why a start failed is worked out in
:mod:`personae.backends.embedded_start`.

LoRA adapters (option ``adapters``: name -> GGUF file) are loaded next to the base model and
applied per request: ``adapter`` picks the default, :meth:`EmbeddedBackend.with_adapters` gives a
view with others; how the prompt cache is kept apart per adapter is in
:mod:`personae.backends.embedded_adapters`.
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import Field

from personae.backends.base import (
    REPETITION_FIELDS,
    BackendOptions,
    Chunk,
    GenerationParams,
    Message,
    parse_options,
)
from personae.backends.chunk_decoder import ChunkDecoder
from personae.backends.embedded_adapters import (
    AdaptedBackend,
    AdapterChoice,
    Selection,
    SlotRouter,
    check_adapter_files,
)
from personae.backends.embedded_start import ServerFactory, start_server
from personae.errors import BackendError, BackendUnavailable, ContextOverflow
from personae.models import resolve_model
from personae.text.token_estimate import BYTE_LEVEL_RATES, estimate_tokens

log = logging.getLogger(__name__)

_DONE = object()


def xllamacpp_server(params: Any) -> Any:
    """llama.cpp's server for ``params`` (xllamacpp's ``Server``, looked up at each call)."""
    import xllamacpp

    return xllamacpp.Server(params)


class EmbeddedOptions(BackendOptions):
    model: str = Field(description="catalogue name (see `personae models list`) or a .gguf path")
    n_ctx: int | None = Field(default=None, ge=256, le=131072)
    threads: int | None = Field(default=None, ge=1, le=256)
    n_parallel: int = Field(default=1, ge=1, le=64)
    cache_ram_mib: int = Field(default=1024, ge=0)
    adapters: dict[str, Path] = Field(
        default_factory=dict,
        description="LoRA adapters to load beside the model: name -> GGUF adapter file",
    )
    adapter: str | None = Field(
        default=None, description="the adapter (a name in adapters) applied unless a view says"
    )


class EmbeddedBackend:
    """llama.cpp running inside this process. Build with ``get_backend("embedded", model=...)``."""

    name: ClassVar[str] = "embedded"
    options_model: ClassVar[type[EmbeddedOptions]] = EmbeddedOptions
    supports_prefill: ClassVar[bool] = True  # a KV prompt cache that a warm-up request fills

    def __init__(
        self,
        options: EmbeddedOptions,
        *,
        server_factory: ServerFactory = xllamacpp_server,
        http_transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``server_factory`` builds the runtime from xllamacpp's ``CommonParams`` and
        ``http_transport`` carries the calls to its listener: tests pass fakes of both."""
        resolved = resolve_model(options.model)
        self.model: str = resolved.name
        self.path: Path = resolved.path
        spec = resolved.spec
        self.n_ctx: int = options.n_ctx or (spec.default_ctx if spec is not None else 4096)
        self.options = options
        self._token_cache: OrderedDict[str, int] = OrderedDict()
        # Exact counts while llama.cpp's tokenizer answers, then this estimate (module docstring).
        self._rates = spec.token_rates if spec is not None else BYTE_LEVEL_RATES
        self._estimating = False
        self._estimating_lock = threading.Lock()
        self._api_key = secrets.token_urlsafe(24)
        check_adapter_files(options.adapters)
        self._router = SlotRouter(list(options.adapters), options.n_parallel)
        default = [AdapterChoice(options.adapter)] if options.adapter else []
        self._default_selection: Selection = self._router.selection(default)
        self._server = start_server(
            server_factory,
            self._params(),
            path=self.path,
            model=self.model,
            catalogued=spec is not None,
            context_tokens=self.n_ctx * options.n_parallel,
            adapters=list(options.adapters),
        )
        self._http = httpx.Client(
            base_url=str(self._server.listening_address),
            headers={"Authorization": f"Bearer {self._api_key}"},
            timeout=30.0,
            transport=http_transport,
        )

    @classmethod
    def from_options(cls, **options: Any) -> EmbeddedBackend:
        return cls(parse_options(EmbeddedOptions, cls.name, options))

    def _params(self) -> Any:
        """xllamacpp's ``CommonParams`` for this model and these options."""
        try:
            import xllamacpp
        except ImportError as exc:  # pragma: no cover - xllamacpp is a hard dependency
            raise BackendError(
                "the embedded backend needs xllamacpp: run `pip install xllamacpp`"
            ) from exc
        threads = self.options.threads or os.cpu_count() or 2
        params = xllamacpp.CommonParams()
        params.model.path = str(self.path)
        # n_ctx is per slot: llama.cpp splits a non-unified KV cache evenly between the
        # n_parallel slots (continuous batching decodes them together), so each gets n_ctx.
        params.n_ctx = self.n_ctx * self.options.n_parallel
        params.n_parallel = self.options.n_parallel
        params.kv_unified = False
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.cache_prompt = True
        params.cache_ram_mib = self.options.cache_ram_mib
        if self.options.adapters:
            # Scale 0: an adapter applies only to the requests that ask for it. The host-memory
            # prompt cache is off: nothing shows it keeps adapters apart (embedded_adapters).
            params.lora_adapters = [
                xllamacpp.CommonAdapterLoraInfo(str(path), 0.0)
                for path in self.options.adapters.values()
            ]
            params.cache_ram_mib = 0
        # A last assistant message is a finished turn; continuing one is asked for with
        # Message.prefix (see the module docstring).
        params.prefill_assistant = False
        params.warmup = False
        params.verbosity = -1
        params.api_keys = [self._api_key]
        params.hostnames = ["127.0.0.1"]
        return params

    # -- the protocol -------------------------------------------------------------------------

    @property
    def max_candidates(self) -> int:
        """Replies decoded together: one for each parallel slot (``n_parallel``)."""
        return self.options.n_parallel

    # -- adapters -----------------------------------------------------------------------------

    @property
    def adapter_names(self) -> tuple[str, ...]:
        """The LoRA adapters loaded beside the model, in llama.cpp's order (their ids)."""
        return self._router.names

    def adapter_selection(self, choices: Sequence[AdapterChoice]) -> Selection:
        """``choices`` as the selection a request carries; :class:`AdapterError` for a name
        that is not loaded."""
        return self._router.selection(choices)

    def with_adapters(self, *choices: AdapterChoice | str) -> AdaptedBackend:
        """This backend with ``choices`` applied to every request (none: the base model alone),
        sharing the model in memory. A name stands for that adapter at scale 1."""
        return AdaptedBackend(
            self, [AdapterChoice(c) if isinstance(c, str) else c for c in choices]
        )

    def _route(self, request: dict[str, Any], adapters: Selection | None) -> dict[str, Any]:
        if self._router.names:
            self._router.route(request, self._default_selection if adapters is None else adapters)
        return request

    def stream_candidates(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        n: int,
        *,
        adapters: Selection | None = None,
    ) -> Iterator[Chunk]:
        """``n`` ≤ :attr:`max_candidates` replies at once: llama.cpp reads the prompt in one slot
        and copies it to the others (see :mod:`personae.backends.candidates`)."""
        if not 1 <= n <= self.max_candidates:
            raise ValueError(f"n must be between 1 and {self.max_candidates}, not {n}")
        if messages and messages[-1].prefix:
            raise ValueError("several candidates continue no message")
        request = self._sampling(params)
        request["n"] = n
        request["messages"] = [m.as_dict() for m in messages]
        if self._router.names:
            chosen = self._default_selection if adapters is None else adapters
            if n == 1:
                self._router.route(request, chosen)
            else:
                self._router.route_spread(request, chosen)
        return self._run(request, self._server.handle_chat_completions, n=n)

    def next_token_logprobs(
        self, messages: Sequence[Message], *, top: int = 20, adapters: Selection | None = None
    ) -> dict[str, float]:
        """The ``top`` most likely first tokens of the reply to ``messages`` (token text →
        log-probability), from one greedy step of llama.cpp."""
        if not 1 <= top <= 20:
            raise ValueError(f"top must be between 1 and 20, not {top}")
        request: dict[str, Any] = {
            "messages": [m.as_dict() for m in messages],
            "max_tokens": 1,
            "temperature": 0.0,
            "logprobs": True,
            "top_logprobs": top,
            "cache_prompt": True,
        }
        self._route(request, adapters)
        out: list[Any] = []

        def keep(item: Any) -> bool:
            out.append(item)
            return False

        try:
            self._server.handle_chat_completions(request, keep)
        except Exception as exc:  # the runtime's own failure, said in one line
            raise BackendError(f"llama.cpp failed: {exc}") from exc
        body = next((item for item in out if isinstance(item, dict)), {})
        if "error" in body:
            raise self._error(body["error"])
        choices = body.get("choices") or [{}]
        content = ((choices[0].get("logprobs") or {}).get("content")) or [{}]
        return {
            str(t.get("token", "")): float(t.get("logprob", float("-inf")))
            for t in content[0].get("top_logprobs") or []
        }

    def stream(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        *,
        adapters: Selection | None = None,
    ) -> Iterator[Chunk]:
        """Generate the reply to ``messages``; ``adapters`` (from :meth:`adapter_selection`)
        overrides the default adapter (option ``adapter``)."""
        request = self._route(self._sampling(params), adapters)
        if messages and messages[-1].prefix:
            request["prompt"] = self._render(messages[:-1]) + messages[-1].content
            return self._run(request, self._server.handle_completions)
        request["messages"] = [m.as_dict() for m in messages]
        return self._run(request, self._server.handle_chat_completions)

    def _render(self, messages: Sequence[Message]) -> str:
        """The chat template applied to ``messages``, ending with the assistant's turn opened."""
        try:
            response = self._http.post(
                "/apply-template", json={"messages": [m.as_dict() for m in messages]}
            )
        except httpx.HTTPError as exc:
            raise BackendUnavailable(
                f"continuing a message needs llama.cpp's HTTP listener, which cannot be reached "
                f"here ({_said(exc)}): send a new message instead"
            ) from exc
        try:
            prompt = response.json().get("prompt") if response.status_code == 200 else None
        except ValueError:
            prompt = None
        if not isinstance(prompt, str):
            raise BackendError(
                f"llama.cpp could not apply {self.model}'s chat template to continue a message "
                f"(HTTP {response.status_code}: {response.text[:200]})"
            )
        return prompt

    def _sampling(self, params: GenerationParams) -> dict[str, Any]:
        request: dict[str, Any] = {
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "cache_prompt": True,
        }
        if params.top_k is not None:
            request["top_k"] = params.top_k
        if params.min_p is not None:
            request["min_p"] = params.min_p
        if params.repeat_penalty is not None:
            request["repeat_penalty"] = params.repeat_penalty
        if params.seed is not None:
            request["seed"] = params.seed
        if params.stop:
            request["stop"] = list(params.stop)
        # llama-server's own field names; unset ones are left to llama.cpp's defaults.
        for name in REPETITION_FIELDS:
            value = getattr(params, name)
            if value is not None:
                request[name] = value
        # -1 means "the whole context" to llama.cpp, but the build xllamacpp ships refuses it for
        # dry_penalty_last_n ("must be between 0 <= value"): send the slot's context instead,
        # which is what llama.cpp rewrites -1 to.
        for name in ("repeat_last_n", "dry_penalty_last_n"):
            if request.get(name) == -1:
                request[name] = self.n_ctx
        return request

    def _run(
        self, request: dict[str, Any], handle: Callable[..., Any], n: int = 1
    ) -> Iterator[Chunk]:
        events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        cancel = threading.Event()

        def on_chunk(chunk: Any) -> bool:
            events.put(chunk)
            return cancel.is_set()

        def work() -> None:
            try:
                handle(request, on_chunk)
            except Exception as exc:  # surfaced to the consumer, never swallowed
                events.put(exc)
            finally:
                events.put(_DONE)

        worker = threading.Thread(target=work, name="personae-llama", daemon=True)
        worker.start()
        decoder = ChunkDecoder(n)
        try:
            while True:
                item = events.get()
                if item is _DONE:
                    break
                if isinstance(item, Exception):
                    raise BackendError(f"llama.cpp failed: {item}")
                if not isinstance(item, dict):
                    continue
                if "error" in item:
                    raise self._error(item["error"])
                yield from decoder.feed(item)
            # One end chunk per candidate; the request's usage (all of them) on the last.
            yield from decoder.ends()
        finally:
            # A consumer that stops early (Ctrl-C, client gone) cancels generation at the next
            # token; waiting for the worker keeps the single slot free for the next request.
            cancel.set()
            worker.join()

    def _error(self, error: Any) -> Exception:
        if isinstance(error, dict):
            message = str(error.get("message", error))
            if error.get("type") == "exceed_context_size_error":
                return ContextOverflow(
                    f"the prompt needs {error.get('n_prompt_tokens')} tokens but {self.model} "
                    f"runs with a {self.n_ctx}-token context; raise it with --ctx or start a "
                    "new chat"
                )
            return BackendError(f"llama.cpp rejected the request: {message}")
        return BackendError(f"llama.cpp rejected the request: {error}")

    # -- capabilities -------------------------------------------------------------------------

    def count_tokens(self, text: str) -> int:
        """Token count as the model's tokenizer sees ``text`` (cached): exact while llama.cpp's
        tokenizer answers, else an estimate on the safe side (see the module docstring)."""
        cached = self._token_cache.get(text)
        if cached is not None:
            self._token_cache.move_to_end(text)
            return cached
        count = None if self._estimating else self._tokenize(text)
        if count is None:
            return estimate_tokens(text, self._rates)
        self._token_cache[text] = count
        if len(self._token_cache) > 4096:
            self._token_cache.popitem(last=False)
        return count

    @property
    def exact_counts(self) -> bool:
        """Whether :meth:`count_tokens` still asks llama.cpp's tokenizer (not estimating)."""
        return not self._estimating

    def _tokenize(self, text: str) -> int | None:
        """How many tokens llama.cpp's ``/tokenize`` makes of ``text``; None when it cannot be
        asked (then :meth:`count_tokens` estimates from now on)."""
        try:
            response = self._http.post("/tokenize", json={"content": text, "add_special": False})
            body = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError) as exc:  # ValueError: not JSON
            self._estimate_from_now(_said(exc))
            return None
        tokens = body.get("tokens") if isinstance(body, dict) else None
        if not isinstance(tokens, list):
            code = response.status_code
            self._estimate_from_now(f"HTTP {code}" if code != 200 else "an answer without tokens")
            return None
        return len(tokens)

    def _estimate_from_now(self, why: str) -> None:
        with self._estimating_lock:
            if self._estimating:
                return
            self._estimating = True
        log.warning(
            "llama.cpp's tokenizer did not answer (%s): token counts for %s are estimated "
            "from now on, on the high side, so less of a chat fits its %d-token context",
            why,
            self.model,
            self.n_ctx,
        )

    def close(self) -> None:
        self._http.close()
        server, self._server = self._server, None
        del server

    def __enter__(self) -> EmbeddedBackend:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _said(exc: BaseException) -> str:
    """An exception as a few words for a one-line message."""
    words = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {words}" if words else type(exc).__name__
