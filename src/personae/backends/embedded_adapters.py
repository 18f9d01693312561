"""LoRA adapters in the embedded runtime: one base model in memory, many adapters, each request
choosing its own.

llama.cpp loads every adapter named in ``CommonParams.lora_adapters`` at start; we load them at
scale 0, so none applies unless a request asks for it with ``"lora": [{"id", "scale"}]``. Each
request sends the scale of *every* loaded adapter (0 for those it does not use), so nothing
depends on what llama.cpp does with adapters a request leaves out.

The catch is the prompt cache: a slot's KV cache holds the prompt as computed *with* the adapters
of the request that filled it, and must never be reused by a request with other adapters (the
output would be partly the other adapter's). The llama.cpp build in xllamacpp 2026.10 was seen
clearing a slot's cache when the adapters change, but that is its internals, not a contract
(llama.cpp issue 26207 reports the opposite for another build), so :class:`SlotRouter` keeps
the rule itself: each adapter choice is pinned to a slot (``id_slot``), so with ``n_parallel``
at least the number of choices in use every adapter keeps its own warm cache, and a request
that lands on a slot last used with other adapters is sent with ``cache_prompt: false``. The
host-memory prompt cache (``cache_ram_mib``), which can restore any earlier prompt into any
slot, is switched off while adapters are loaded, as nothing shows it keys its entries by adapter.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from personae.backends.base import Chunk, GenerationParams, Message
from personae.errors import AdapterError

if TYPE_CHECKING:
    from personae.backends.embedded import EmbeddedBackend

# Which adapters a request uses, as (index in lora_adapters, scale) for those above 0: the key
# a slot's cache is valid for. () is the base model alone.
Selection = tuple[tuple[int, float], ...]
# A slot whose cache is of unknown adapters (after several candidates spread over slots).
_UNKNOWN: Selection = ((-1, 0.0),)


@dataclass(frozen=True, slots=True)
class AdapterChoice:
    """An adapter by name (as in the backend's ``adapters`` option) and the scale to apply it
    with (1: as trained; 0: not at all)."""

    name: str
    scale: float = 1.0


def check_adapter_files(adapters: Mapping[str, Path]) -> None:
    """An :class:`AdapterError` unless every adapter file is there and is GGUF; llama.cpp's
    own failure would only say that the server did not start."""
    for name, path in adapters.items():
        try:
            with Path(path).open("rb") as f:
                magic = f.read(4)
        except OSError as exc:
            raise AdapterError(
                f"adapter {name!r}: {path} cannot be read ({exc.strerror or exc}): give the "
                "GGUF file `personae` converted"
            ) from None
        if magic != b"GGUF":
            raise AdapterError(
                f"adapter {name!r}: {path} is not a GGUF file: convert the PEFT adapter first "
                "(personae.training.convert_adapter)"
            )


class SlotRouter:
    """Pins each adapter selection to a slot and says when a request must not reuse the slot's
    prompt cache (see the module docstring). Thread-safe: requests come from many threads."""

    def __init__(self, names: Sequence[str], n_slots: int) -> None:
        self.names = tuple(names)
        self.n_slots = n_slots
        self._lock = threading.Lock()
        self._owner: OrderedDict[Selection, int] = OrderedDict()  # least recently used first
        self._cached: list[Selection | None] = [None] * n_slots  # None: empty

    def selection(self, choices: Sequence[AdapterChoice]) -> Selection:
        """The selection for ``choices``; :class:`AdapterError` for a name not loaded."""
        scales: dict[int, float] = {}
        for choice in choices:
            if choice.name not in self.names:
                loaded = ", ".join(self.names) or "none"
                raise AdapterError(
                    f"adapter {choice.name!r} is not loaded (loaded: {loaded}): add it to the "
                    "backend's adapters"
                )
            if choice.scale > 0:
                scales[self.names.index(choice.name)] = float(choice.scale)
        return tuple(sorted(scales.items()))

    def route(self, request: dict[str, Any], selection: Selection) -> None:
        """Add the adapters, the slot and the cache rule for ``selection`` to ``request``."""
        scales = dict(selection)
        request["lora"] = [{"id": i, "scale": scales.get(i, 0.0)} for i in range(len(self.names))]
        with self._lock:
            slot = self._owner.get(selection)
            if slot is None:
                used = set(self._owner.values())
                free = [s for s in range(self.n_slots) if s not in used]
                if free:
                    slot = free[0]
                else:  # the least recently used selection gives its slot up
                    _, slot = self._owner.popitem(last=False)
            self._owner[selection] = slot
            self._owner.move_to_end(selection)
            if self._cached[slot] not in (None, selection):
                request["cache_prompt"] = False
            self._cached[slot] = selection
        request["id_slot"] = slot

    def route_spread(self, request: dict[str, Any], selection: Selection) -> None:
        """Like :meth:`route` for a request that fills several slots at once (candidates):
        llama.cpp picks them, so no cache is reused and every slot's cache is of unknown
        adapters afterwards."""
        scales = dict(selection)
        request["lora"] = [{"id": i, "scale": scales.get(i, 0.0)} for i in range(len(self.names))]
        request["cache_prompt"] = False
        with self._lock:
            self._cached = [_UNKNOWN] * self.n_slots


class AdaptedBackend:
    """The embedded backend with LoRA adapters applied to every request: what
    :meth:`EmbeddedBackend.with_adapters` returns. It shares the base model and its runtime with
    the backend it came from (and every other view), so many characters, each with its own
    adapter, are served by one model in memory."""

    name: ClassVar[str] = "embedded"
    supports_prefill: ClassVar[bool] = True

    def __init__(self, backend: EmbeddedBackend, choices: Sequence[AdapterChoice]) -> None:
        self._backend = backend
        self.choices = tuple(choices)
        self._selection = backend.adapter_selection(self.choices)
        names = "+".join(c.name if c.scale == 1 else f"{c.name}*{c.scale:g}" for c in choices)
        self.model: str = f"{backend.model}@{names}" if names else backend.model

    @property
    def base(self) -> EmbeddedBackend:
        """The backend these adapters are applied on (requests to it use none)."""
        return self._backend

    @property
    def max_candidates(self) -> int:
        return self._backend.max_candidates

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        return self._backend.stream(messages, params, adapters=self._selection)

    def stream_candidates(
        self, messages: Sequence[Message], params: GenerationParams, n: int
    ) -> Iterator[Chunk]:
        return self._backend.stream_candidates(messages, params, n, adapters=self._selection)

    def next_token_logprobs(
        self, messages: Sequence[Message], *, top: int = 20
    ) -> dict[str, float]:
        return self._backend.next_token_logprobs(messages, top=top, adapters=self._selection)

    def count_tokens(self, text: str) -> int:
        return self._backend.count_tokens(text)

    @property
    def exact_counts(self) -> bool:
        return self._backend.exact_counts


__all__ = [
    "AdaptedBackend",
    "AdapterChoice",
    "Selection",
    "SlotRouter",
    "check_adapter_files",
]
