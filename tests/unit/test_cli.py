"""The CLI against a scripted backend: scriptable forms, REPL commands, one-line errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

from personae.backends import register_backend
from personae.cli import cli
from personae.store import ChatRepository, Database, StoredMessage
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend, failing


class CliBackend(ScriptedBackend):
    """Every instance the CLI builds shares one script."""

    name: ClassVar[str] = "cli-scripted"
    script: ClassVar[list[Any]] = []
    seen: ClassVar[list[Any]] = []

    def __init__(self, model: str = "scripted", **kw: Any) -> None:
        super().__init__(model, **kw)
        self.queue = CliBackend.script
        self.calls = CliBackend.seen


@pytest.fixture(autouse=True)
def scripted() -> Iterator[type[CliBackend]]:
    register_backend("cli-scripted", CliBackend)
    CliBackend.script.clear()
    CliBackend.seen.clear()
    yield CliBackend


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    err = result.stderr.strip() if result.stderr_bytes is not None else result.output.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    return err


def test_card_list_json_includes_bundled() -> None:
    rows = json.loads(run("card", "list", "--json").stdout)
    ids = {r["id"] for r in rows}
    assert {"sherlock", "hong-gildong"} <= ids


def test_import_export_show_roundtrip(tmp_path: Path) -> None:
    card = tmp_path / "c.json"
    card.write_text(json.dumps(make_character("Irene", extensions={"k": {"v": 1}}).to_card_dict()))
    new_id = run("card", "import", str(card)).stdout.strip()
    assert new_id == "irene"
    for fmt in ("json", "png", "charx"):
        out = tmp_path / f"out.{fmt}"
        assert run("card", "export", new_id, "--format", fmt, "-o", str(out)).exit_code == 0
        again = run("card", "import", str(out)).stdout.strip()
        shown = json.loads(run("card", "show", again, "--json").stdout)
        assert shown["data"]["name"] == "Irene" and shown["data"]["extensions"]["k"] == {"v": 1}


def test_card_new_from_role() -> None:
    new_id = run("card", "new", "--role", "retired Korean math teacher, ENFJ, Busan dialect").stdout
    shown = json.loads(run("card", "show", new_id.strip(), "--json").stdout)
    assert "demographic" in shown["data"]["tags"]
    # A Busan-dialect speaker speaks Korean: greeting and examples in Korean (issue 14).
    assert "ko" in shown["data"]["tags"] and "하던 일을 멈추고" in shown["data"]["first_mes"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("card", "import", "/no/such/file.png"), "file"),
        (("card", "show", "nobody"), "card list"),
        (("card", "show", "../../etc/passwd"), "not a character id"),
        (("card", "export", "nobody", "-o", "x.json"), "card list"),
        (("card", "new", "--role", "   "), "role"),
        (("chat",), "name a character"),
        (("chat", "nobody"), "card list"),
        (("chats", "show", "12345"), "chats list"),
        (("ask", "sherlock", "  ", "--backend", "cli-scripted"), "empty"),
        (("ask", "sherlock", "hi", "--backend", "nope"), "unknown backend"),
        (("ask", "sherlock", "hi", "--model", "no-such-model"), "no-such-model"),
        (("ask", "sherlock", "hi", "--backend", "openai", "--model", "m"), "base_url"),
        (("models", "pull", "no-such-model"), "no-such-model"),
        (("restyle", "sherlock", "", "--backend", "cli-scripted"), "nothing to restyle"),
    ],
)
def test_bad_input_is_one_line(args: tuple[str, ...], needle: str) -> None:
    assert needle in one_line_error(run(*args))


def test_malformed_card_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 10)
    one_line_error(run("card", "import", str(bad)))
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"spec": "chara_card_v2", "data": {"name": 5, "alternate_greetings": 3}}')
    one_line_error(run("card", "import", str(bad_json)))


def test_ask_json(scripted: type[CliBackend]) -> None:
    scripted.script.append("Elementary.")
    out = run("ask", "sherlock", "Who?", "--backend", "cli-scripted", "--json")
    payload = json.loads(out.stdout)
    assert payload["reply"] == "Elementary." and payload["character"] == "sherlock"
    assert payload["usage"]["completion_tokens"] == 1


def test_chat_repl_commands(scripted: type[CliBackend], personae_home: Path) -> None:
    scripted.script.extend(["One.", "Two.", "Three.", "Four."])
    lines = "Hello\n/regenerate\n/edit Hi there\n/help\n/undo\nAgain\n/exit\nignored\n"
    result = run("chat", "sherlock", "--backend", "cli-scripted", "--user", "Watson", stdin=lines)
    assert result.exit_code == 0, result.output
    assert "One." in result.stdout and "Two." in result.stdout and "Three." in result.stdout
    db = Database(personae_home / "personae.db")
    [chat] = ChatRepository(db).all("sherlock")
    contents = [m.content for m in ChatRepository(db).messages(chat.id)]
    assert contents[1:] == ["Again", "Four."]
    assert chat.user_name == "Watson"
    # resuming continues the same chat; --new starts another
    scripted.script.extend(["Five.", "Six."])
    run("chat", "sherlock", "--backend", "cli-scripted", stdin="More\n")
    assert len(ChatRepository(db).all("sherlock")) == 1
    run("chat", "sherlock", "--backend", "cli-scripted", "--new", stdin="Fresh\n")
    assert len(ChatRepository(db).all("sherlock")) == 2


def test_chats_list_show_export(scripted: type[CliBackend], tmp_path: Path) -> None:
    scripted.script.append("그렇군요, 왓슨 씨.")
    run("chat", "sherlock", "--backend", "cli-scripted", stdin="안녕하세요, 홈즈 씨\n")
    [chat] = json.loads(run("chats", "list", "--json").stdout)
    shown = json.loads(run("chats", "show", str(chat["id"]), "--json").stdout)
    assert shown["messages"][1]["content"] == "안녕하세요, 홈즈 씨"
    out = tmp_path / "c.md"
    assert run("chats", "export", str(chat["id"]), "--format", "md", "-o", str(out)).exit_code == 0
    assert "그렇군요, 왓슨 씨." in out.read_text(encoding="utf-8")


def test_restyle_reads_stdin(scripted: type[CliBackend]) -> None:
    scripted.script.extend(["Quite so, Watson.", "Capital!"])
    result = run("restyle", "sherlock", "--backend", "cli-scripted", stdin="Yes.\n\nGreat!\n")
    assert result.stdout.splitlines() == ["Quite so, Watson.", "Capital!"]
    asked = " ".join(m.content for m in CliBackend.seen[0][0])  # system, the line, the open quote
    assert "Yes." in asked and "Sherlock" in asked


def test_models_list_json() -> None:
    rows = json.loads(run("models", "list", "--json").stdout)
    assert {r["name"] for r in rows} >= {"smollm2-135m", "qwen2.5-coder-1.5b"}
    assert all(r["pulled"] is False for r in rows)


def _stored_chat(home: Path) -> list[StoredMessage]:
    repo = ChatRepository(Database(home / "personae.db"))
    [chat] = repo.all("sherlock")
    return repo.messages(chat.id)


@pytest.mark.parametrize(
    ("script", "replies", "needle"),
    [
        ("Hello\n/bogus\nAgain\n", ["One.", "Two."], "unknown command /bogus: type /help"),
        ("Hello\nAgain\nMore\n", [failing(1, "Half a reply"), "Two."], "boom"),
        ("Hello\nAgain\n", [[], [], "Two."], "empty reply"),
    ],
)
def test_chat_from_a_pipe_stops_at_the_first_error_with_status_1(
    scripted: type[CliBackend], personae_home: Path, script: str, replies: list[Any], needle: str
) -> None:
    scripted.script.extend(replies)
    result = run("chat", "sherlock", "--backend", "cli-scripted", "--no-memory", stdin=script)
    assert result.exit_code == 1, result.output
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert needle in error
    assert "Again" not in [m.content for m in _stored_chat(personae_home)]  # it stopped there


def test_an_empty_reply_is_an_error_not_a_complete_reply(
    scripted: type[CliBackend], personae_home: Path
) -> None:
    scripted.script.extend([[], []])  # empty, and empty again on the warmer retry
    result = run("chat", "sherlock", "--backend", "cli-scripted", "--no-memory", stdin="Hello\n")
    assert result.exit_code == 1 and "empty reply" in result.stderr
    reply = _stored_chat(personae_home)[-1]
    assert (reply.role, reply.content, reply.status) == ("assistant", "", "incomplete")
    assert reply.finish_reason == "empty"
    for as_json in ((), ("--json",)):
        scripted.script.extend([[], []])
        err = one_line_error(run("ask", "sherlock", "Hello", "--backend", "cli-scripted", *as_json))
        assert "empty reply" in err
