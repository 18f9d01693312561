"""P4: the server under concurrent streaming clients.

Part A (default): the real app (``create_app``, uvicorn, the bundled ``sherlock`` card) in a
child process on 127.0.0.1, over a paced backend that streams ``--tokens`` tokens, one every
``--delay`` seconds against its own clock, so its part of every reply is known exactly: first
token after ``delay``, last after ``tokens × delay``. ``--clients`` concurrent streaming clients
(httpx, one connection each) send ``--requests`` stateless requests each, back to back. Reported:
time to first token and total time (p50/p99), the *added* latency over the backend's own timing,
throughput, and errors by status. Two runs: one with a slot for every client (nothing waits; the
added latency is the server's own cost), and one with fewer slots and a short queue
(``--small-slots``, ``--small-queue``) where the rest must get a 429 with Retry-After. All
clients come from 127.0.0.1, which the queue counts as one user, so the per-user share of the
queue is set to the whole queue.

Part B (``--embedded``, off by default): the embedded smollm2-135m through the same server with
``--parallel 4`` (llama.cpp's parallel slots, continuous batching): 1 chat alone vs 4 chats at
once, generated tokens/s in all and per chat (greedy, ``--max-tokens`` each, after a warm-up
round that loads the model and caches the card in every slot), and the same 4 chats on a server
with 1 slot, where they take turns. Per chat: tokens over its whole time (waiting included) and
its decoding speed after its first token.

Run: python -m benchmarks.bench_server
     PERSONAE_MODELS_DIR=/tmp/ph/models python -m benchmarks.bench_server --embedded

Client and server share the machine (2 cores here), so the client's own parsing is part of the
added latency; the client reads each event as a line and parses JSON only to find errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import httpx

from benchmarks._common import percentile, table, write_result
from personae.backends.base import Chunk, GenerationParams, Message, Usage

CHARACTER = "sherlock"
QUESTIONS = [
    "I found a muddy boot print by the window this morning. What do you make of it?",
    "The housekeeper heard footsteps at midnight, but she sleeps downstairs. Who was it?",
    "There was a torn letter in the fireplace with half a signature. Can it be read?",
    "My brother owes money to a man in Whitechapel. Should I be worried for him?",
]


# -- the server, in a child process ---------------------------------------------------------------


class PacedBackend:
    """Streams ``tokens`` tokens, token i at ``(i + 1) × delay`` after the request, on a
    schedule (not sleep after sleep), so its own timing is exact unless the machine is
    overloaded."""

    name: ClassVar[str] = "paced"

    def __init__(self, model: str, tokens: int, delay: float) -> None:
        self.model = model
        self.tokens = tokens
        self.delay = delay
        self.n_ctx = 8192

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        return self._run(min(self.tokens, params.max_tokens))

    def _run(self, count: int) -> Iterator[Chunk]:
        start = time.perf_counter()
        for i in range(count):
            wait = start + (i + 1) * self.delay - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            yield Chunk(text=" lorem" if i else "Lorem")
        yield Chunk(finish_reason="stop", usage=Usage(prompt_tokens=100, completion_tokens=count))


def serve_child(config: dict[str, Any]) -> None:
    """The child process: the app on 127.0.0.1, a free port written to stdout."""
    from personae.config import Settings
    from personae.server import create_app
    from personae.server.run import bind, make_server
    from personae.store import Database
    from personae.store.library import install_bundled

    db_path = Path(config["dir"]) / "server.db"
    with Database(db_path) as db:
        install_bundled(db)
    options: dict[str, Any] = {
        "parallel": config["parallel"],
        "max_queue": config["max_queue"],
        "max_queue_per_user": max(1, config["max_queue"]),
        "memory": False,
    }
    if config["kind"] == "paced":
        settings = Settings(backend="paced", model="paced", user_name="Watson")
        backend = PacedBackend("paced", config["tokens"], config["delay"])
        options["backend_factory"] = lambda _model: backend
    else:
        settings = Settings(
            backend="embedded",
            model=config["model"],
            user_name="Watson",
            backend_options={"n_ctx": config["ctx"]},
        )
    app = create_app(db_path, settings=settings, **options)
    sock = bind("127.0.0.1", 0)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    make_server(app, log_level="warning").run(sockets=[sock])


class Server:
    """Runs :func:`serve_child` in a child process for the length of a ``with`` block."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Server:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_server", "--child", json.dumps(self.config)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            self.proc.kill()
            raise RuntimeError(f"the server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}/v1"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/models", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server never answered")
            time.sleep(0.1)
        return self

    def __exit__(self, *_: object) -> None:
        if self.proc is not None:
            self.proc.terminate()  # uvicorn stops gracefully on SIGTERM
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- the clients ----------------------------------------------------------------------------------


@dataclass
class Result:
    status: int | str  # HTTP status, or the exception's name
    ttft: float | None = None  # seconds from sending to the first content chunk
    total: float | None = None  # seconds from sending to [DONE] (or to a refusal's end)
    tokens: int = 0  # content chunks received (one per token here)
    completion_tokens: int | None = None  # from the usage chunk
    retry_after: str | None = None
    error: str | None = None  # an error event after streaming began


async def one_request(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> Result:
    start = time.perf_counter()
    first: float | None = None
    tokens = 0
    try:
        async with client.stream("POST", f"{url}/chat/completions", json=body) as response:
            if response.status_code != 200:
                await response.aread()
                return Result(
                    response.status_code,
                    total=time.perf_counter() - start,
                    retry_after=response.headers.get("retry-after"),
                )
            result = Result(200)
            # Read to the body's end, past [DONE] or an error event: a stream closed early is a
            # connection httpx drops, and the next request would pay a new handshake.
            async for line in response.aiter_lines():
                if not line.startswith("data: ") or result.total is not None or result.error:
                    continue
                data = line[6:]
                if data == "[DONE]":
                    result.total = time.perf_counter() - start
                    continue
                if data.startswith('{"error"'):
                    result.error = json.loads(data)["error"].get("code") or "error"
                    continue
                if '"content":' in data:
                    tokens += 1
                    if first is None:
                        first = time.perf_counter()
                elif '"usage":{' in data:
                    result.completion_tokens = json.loads(data)["usage"]["completion_tokens"]
    except httpx.HTTPError as exc:
        return Result(type(exc).__name__)
    result.ttft = None if first is None else first - start
    result.tokens = tokens
    if result.total is None and result.error is None:
        result.error = "no [DONE]"
    return result


async def run_clients(
    url: str, bodies: list[list[dict[str, Any]]], *, time_limit: float
) -> tuple[list[Result], float]:
    """One task per client, each sending its bodies one after another; all start together."""
    limits = httpx.Limits(max_connections=len(bodies) + 8, max_keepalive_connections=len(bodies))
    timeout = httpx.Timeout(time_limit, connect=30)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        # Open the connections first, so that the timed run measures requests, not handshakes.
        await asyncio.gather(*(client.get(f"{url}/models") for _ in bodies))

        async def client_task(mine: list[dict[str, Any]]) -> list[Result]:
            return [await one_request(client, url, body) for body in mine]

        started = time.perf_counter()
        per_client = await asyncio.wait_for(
            asyncio.gather(*(client_task(mine) for mine in bodies)), time_limit
        )
        wall = time.perf_counter() - started
    return [r for results in per_client for r in results], wall


def ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def stats_ms(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": ms(percentile(values, 0.5)),
        "p99": ms(percentile(values, 0.99)),
        "max": ms(max(values)),
    }


# -- part A ---------------------------------------------------------------------------------------


@dataclass
class PartA:
    label: str
    slots: int
    queue: int
    results: list[Result] = field(default_factory=list)
    wall: float = 0.0


def part_a_run(args: argparse.Namespace, label: str, slots: int, queue: int) -> PartA:
    config = {
        "kind": "paced",
        "parallel": slots,
        "max_queue": queue,
        "tokens": args.tokens,
        "delay": args.delay,
    }
    body = {
        "model": CHARACTER,
        "messages": [{"role": "user", "content": QUESTIONS[0]}],
        "stream": True,
        "max_tokens": args.tokens,
    }
    run = PartA(label, slots, queue)
    with tempfile.TemporaryDirectory() as tmp, Server({**config, "dir": tmp}) as server:
        # One request alone first: the first prompt builds caches (card, tokens) in the server.
        asyncio.run(run_clients(server.url, [[body]], time_limit=60))
        bodies = [[body] * args.requests for _ in range(args.clients)]
        run.results, run.wall = asyncio.run(
            run_clients(server.url, bodies, time_limit=args.time_limit)
        )
    return run


def summarize_a(run: PartA, args: argparse.Namespace) -> dict[str, Any]:
    own_first = args.delay
    own_total = args.tokens * args.delay
    ok = [r for r in run.results if r.status == 200 and r.error is None and r.total is not None]
    ttft = [r.ttft for r in ok if r.ttft is not None]
    total = [r.total for r in ok if r.total is not None]
    statuses = Counter(str(r.status) for r in run.results)
    stream_errors = Counter(r.error for r in run.results if r.error)
    retry_after = sorted({int(r.retry_after) for r in run.results if r.retry_after})
    refused = [r.total for r in run.results if r.status == 429 and r.total is not None]
    return {
        "label": run.label,
        "slots": run.slots,
        "max_queue": run.queue,
        "requests": len(run.results),
        "completed": len(ok),
        "statuses": dict(sorted(statuses.items())),
        "stream_errors": dict(stream_errors),
        "retry_after_seen_s": retry_after,
        "refusal_ms": stats_ms(refused),  # how long a 429 took to arrive
        "wall_s": round(run.wall, 3),
        "throughput_replies_per_s": round(len(ok) / run.wall, 2),
        "throughput_tokens_per_s": round(sum(r.tokens for r in ok) / run.wall, 1),
        "backend_own_ms": {"first_token": ms(own_first), "total": ms(own_total)},
        "ttft_ms": stats_ms(ttft),
        "total_ms": stats_ms(total),
        "added_ttft_ms": stats_ms([t - own_first for t in ttft]),
        "added_total_ms": stats_ms([t - own_total for t in total]),
        "short_replies": sum(1 for r in ok if r.tokens != args.tokens),
    }


def part_a(args: argparse.Namespace) -> dict[str, Any]:
    runs = [
        part_a_run(args, f"{args.clients} slots", args.clients, args.clients),
        part_a_run(
            args,
            f"{args.small_slots} slots + queue {args.small_queue}",
            args.small_slots,
            args.small_queue,
        ),
    ]
    summaries = [summarize_a(run, args) for run in runs]
    rows: list[tuple[str, ...]] = []
    for s in summaries:
        rows.append(
            (
                str(s["label"]),
                f"{s['completed']}/{s['requests']}",
                " ".join(f"{k}:{v}" for k, v in s["statuses"].items()),
                f"{s['ttft_ms'].get('p50', '-')} / {s['ttft_ms'].get('p99', '-')}",
                f"{s['added_ttft_ms'].get('p50', '-')} / {s['added_ttft_ms'].get('p99', '-')}",
                f"{s['total_ms'].get('p50', '-')} / {s['total_ms'].get('p99', '-')}",
                f"{s['added_total_ms'].get('p50', '-')} / {s['added_total_ms'].get('p99', '-')}",
                f"{s['throughput_replies_per_s']} / {s['throughput_tokens_per_s']}",
            )
        )
    print(
        f"part A: {args.clients} clients × {args.requests} streamed requests, backend "
        f"{args.tokens} tokens every {ms(args.delay)} ms (first token at {ms(args.delay)} ms, "
        f"whole reply {ms(args.tokens * args.delay)} ms)"
    )
    print(
        table(
            rows,
            (
                "server",
                "ok",
                "statuses",
                "TTFT p50/p99 ms",
                "added TTFT p50/p99",
                "total p50/p99 ms",
                "added total p50/p99",
                "replies/s / tokens/s",
            ),
        )
    )
    return {
        "clients": args.clients,
        "requests_per_client": args.requests,
        "tokens": args.tokens,
        "delay_s": args.delay,
        "runs": summaries,
    }


# -- part B ---------------------------------------------------------------------------------------


def question(n: int) -> str:
    return QUESTIONS[n % len(QUESTIONS)]


def part_b_round(url: str, chats: int, args: argparse.Namespace, round_no: int) -> dict[str, Any]:
    bodies = [
        [
            {
                "model": CHARACTER,
                "messages": [
                    {
                        "role": "user",
                        # Rotates with the round, so a lone chat asks each question in turn.
                        "content": f"(Case {round_no}) {question(i + round_no)}",
                    }
                ],
                "stream": True,
                "stream_options": {"include_usage": True},
                "max_tokens": args.max_tokens,
                "temperature": 0,
                "seed": 1,
            }
        ]
        for i in range(chats)
    ]
    results, wall = asyncio.run(run_clients(url, bodies, time_limit=args.time_limit))
    bad = [r for r in results if r.status != 200 or r.error]
    if bad:
        raise RuntimeError(f"part B: {len(bad)} requests failed: {bad[:2]}")
    tokens = [r.completion_tokens or r.tokens for r in results]
    pairs = list(zip(tokens, results, strict=True))
    return {
        "chats": chats,
        "wall_s": round(wall, 3),
        "tokens": tokens,
        "aggregate_tok_s": round(sum(tokens) / wall, 2),
        # What each chat's user sees: its tokens over its whole time, waiting included...
        "per_chat_tok_s": [round(n / r.total, 2) for n, r in pairs if r.total],
        # ...and its decoding speed once its first token is there.
        "per_chat_decode_tok_s": [
            round((n - 1) / (r.total - r.ttft), 2)
            for n, r in pairs
            if r.total and r.ttft is not None and n > 1 and r.total > r.ttft
        ],
        "ttft_ms": [ms(r.ttft) for r in results if r.ttft is not None],
    }


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _median(values: list[float]) -> float | None:
    # smollm2 answers one of the questions with an empty reply (greedy: every round), which has
    # no decoding speed; the others still do.
    return statistics.median(values) if values else None


def part_b(args: argparse.Namespace) -> dict[str, Any]:
    setups = [("parallel 4", args.parallel, [1, 4]), ("parallel 1", 1, [4])]
    measured: list[dict[str, Any]] = []
    for label, parallel, chat_counts in setups:
        config = {
            "kind": "embedded",
            "model": args.model,
            "ctx": args.ctx,
            "parallel": parallel,
            "max_queue": 16,
        }
        with tempfile.TemporaryDirectory() as tmp, Server({**config, "dir": tmp}) as server:
            # Unmeasured: loads the model and puts the card in every slot's prompt cache.
            part_b_round(server.url, max(chat_counts), args, 0)
            for chats in chat_counts:
                rounds = [part_b_round(server.url, chats, args, r + 1) for r in range(args.runs)]
                best = statistics.median(r["aggregate_tok_s"] for r in rounds)
                measured.append(
                    {
                        "server": label,
                        "parallel": parallel,
                        "chats": chats,
                        "aggregate_tok_s_median": best,
                        "per_chat_tok_s_median": _median(
                            [v for r in rounds for v in r["per_chat_tok_s"]]
                        ),
                        "per_chat_decode_tok_s_median": _median(
                            [v for r in rounds for v in r["per_chat_decode_tok_s"]]
                        ),
                        "rounds": rounds,
                    }
                )
    alone = measured[0]["aggregate_tok_s_median"]
    rows: list[tuple[str, ...]] = [
        (
            str(m["server"]),
            str(m["chats"]),
            f"{m['aggregate_tok_s_median']:.1f}",
            _fmt(m["per_chat_tok_s_median"]),
            _fmt(m["per_chat_decode_tok_s_median"]),
            f"{m['aggregate_tok_s_median'] / alone:.2f}",
        )
        for m in measured
    ]
    print(
        f"part B: {args.model}, ctx {args.ctx} per slot, {args.max_tokens} tokens per reply, "
        f"greedy, median of {args.runs} rounds"
    )
    header = ("server", "chats", "tok/s in all", "tok/s per chat", "decode tok/s", "× 1 chat")
    print(table(rows, header))
    return {
        "model": args.model,
        "ctx_per_slot": args.ctx,
        "max_tokens": args.max_tokens,
        "runs": args.runs,
        "speedup_4_chats_over_1": round(measured[1]["aggregate_tok_s_median"] / alone, 3),
        "results": measured,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--requests", type=int, default=3, help="per client, back to back")
    parser.add_argument("--tokens", type=int, default=50, help="per paced reply")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds per paced token")
    parser.add_argument("--small-slots", type=int, default=8)
    parser.add_argument("--small-queue", type=int, default=16)
    parser.add_argument("--time-limit", type=float, default=300, help="seconds per run")
    parser.add_argument("--embedded", action="store_true", help="part B instead of part A")
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--ctx", type=int, default=2048, help="part B: context per slot")
    parser.add_argument("--max-tokens", type=int, default=128, help="part B: per reply")
    parser.add_argument("--runs", type=int, default=3, help="part B: rounds per setting")
    args = parser.parse_args()
    if args.child:
        serve_child(json.loads(args.child))
        return
    command = "python -m benchmarks.bench_server " + " ".join(sys.argv[1:])
    if args.embedded:
        data = part_b(args)
        path = write_result(f"server_embedded_{args.model}", command, data)
    else:
        data = part_a(args)
        path = write_result("server", command, data)
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
