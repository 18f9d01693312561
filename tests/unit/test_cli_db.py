"""`personae db migrate|check|copy` on both stores, and their bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.store import ChatRepository, Database
from personae.store.copy import TABLES, table_digest
from tests.support.library import fill_library
from tests.support.stores import postgres_or_skip
from tests.unit.test_cli import one_line_error, run


def test_migrate_says_what_ran_then_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert "m001_initial" in run("db", "migrate", "--url", url, "--dry-run").stdout
    first = run("db", "migrate", "--url", url)
    assert first.exit_code == 0 and "m007_swipes" in first.stdout
    again = run("db", "migrate", "--url", url)
    assert again.stdout == "" and "nothing to apply" in again.stderr


def test_check_passes_a_sound_store_and_fails_a_stale_one(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with Database(path) as db:
        fill_library(db, chats=1, turns=1)
    ok = run("db", "check", "--url", str(path), "--json")
    assert ok.exit_code == 0
    levels = {f["level"] for f in json.loads(ok.stdout)}
    assert "error" not in levels
    Database(tmp_path / "old.db", migrate=False).close()
    stale = run("db", "check", "--url", str(tmp_path / "old.db"))
    assert stale.exit_code == 1 and "pending" in stale.stdout


def test_copy_sqlite_to_postgresql_is_verified_and_ids_go_on(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    target = postgres_or_skip(request).fresh()
    source = tmp_path / "p.db"
    with Database(source) as db:
        fill_library(db)
    result = run("db", "copy", "--from", str(source), "--to", target, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and {t["table"] for t in report["tables"]} == {t for t, _ in TABLES}
    with Database(source) as a, Database(target) as b:
        for table, key in TABLES:
            columns = [c for c in json.loads(json.dumps(_columns(a, table)))]
            assert table_digest(a, table, key, columns) == table_digest(b, table, key, columns)
        # New rows after the copy take new ids, not copied ones.
        chats = ChatRepository(b)
        chat = chats.create("holmes", user_name="Ana", user_id="ana")
        assert chat > max(c.id for c in ChatRepository(a).all())
        _, reply = chats.begin_turn(chat, "after the move")
        assert reply > 0
    again = run("db", "copy", "--from", str(source), "--to", target)
    assert "already holds rows" in one_line_error(again)


def _columns(db: Database, table: str) -> list[str]:
    from personae.store.copy import _columns as columns

    return columns(db, table)


def test_copy_between_sqlite_files_and_back_is_the_same(tmp_path: Path) -> None:
    with Database(tmp_path / "a.db") as db:
        fill_library(db, chats=2, turns=2)
    result = run("db", "copy", "--from", str(tmp_path / "a.db"), "--to", str(tmp_path / "b.db"))
    assert result.exit_code == 0 and "every table verified" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "mysql://x/y", "--to", "p.db"], "--url: must be postgresql://"),
        (["--from", "same.db", "--to", "same.db"], "the same store"),
        (["--from", "a.db", "--to", "postgresql://u:pw@127.0.0.1:1/x"], "cannot open"),
    ],
)
def test_copy_bad_inputs_are_one_line(
    args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    err = one_line_error(run("db", "copy", *args))
    assert message in err and "pw" not in err


def test_check_of_an_unreachable_store_is_one_line() -> None:
    err = one_line_error(run("db", "check", "--url", "postgresql://u@127.0.0.1:1/x"))
    assert "cannot open the database" in err
