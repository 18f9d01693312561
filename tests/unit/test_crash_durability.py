"""R1: kill the process mid-stream many times; nothing acknowledged is lost, nothing partial is
ever marked complete, everything shown of a reply is kept, and the database always opens."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from personae.store import ChatRepository, Database
from tests.support.kill_child import expected_reply

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


def test_sigkill_mid_stream_never_loses_or_fakes_messages(store_location: str | Path) -> None:
    # Both stores: a SQLite file, and a PostgreSQL database whose connection dies with the child.
    db_path = store_location
    rng = random.Random(1234)
    acked_users: dict[int, str] = {}
    acked_replies: dict[int, int] = {}
    shown: dict[int, str] = {}  # reply id -> what the child printed of it
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    counter = 0
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.support.kill_child", str(db_path), str(counter)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(rng.uniform(0.5, 1.5))
        child.send_signal(signal.SIGKILL)
        out, err = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, err
        for line in out.splitlines():
            parts = line.split(" ", 3)
            if parts[:2] == ["ACK", "user"]:
                acked_users[int(parts[2])] = parts[3]
            elif parts[:2] == ["ACK", "reply"]:
                acked_replies[int(parts[2])] = int(parts[3])
                counter = max(counter, int(parts[3]) + 1)
            elif parts[0] == "SHOWN" and line.endswith('"'):  # the kill may cut the last line
                reply_id, piece = line.split(" ", 2)[1:]
                shown[int(reply_id)] = shown.get(int(reply_id), "") + json.loads(piece)
        counter += 1000  # keep message numbers unique across runs

    assert len(acked_users) >= KILLS // 2 and acked_replies, "the child made too little progress"
    db = Database(db_path)
    if not db.is_postgres:
        assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    repo = ChatRepository(db)
    for message_id, text in acked_users.items():
        assert repo.message(message_id).content == text
    for message_id, n in acked_replies.items():
        message = repo.message(message_id)
        assert message.complete and message.content == expected_reply(n)
    replies = [m for c in repo.all() for m in repo.messages(c.id) if m.role == "assistant"]
    complete = [m for m in replies if m.complete and m.content.startswith("reply")]
    for m in complete:
        n = int(m.content.split(" ")[1].rstrip(":"))
        assert m.content == expected_reply(n), "a partial reply was marked complete"
    incomplete = [m for m in replies if m.status == "incomplete"]
    assert incomplete, "expected some replies to be cut mid-stream"
    for m in incomplete:
        words = m.content.split(" ")
        # Checkpointed at every piece, a cut reply may hold only its first word ("reply").
        n = int(words[1].rstrip(":")) if len(words) > 1 else 0
        assert expected_reply(n).startswith(m.content)
    # What the user saw is what is kept: every piece printed before a kill is in the database.
    cut = [i for i in shown if repo.message(i).status == "incomplete"]
    assert cut, "expected some kills after a reply had started to show"
    for reply_id, text in shown.items():
        assert repo.message(reply_id).content.startswith(text.rstrip()), (
            f"reply {reply_id}: shown {text!r}, kept {repo.message(reply_id).content!r}"
        )
