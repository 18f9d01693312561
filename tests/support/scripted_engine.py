"""A scripted OpenAI-compatible engine in its own process: what vLLM is to a personae cluster,
with the model taken out, so that tests and benchmarks measure personae, not generation.

Every ``POST /v1/chat/completions`` streams (or returns) a reply of ``--tokens`` pieces at
``--delay`` seconds apart, whatever it was asked: words drawn from a list of a few hundred by a
generator seeded with the request's number, so replies differ from one another (the reply
guards find no copy of an earlier reply to refuse; they may still refuse one for other reasons,
the scripted words being no role-play) and are known in advance (:func:`reply_text`). It serves
many streams at once (asyncio), so the engine is never the bottleneck of a load test.

    python -m tests.support.scripted_engine --port 8100 --tokens 20 --delay 0.01
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

WORDS = (
    "Elementary", "the", "fog", "lifts", "over", "Baker", "Street", "and", "a", "game",
    "is", "afoot", "again", "my", "friend", "watch", "that", "window", "closely", "tonight",
    "mud", "boots", "clay", "tobacco", "ash", "letter", "seal", "wax", "cab", "driver",
    "river", "bridge", "lamp", "violin", "chemistry", "train", "ticket", "moor", "hound",
    "garden", "ring", "hat", "glove", "stain", "ledger", "clerk", "inspector", "alibi",
    "footprint", "cipher", "bell", "rope", "window", "ladder", "candle", "key", "trunk",
    "telegram", "station", "quietly", "certainly", "perhaps", "plainly", "observe", "deduce",
)  # fmt: skip


def _piece(request_no: int, i: int) -> str:
    """Piece ``i`` of reply ``request_no``: a word picked by a hash of both (so replies share
    no runs of words), the first one numbered."""
    digest = hashlib.blake2b(f"{request_no}:{i}".encode(), digest_size=4).digest()
    word = WORDS[int.from_bytes(digest, "big") % len(WORDS)]
    return (" " if i else "") + (f"{word}{request_no}" if i == 0 else word)


def reply_text(request_no: int, tokens: int) -> str:
    """The whole reply the engine gives request ``request_no``."""
    return "".join(_piece(request_no, i) for i in range(tokens)) + "."


def build_app(tokens: int, delay: float, model: str = "scripted") -> Starlette:
    counter = itertools.count(1)

    async def models(_: Request) -> Response:
        return JSONResponse({"object": "list", "data": [{"id": model, "object": "model"}]})

    async def chat(request: Request) -> Response:
        body = await request.json()
        n = next(counter)
        name = str(body.get("model") or model)
        if not body.get("stream"):
            await asyncio.sleep(delay * tokens)
            text = "".join(_piece(n, i) for i in range(tokens)) + "."
            return JSONResponse(
                {
                    "id": f"chatcmpl-{n}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": name,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": text},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": 50,
                        "completion_tokens": tokens,
                        "total_tokens": 50 + tokens,
                    },
                }
            )

        def event(delta: dict[str, Any], finish: str | None = None) -> str:
            chunk = {
                "id": f"chatcmpl-{n}",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": name,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(chunk)}\n\n"

        async def stream() -> AsyncIterator[str]:
            yield event({"role": "assistant"})
            for i in range(tokens):
                await asyncio.sleep(delay)
                yield event({"content": _piece(n, i) + ("." if i == tokens - 1 else "")})
            yield event({}, "stop")
            usage = {"prompt_tokens": 50, "completion_tokens": tokens, "total_tokens": 50 + tokens}
            yield f"data: {json.dumps({'id': f'chatcmpl-{n}', 'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/v1/models", models),
            Route("/v1/chat/completions", chat, methods=["POST"]),
        ]
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.01)
    parser.add_argument("--model", default="scripted")
    args = parser.parse_args()
    uvicorn.run(
        build_app(args.tokens, args.delay, args.model),
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        backlog=4096,
    )


if __name__ == "__main__":
    main()
