"""Scale-out (issue 19): several ``personae serve`` processes on one PostgreSQL store, against
one process on SQLite, and the cluster's behaviour while its workers are killed.

Both parts run the real CLI (``personae serve --backend openai``) against the scripted engine
(``tests.support.scripted_engine``, a separate process standing in for vLLM), which streams
``--tokens`` pieces ``--delay`` seconds apart for every request: its own time per reply is
known (first piece after ``delay``, last after ``tokens × delay``). PostgreSQL is a throwaway
server (``personae.store.local_postgres.LocalPostgres``, fsync on). Every request is a stored
chat (``user`` in the body, then ``chat_id`` from the ``X-Personae-Chat-Id`` header), so each
turn commits the user's message and the reply and reads and writes memories (memory on, the
default). The reply guard is off (``reply_guard = false`` in each server's config.toml): a
guard that refused a scripted reply (no role-play) would ask the engine again, and the engine's
time per turn would no longer be known; and a guarded reply sends nothing until it has passed,
so a client would see no turn begin before its reply ends. ``--guard`` leaves it on.

**load**: ``--clients`` concurrent streaming clients (asyncio + httpx, one connection each,
opened just before timing) each send ``--requests`` requests back to back, against (a)
``--workers 4`` on PostgreSQL, 64 slots each (256 in all: every client has a slot), each
process with a listening socket of its own (``--reuse-port``, the default), (a') the same with
one socket the four share (``--no-reuse-port``), (b)
``--workers 1`` on SQLite, 64 slots (``--parallel`` allows no more) and a queue of 256, so
every request is admitted and the rest wait their turn, and (c) ``--workers 1`` on PostgreSQL,
the same, to tell the store's share from the processes'; one engine serves all three. Before
timing, every process serves a few turns of another user (untimed; a process's first stored
turn loads what memory needs, seconds). Reported per setup: requests completed, replies/s and
tokens/s, TTFT and total time p50/p99, the *added* time over the engine's own, errors by
status or exception, the clients' connections per process (2 s in), whether the store holds
every acknowledged user message and finished reply, and the servers' stderr.

**faults**: ``--workers 4`` on PostgreSQL; ``--fault-clients`` clients (half with user A's key,
half with B's, made with ``personae keys create``) stream stored chats back to back while a
worker is SIGKILLed ``--kills`` times, 0.5–1.5 s apart, each time once the supervisor is back
to 4 workers, the victim chosen at random, young ones included (the run first shows, on a
separate cluster, that three young workers killed in a row do not end the server). Clients
note what was acknowledged: a user message once its response was 200 and data arrived, a reply
once its stream ended with ``[DONE]``. Afterwards, on the running
cluster, keys and isolation are checked over fresh connections (no key, a bad key: 401; B
reading or continuing A's chat: 404), then the store is read directly: every acknowledged user
message present (and none twice), every ``complete`` reply a whole engine reply, every reply a
client saw finish stored complete with that text, cut replies ``incomplete`` and a prefix of an
engine reply.

Run: python -m benchmarks.bench_scale            (both parts, as in benchmarks/README.md)
     python -m benchmarks.bench_scale --part load --clients 256 --requests 4
     python -m benchmarks.bench_scale --part faults --kills 20

Clients, servers, engine and PostgreSQL share the machine (2 cores here): the client's own work
and the engine's are part of the added latency. The servers' stderr is kept in a temporary
folder (printed, and recorded in the JSON); lines other than start-up and worker restarts are
reported.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import table, write_result
from benchmarks._scale import (
    Cluster,
    Turn,
    card_line_copies,
    chat,
    engine,
    personae_env,
    source_state,
    stderr_problems,
    warm_up,
)
from benchmarks.bench_server import ms, stats_ms
from personae.store import ChatRepository, Database
from personae.store.local_postgres import LocalPostgres

QUESTION = "What do you make of the fog over Baker Street tonight?"


# -- load -----------------------------------------------------------------------------------------


async def _load_run(cluster: Cluster, args: argparse.Namespace) -> dict[str, Any]:
    warm = await warm_up(cluster, QUESTION)
    # One client, one connection: each opens its own just before timing (the server closes
    # idle ones after 5 s) and keeps it, busy back to back.
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    timeout = httpx.Timeout(300, connect=30)
    clients = [httpx.AsyncClient(limits=limits, timeout=timeout) for _ in range(args.clients)]
    try:
        await asyncio.gather(*(c.get(f"{cluster.base}/v1/models") for c in clients))

        async def spread() -> dict[int, int]:
            await asyncio.sleep(2)  # every client has a request in flight by then
            return await asyncio.to_thread(cluster.connection_owners)

        started = time.perf_counter()
        seen = asyncio.create_task(spread())
        per_client = await asyncio.gather(
            *(
                chat(
                    c,
                    cluster.base,
                    f"u{i}",
                    [f"({i}.{k}) {QUESTION}" for k in range(args.requests)],
                )
                for i, c in enumerate(clients)
            )
        )
        wall = time.perf_counter() - started
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    owners = await seen
    by_process: dict[int, list[Turn]] = {}
    for turn in (t for turns in per_client for t in turns):
        by_process.setdefault(owners.get(turn.local_port, 0), []).append(turn)
    connections = Counter(owners.values())
    return {
        "per_client": per_client,
        "wall": wall,
        "connections_per_process": sorted(connections.values(), reverse=True),
        # Each process's share (its connections 2 s in; 0: a connection not seen then).
        "per_process": sorted(
            (
                {
                    "connections": connections.get(pid, 0),
                    "requests": len(turns),
                    "total_ms": stats_ms([t.total for t in turns if t.done and t.total]),
                }
                for pid, turns in by_process.items()
            ),
            key=lambda p: -p["connections"],
        ),
        "warm_up_turns_ms": [
            [ms(t.total) if t.total else str(t.status) for t in turns] for turns in warm.values()
        ],
    }


def _store_holds(location: str, per_client: list[list[Turn]]) -> dict[str, int]:
    """Whether the store holds, for every reply a client saw finish, its user message and
    the reply (complete, same text)."""
    expected_users = found_users = expected_replies = found_replies = 0
    with Database(location) as db:
        repo = ChatRepository(db)
        for i, turns in enumerate(per_client):
            chats = {t.chat_id for t in turns if t.chat_id is not None}
            messages = [m for chat in chats for m in repo.messages(chat, include_hidden=True)]
            users = {m.content for m in messages if m.role == "user"}
            replies = {m.content for m in messages if m.role == "assistant" and m.complete}
            for k, turn in enumerate(turns):
                if turn.acknowledged:
                    expected_users += 1
                    found_users += f"({i}.{k}) {QUESTION}" in users
                if turn.done:
                    expected_replies += 1
                    found_replies += turn.text in replies
    return {
        "user_messages_acknowledged": expected_users,
        "user_messages_stored": found_users,
        "replies_finished": expected_replies,
        "replies_stored_complete_same_text": found_replies,
    }


def _summarize_load(
    label: str, per_client: list[list[Turn]], wall: float, args: argparse.Namespace
) -> dict[str, Any]:
    turns = [t for ts in per_client for t in ts]
    ok = [t for t in turns if t.status == 200 and t.done and t.error is None]
    own_first, own_total = args.delay, args.tokens * args.delay
    ttft = [t.ttft for t in ok if t.ttft is not None]
    total = [t.total for t in ok if t.total is not None]
    tokens = sum(t.completion_tokens or 0 for t in ok)
    errors = Counter(
        str(t.status) if t.status != 200 else f"200 then {t.error}" for t in turns if t not in ok
    )
    return {
        "label": label,
        "requests": len(turns),
        "completed": len(ok),
        "errors": dict(sorted(errors.items())),
        "wall_s": round(wall, 3),
        "replies_per_s": round(len(ok) / wall, 2),
        "tokens_per_s": round(tokens / wall, 1),
        "engine_own_ms": {"first_token": ms(own_first), "total": ms(own_total)},
        "ttft_ms": stats_ms(ttft),
        "total_ms": stats_ms(total),
        "added_ttft_ms": stats_ms([t - own_first for t in ttft]),
        "added_total_ms": stats_ms([t - own_total for t in total]),
        # From the last token to [DONE]: the reply is stored complete, then memory's
        # after-turn work runs before the stream ends.
        "last_token_to_done_ms": stats_ms(
            [t.total - t.last for t in ok if t.total is not None and t.last is not None]
        ),
        "refusals": [t.body for t in turns if t.body][:5],
    }


def _load_setup(
    label: str, engine_url: str, tmp: Path, args: argparse.Namespace, **setup: Any
) -> dict[str, Any]:
    home = tmp / label.replace(" ", "_").replace(",", "")
    home.mkdir()
    if not args.guard:
        (home / "config.toml").write_text("reply_guard = false\n", encoding="utf-8")
    url: str | None = setup.pop("url")
    env = personae_env(home, url)
    stderr = home / "serve.stderr"
    with Cluster(env, engine_url, stderr_path=stderr, **setup) as cluster:
        run = asyncio.run(_load_run(cluster, args))
        still = len(cluster.worker_processes())
    per_client = run.pop("per_client")
    summary = _summarize_load(label, per_client, run.pop("wall"), args)
    summary.update(
        workers=setup["workers"],
        parallel=setup["parallel"],
        max_queue=setup["max_queue"],
        socket_per_process=setup["reuse_port"],
        store="postgresql" if url else "sqlite",
        workers_at_end=still,
        store_check=_store_holds(url or str(home / "personae.db"), per_client),
        card_line_memories=card_line_copies(url or str(home / "personae.db")),
        server_stderr=str(stderr),
        server_stderr_problems=stderr_problems(stderr)[:40],
        **run,
    )
    return summary


SETUPS: dict[str, tuple[str, bool, int, bool]] = {
    # name: (label, on PostgreSQL, processes, a socket per process); every process has 64 slots
    # and a queue of 256
    "pg4": ("4 processes, PostgreSQL", True, 4, True),
    "pg4shared": ("4 processes sharing a socket, PostgreSQL", True, 4, False),
    "sqlite1": ("1 process, SQLite", False, 1, True),
    "pg1": ("1 process, PostgreSQL", True, 1, True),
}


def part_load(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    runs = []
    with LocalPostgres() as pg, engine(args.tokens, args.delay, tmp) as engine_url:
        for name in args.setups.split(","):
            label, on_postgres, processes, reuse_port = SETUPS[name]
            url = pg.create_database(f"load_{name}") if on_postgres else None
            runs.append(
                _load_setup(
                    label,
                    engine_url,
                    tmp,
                    args,
                    url=url,
                    workers=processes,
                    parallel=64,
                    max_queue=256,
                    reuse_port=reuse_port,
                )  # fmt: skip
            )
    rows: list[tuple[str, ...]] = [
        (
            str(r["label"]),
            f"{r['workers']}×{r['parallel']}+q{r['max_queue']}",
            f"{r['completed']}/{r['requests']}",
            " ".join(f"{k}:{v}" for k, v in r["errors"].items()) or "none",
            f"{r['replies_per_s']} / {r['tokens_per_s']}",
            f"{r['ttft_ms'].get('p50', '-')} / {r['ttft_ms'].get('p99', '-')}",
            f"{r['added_ttft_ms'].get('p50', '-')} / {r['added_ttft_ms'].get('p99', '-')}",
            f"{r['total_ms'].get('p50', '-')} / {r['total_ms'].get('p99', '-')}",
            f"{r['added_total_ms'].get('p50', '-')} / {r['added_total_ms'].get('p99', '-')}",
            f"{r['last_token_to_done_ms'].get('p50', '-')} / "
            f"{r['last_token_to_done_ms'].get('p99', '-')}",
        )
        for r in runs
    ]
    print(
        f"load: {args.clients} clients × {args.requests} stored-chat requests, engine "
        f"{args.tokens} pieces every {ms(args.delay)} ms (whole reply "
        f"{ms(args.tokens * args.delay)} ms), reply guard {'on' if args.guard else 'off'}"
    )
    header = (
        "server", "slots", "ok", "errors", "replies/s / tokens/s", "TTFT p50/p99 ms",
        "added TTFT p50/p99", "total p50/p99 ms", "added total p50/p99",
        "last token→[DONE] p50/p99",
    )  # fmt: skip
    print(table(rows, header))
    for r in runs:
        check = r["store_check"]
        print(
            f"  {r['label']}: connections per process {r['connections_per_process']}; store "
            f"holds {check['user_messages_stored']}/{check['user_messages_acknowledged']} "
            f"acknowledged user messages, {check['replies_stored_complete_same_text']}/"
            f"{check['replies_finished']} finished replies; stderr problems: "
            f"{len(r['server_stderr_problems'])}; card lines in memory "
            f"{r['card_line_memories']['rows']} rows of {r['card_line_memories']['distinct']}; "
            f"first turns of each process (warm-up) {[t[0] for t in r['warm_up_turns_ms']]} ms"
        )
        if r["workers"] > 1:
            for p in r["per_process"]:
                total = p["total_ms"]
                print(
                    f"    process with {p['connections']} connections: {p['requests']} "
                    f"requests, total p50/p99 {total.get('p50', '-')} / {total.get('p99', '-')} ms"
                )
    return {
        "clients": args.clients,
        "requests_per_client": args.requests,
        "tokens": args.tokens,
        "delay_s": args.delay,
        "reply_guard": bool(args.guard),
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["load", "faults", "all"], default="all")
    parser.add_argument("--clients", type=int, default=256, help="load: concurrent clients")
    parser.add_argument("--requests", type=int, default=4, help="load: per client")
    parser.add_argument("--kills", type=int, default=20, help="faults: workers SIGKILLed")
    parser.add_argument("--fault-clients", type=int, default=16, help="faults: clients")
    parser.add_argument("--tokens", type=int, default=20, help="engine pieces per reply")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds between pieces")
    parser.add_argument("--seed", type=int, default=19, help="faults: kill times and victims")
    parser.add_argument(
        "--setups",
        default="pg4,pg4shared,sqlite1,pg1",
        help=f"load: which, in order ({', '.join(SETUPS)})",
    )
    parser.add_argument("--guard", action="store_true", help="keep the reply guard on")
    args = parser.parse_args()
    command = "python -m benchmarks.bench_scale " + " ".join(sys.argv[1:])
    tmp = Path(tempfile.mkdtemp(prefix="personae-bench-scale-"))
    source = source_state()
    print(f"servers' stderr under {tmp}", file=sys.stderr)
    if args.part in ("load", "all"):
        path = write_result("scale_load", command, {"source": source, **part_load(args, tmp)})
        print(f"wrote {path}", file=sys.stderr)
    if args.part in ("faults", "all"):
        from benchmarks._scale_faults import part_faults

        path = write_result("scale_faults", command, {"source": source, **part_faults(args, tmp)})
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
