"""What hostile input costs now: catastrophic lorebook regex keys, and the server's answers to
the requests issue 13's security probe sent.

Run: python -m benchmarks.bench_hostile_input [--re-cap 5]

Part 1, lorebook scans: each key is put in a card's book (as ``/pattern/``, the only form that
is a regex) and scanned against a message made to make it backtrack. personae's scan (the
``regex`` module with a per-key timeout and a per-scan budget) is timed over 5 runs; the same
pattern with Python's ``re`` (what personae used before) runs in a child process killed after
``--re-cap`` seconds.

Part 2, the server: the real app (``create_app``, memory off, an instant backend) answers each
hostile request through Starlette's TestClient; the table shows the status and how long the
answer took. The ``/v1`` requests name a character with no ``user``, so nothing is stored.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks._common import table, write_result
from benchmarks.bench_memory_contention import InstantBackend

SURROGATE_BODY = b'{"model": "sherlock", "messages": [{"role": "user", "content": "\\ud800"}]}'
# (key as written in the card, hostile message)
CATASTROPHIC = [
    ("(a+)+$", "a" * 30 + "b"),
    ("(a|aa)+$", "a" * 30 + "b"),
    ("(a|a?)+$", "a" * 28 + "b"),
    ("^(\\w+\\s?)*$", "aaaa " * 8 + "!"),
    ("(.*a){20}", "a" * 25),
]


def _re_seconds(pattern: str, text: str, cap: float) -> float | None:
    """Seconds stdlib ``re`` takes, or None when it was still running after ``cap``."""
    code = "import re,sys; re.search(sys.argv[1], sys.argv[2])"
    start = time.perf_counter()
    try:
        subprocess.run([sys.executable, "-c", code, pattern, text], timeout=cap, check=True)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - start


def scan_part(cap: float) -> tuple[list[dict[str, Any]], list[tuple[str, ...]]]:
    from personae.characters import Lorebook, LoreEntry
    from personae.characters.lorebook import scan_lorebook

    results, rows = [], []
    for pattern, text in CATASTROPHIC:
        book = Lorebook(entries=[LoreEntry(keys=[f"/{pattern}/"], content="x", use_regex=True)])
        times = []
        for _ in range(5):
            start = time.perf_counter()
            scan = scan_lorebook(book, [text], count_tokens=len)
            times.append(time.perf_counter() - start)
        ms = statistics.median(times) * 1000
        skipped = len(scan.skipped)
        old = _re_seconds(pattern, text, cap)
        results.append(
            {
                "key": f"/{pattern}/",
                "message_chars": len(text),
                "personae_ms_p50": ms,
                "keys_timed_out": skipped,
                "stdlib_re_s": old,
                "stdlib_re_cap_s": cap,
            }
        )
        shown_old = f"> {cap:g} s (killed)" if old is None else f"{old:.2f} s"
        rows.append((f"/{pattern}/", str(len(text)), f"{ms:.1f} ms", str(skipped), shown_old))
    return results, rows


def server_part() -> tuple[list[dict[str, Any]], list[tuple[str, ...]]]:
    from fastapi.testclient import TestClient

    from personae.config import Settings
    from personae.server import create_app
    from personae.store import Database
    from personae.store.library import install_bundled

    tmp = Path(tempfile.mkdtemp(prefix="personae-hostile-"))
    db_path = tmp / "server.db"
    with Database(db_path) as db:
        install_bundled(db)
    app = create_app(
        db_path,
        settings=Settings(backend="instant", model="instant", user_name="Watson"),
        backend_factory=InstantBackend,
        memory=False,
    )
    json_type = {"Content-Type": "application/json"}
    deep = b'{"model": "sherlock", "messages": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
    big_card = {
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {"name": "Big", "description": "x" * 10_000_000, "first_mes": "Hi."},
    }
    cases: list[tuple[str, str, str, dict[str, Any]]] = [
        (
            "160,000-character message, no spaces",
            "POST",
            "/v1/chat/completions",
            {
                "json": {
                    "model": "sherlock",
                    "messages": [{"role": "user", "content": "a" * 160_000}],
                }
            },
        ),
        (
            "JSON nested 50,000 deep",
            "POST",
            "/v1/chat/completions",
            {"content": deep, "headers": json_type},
        ),
        (
            "card with a 10 MB description",
            "POST",
            "/api/characters",
            {"content": json.dumps(big_card).encode(), "headers": json_type},
        ),
        (
            "chat_id 2^63",
            "POST",
            "/v1/chat/completions",
            {
                "json": {
                    "model": "sherlock",
                    "chat_id": 2**63,
                    "messages": [{"role": "user", "content": "hi"}],
                }
            },
        ),
        (
            "lone surrogate in a message",
            "POST",
            "/v1/chat/completions",
            {
                "content": SURROGATE_BODY,
                "headers": json_type,
            },
        ),
        (
            "repetition_penalty 1e-300",
            "POST",
            "/v1/chat/completions",
            {
                "json": {
                    "model": "sherlock",
                    "repetition_penalty": 1e-300,
                    "messages": [{"role": "user", "content": "hi"}],
                }
            },
        ),
        (
            "text/plain card upload (cross-site form)",
            "POST",
            "/api/characters",
            {"content": b'{"name": "Mallory"}', "headers": {"Content-Type": "text/plain"}},
        ),
        (
            "Host: evil.example (DNS rebinding)",
            "GET",
            "/api/memories",
            {"headers": {"Host": "evil.example"}},
        ),
        ("5,000-character /static name", "GET", "/static/" + "a" * 5000, {}),
    ]
    results, rows = [], []
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for label, method, url, kwargs in cases:
            start = time.perf_counter()
            response = client.request(method, url, **kwargs)
            ms = (time.perf_counter() - start) * 1000
            code = ""
            with contextlib.suppress(ValueError):
                code = response.json().get("error", {}).get("code") or ""
            results.append({"case": label, "status": response.status_code, "code": code, "ms": ms})
            rows.append((label, str(response.status_code), code, f"{ms:.0f} ms"))
    return results, rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--re-cap", type=float, default=5.0, help="seconds before stdlib re is killed"
    )
    args = parser.parse_args(argv)
    scans, scan_rows = scan_part(args.re_cap)
    print(
        table(
            scan_rows, ("key", "message chars", "personae scan p50", "keys timed out", "stdlib re")
        )
    )
    print()
    answers, answer_rows = server_part()
    print(table(answer_rows, ("request", "status", "code", "answered in")))
    command = "python -m benchmarks.bench_hostile_input" + (
        f" --re-cap {args.re_cap:g}" if args.re_cap != 5.0 else ""
    )
    data = {"lorebook_scans": scans, "server_answers": answers}
    path = write_result("hostile_input", command, data)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
