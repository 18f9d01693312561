"""The faults part of ``bench_scale``: workers SIGKILLed under streaming stored chats, then
keys, isolation and the store checked (see ``bench_scale``'s docstring)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import signal
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from tests.support.scripted_engine import WORDS, _piece

from benchmarks._common import table
from benchmarks._scale import (
    Cluster,
    Turn,
    card_line_copies,
    chat_body,
    create_key,
    engine,
    personae_env,
    stderr_problems,
    stored_turn,
    warm_up,
    whole_reply,
)
from benchmarks.bench_server import ms, stats_ms
from personae.server.supervisor import MAX_EARLY_EXITS
from personae.store import ChatRepository, Database
from personae.store.local_postgres import LocalPostgres

USERS = ("ana", "ben")  # A and B
WARM_USER = "wes"  # the warm-up's chats
QUESTION = "Tell me what the fog hides tonight."


@dataclass
class Attempt:
    client: int
    user: str
    text: str  # the user message sent (unique)
    turn: Turn


# -- the clients ----------------------------------------------------------------------------------


async def _client(
    c: int, user: str, key: str, base: str, stop: asyncio.Event, log: list[Attempt]
) -> None:
    """Stored chats back to back until ``stop``: a new chat first, then the same one."""
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(timeout=httpx.Timeout(90, connect=10), limits=limits) as client:
        chat: int | None = None
        k = 0
        while not stop.is_set():
            text = f"[{user} c{c} #{k}] {QUESTION}"
            turn = await stored_turn(client, base, chat_body(user, text, chat), headers)
            log.append(Attempt(c, user, text, turn))
            chat = turn.chat_id or chat
            k += 1
            if turn.status == 409:  # the chat's last turn is still held (or its worker died)
                await asyncio.sleep(0.2)
            elif not turn.done:
                await asyncio.sleep(0.05)


# -- the kills ------------------------------------------------------------------------------------


def _age(proc: psutil.Process) -> float:
    return time.time() - float(proc.create_time())


def _kill(cluster: Cluster, victim: psutil.Process) -> dict[str, Any]:
    """SIGKILL one worker; wait until the supervisor has 4 again."""
    held = 0
    with contextlib.suppress(psutil.Error):
        held = sum(
            1
            for c in victim.net_connections("tcp")
            if c.laddr and c.laddr.port == cluster.port and c.status == psutil.CONN_ESTABLISHED
        )
    age = _age(victim)
    os.kill(victim.pid, signal.SIGKILL)
    start = time.monotonic()
    while time.monotonic() - start < 10:  # until it is gone (or a zombie, waiting to be reaped)
        try:
            if victim.status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.005)
    cluster.wait_workers(60)
    return {
        "pid": victim.pid,
        "age_s": round(age, 2),
        "client_connections": held,
        "restored_s": round(time.monotonic() - start, 3),
    }


def _kill_loop(cluster: Cluster, kills: int, rng: random.Random) -> list[dict[str, Any]]:
    """``kills`` SIGKILLs, 0.5–1.5 s apart, each after the cluster is whole again, each of a
    random worker (young ones included: the supervisor restarts workers killed by a signal
    however young; before commit d3ab6b7 three young kills in a row ended the server)."""
    done: list[dict[str, Any]] = []
    for _ in range(kills):
        time.sleep(rng.uniform(0.5, 1.5))
        record = _kill(cluster, rng.choice(cluster.worker_processes()))
        record["chosen"] = "random"
        done.append(record)
    return done


def _crash_loop_probe(pg: LocalPostgres, engine_url: str, tmp: Path) -> dict[str, Any]:
    """Kill a random worker MAX_EARLY_EXITS times in a row, each young: does the server end?
    (It must not: only workers that exit with an error at start count as a broken start.)"""
    home = tmp / "crash_loop"
    home.mkdir()
    env = personae_env(home, pg.create_database("crash_loop"))
    stderr = home / "serve.stderr"
    rng = random.Random(0)
    kills = 0
    with Cluster(env, engine_url, workers=4, parallel=4, max_queue=8, stderr_path=stderr) as c:
        for _ in range(MAX_EARLY_EXITS):
            time.sleep(rng.uniform(0.5, 1.5))
            workers = c.worker_processes()
            if not workers:
                break
            os.kill(rng.choice(workers).pid, signal.SIGKILL)
            kills += 1
            with contextlib.suppress(RuntimeError):
                c.wait_workers(20)
        deadline = time.monotonic() + 20
        while c.alive and time.monotonic() < deadline:
            time.sleep(0.1)
        ended = not c.alive
    lines = stderr.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return {"kills": kills, "server_ended": ended, "last_line": lines[-1] if lines else ""}


# -- keys and isolation ---------------------------------------------------------------------------


def _isolation(base: str, keys: dict[str, str], a_chat: int, rounds: int) -> dict[str, Any]:
    """Each check ``rounds`` times over a fresh connection (so over different workers)."""
    a, b = ({"Authorization": f"Bearer {keys[u]}"} for u in USERS)
    bad = {"Authorization": "Bearer personae-not-a-key"}
    cont = {
        "model": "sherlock",
        "chat_id": a_chat,
        "messages": [{"role": "user", "content": "Hi."}],
    }

    def before_after() -> int:
        return len(
            httpx.get(f"{base}/api/chats/{a_chat}", headers=a, timeout=30).json()["messages"]
        )

    checks: dict[str, tuple[int, Any]] = {
        "no key → 401": (401, lambda: httpx.get(f"{base}/v1/models", timeout=30)),
        "bad key → 401": (401, lambda: httpx.get(f"{base}/v1/models", headers=bad, timeout=30)),
        "A reads A's chat → 200": (
            200,
            lambda: httpx.get(f"{base}/api/chats/{a_chat}", headers=a, timeout=30),
        ),
        "B reads A's chat → 404": (
            404,
            lambda: httpx.get(f"{base}/api/chats/{a_chat}", headers=b, timeout=30),
        ),
        "B continues A's chat → 404": (
            404,
            lambda: httpx.post(f"{base}/v1/chat/completions", json=cont, headers=b, timeout=60),
        ),
        "bad key reads A's chat → 401": (
            401,
            lambda: httpx.get(f"{base}/api/chats/{a_chat}", headers=bad, timeout=30),
        ),
    }
    messages_before = before_after()
    results: dict[str, Any] = {}
    for name, (want, call) in checks.items():
        seen = Counter(call().status_code for _ in range(rounds))
        results[name] = {"passed": seen[want], "of": rounds, "statuses": dict(seen)}
    results["A's chat unchanged by B"] = {"passed": int(before_after() == messages_before), "of": 1}
    return results


# -- the store afterwards -------------------------------------------------------------------------


def _partial_of_reply(text: str, tokens: int) -> bool:
    """Whether ``text`` is how a scripted reply may start: empty, or cut anywhere."""
    first = re.match(r"^([A-Za-z]+)(\d*)", text)
    if not text or (first is not None and first.end() == len(text)):  # cut in the first word
        return first is None or any(word.startswith(first.group(1)) for word in WORDS)
    if first is None or not first.group(2):
        return False
    n = int(first.group(2))
    return ("".join(_piece(n, i) for i in range(tokens)) + ".").startswith(text)


def _verify(url: str, log: list[Attempt], tokens: int) -> dict[str, Any]:
    sent = {a.text: a for a in log}
    with Database(url) as db:
        repo = ChatRepository(db)
        chats = [c.id for user in USERS for c in repo.all(user_id=user)]
        messages = {chat: repo.messages(chat, include_hidden=True) for chat in chats}
    stored_users: dict[int, Counter[str]] = {
        chat: Counter(m.content for m in thread if m.role == "user")
        for chat, thread in messages.items()
    }
    acked = [a for a in log if a.turn.acknowledged]
    present = sum(1 for a in acked if stored_users.get(a.turn.chat_id or -1, Counter())[a.text])
    unacked_stored = sum(
        1
        for texts in stored_users.values()
        for text in texts
        if text in sent and not sent[text].turn.acknowledged
    )
    duplicated = sum(1 for texts in stored_users.values() for n in texts.values() if n > 1)
    replies: Counter[str] = Counter()
    whole = 0
    partial_ok = 0
    bad: list[str] = []
    for thread in messages.values():
        first_user = next((i for i, m in enumerate(thread) if m.role == "user"), len(thread))
        for m in thread[first_user:]:  # the greeting before the first user message is the card's
            if m.role != "assistant":
                continue
            replies[m.status] += 1
            if m.status == "complete":
                if whole_reply(m.content, tokens):
                    whole += 1
                else:
                    bad.append(f"complete but not whole: {m.id} {m.content[:80]!r}")
            elif m.status == "incomplete":
                if _partial_of_reply(m.content, tokens):
                    partial_ok += 1
                else:
                    bad.append(f"incomplete, not a prefix: {m.id} {m.content[:80]!r}")
    complete_texts = {
        m.content
        for thread in messages.values()
        for m in thread
        if m.role == "assistant" and m.complete
    }
    finished = [a for a in log if a.turn.done]
    return {
        "chats": len(chats),
        "user_messages_acknowledged": len(acked),
        "user_messages_acknowledged_present": present,
        "user_messages_stored_without_acknowledgement": unacked_stored,
        "user_messages_stored_twice": duplicated,
        "replies_by_status": dict(replies),
        "complete_replies_whole": whole,
        "incomplete_replies_prefix_of_engine_reply": partial_ok,
        "replies_finished_by_clients": len(finished),
        "replies_finished_stored_complete_same_text": sum(
            1 for a in finished if a.turn.text in complete_texts
        ),
        "problems": bad[:20],
    }


# -- the part -------------------------------------------------------------------------------------


async def _faulted_load(
    cluster: Cluster, keys: dict[str, str], args: argparse.Namespace, rng: random.Random
) -> tuple[list[Attempt], list[dict[str, Any]], float]:
    stop = asyncio.Event()
    log: list[Attempt] = []
    users = [USERS[c % 2] for c in range(args.fault_clients)]
    tasks = [
        asyncio.create_task(_client(c, u, keys[u], cluster.base, stop, log))
        for c, u in enumerate(users)
    ]
    started = time.perf_counter()
    await asyncio.sleep(2)  # every worker has streams before the first kill
    kills = await asyncio.to_thread(_kill_loop, cluster, args.kills, rng)
    await asyncio.sleep(3)  # the restarted cluster serves a little before the load stops
    stop.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 180)
    return log, kills, time.perf_counter() - started


def part_faults(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    rng = random.Random(args.seed)
    with LocalPostgres() as pg, engine(args.tokens, args.delay, tmp) as engine_url:
        crash_loop = _crash_loop_probe(pg, engine_url, tmp)
        url = pg.create_database("faults")
        home = tmp / "faults"
        home.mkdir()
        if not args.guard:
            (home / "config.toml").write_text("reply_guard = false\n", encoding="utf-8")
        env = personae_env(home, url)
        keys = {user: create_key(env, user) for user in (*USERS, WARM_USER)}
        stderr = home / "serve.stderr"
        with Cluster(
            env, engine_url, workers=4, parallel=16, max_queue=64, stderr_path=stderr
        ) as cluster:
            warm = asyncio.run(
                warm_up(
                    cluster,
                    QUESTION,
                    user=WARM_USER,
                    headers={"Authorization": f"Bearer {keys[WARM_USER]}"},
                )
            )
            log, kills, wall = asyncio.run(_faulted_load(cluster, keys, args, rng))
            a_chat = next(a.turn.chat_id for a in log if a.user == USERS[0] and a.turn.chat_id)
            isolation = _isolation(cluster.base, keys, a_chat, rounds=8)
            workers_at_end = len(cluster.worker_processes())
        store = _verify(url, log, args.tokens)
        store["card_line_memories"] = card_line_copies(url)
    outcomes = Counter(
        "finished" if a.turn.done
        else f"{a.turn.status}" if a.turn.status != 200
        else f"200, cut ({a.turn.error})" + ("" if a.turn.acknowledged else " before any data")
        for a in log
    )  # fmt: skip
    data = {
        "clients": args.fault_clients,
        "users": list(USERS),
        "tokens": args.tokens,
        "delay_s": args.delay,
        "seed": args.seed,
        "reply_guard": bool(args.guard),
        "wall_s": round(wall, 1),
        "kills_done": len(kills),
        "kills": kills,
        "workers_at_end": workers_at_end,
        "requests": len(log),
        "client_outcomes": dict(outcomes.most_common()),
        "finished_turn_ms": stats_ms([a.turn.total for a in log if a.turn.done and a.turn.total]),
        "warm_up_turns_ms": [
            [ms(t.total) if t.total else t.status for t in ts] for ts in warm.values()
        ],
        "store": store,
        "isolation": isolation,
        "crash_loop_probe": crash_loop,
        "server_stderr": str(stderr),
        "server_stderr_problems": stderr_problems(stderr)[:60],
    }
    _print(data)
    return data


def _print(d: dict[str, Any]) -> None:
    s = d["store"]
    restored = [k["restored_s"] for k in d["kills"]]
    iso = d["isolation"]
    rows: list[tuple[str, ...]] = [
        ("kills done (workers at end)", f"{d['kills_done']} ({d['workers_at_end']})"),
        ("back to 4 workers after a kill", f"{min(restored):.2f}–{max(restored):.2f} s"),
        ("requests", str(d["requests"])),
        (
            "finished turns p50 / p99 / max ms",
            " / ".join(str(d["finished_turn_ms"].get(k, "-")) for k in ("p50", "p99", "max")),
        ),
        (
            "acknowledged user messages / present",
            f"{s['user_messages_acknowledged']} / {s['user_messages_acknowledged_present']}",
        ),
        ("user messages stored twice", str(s["user_messages_stored_twice"])),
        (
            "complete replies / whole",
            f"{s['replies_by_status'].get('complete', 0)} / {s['complete_replies_whole']}",
        ),
        (
            "replies finished ([DONE]) / stored complete, same text",
            f"{s['replies_finished_by_clients']} / "
            f"{s['replies_finished_stored_complete_same_text']}",
        ),
        (
            "incomplete replies left / prefix of an engine reply",
            f"{s['replies_by_status'].get('incomplete', 0)} / "
            f"{s['incomplete_replies_prefix_of_engine_reply']}",
        ),
        (
            "isolation checks passed",
            f"{sum(v['passed'] for v in iso.values())} / {sum(v['of'] for v in iso.values())}",
        ),
        ("client outcomes", " ".join(f"{k}: {v}" for k, v in d["client_outcomes"].items())),
        ("server stderr problems", str(len(d["server_stderr_problems"]))),
    ]
    print(
        f"faults: 4 workers on PostgreSQL, {d['clients']} clients (users "
        f"{' and '.join(d['users'])}), {d['kills_done']} SIGKILLs, reply guard "
        f"{'on' if d['reply_guard'] else 'off'}; {d['wall_s']} s"
    )
    print(table(rows, ("check", "result")))
    probe = d["crash_loop_probe"]
    print(
        f"  crash-loop probe: {probe['kills']} young workers killed in a row → server ended: "
        f"{probe['server_ended']} ({probe['last_line']})"
    )
    for problem in s["problems"]:
        print(f"  store: {problem}")
