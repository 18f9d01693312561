"""What the store keeps private: the data folder and the database files are owner-only, and
with ``[privacy] transcripts = "redact"`` every stored message is redacted, whichever way it
is written."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from personae.errors import ConfigError
from personae.settings.privacy import redaction_policy, transcript_redactor
from personae.store import CharacterRepository, ChatRepository, Database, ReplyStats
from tests.support.factories import make_character

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the common default, which left personae.db world-readable (0644)
    try:
        yield
    finally:
        os.umask(old)


@posix_only
@pytest.mark.usefixtures("usual_umask")
def test_a_new_database_and_its_folder_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "personae.db"
    db = Database(path)
    CharacterRepository(db).add(make_character())  # a write: the -wal and -shm files exist
    assert mode(path.parent) == 0o700
    for name in ("personae.db", "personae.db-wal", "personae.db-shm"):
        assert mode(path.parent / name) == 0o600, name
    db.close()


@posix_only
@pytest.mark.usefixtures("usual_umask")
def test_an_older_world_readable_database_is_made_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "personae.db"
    Database(path).close()
    for file in (path, tmp_path / "personae.db-wal"):
        file.touch()
        file.chmod(0o644)
    with Database(path):
        assert mode(path) == 0o600 and mode(tmp_path / "personae.db-wal") == 0o600


@posix_only
@pytest.mark.usefixtures("usual_umask")
def test_the_data_directory_is_created_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from personae.config import home

    monkeypatch.setenv("PERSONAE_HOME", str(tmp_path / "new-home"))
    assert mode(home()) == 0o700


# -- transcripts ------------------------------------------------------------------------------

EMAIL = "my email is ana@example.com"


def redacting_db(path: str | Path) -> Database:
    redactor = transcript_redactor({"transcripts": "redact"})
    assert redactor is not None
    db = Database(path, redact_transcripts=redactor)
    CharacterRepository(db).add(make_character("Holmes"), character_id="holmes")
    return db


def test_every_way_a_message_is_stored_is_redacted(store_location: str | Path) -> None:
    # SQLite redacts with a trigger, PostgreSQL before the statement is sent: both, every way.
    db = redacting_db(store_location)
    chats = ChatRepository(db)
    chat = chats.create("holmes", user_name="Ana")
    greeting = chats.add_message(chat, "assistant", "Write to holmes@example.com")
    user, reply = chats.begin_turn(chat, EMAIL)
    chats.save_partial(reply, "Noted: ana@exam")  # half an address is not found; the whole is
    chats.complete_reply(reply, "Noted: ana@example.com", ReplyStats())
    _, cut = chats.begin_turn(chat, None)
    chats.interrupt_reply(cut, "call 010-1234-5678", "cancelled")
    assert user is not None
    edited = chats.edit(user, "no, it is ana@example.org")
    chats.rewrite(greeting, "Or to sherlock@example.com")
    # What any reader sees (another connection, without redaction of its own).
    with Database(store_location) as reader:
        stored = {
            m.id: m.content for m in ChatRepository(reader).messages(chat, include_hidden=True)
        }
    assert stored == {
        greeting: "Or to [EMAIL]",
        user: "my email is [EMAIL]",
        reply: "Noted: [EMAIL]",
        cut: "call [PHONE]",
        edited: "no, it is [EMAIL]",
    }


def test_transcripts_are_kept_as_written_by_default(tmp_path: Path) -> None:
    assert transcript_redactor({}) is None
    assert transcript_redactor({"transcripts": "keep", "redaction": "partial"}) is None
    db = Database(tmp_path / "p.db")
    CharacterRepository(db).add(make_character("Holmes"), character_id="holmes")
    chats = ChatRepository(db)
    chat = chats.create("holmes", user_name="Ana")
    chats.begin_turn(chat, EMAIL)
    assert chats.messages(chat)[0].content == EMAIL


def test_transcripts_follow_the_redaction_mode() -> None:
    redactor = transcript_redactor({"transcripts": "redact", "redaction": "partial"})
    assert redactor is not None and redactor(EMAIL) == "my email is a***@example.com"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"transcripts": "yes"}, "transcripts must be 'keep' or 'redact', not 'yes'"),
        ({"transcripts": "redact", "redaction": "off"}, "needs redaction on"),
        ({"transcript": "redact"}, "has no setting 'transcript'"),
    ],
)
def test_bad_transcript_settings_are_one_clear_error(table: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        redaction_policy(table)  # what every command checks at start
    with pytest.raises(ConfigError, match=message):
        transcript_redactor(table)


def test_a_chat_stores_the_message_redacted_but_answers_the_raw_one(tmp_path: Path) -> None:
    from personae.agent import Chat
    from personae.config import home
    from personae.store.library import open_library
    from tests.support.scripted import ScriptedBackend

    (home() / "config.toml").write_text('[privacy]\ntranscripts = "redact"\n', encoding="utf-8")
    backend = ScriptedBackend().enqueue("I shall write to ana@example.com at once.")
    with open_library() as db:
        chat = Chat.start(db, "sherlock", backend, user_name="Ana")
        "".join(chat.send(f"Hello, {EMAIL}."))
        # The reply being written saw the address; the store keeps neither copy of it.
        assert EMAIL in backend.calls[-1][0][-1].content
        stored = [m.content for m in chat.messages()]
    assert "ana@example.com" not in " ".join(stored)
    assert stored[-2:] == ["Hello, my email is [EMAIL].", "I shall write to [EMAIL] at once."]


def test_the_server_stores_transcripts_redacted_when_asked(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from personae.config import Settings
    from personae.server import create_app
    from tests.support.server import DEFAULT_MODEL, Backends, make_store

    settings = Settings(
        backend="scripted",
        model=DEFAULT_MODEL,
        user_name="Watson",
        privacy={"transcripts": "redact"},
    )
    backends = Backends()
    backends.default.enqueue("Noted, ana@example.com.")
    app = create_app(
        make_store(tmp_path / "server.db"),
        settings=settings,
        backend_factory=backends,
        memory=False,
        allowed_hosts=["testserver"],
    )
    with TestClient(app) as client:
        body = {"model": "holmes", "user": "ana", "messages": [{"role": "user", "content": EMAIL}]}
        response = client.post("/v1/chat/completions", json=body)
        assert response.status_code == 200, response.text
        chat_id = int(response.headers["X-Personae-Chat-Id"])
    with Database(tmp_path / "server.db") as db:
        texts = [m.content for m in ChatRepository(db).messages(chat_id)]
    assert texts[-2:] == ["my email is [EMAIL]", "Noted, [EMAIL]."], texts
