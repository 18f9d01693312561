"""`personae card from-text` through the CLI: a scripted model, a fake embedder, one-line
errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.cli import card as card_cli
from personae.memory.bank import MemoryBank
from personae.store import MemoryRepository
from personae.store.library import open_library
from tests.support.embedder import HashEmbedder
from tests.unit.test_cli import CliBackend, one_line_error, run, scripted  # noqa: F401
from tests.unit.test_from_text_draft import BOOK, PROFILE


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(card_cli, "memory_bank", lambda db: MemoryBank(db, embedder=HashEmbedder()))


def book(tmp_path: Path, text: str = BOOK, name: str = "the_light.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


ARGS = ("--character", "Dace", "--alias", "Captain Dace", "--backend", "cli-scripted")


def test_from_text_stores_the_card_and_indexes_the_lines(tmp_path: Path) -> None:
    CliBackend.script.extend([json.dumps(PROFILE), json.dumps({"Pellow Point": "A headland."})])
    result = run("card", "from-text", str(book(tmp_path)), *ARGS)
    assert result.exit_code == 0, result.output
    new_id = result.stdout.strip()
    assert new_id == "dace"
    assert "lorebook entries" in result.stderr and "by Dace" in result.stderr
    shown = json.loads(run("card", "show", new_id, "--json").stdout)
    assert shown["data"]["description"] == PROFILE["description"]
    assert shown["data"]["character_book"]["entries"]
    lines = [i.text for i in MemoryRepository(open_library()).partition(None, new_id, ["line"])]
    assert (
        "Mrs. Garrow: Then buy oil.\nDace: With what money? The Board has paid nothing since March."
        in lines
    )


def test_dry_run_json_stores_nothing(tmp_path: Path) -> None:
    CliBackend.script.extend(["not json at all", ""])
    result = run("card", "from-text", str(book(tmp_path)), *ARGS, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["character"] == "Dace"
    assert payload["speakers"]["Dace"] >= 5 and payload["speakers"]["Mrs. Garrow"] >= 3
    first = payload["lines"][0]
    assert set(first) >= {"speaker", "text", "answers", "how"}
    assert payload["card"]["data"]["name"] == "Dace"
    assert "description" in payload["fallback"]
    ids = {r["id"] for r in json.loads(run("card", "list", "--json").stdout)}
    assert "dace" not in ids


def test_dry_run_table(tmp_path: Path) -> None:
    result = run("card", "from-text", str(book(tmp_path)), *ARGS, "--no-model", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Dace: " in result.stdout and "dry run: nothing stored" in result.stdout
    assert "With what money?" in result.stdout


def test_script_file(tmp_path: Path) -> None:
    script = "Watson: Where were you?\nHolmes: On the roof.\nWatson: Why?\nHolmes: Pipes.\n"
    path = book(tmp_path, script, "script.txt")
    result = run("card", "from-text", str(path), "--character", "Holmes", "--no-model")
    assert result.exit_code == 0, result.output
    lines = MemoryRepository(open_library()).partition(None, result.stdout.strip(), ["line"])
    assert [i.text for i in lines] == [
        "Watson: Where were you?\nHolmes: On the roof.",
        "Watson: Why?\nHolmes: Pipes.",
    ]


@pytest.mark.parametrize(
    ("content", "args", "needle"),
    [
        (None, ("--character", "Dace"), "file not found"),
        ("", ("--character", "Dace"), "empty"),
        (b"\xff\xfe\x00bad", ("--character", "Dace"), "not UTF-8"),
        (BOOK, ("--character", "Holmes"), "'Holmes' speaks no line"),
        ("No one speaks here.", ("--character", "Dace"), "no quoted speech"),
        (BOOK, ("--character", "  "), "empty"),
        (BOOK, ("--character", "Dace", "--backend", "nope"), "unknown backend"),
    ],
)
def test_bad_input_is_one_line(
    tmp_path: Path, content: str | bytes | None, args: tuple[str, ...], needle: str
) -> None:
    path = tmp_path / "b.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    assert needle in one_line_error(run("card", "from-text", str(path), *args))


def test_too_large_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from personae.experience.from_text import extract

    monkeypatch.setattr(extract, "MAX_BYTES", 100)
    err = one_line_error(run("card", "from-text", str(book(tmp_path)), "--character", "Dace"))
    assert "more than the limit" in err
