"""Reading a server-sent event stream (an OpenAI-compatible server's streamed completion).

SSE lines end only at CRLF, LF or CR. httpx's ``iter_lines`` also splits at U+2028, U+0085 …,
which JSON may carry unescaped inside a string, so lines are split on bytes here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import httpx

_EOL = re.compile(rb"\r\n|\r|\n")


def response_events(response: httpx.Response) -> Iterator[tuple[str, str]]:
    """A streamed completion's events as ``(event name, data)``, as :func:`iter_sse` reads
    them; a whole JSON completion (a server that ignored ``stream: true``) as one event."""
    if response.headers.get("content-type", "").startswith("application/json"):
        # Some servers and proxies ignore ``stream: true`` and send one whole completion.
        yield "", response.read().decode("utf-8", "replace")
    else:
        yield from iter_sse(iter_lines(response.iter_bytes()))


def iter_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Split a byte stream into lines at CRLF, LF or CR, wherever the reads happen to end."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        start = 0
        for match in _EOL.finditer(pending):
            if match.group() == b"\r" and match.end() == len(pending):
                break  # maybe the first half of a CRLF split across two reads
            yield pending[start : match.start()].decode("utf-8", "replace")
            start = match.end()
        pending = pending[start:]
    if pending:
        yield pending.removesuffix(b"\r").decode("utf-8", "replace")


def iter_sse(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Server-sent events as ``(event name, data)``; comments, ``id`` and ``retry`` are skipped."""
    event, data = "", list[str]()
    for line in lines:
        if not line:
            if data:
                yield event, "\n".join(data)
            event, data = "", []
        elif not line.startswith(":"):  # ":" starts a keep-alive comment
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "data":
                data.append(value)
            elif field == "event":
                event = value
    if data:
        yield event, "\n".join(data)


__all__ = ["iter_lines", "iter_sse", "response_events"]
