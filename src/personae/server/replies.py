"""Answering with a generation job: submit it, then send what it reports as one
``chat.completion`` or as a stream of ``chat.completion.chunk`` events. Shared by
``POST /v1/chat/completions`` and ``POST /api/chats/{id}/regenerate``, so both answer alike.

A stream answers only once the first token is there, so a failure before it still gets its HTTP
status; a failure after it is a ``data: {"error": …}`` event, with no ``[DONE]`` after it. A
reply chosen among candidates (best-of-N) has its first text only once it is chosen (the slowest
candidate's time, bounded by its time budget): its stream starts then, role chunk first, and a
client shows its own "choosing…" or typing state until it does. Also
here: reading a request body with a size limit, refused before it is all in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from personae.server.errors import APIError, error_response, sse_error
from personae.server.events import Candidates, Delta, Event, Failed, Finished, Opened
from personae.server.jobs import Job
from personae.server.state import ServerState
from personae.server.streaming import DONE, Channel, ClientGone, Output

CHAT_HEADER = "X-Personae-Chat-Id"
# A status for the log only: the client that would read it has gone.
CLIENT_CLOSED = 499


def too_large(limit: int, hint: str) -> APIError:
    return APIError(
        f"the request body is over {limit:,} bytes: {hint}", status=413, code="request_too_large"
    )


async def read_body(request: Request, limit: int, hint: str) -> bytes:
    """The body, refusing one over ``limit`` bytes (with ``hint`` saying what to send instead)
    before reading it all into memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        raise too_large(limit, hint)
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise too_large(limit, hint)
    return bytes(body)


async def answer(
    request: Request, state: ServerState, job: Job, output: Output, *, stream: bool
) -> Response:
    """Run ``job`` on a worker and answer with its reply, streamed or whole."""
    channel = Channel(asyncio.get_running_loop())
    # Over capacity this raises the 429, before any response has started.
    client = request.client.host if request.client else None
    state.workers.submit(job, channel.emit, channel.cancel, client=client)
    if stream:
        return await _stream(request, channel, output)
    return await _complete(request, channel, output)


def _opened(event: Opened, output: Output, headers: dict[str, str]) -> None:
    if event.chat_id is not None:
        output.personae = {"chat_id": event.chat_id, "user_id": event.user_id}
        headers[CHAT_HEADER] = str(event.chat_id)


async def _complete(request: Request, channel: Channel, output: Output) -> Response:
    headers: dict[str, str] = {}
    error: BaseException | None = None
    try:
        while (event := await channel.next(request)) is not None:
            if isinstance(event, Opened):
                _opened(event, output, headers)
            elif isinstance(event, Delta):
                output.add_text(event.index, event.text)
            elif isinstance(event, Candidates):
                output.candidates = event
            elif isinstance(event, Finished):
                output.finished[event.index] = event
            else:
                error = event.error
    except ClientGone:
        return Response(status_code=CLIENT_CLOSED)
    finally:
        channel.cancel.set()  # a no-op when the job is over; stops it if we were cancelled
    if error is not None:
        return error_response(error, headers)
    return JSONResponse(output.body(), headers=headers)


async def _stream(request: Request, channel: Channel, output: Output) -> Response:
    """Wait for the first token before answering, so that an error in set-up or in reaching the
    backend still gets its HTTP status; after that, errors are sent as an event."""
    headers: dict[str, str] = {}
    try:
        first = await channel.next(request)
        while isinstance(first, Opened):
            _opened(first, output, headers)
            first = await channel.next(request)
    except ClientGone:
        return Response(status_code=CLIENT_CLOSED)
    except BaseException:
        channel.cancel.set()
        raise
    if first is None or isinstance(first, Failed):
        channel.cancel.set()
        error = first.error if first else RuntimeError("the job ended without a reply")
        return error_response(error, headers)
    headers.update({"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return StreamingResponse(
        _events(request, channel, output, first),
        media_type="text/event-stream",
        headers=headers,
    )


async def _events(
    request: Request, channel: Channel, output: Output, first: Event
) -> AsyncIterator[str]:
    started: set[int] = set()
    event: Event | None = first
    try:
        while event is not None:
            if isinstance(event, Delta | Finished) and event.index not in started:
                started.add(event.index)
                yield output.role_chunk(event.index)
            if isinstance(event, Delta):
                yield output.content_chunk(event.index, event.text)
            elif isinstance(event, Candidates):
                output.candidates = event  # sent on choice 0's finish chunk
            elif isinstance(event, Finished):
                yield output.finish_chunk(event)
            elif isinstance(event, Failed):
                # No [DONE] after an error: no client may take a broken reply as complete.
                yield sse_error(event.error)
                return
            event = await channel.next(request)
        if output.include_usage:
            yield output.usage_chunk()
        yield DONE
    except ClientGone:
        return
    finally:
        channel.cancel.set()
