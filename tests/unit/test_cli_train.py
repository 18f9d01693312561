"""`personae train` and `personae adapters` through the CLI: bad input is one line and leaves
nothing behind; adapters are listed, shown, activated and deleted; `ask --adapter` refuses what
it cannot use. Real training runs in tests/integration/test_train_real.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.config import home
from personae.training.adapters import AdapterRegistry
from tests.unit.test_cli import CliBackend, one_line_error, run, scripted  # noqa: F401
from tests.unit.test_training_adapters import make_adapter

CHAT = {
    "messages": [
        {"role": "user", "content": "Who are you?"},
        {"role": "assistant", "content": "Sherlock Holmes."},
    ]
}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(CHAT) for _ in range(3)) + "\n")
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "nothing to train on"),
        (("--from-chats",), "use it with --method dpo"),
        (("--data", "missing.jsonl"), "no training data at"),
        (("--data", "{data}", "--rank", "0"), "--rank must be between"),
        (("--data", "{data}", "--lr", "5"), "--lr must be between"),
        (("--data", "{data}", "--name", "Bad Name"), "not an adapter name"),
        (("--data", "{data}", "--resume"), "nothing to resume"),
        (("--data", "{data}", "--method", "dpo"), "DPO rows need prompt, chosen and rejected"),
        (("--method", "dpo", "--from-chats"), "no preference pairs"),
        (("--data", "{data}", "--base", "no-such-model"), "no-such-model"),
        (("--data", "{data}", "--base", "smollm2-135m"), "is not pulled"),
    ],
)
def test_bad_training_input_is_one_line_and_leaves_nothing(
    data: Path, args: tuple[str, ...], message: str
) -> None:
    filled = [a.replace("{data}", str(data)) for a in args]
    error = one_line_error(run("train", "sherlock", *filled))
    assert message in error
    assert AdapterRegistry().list() == []


def test_an_unknown_character_is_one_line(data: Path) -> None:
    assert "nobody" in one_line_error(run("train", "nobody", "--data", str(data)))


def test_adapters_list_show_activate_delete() -> None:
    registry = AdapterRegistry(home() / "adapters")
    make_adapter(registry, "sherlock", "book", ready=True)
    make_adapter(registry, "sherlock", "half", ready=False)
    assert "no adapters yet" not in run("adapters", "list").stdout
    rows = json.loads(run("adapters", "list", "sherlock", "--json").stdout)
    assert [(r["name"], r["status"], r["active"]) for r in rows] == [
        ("book", "ready", False),
        ("half", "unfinished", False),
    ]
    assert "sherlock@book is active" in run("adapters", "activate", "sherlock", "book").stdout
    assert json.loads(run("adapters", "list", "--json").stdout)[0]["active"] is True
    shown = json.loads(run("adapters", "show", "sherlock", "half").stdout)
    assert shown["status"] == "unfinished" and shown["method"] == "sft"
    assert "did not finish" in one_line_error(run("adapters", "activate", "sherlock", "half"))
    assert "no adapter 'x'" in one_line_error(run("adapters", "show", "sherlock", "x"))
    assert "not an adapter name" in one_line_error(run("adapters", "delete", "sherlock", "../x"))
    assert "uses no adapter" in run("adapters", "activate", "sherlock", "none").stdout
    assert "deleted sherlock@book" in run("adapters", "delete", "sherlock", "book").stdout
    assert [r["name"] for r in json.loads(run("adapters", "list", "--json").stdout)] == ["half"]


def test_ask_with_an_adapter_it_cannot_use_is_one_line(
    scripted: type[CliBackend],  # noqa: F811
) -> None:
    registry = AdapterRegistry(home() / "adapters")
    make_adapter(registry, "sherlock", "book", ready=True)
    ask = ("ask", "sherlock", "Hello", "--backend", "cli-scripted")
    assert "no adapter 'nope'" in one_line_error(run(*ask, "--adapter", "nope"))
    assert "embedded model" in one_line_error(run(*ask, "--adapter", "book"))
    # The active adapter on a backend that cannot use it: a note, and the reply all the same.
    registry.activate("sherlock", "book")
    scripted.script.append("Good day.")
    result = run(*ask)
    assert result.exit_code == 0 and "Good day." in result.stdout
    assert "not using the active adapter" in result.stderr
    scripted.script.append("Good day again.")
    assert "Good day again." in run(*ask, "--adapter", "none").stdout


def test_a_characters_own_lines_become_chat_records(tmp_path: Path) -> None:
    from personae.store import CharacterRepository
    from personae.store.library import open_library
    from personae.training.lines import compact_system_prompt, records_from_library

    script = (
        "Watson: Where were you all night?\nHolmes: On the roof, watching the street.\n"
        "Watson: Why?\nHolmes: Pipes.\nHolmes: And then I slept a little.\n"
    )
    path = tmp_path / "script.txt"
    path.write_text(script, encoding="utf-8")
    new_id = run("card", "from-text", str(path), "--character", "Holmes", "--no-model").stdout
    db = open_library()
    character = CharacterRepository(db).get(new_id.strip()).character
    records = records_from_library(db, new_id.strip(), character)
    # "Pipes." is too short to learn a voice from; the line after it answers "Why?" too.
    assert [[m["content"] for m in r.messages[1:]] for r in records] == [
        ["Where were you all night?", "On the roof, watching the street."],
        ["Why?", "And then I slept a little."],
    ]
    system = records[0].messages[0]["content"]
    assert system == compact_system_prompt(character) and system.startswith("You are Holmes.")
    assert character.description and character.description not in system
    error = one_line_error(run("train", "hong-gildong", "--from-lines"))
    assert "no lines answering someone" in error
    assert "with --method sft" in one_line_error(
        run("train", "x", "--from-lines", "--method", "dpo")
    )


@pytest.mark.parametrize(
    "command",
    [
        ("restyle", "sherlock", "Hello there"),
        ("eval", "roleplay", "interview", "sherlock", "--limit", "1"),
    ],
)
def test_restyle_and_the_interview_take_adapter_too(
    scripted: type[CliBackend],  # noqa: F811
    command: tuple[str, ...],
) -> None:
    error = one_line_error(run(*command, "--backend", "cli-scripted", "--adapter", "nope"))
    assert "no adapter 'nope'" in error


def test_the_progress_bar_shows_step_loss_and_rate() -> None:
    import io

    from rich.console import Console

    from personae.cli.train import _progress

    console = Console(file=io.StringIO(), width=160, force_terminal=True, color_system=None)
    with _progress(quiet=False, console=console) as bar:
        assert bar is not None
        bar.on_note("loading smollm2-135m (134M parameters)")
        bar.on_start(10, 3)
        bar.on_step(4, 10, 2.5, 120.0)
        bar.bars.refresh()  # type: ignore[attr-defined]
        shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "loading smollm2-135m" in shown
    assert "4/10" in shown and "loss 2.500" in shown and "120 tok/s" in shown
    with _progress(quiet=True) as nothing:
        assert nothing is None


def test_the_fidelity_play_takes_a_characters_adapter(
    scripted: type[CliBackend],  # noqa: F811
    tmp_path: Path,
) -> None:
    play = ("eval", "fidelity", "play", "--backend", "cli-scripted", "--out", str(tmp_path))
    assert "needs --character" in one_line_error(run(*play, "--adapter", "book"))
    error = one_line_error(run(*play, "--character", "sherlock", "--adapter", "book"))
    assert "no adapter 'book'" in error
