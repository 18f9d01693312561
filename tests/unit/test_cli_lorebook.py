"""`personae lorebook …`: import, list, show, export, delete, attach/detach, scan — and one-line
errors for every bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from personae.characters import card_bytes, placeholder_png
from personae.cli import cli
from tests.support.factories import entry, make_book, make_character

WORLD: dict[str, Any] = {
    "entries": {
        "0": {
            "uid": 0,
            "key": ["dragon", "wyrm"],
            "keysecondary": [],
            "comment": "Dragons",
            "content": "Dragons guard the gates of Eldoria.",
            "constant": False,
            "selective": True,
            "order": 100,
            "position": 0,
            "disable": False,
            "probability": 100,
            "useProbability": True,
        },
        "1": {
            "uid": 1,
            "key": ["Eldoria"],
            "comment": "Eldoria",
            "content": "Eldoria is a mountain kingdom.",
            "order": 50,
            "position": 1,
        },
        "2": {
            "uid": 2,
            "key": [],
            "comment": "Magic",
            "content": "Magic is real.",
            "constant": True,
        },
    }
}


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    err = result.stderr.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    return err


@pytest.fixture
def world_file(tmp_path: Path) -> Path:
    path = tmp_path / "Eldoria.json"
    path.write_text(json.dumps(WORLD), encoding="utf-8")
    return path


def imported(path: Path) -> str:
    result = run("lorebook", "import", str(path))
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()


def test_import_list_show_export_delete(world_file: Path, tmp_path: Path) -> None:
    book_id = imported(world_file)
    rows = json.loads(run("lorebook", "list", "--json").stdout)
    assert [(r["id"], r["name"], r["entries"]) for r in rows] == [(book_id, "Eldoria", 3)]
    assert "Eldoria" in run("lorebook", "list").stdout
    shown = json.loads(run("lorebook", "show", "eldoria", "--json").stdout)
    assert shown["id"] == book_id and shown["attached"] == {"characters": [], "chats": []}
    assert shown["lorebook"]["entries"][0]["keys"] == ["dragon", "wyrm"]
    text = run("lorebook", "show", book_id).stdout
    assert "Dragons" in text and "constant" in text
    out = tmp_path / "out.json"
    assert run("lorebook", "export", book_id, "-o", str(out)).exit_code == 0
    exported = json.loads(out.read_text(encoding="utf-8"))
    for uid, original in WORLD["entries"].items():
        assert original.items() <= exported["entries"][uid].items()
    assert json.loads(run("lorebook", "export", book_id, "-o", "-").stdout) == exported
    assert run("lorebook", "delete", book_id).exit_code == 0
    assert json.loads(run("lorebook", "list", "--json").stdout) == []


def test_import_takes_a_cards_lorebook_and_a_name(tmp_path: Path) -> None:
    card = make_character("Watson", character_book=make_book(entry(["surgery"], "He is a doctor.")))
    path = tmp_path / "watson.png"
    path.write_bytes(card_bytes(card, "png", placeholder_png("W", size=8)))
    book_id = run("lorebook", "import", str(path), "--name", "Medical").stdout.strip()
    shown = json.loads(run("lorebook", "show", book_id, "--json").stdout)
    assert shown["name"] == "Medical" and shown["entries"] == 1


def test_attach_scan_and_detach(world_file: Path) -> None:
    book_id = imported(world_file)
    assert run("lorebook", "attach", book_id, "--character", "sherlock").exit_code == 0
    again = run("lorebook", "attach", book_id, "--character", "sherlock")
    assert "already attached" in again.stderr
    shown = json.loads(run("lorebook", "show", book_id, "--json").stdout)
    assert shown["attached"]["characters"] == [{"id": "sherlock", "attached_by": None}]
    scan = json.loads(run("lorebook", "scan", "sherlock", "A dragon flew over.", "--json").stdout)
    assert scan["target"]["kind"] == "character"
    assert [b["source"] for b in scan["books"]] == ["card", "attached"]
    from_world = [a for a in scan["activated"] if a["book_id"] == book_id]
    assert [(a["comment"], a["reason"], a["key"]) for a in from_world] == [
        ("Dragons", "key", "dragon"),  # insertion order 100 each: book order
        ("Magic", "constant", None),
    ]
    plain = run("lorebook", "scan", "sherlock", "A dragon flew over.").stdout
    assert "Eldoria #0 (Dragons): key 'dragon'" in plain
    assert run("lorebook", "detach", book_id, "--character", "sherlock").exit_code == 0
    after = json.loads(run("lorebook", "scan", "sherlock", "dragon", "--json").stdout)
    assert all(a["book_id"] != book_id for a in after["activated"])


def test_scan_a_book_and_a_chats_books(world_file: Path) -> None:
    book_id = imported(world_file)
    scan = json.loads(run("lorebook", "scan", book_id, "Eldoria awaits", "--json").stdout)
    assert scan["target"] == {"kind": "lorebook", "id": book_id, "name": "Eldoria"}
    assert {a["comment"] for a in scan["activated"]} == {"Magic", "Eldoria"}
    from personae.agent import Chat
    from personae.store.library import open_library

    chat = Chat.create(open_library(), "sherlock")
    assert run("lorebook", "attach", "Eldoria", "--chat", str(chat)).exit_code == 0
    scan = json.loads(
        run("lorebook", "scan", "sherlock", "a wyrm", "--chat", str(chat), "--json").stdout
    )
    assert any(a["key"] == "wyrm" for a in scan["activated"])
    quiet = world_file.with_name("quiet.json")
    quiet.write_text(json.dumps({"entries": [{"key": ["dragon"], "content": "x"}]}))
    assert "nothing activates" in run("lorebook", "scan", imported(quiet), "hello").stdout
    assert "Magic" in run("lorebook", "scan", book_id, "-", stdin="dragon").stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("lorebook", "import", "/no/such/world.json"), "cannot read"),
        (("lorebook", "show", "nope"), "no lorebook 'nope'"),
        (("lorebook", "export", "nope", "-o", "x.json"), "no lorebook"),
        (("lorebook", "delete", "nope"), "no lorebook"),
        (("lorebook", "attach", "nope", "--character", "sherlock"), "no lorebook"),
        (("lorebook", "scan", "nobody-at-all", "hi"), "no lorebook"),
    ],
)
def test_unknown_things_are_one_line_errors(args: tuple[str, ...], needle: str) -> None:
    assert needle in one_line_error(run(*args))


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{oops", "not valid JSON"),
        (b'{"entries": {"0": {"key": 5}}}', "'key' must be a list of strings"),
        (b'{"entries": {"0": {"content": "x", "disable": "sometimes"}}}', "'disable'"),
        (b'{"name": "Holmes", "first_mes": "Hi"}', "no lorebook entries"),
        (b"[" * 100_000, "nested"),
        (b"", "empty"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert needle in one_line_error(run("lorebook", "import", str(path)))


def test_bad_uses_are_one_line_errors(world_file: Path, tmp_path: Path) -> None:
    book_id = imported(world_file)
    assert "one of them" in one_line_error(run("lorebook", "attach", book_id))
    both = run("lorebook", "attach", book_id, "--character", "sherlock", "--chat", "1")
    assert "one of them" in one_line_error(both)
    assert "no chat 99" in one_line_error(run("lorebook", "attach", book_id, "--chat", "99"))
    assert "no character" in one_line_error(
        run("lorebook", "attach", book_id, "--character", "moriarty-x")
    )
    assert "not attached" in one_line_error(
        run("lorebook", "detach", book_id, "--character", "sherlock")
    )
    assert "empty" in one_line_error(run("lorebook", "scan", book_id, "   "))
    assert "goes with a character" in one_line_error(
        run("lorebook", "scan", book_id, "x", "--chat", "1")
    )
    assert "empty" in one_line_error(run("lorebook", "import", str(world_file), "--name", " "))
    missing_dir = tmp_path / "no" / "such" / "dir" / "out.json"
    assert "cannot write" in one_line_error(
        run("lorebook", "export", book_id, "-o", str(missing_dir))
    )
    huge = run("lorebook", "attach", book_id, "--chat", str(2**64))
    assert huge.exit_code != 0 and "Traceback" not in huge.output
