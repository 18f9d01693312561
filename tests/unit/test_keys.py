"""API keys: the store keeps digests only, the CLI prints a key once, and bad input is one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.errors import InvalidInput, NotFound
from personae.store import Database
from personae.store.keys import KeyRepository, digest
from tests.unit.test_cli import one_line_error, run


@pytest.fixture
def keys(store_location: str | Path) -> KeyRepository:
    return KeyRepository(Database(store_location))


def test_a_key_is_stored_as_its_digest_only(keys: KeyRepository) -> None:
    record, key = keys.create("alice", "laptop")
    assert key.startswith(record.id + "-") and len(key) > 40
    rows = keys.db.conn.execute("SELECT * FROM api_keys").fetchall()
    stored = " ".join(str(v) for row in rows for v in tuple(row))
    assert key not in stored and key.split("-")[-1] not in stored
    assert rows[0]["digest"] == digest(key)
    assert keys.user_for(key) == "alice"
    assert keys.all()[0].last_used_at is not None  # noted on use


def test_unknown_tampered_and_revoked_keys_find_no_user(keys: KeyRepository) -> None:
    record, key = keys.create("alice")
    assert keys.user_for(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert keys.user_for("sk-not-ours") is None
    assert keys.user_for("pk-" + "x" * 500) is None
    assert keys.any_active()
    keys.revoke(record.id)
    assert keys.user_for(key) is None and not keys.any_active()
    assert keys.all() == [] and keys.all(include_revoked=True)[0].revoked_at is not None


def test_revoke_accepts_the_whole_key(keys: KeyRepository) -> None:
    record, key = keys.create("bob")
    assert keys.revoke(key).id == record.id


@pytest.mark.parametrize("user", ["", "a b", "../etc", "x" * 200, "é", "-lead"])
def test_bad_user_ids_are_refused(keys: KeyRepository, user: str) -> None:
    with pytest.raises(InvalidInput):
        keys.create(user)


def test_bad_labels_and_key_ids_are_refused(keys: KeyRepository) -> None:
    with pytest.raises(InvalidInput):
        keys.create("alice", "two\nlines")
    with pytest.raises(InvalidInput):
        keys.revoke("nope")
    with pytest.raises(NotFound):
        keys.revoke("pk-00000000")


def test_cli_create_list_revoke() -> None:
    created = run("keys", "create", "--user", "mina", "--label", "phone")
    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert key.startswith("pk-") and "\n" not in key  # the key alone on stdout
    listed = json.loads(run("keys", "list", "--json").stdout)
    assert [(k["user_id"], k["label"]) for k in listed] == [("mina", "phone")]
    assert key not in run("keys", "list").stdout
    revoked = run("keys", "revoke", listed[0]["id"])
    assert revoked.exit_code == 0 and "open again" in revoked.stderr
    assert json.loads(run("keys", "list", "--json").stdout) == []
    assert len(json.loads(run("keys", "list", "--all", "--json").stdout)) == 1


@pytest.mark.parametrize(
    "args",
    [
        ("keys", "create", "--user", "two words"),
        ("keys", "create", "--user", "mina", "--label", "a\nb"),
        ("keys", "revoke", "pk-zz"),
        ("keys", "revoke", "pk-00000000"),
    ],
)
def test_cli_bad_input_is_one_line(args: tuple[str, ...]) -> None:
    one_line_error(run(*args))


def test_cli_create_needs_a_user() -> None:
    result = run("keys", "create")
    assert result.exit_code == 2 and "--user" in result.output
