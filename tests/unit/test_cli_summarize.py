"""`personae summarize` and `personae eval dialogsum` through the CLI, scripted backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_cli import CliBackend, one_line_error, run, scripted  # noqa: F401
from tests.unit.test_dialogsum_task import ROWS, write

DIALOGUE = "Alice: Shall we go hiking on Sunday?\nBob: Yes, let's leave at eight.\n"


def test_summarize_file_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "d.txt"
    path.write_text(DIALOGUE)
    CliBackend.script.extend(["Summary: Alice and Bob will go hiking on Sunday at eight."] * 2)
    result = run("summarize", str(path), "--backend", "cli-scripted")
    assert result.exit_code == 0 and result.stdout.strip().startswith("Alice and Bob will")
    result = run("summarize", "-", "--backend", "cli-scripted", "--json", stdin=DIALOGUE)
    payload = json.loads(result.stdout)
    assert payload["strategy"] == "zero-shot" and payload["summary"].startswith("Alice")


def test_summarize_consensus_json() -> None:
    CliBackend.script.extend(["Alice and Bob hike.", "Bananas.", "Alice and Bob go hiking."])
    result = run(
        "summarize",
        "-",
        "--style",
        "consensus",
        "--samples",
        "3",
        "--backend",
        "cli-scripted",
        "--json",
        stdin=DIALOGUE,
    )
    payload = json.loads(result.stdout)
    assert len(payload["candidates"]) == 3 and payload["summary"] != "Bananas."


def test_summarize_stored_chat(personae_home: Path) -> None:
    CliBackend.script.extend(["Elementary.", "Watson asks and Holmes answers."])
    run("chat", "sherlock", "--backend", "cli-scripted", "--user", "Watson", stdin="Holmes?\n")
    result = run("chats", "list", "--json")
    chat_id = json.loads(result.stdout)[0]["id"]
    result = run("summarize", "--chat", str(chat_id), "--backend", "cli-scripted")
    assert result.exit_code == 0
    messages = CliBackend.seen[-1][0]
    assert "Watson: Holmes?" in messages[-1].content


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("summarize", "/nonexistent/file.txt"), "no such file"),
        (("summarize", "-", "--style", "best"), "unknown style"),
        (("summarize", "-", "--language", "fr"), "language"),
        (("summarize", "-", "--style", "few-shot"), "--pool"),
        (("summarize", "x.txt", "--chat", "1"), "not both"),
        (("summarize", "--chat", "999"), "999"),
    ],
)
def test_summarize_bad_input(args: tuple[str, ...], needle: str) -> None:
    result = run(*args, "--backend", "cli-scripted", stdin="not a dialogue")
    assert needle in one_line_error(result)


def test_summarize_rejects_text_without_speakers() -> None:
    result = run("summarize", "-", "--backend", "cli-scripted", stdin="just some prose")
    assert "speaker" in one_line_error(result)


def test_eval_dialogsum_cli(tmp_path: Path) -> None:
    data = write(tmp_path / "d.jsonl", ROWS)
    CliBackend.script.extend([f"#Person1# and #Person2# meet at {i}." for i in range(4)])
    out = tmp_path / "out"
    result = run(
        "eval",
        "dialogsum",
        "--data",
        str(data),
        "--backend",
        "cli-scripted",
        "--out",
        str(out),
        "--limit",
        "2",
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "dialogsum.json").read_text())
    strategies = [row["strategy"] for row in report["data"]["rows"]]
    assert strategies == ["lead-3", "longest-3", "zero-shot"]
    # resuming: nothing left to predict, the same rows come back without a model call
    calls = len(CliBackend.seen)
    result = run(
        "eval",
        "dialogsum",
        "--data",
        str(data),
        "--baselines-only",
        "--out",
        str(out),
        "--limit",
        "2",
    )
    assert result.exit_code == 0 and len(CliBackend.seen) == calls
    assert (out / "dialogsum.md").exists() and (out / "dialogsum.html").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (("--strategy", "magic"), "unknown strategy"),
        (("--tokenizer", "mecab"), "unknown tokenizer"),
        (("--limit", "0"), "--limit"),
    ],
)
def test_eval_dialogsum_bad_input(tmp_path: Path, extra: tuple[str, ...], needle: str) -> None:
    data = write(tmp_path / "d.jsonl", ROWS)
    result = run("eval", "dialogsum", "--data", str(data), "--backend", "cli-scripted", *extra)
    assert needle in one_line_error(result)


def test_eval_dialogsum_missing_data(tmp_path: Path) -> None:
    result = run("eval", "dialogsum", "--data", str(tmp_path / "nope.jsonl"), "--baselines-only")
    assert "no such file" in one_line_error(result)


def _stored_chat(*turns: tuple[str, str], character: str = "sherlock") -> int:
    from personae.agent import Chat
    from personae.cli.common import open_db
    from personae.store import ChatRepository

    db = open_db()
    chat_id = Chat.create(db, character, user_name="Watson")
    repo = ChatRepository(db)
    for role, text in turns:
        repo.add_message(chat_id, role, text)
    return chat_id


def test_a_stored_chat_is_summarized_without_its_greeting(personae_home: Path) -> None:
    # Issue 14: the "summary" of a Sherlock chat was the greeting's stage direction.
    chat_id = _stored_chat(
        ("user", "I need your help with a stolen letter."),
        ("assistant", "*Holmes steeples his fingers.* Tell me everything about the letter."),
    )
    CliBackend.script.append("Watson asks Holmes for help with a stolen letter.")
    result = run("summarize", "--chat", str(chat_id), "--backend", "cli-scripted")
    assert result.exit_code == 0, result.output
    prompt = CliBackend.seen[-1][0][-1].content
    assert "Watson: I need your help with a stolen letter." in prompt
    assert "Holmes: Tell me everything about the letter." in prompt
    assert "221B" not in prompt and "steeples" not in prompt  # greeting and stage direction


def test_a_korean_chat_is_summarized_without_its_greeting(personae_home: Path) -> None:
    chat_id = _stored_chat(
        ("user", "탐관오리에게 땅을 빼앗겼소."),
        ("assistant", "*길동이 칼자루를 쥔다.* 그 자의 이름을 대시오."),
        character="hong-gildong",
    )
    CliBackend.script.append("나그네가 땅을 빼앗긴 일을 길동에게 털어놓는다.")
    result = run("summarize", "--chat", str(chat_id), "--backend", "cli-scripted")
    assert result.exit_code == 0, result.output
    prompt = CliBackend.seen[-1][0][-1].content
    assert "Watson: 탐관오리에게 땅을 빼앗겼소." in prompt and "그 자의 이름을 대시오." in prompt
    assert "칼자루" not in prompt and "달빛" not in prompt


def test_a_chat_with_only_its_greeting_has_nothing_to_summarize(personae_home: Path) -> None:
    chat_id = _stored_chat()
    err = one_line_error(run("summarize", "--chat", str(chat_id), "--backend", "cli-scripted"))
    assert "nothing to summarize yet" in err and "send a message" in err
