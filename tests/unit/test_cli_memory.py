"""Memory through the CLI: chats that remember, `personae memory …`, users kept apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_cli import CliBackend, one_line_error, run, scripted  # noqa: F401

pytestmark = pytest.mark.usefixtures("scripted")

CHAT = ("chat", "sherlock", "--backend", "cli-scripted", "--new")


def said_to_model() -> str:
    """Everything the last prompt contained."""
    messages, _ = CliBackend.seen[-1]
    return "\n".join(m.content for m in messages)


def memories(*args: str) -> list[dict]:
    return json.loads(run("memory", "show", "--json", *args).stdout)["memories"]


def test_a_new_chat_recalls_what_the_user_said() -> None:
    CliBackend.script.extend(["Noted.", "Of course."])
    result = run(*CHAT, stdin="My dog is called Biscuit and my email is ana@example.com.\n")
    assert result.exit_code == 0, result.output
    stored = memories("sherlock")
    assert any("Biscuit" in m["text"] for m in stored)
    assert all("ana@example.com" not in m["text"] for m in stored)  # redacted before storing
    assert {m["kind"] for m in stored} >= {"episode"}
    run(*CHAT, stdin="What is my dog called?\n")
    assert "Biscuit" in said_to_model()


def test_another_user_never_sees_it() -> None:
    CliBackend.script.extend(["Noted.", "Hm."])
    run(*CHAT, stdin="My sister is called Harriet Vane.\n")
    run(*CHAT, "--user-id", "bob", stdin="Who is my sister?\n")
    assert "Harriet" not in said_to_model()
    for args in (("--user-id", "bob"), ("sherlock", "--user-id", "bob")):
        assert all("Harriet" not in m["text"] for m in memories(*args))
    assert all(m["user"] == "bob" for m in memories("--user-id", "bob"))


def test_no_memory_stores_nothing() -> None:
    CliBackend.script.append("Noted.")
    run(*CHAT, "--no-memory", stdin="My dog is called Biscuit.\n")
    assert memories() == []


def test_only_some_memories() -> None:
    CliBackend.script.append("Noted.")
    run(*CHAT, "--memories", "profile", stdin="My dog is called Biscuit.\n")
    assert {m["kind"] for m in memories("sherlock")} <= {"fact"}


def test_add_edit_forget_export_wipe(tmp_path: Path) -> None:
    added = run("memory", "add", "sherlock", "Remember: I take my tea without sugar.")
    assert added.exit_code == 0 and "remembered #" in added.stdout
    [note] = memories("sherlock")
    assert note["kind"] == "note" and note["character"] == "sherlock"
    run("memory", "add", "sherlock", "I am left-handed.", "--scope", "user")
    assert any(m["character"] is None for m in memories("elizabeth"))  # user-wide
    edited = run("memory", "edit", str(note["id"]), "Tea with two sugars, please.")
    assert "two sugars" in edited.stdout
    out = tmp_path / "mem.json"
    assert run("memory", "export", "--out", str(out)).exit_code == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert {m["text"] for m in exported["memories"]} == {
        "Tea with two sugars, please.",
        "I am left-handed.",
    }
    assert json.loads(run("memory", "export", "--character", "sherlock").stdout)["memories"]
    assert "forgot 1 memory" in run("memory", "forget", str(note["id"])).stdout
    declined = run("memory", "wipe", stdin="n\n")
    assert declined.exit_code != 0 and len(memories()) == 1
    assert "deleted 1 memories" in run("memory", "wipe", "--yes").stdout
    assert memories() == []
    assert "no memories yet" in run("memory", "show").stdout


def test_show_text_groups_by_kind() -> None:
    run("memory", "add", "sherlock", "I collect butterflies.")
    shown = run("memory", "show", "sherlock").stdout
    assert "Notes" in shown and "I collect butterflies." in shown


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("memory", "forget", "999"), "no memory 999"),
        (("memory", "edit", "999", "x"), "no memory 999"),
        (("memory", "add", "nobody", "x"), "nobody"),
        (("memory", "add", "sherlock", "x", "--scope", "chat"), "--chat"),
        (("memory", "add", "sherlock", "x", "--chat", "1"), "--scope chat"),
        (("memory", "add", "sherlock", "   "), "text"),
        (("memory", "add", "sherlock", "😀" * 4001), "at most 4,000 characters"),
        (("memory", "show", "--user-id", "bad id!"), "user id"),
        (("memory", "show", "--chat", "12345"), "no chat"),
        (("memory", "export", "--out", "/no/such/dir/x.json"), "cannot write"),
        (("chat", "sherlock", "--backend", "cli-scripted", "--memories", "dreams"), "dreams"),
    ],
)
def test_bad_inputs_are_one_line(args: tuple[str, ...], needle: str) -> None:
    assert needle in one_line_error(run(*args, stdin=""))


def test_cannot_touch_another_users_memory() -> None:
    run("memory", "add", "sherlock", "Secret of Ana's.", "--user-id", "ana")
    [item] = memories("--user-id", "ana")
    for args in (("forget", str(item["id"])), ("edit", str(item["id"]), "mine now")):
        assert "not one of bob's" in one_line_error(run("memory", *args, "--user-id", "bob"))
    assert memories("--user-id", "ana")[0]["text"] == "Secret of Ana's."
