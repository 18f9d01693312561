"""A scriptable fake backend for unit tests: ``enqueue`` replies, then read what was asked.

It follows the real protocol exactly (text deltas, then one final chunk with usage), can stream
slowly (``delay``), hold every reply until a ``gate`` opens, fail after N chunks, and count tokens
(one per whitespace word) so prompt budgeting is testable without a model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from personae.backends.base import Chunk, GenerationParams, Message, Usage
from personae.errors import BackendError


class ScriptedBackend:
    name: ClassVar[str] = "scripted"

    def __init__(self, model: str = "scripted", *, n_ctx: int = 4096, delay: float = 0.0) -> None:
        self.model = model
        self.n_ctx = n_ctx
        self.delay = delay
        self.queue: list[Any] = []
        self.calls: list[tuple[list[Message], GenerationParams]] = []
        self.closed_early = 0
        self.gate: threading.Event | None = None  # when set: replies wait for it to open
        # Replies chosen by the request's seed (best-of-N asks for candidates on threads, in
        # no fixed order); a seed not here takes the queue's next reply.
        self.by_seed: dict[int, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_options(cls, **options: Any) -> ScriptedBackend:
        return cls(**options)

    def enqueue(self, *replies: Any) -> ScriptedBackend:
        """Each reply: a string (split into word chunks), a list of chunks, or an Exception."""
        self.queue.extend(replies)
        return self

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        with self._lock:
            self.calls.append((list(messages), params))
            if params.seed is not None and params.seed in self.by_seed:
                reply = self.by_seed[params.seed]
            else:
                reply = self.queue.pop(0) if self.queue else "..."
        return self._run(reply, params)

    def _run(self, reply: Any, params: GenerationParams) -> Iterator[Chunk]:
        if isinstance(reply, Exception):
            raise reply
        pieces = reply if isinstance(reply, list) else _words(reply)
        sent = 0
        finished = False
        if self.gate is not None:
            assert self.gate.wait(30), "the test never opened the gate"
        try:
            for piece in pieces[: params.max_tokens]:
                if isinstance(piece, Exception):
                    raise piece
                if self.delay:
                    time.sleep(self.delay)
                text = piece
                for stop in params.stop:
                    if stop in text:
                        text = text[: text.index(stop)]
                        yield Chunk(text=text)
                        yield Chunk(finish_reason="stop", usage=Usage(10, sent + 1))
                        finished = True
                        return
                sent += 1
                yield Chunk(text=text)
            reason = "length" if len(pieces) > params.max_tokens else "stop"
            finished = True
            yield Chunk(finish_reason=reason, usage=Usage(prompt_tokens=10, completion_tokens=sent))
        finally:
            if not finished:
                self.closed_early += 1


def _words(text: str) -> list[str]:
    out: list[str] = []
    for i, word in enumerate(text.split(" ")):
        out.append(word if i == 0 else " " + word)
    return out


def failing(after: int, text: str = "one two three four", message: str = "boom") -> list[Any]:
    """A chunk list that raises BackendError after ``after`` chunks."""
    pieces: list[Any] = _words(text)[:after]
    pieces.append(BackendError(message))
    return pieces
