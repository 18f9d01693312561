"""`personae card add-lines` through the CLI, with a fake embedder (no model is loaded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.cli import card as card_cli
from personae.memory.bank import MemoryBank
from personae.store import Database, MemoryRepository
from personae.store.library import open_library
from tests.support.embedder import HashEmbedder
from tests.unit.test_cli import one_line_error, run

SCRIPT = """\
Watson: Where on earth have you been?
Holmes: On the roof, Watson,
counting chimney pots.

(A long silence.)
Mrs. Hudson: Your tea, gentlemen.
Watson: Holmes, the tea.
Holmes: Tea is a distraction.
"""

KOREAN = """\
길동: 형님, 이 밤중에 어디 가시오?
홍길동: 탐관오리 곳간을 열러 가네.
길동: 위험하지 않겠소?
홍길동: 위험이야 늘 곁에 있지. 허나 굶는 백성이 더 위험하네.
"""


REAL_MEMORY_BANK = card_cli.memory_bank  # taken before the fixture below replaces it


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(card_cli, "memory_bank", lambda db: MemoryBank(db, embedder=HashEmbedder()))


def lines_of(character_id: str) -> list[str]:
    return [
        i.text for i in MemoryRepository(open_library()).partition(None, character_id, ["line"])
    ]


def write(tmp_path: Path, text: str, name: str = "script.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_add_lines_english(tmp_path: Path) -> None:
    result = run("card", "add-lines", "sherlock", str(write(tmp_path, SCRIPT)))
    assert result.exit_code == 0, result.output
    assert "found 5 lines in script.txt: Watson 2, Holmes 2, Mrs. Hudson 1" in result.stdout
    assert "added 2 of 2 to sherlock (0 already indexed or repeated)" in result.stdout
    assert lines_of("sherlock") == [
        "Watson: Where on earth have you been?\n"
        "Holmes: On the roof, Watson, counting chimney pots.",
        "Watson: Holmes, the tea.\nHolmes: Tea is a distraction.",
    ]
    again = run("card", "add-lines", "Sherlock Holmes", str(write(tmp_path, SCRIPT)))
    assert "added 0 of 2 to sherlock (2 already indexed or repeated)" in again.stdout
    assert len(lines_of("sherlock")) == 2


def test_add_lines_korean_from_stdin_as_json() -> None:
    result = run("card", "add-lines", "hong-gildong", "-", "--json", stdin=KOREAN)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["found"] == {"길동": 2, "홍길동": 2}
    assert (payload["matched"], payload["new"], payload["added"]) == (2, 2, 2)
    assert payload["source"] == "script:stdin" and payload["dry_run"] is False
    assert (
        lines_of("hong-gildong")[0]
        == "길동: 형님, 이 밤중에 어디 가시오?\n홍길동: 탐관오리 곳간을 열러 가네."
    )


def test_speaker_option_picks_other_lines(tmp_path: Path) -> None:
    path = write(tmp_path, SCRIPT)
    result = run("card", "add-lines", "sherlock", str(path), "--speaker", "watson", "--json")
    payload = json.loads(result.stdout)
    assert payload["speakers"] == ["watson"] and payload["added"] == 2
    assert lines_of("sherlock")[1] == "Mrs. Hudson: Your tea, gentlemen.\nWatson: Holmes, the tea."


def test_dry_run_shows_lines_and_adds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_embedding(db: Database) -> MemoryBank:
        raise AssertionError("a dry run must not embed")

    monkeypatch.setattr(card_cli, "memory_bank", no_embedding)
    script = "\n".join(f"Holmes: Clue number {i}." for i in range(12))
    result = run("card", "add-lines", "sherlock", str(write(tmp_path, script)), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Holmes: Clue number 9." in result.stdout
    assert "Clue number 10." not in result.stdout
    assert "would add 12 of 12 to sherlock" in result.stdout and "nothing added" in result.stdout
    assert lines_of("sherlock") == [] and result.stderr == ""
    # What a script says is printed as it is, never as console markup.
    marked = run(
        "card", "add-lines", "sherlock", "-", "--dry-run", stdin="Watson: [bold]?\nHolmes: [red]!"
    )
    assert "  Watson: [bold]?\nHolmes: [red]!" in marked.stdout
    payload = json.loads(
        run("card", "add-lines", "sherlock", "-", "--dry-run", "--json", stdin=SCRIPT).stdout
    )
    assert payload["dry_run"] is True and payload["added"] == 0 and payload["new"] == 2
    assert payload["lines"][0] == {
        "speaker": "Holmes",
        "text": "On the roof, Watson, counting chimney pots.",
        "context": "Watson: Where on earth have you been?",
    }
    assert lines_of("sherlock") == []


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (("nobody", "-"), SCRIPT, "card list"),
        (("sherlock", "/no/such/script.txt"), None, "not found"),
        (("sherlock", "-"), "", "no speaker-tagged lines"),
        (("sherlock", "-"), "Just prose.\nNothing tagged here.", "no speaker-tagged lines"),
        (("sherlock", "-"), "Watson: Hi.\nLestrade: Ho.", "speakers found: Watson (1), Lestrade"),
        (("sherlock", "-", "--speaker", "Moriarty"), SCRIPT, "no lines by Moriarty"),
        (("sherlock", "-"), "Holmes: x\n" * 50_001, "50,000"),
    ],
)
def test_bad_input_is_one_line(args: tuple[str, ...], stdin: str | None, needle: str) -> None:
    err = one_line_error(run("card", "add-lines", *args, stdin=stdin))
    assert needle in err
    assert lines_of("sherlock") == []


def test_non_utf8_file_and_stdin(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Holmes: Voilà.".encode("latin-1"))
    assert "not UTF-8" in one_line_error(run("card", "add-lines", "sherlock", str(path)))
    from click.testing import CliRunner

    from personae.cli import cli

    result = CliRunner().invoke(cli, ["card", "add-lines", "sherlock", "-"], input=b"\xff\xfe")
    assert "not UTF-8" in one_line_error(result)


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    assert "not a file" in one_line_error(run("card", "add-lines", "sherlock", str(tmp_path)))


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, SCRIPT)
    read_bytes = Path.read_bytes

    def refuse(self: Path) -> bytes:  # chmod 0 would not stop root, so refuse here
        if self == path:
            raise PermissionError(13, "Permission denied")
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    err = one_line_error(run("card", "add-lines", "sherlock", str(path)))
    assert "cannot read" in err and "Permission denied" in err


def test_lines_are_stored_and_compared_under_the_configured_redaction(
    personae_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = personae_home / "config.toml"
    config.write_text('[privacy]\nredaction = "off"\n', encoding="utf-8")
    assert REAL_MEMORY_BANK(open_library()).policy is None
    config.write_text('[privacy]\nredaction = "redact"\ntypes = ["EMAIL"]\n', encoding="utf-8")
    policy = REAL_MEMORY_BANK(open_library()).policy
    assert policy is not None and (policy.mode, policy.types) == ("redact", {"EMAIL"})
    # With redaction off a line is stored as written, and a dry run compares it the same way.
    config.write_text('[privacy]\nredaction = "off"\n', encoding="utf-8")
    monkeypatch.setattr(
        card_cli, "memory_bank", lambda db: MemoryBank(db, embedder=HashEmbedder(), policy=None)
    )
    script = "Holmes: Write to sherlock@bakerstreet.co.uk at once."
    assert "added 1 of 1" in run("card", "add-lines", "sherlock", "-", stdin=script).stdout
    assert lines_of("sherlock") == [script]
    dry = run("card", "add-lines", "sherlock", "-", "--dry-run", stdin=script)
    assert "would add 0 of 1" in dry.stdout, dry.output


def test_bad_privacy_config_is_one_line(personae_home: Path) -> None:
    (personae_home / "config.toml").write_text('[privacy]\nredaction = "shred"\n')
    err = one_line_error(run("card", "add-lines", "sherlock", "-", "--dry-run", stdin=SCRIPT))
    assert "[privacy] redaction" in err
