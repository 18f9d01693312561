"""From a worker thread to the response: a :class:`Channel` carries a job's events onto the event
loop, and the builders here turn them into OpenAI's JSON, chunk by chunk.

The stream's shape is exactly OpenAI's: per choice, a first chunk whose delta is
``{"role": "assistant"}``, then ``{"content": …}`` deltas, then an empty delta with the
``finish_reason``; the same ``id`` and ``created`` on every chunk; with
``stream_options.include_usage`` one more chunk with ``choices: []`` and the ``usage``; then
``data: [DONE]``.

What is personae's own goes in a ``personae`` field, which OpenAI clients ignore: a stored
chat's details, and, for a reply chosen among candidates (best-of-N, refine, auto), every
candidate ranked with its verifiers' scores (``personae.candidates``: on the body, or on the
stream's finish chunk of choice 0). Such a reply streams nothing until it is chosen: its role
chunk comes first as usual, once the reply is chosen, and its text follows at once, whole.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from personae.server.events import Candidates, Event, Finished

if TYPE_CHECKING:
    from starlette.requests import Request

# How often a waiting response checks whether its client is still there.
DISCONNECT_POLL_SECONDS = 0.25
DONE = "data: [DONE]\n\n"


class ClientGone(Exception):
    """The client closed the connection; its job has been told to stop."""


class Channel:
    """Events of one job, from its worker thread to the request's coroutine; ``cancel`` goes
    the other way. ``None`` marks the end of the job.

    The buffer between them is unbounded on purpose: the worker never waits for its client.
    A bound would make a slow reader stall ``emit`` and so keep a generation slot busy, which
    is exactly what must not happen (or it would have to drop text). What a slow reader can
    pile up is bounded anyway: one response, at most ``n`` × ``max_tokens`` token events (8 ×
    32,768: tens of MB at the very worst, a few KB for a usual reply), held only until it reads
    them or leaves; the job itself ends, and frees its slot, at generation speed. A client that
    disconnects is noticed even while the server is blocked writing to it (Starlette listens
    for the disconnect during a stream, and :meth:`next` checks too), and the job is cancelled.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue()
        self.cancel = threading.Event()
        self._checked = loop.time()

    def emit(self, event: Event | None) -> None:
        """Called on the worker thread."""
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self.cancel.set()

    async def next(self, request: Request) -> Event | None:
        """The next event; raises :class:`ClientGone` (and cancels the job) if the client has
        disconnected, so an abandoned request stops generating. Checked on a clock, not only
        when the queue is idle: a steady stream of tokens must not hide a departure."""
        while True:
            now = self._loop.time()
            if now - self._checked >= DISCONNECT_POLL_SECONDS:
                self._checked = now
                if await request.is_disconnected():
                    self.cancel.set()
                    raise ClientGone()
            try:
                return await asyncio.wait_for(self._queue.get(), DISCONNECT_POLL_SECONDS)
            except TimeoutError:
                continue


@dataclass
class Output:
    """One response's identity and what it has gathered so far."""

    model: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:24]}")
    created: int = field(default_factory=lambda: int(time.time()))
    include_usage: bool = False
    personae: dict[str, Any] | None = None  # stored-chat details, for stateful requests
    candidates: Candidates | None = None  # a chosen reply's candidates, ranked
    texts: dict[int, list[str]] = field(default_factory=dict)
    finished: dict[int, Finished] = field(default_factory=dict)

    # -- chunks ---------------------------------------------------------------------------------

    def chunk(self, choices: list[dict[str, Any]], **extra: Any) -> str:
        data: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.include_usage:
            data["usage"] = None  # as OpenAI does: present on every chunk, set on the last
        data.update(extra)
        return f"data: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"

    @staticmethod
    def choice(index: int, delta: dict[str, str], finish_reason: str | None = None) -> Any:
        return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}

    def role_chunk(self, index: int) -> str:
        extra = {"personae": self.personae} if self.personae and index == 0 else {}
        return self.chunk([self.choice(index, {"role": "assistant"})], **extra)

    def add_text(self, index: int, text: str) -> None:
        self.texts.setdefault(index, []).append(text)

    def content_chunk(self, index: int, text: str) -> str:
        self.add_text(index, text)
        return self.chunk([self.choice(index, {"content": text})])

    def finish_chunk(self, event: Finished) -> str:
        self.finished[event.index] = event
        reason = finish_reason(event.finish_reason)
        extra: dict[str, Any] = {}
        if self.personae or (self.candidates is not None and event.index == 0):
            extra["personae"] = self.extension(with_candidates=event.index == 0)
        return self.chunk([self.choice(event.index, {}, reason)], **extra)

    def usage_chunk(self) -> str:
        return self.chunk([], usage=self.usage())

    # -- whole responses ------------------------------------------------------------------------

    def usage(self) -> dict[str, int]:
        done = list(self.finished.values())
        # The prompt is the same for every choice: count it once, as OpenAI does.
        prompt = max((f.prompt_tokens for f in done), default=0)
        completion = sum(f.completion_tokens for f in done)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def stored_details(self) -> dict[str, Any]:
        details = dict(self.personae or {})
        first = self.finished.get(0)
        if first is not None:
            details["reply_id"] = first.reply_id
            if first.memory_error:
                details["memory_error"] = first.memory_error
        return details

    def extension(self, *, with_candidates: bool = True) -> dict[str, Any]:
        """The ``personae`` field: the stored chat's details and the ranked candidates."""
        details = self.stored_details() if self.personae else {}
        if with_candidates and self.candidates is not None:
            details["strategy"] = self.candidates.strategy
            details["candidates"] = self.candidates.ranked
        return details

    def body(self) -> dict[str, Any]:
        choices = [
            {
                "index": index,
                "message": {"role": "assistant", "content": "".join(self.texts.get(index, []))},
                "logprobs": None,
                "finish_reason": finish_reason(event.finish_reason),
            }
            for index, event in sorted(self.finished.items())
        ]
        data: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
            "usage": self.usage(),
        }
        if self.personae or self.candidates is not None:
            data["personae"] = self.extension()
        return data


def finish_reason(reason: str) -> str:
    """OpenAI knows ``stop`` and ``length``; a backend's other reasons end as ``stop``."""
    return "length" if reason == "length" else "stop"
