"""`personae redact`: the stdin filter, its JSON form, flags, and one-line errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from personae.cli import cli


def run(*args: str, stdin: str | bytes | None = None) -> Result:
    return CliRunner().invoke(cli, ["redact", *args], input=stdin, catch_exceptions=False)


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    err = result.stderr.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    return err


TEXT = (
    "Call me at 010-1234-5678 or kim@example.com.\n"
    "\n"
    "주민등록번호 900101-1234567, 주소 서울특별시 강남구 테헤란로 123\n"
    "nothing to hide here"
)


def test_masks_line_by_line_preserving_lines() -> None:
    result = run(stdin=TEXT)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "Call me at [PHONE] or [EMAIL].\n"
        "\n"
        "주민등록번호 [KR_RRN], 주소 [ADDRESS]\n"
        "nothing to hide here"
    )


def test_crlf_and_trailing_newline_kept() -> None:
    result = run(stdin="a kim@example.com\r\nb\n")
    assert result.stdout_bytes == b"a [EMAIL]\r\nb\n"  # .stdout would normalise CRLF


def test_json_offsets_point_into_the_input_line() -> None:
    result = run("--json", stdin=TEXT)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    inputs = TEXT.split("\n")
    assert len(rows) == len(inputs)
    assert rows[1] == {"text": "", "spans": []}
    assert rows[3] == {"text": "nothing to hide here", "spans": []}
    assert rows[0]["text"] == "Call me at [PHONE] or [EMAIL]."
    assert [s["type"] for s in rows[2]["spans"]] == ["KR_RRN", "ADDRESS"]
    for row, line in zip(rows, inputs, strict=True):
        for span in row["spans"]:
            assert set(span) == {"type", "start", "end"}  # the PII itself is never echoed
            piece = line[span["start"] : span["end"]]
            assert piece and piece not in row["text"]
    first = rows[0]["spans"][0]
    assert inputs[0][first["start"] : first["end"]] == "010-1234-5678"
    rrn = rows[2]["spans"][0]
    assert inputs[2][rrn["start"] : rrn["end"]] == "900101-1234567"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("mask", "card [CREDIT_CARD], mail [EMAIL]"),
        ("redact", "card [REDACTED], mail [REDACTED]"),
        ("partial", "card ****-****-****-1111, mail k***@example.com"),
    ],
)
def test_modes(mode: str, expected: str) -> None:
    result = run("--mode", mode, stdin="card 4111-1111-1111-1111, mail kim@example.com\n")
    assert result.stdout == expected + "\n"


def test_types_choose_what_is_redacted() -> None:
    result = run("--types", "email,KR_RRN", stdin="010-1234-5678 kim@example.com 900101-1234567")
    assert result.stdout == "010-1234-5678 [EMAIL] [KR_RRN]"


def test_empty_input_gives_empty_output() -> None:
    assert run(stdin="").stdout == ""
    assert run("--json", stdin="").stdout == ""


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--mode", "scramble"), ("scramble", "mask", "redact", "partial")),
        (("--types", "EMAIL,PASSPORT"), ("PASSPORT", "EMAIL", "KR_RRN", "ADDRESS")),
        (("--types", ""), ("no PII types",)),
    ],
)
def test_bad_flags_give_one_line(args: tuple[str, ...], needles: tuple[str, ...]) -> None:
    err = one_line_error(run(*args, stdin="kim@example.com"))
    assert all(needle in err for needle in needles), err


def test_non_utf8_stdin_gives_one_line() -> None:
    err = one_line_error(run(stdin=b"ok line\n" + b"caf\xe9 kim@example.com\n"))
    assert "line 2" in err and "UTF-8" in err


def test_listed_in_help() -> None:
    assert "redact" in CliRunner().invoke(cli, ["--help"]).stdout
