"""OpenAI chat-completion chunks to :class:`~personae.backends.base.Chunk`: one decoder for the
embedded backend (llama.cpp's in-process server speaks the same format) and the ``openai``
backend, so both read text, finish reasons, usage and several candidates' ``index`` alike.

A payload is one streamed ``chat.completion.chunk`` (``choices[].delta.content``), a whole
``chat.completion`` from a server that ignored ``stream: true`` (``choices[].message``), or a
raw completion chunk (``choices[].text``, the embedded backend's continuation path). Usage comes
in the chunk ``stream_options.include_usage`` asks for, with llama.cpp's ``timings`` where the
server sends them. The decoder does not judge errors or the end of the stream: its callers do,
each in its own terms.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from personae.backends.base import Chunk, FinishReason, Usage


def as_int(value: object) -> int:
    """A count from a server's JSON: an int (not a bool), else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def usage_of(payload: Mapping[str, Any]) -> Usage | None:
    """The usage a payload carries (None when it carries none)."""
    raw = payload.get("usage")
    if not isinstance(raw, dict):
        return None
    details = raw.get("prompt_tokens_details")
    timings = payload.get("timings")
    timings = timings if isinstance(timings, dict) else {}
    return Usage(
        prompt_tokens=as_int(raw.get("prompt_tokens")),
        completion_tokens=as_int(raw.get("completion_tokens")),
        cached_tokens=as_int(details.get("cached_tokens") if isinstance(details, dict) else None),
        prompt_ms=_ms(timings.get("prompt_ms")),
        generation_ms=_ms(timings.get("predicted_ms")),
    )


def _ms(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


class ChunkDecoder:
    """Decodes the payloads of one request for ``n`` candidates (``n`` = 1: a plain reply,
    every choice is candidate 0). Feed each payload; :meth:`ends` gives the end chunks."""

    def __init__(self, n: int = 1) -> None:
        if n < 1:
            raise ValueError(f"n must be at least 1, not {n}")
        self.n = n
        self.usage: Usage | None = None
        # Finish reasons by candidate, as the server gave them ("content_filter" included).
        self.finish: dict[int, str] = {}
        self.texts: dict[int, list[str]] = {}

    def feed(self, payload: Mapping[str, Any]) -> Iterator[Chunk]:
        """The text chunks of one payload (candidate-tagged); usage and finish reasons are
        kept for :meth:`ends`. Choices that are not objects, or name a candidate outside
        ``0 … n-1``, are skipped."""
        self.usage = usage_of(payload) or self.usage
        for choice in payload.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            index = as_int(choice.get("index")) if self.n > 1 else 0
            if not 0 <= index < self.n:
                continue
            # "message" is what a server that ignored ``stream: true`` sends; "text" is a raw
            # completion's.
            delta = choice.get("delta") or choice.get("message")
            text = delta.get("content") if isinstance(delta, dict) else None
            if not text:
                text = choice.get("text")
            if isinstance(text, str) and text:
                self.texts.setdefault(index, []).append(text)
                yield Chunk(text=text, candidate=index)
            reason = choice.get("finish_reason")
            if isinstance(reason, str) and reason:
                self.finish[index] = reason

    @property
    def finished(self) -> bool:
        """Whether the server said how (any) candidate ended."""
        return bool(self.finish)

    @property
    def text(self) -> str:
        """Everything received so far, all candidates (for a broken-off reply's message)."""
        return "".join("".join(parts) for parts in self.texts.values())

    def seen(self) -> set[int]:
        """The candidates the server sent anything for (text or a finish reason)."""
        return set(self.texts) | set(self.finish)

    def reason(self, index: int) -> FinishReason:
        """How candidate ``index`` ended, as callers see it: "length" at the token limit, else
        "stop" ("content_filter", "tool_calls" … still end the reply)."""
        return "length" if self.finish.get(index) == "length" else "stop"

    def ends(self, candidates: range | None = None) -> Iterator[Chunk]:
        """One end chunk per candidate (all ``n`` unless ``candidates`` says which); the
        request's usage, which covers all of them, rides on the last."""
        which = list(candidates if candidates is not None else range(self.n))
        for k, index in enumerate(which):
            last = k == len(which) - 1
            yield Chunk(
                finish_reason=self.reason(index),
                usage=self.usage if last else None,
                candidate=index,
            )


__all__ = ["ChunkDecoder", "as_int", "usage_of"]
