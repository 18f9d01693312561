"""R1: kill the process mid-stream many times; nothing acknowledged is lost, nothing partial is
ever marked complete, and the database always opens."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from personae.store import ChatRepository, Database
from tests.support.kill_child import expected_reply

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20


@pytest.mark.slow
def test_sigkill_mid_stream_never_loses_or_fakes_messages(tmp_path: Path) -> None:
    db_path = tmp_path / "crash.db"
    rng = random.Random(1234)
    acked_users: dict[int, str] = {}
    acked_replies: dict[int, int] = {}
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
        counter += 1000  # keep message numbers unique across runs

    assert len(acked_users) >= KILLS // 2 and acked_replies, "the child made too little progress"
    db = Database(db_path)
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
        n = int(m.content.split(" ")[1].rstrip(":")) if m.content else None
        if n is not None:
            assert expected_reply(n).startswith(m.content)
