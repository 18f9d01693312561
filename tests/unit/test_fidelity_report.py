"""The fidelity corpus report and `personae eval fidelity score`: rates, goals, evidence, and
one-line errors for bad transcript files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from personae.cli import cli
from personae.evaluation.fidelity.report import GOALS, fidelity_report, score_rows
from personae.evaluation.fidelity.transcripts import read_transcripts

CARD = {
    "name": "Sherlock Holmes",
    "first_mes": "*The sitting room at 221B is blue with pipe smoke.* Well, {{user}}? Sit.",
    "mes_example": "<START>\n{{user}}: Where have you been?\n{{char}}: At the docks, Watson.",
    "description": "A consulting detective in London, 1895.",
}


def record(turn: int, reply: str, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "conversation": "sherlock-en",
        "character": "sherlock",
        "language": "en",
        "model": "fake-model",
        "turn": turn,
        "user_name": "Watson",
        "user": "What do you make of this letter?",
        "reply": reply,
        "finish_reason": "stop",
        "history": [
            {"role": "assistant", "content": "*The sitting room at 221B is blue.* Well, Watson?"}
        ],
        "card": CARD,
    }
    row.update(extra)
    return row


RECORDS = [
    record(1, "The paper is Bohemian, Watson; the writer is a German, and a rich one."),
    record(2, "I am an artificial intelligence created by Alibaba Cloud."),
    record(3, "그 편지는 독일 사람이 쓴 것이오.", language="ko", user="이 편지 어떻게 생각해요?"),
    record(4, "Oh, that sounds tough!", language="ko", user="편지가 이상해요"),
    record(
        5,
        "A telephone carries the voice along a wire, Watson.",
        user="What is a telephone?",
        probe="modern_tech",
        probe_terms=["wire", "voice"],
    ),
]


def write(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join(
            (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows
        ),
        encoding="utf-8",
    )
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["eval", "fidelity", "score", *args], catch_exceptions=False)


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    err = result.stderr.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    return err


def test_report_rates_goals_and_evidence(tmp_path: Path) -> None:
    scored = score_rows(read_transcripts(write(tmp_path / "t.jsonl", RECORDS)))
    report = fidelity_report(scored, source="t.jsonl")
    data = report.data
    assert data["flags"]["ai_disclosure"].mean == pytest.approx(0.2)
    assert data["flags"]["wrong_language"].mean == pytest.approx(0.2)
    # the anachronism rate is over the probe turns that name their terms
    assert data["flags"]["anachronism"].n == 1 and data["flags"]["anachronism"].mean == 1.0
    assert data["by_probe"]["modern_tech"]["n"] == 1
    goals = data["goals"]
    assert set(goals) == {g.name for g in GOALS}
    assert goals["wrong language"]["rate"].n == 5
    assert set(data["by_character_language"]) == {"sherlock · en", "sherlock · ko"}
    assert data["by_model"]["fake-model"]["n"] == 5
    markdown = report.to_markdown()
    assert "artificial intelligence created by Alibaba" in markdown  # the evidence is shown
    assert "| wrong language | ≤ 1% |" in markdown
    assert "<svg" in report.to_html()


def test_a_reply_reciting_the_transcripts_card_instructions_is_flagged(tmp_path: Path) -> None:
    note = "[Holmes answers in short, exact sentences and never mentions the telephone.]"
    rows = [record(1, note, card={**CARD, "post_history_instructions": note})]
    (scored,) = score_rows(read_transcripts(write(tmp_path / "t.jsonl", rows)))
    assert "copy_card" in scored.check.hits


def test_cli_writes_json_markdown_and_html(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", RECORDS)
    result = run(str(path), "--out", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["replies"] == 5
    assert summary["flags"]["ai_disclosure"]["mean"] == pytest.approx(0.2)
    for suffix in (".json", ".md", ".html"):
        assert (tmp_path / "out" / f"fidelity{suffix}").is_file()
    full = json.loads((tmp_path / "out" / "fidelity.json").read_text(encoding="utf-8"))
    assert len(full["data"]["replies"]) == 5
    table = run(str(path), "--out", str(tmp_path / "out2"))
    assert table.exit_code == 0 and "Goals" in table.stdout


def test_a_corpus_without_probe_turns_has_no_anachronism_rate(tmp_path: Path) -> None:
    path = write(tmp_path / "t.jsonl", RECORDS[:2])
    result = run(str(path), "--out", str(tmp_path / "out"), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["flags"]["anachronism"] == {
        "mean": None,
        "low": None,
        "high": None,
        "n": 0,
    }


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (["{not json"], "line 1: not valid JSON"),
        ([RECORDS[0], "[1, 2]"], "line 2: a record must be a JSON object"),
        ([{k: v for k, v in RECORDS[0].items() if k != "reply"}], "missing field 'reply'"),
        ([record(1, "hi", language="fr")], "'language' must be"),
        ([record(0, "hi")], "'turn' must be a whole number"),
        ([record(1, "hi", history=[{"role": "bot"}])], "history[0]"),
        ([record(1, "hi", card="sherlock")], "'card' must be an object"),
        ([record(1, "hi", probe_terms="internet")], "'probe_terms' must be a list"),
        (
            [record(1, "hi", card={**CARD, "system_prompt": ["a", "list"]})],
            "'card.system_prompt' must be a string",
        ),
        ([""], "holds no transcript records"),
    ],
)
def test_bad_transcripts_are_one_line_errors(tmp_path: Path, rows: list[Any], message: str) -> None:
    path = write(tmp_path / "bad.jsonl", rows)
    err = one_line_error(run(str(path), "--out", str(tmp_path / "out")))
    assert message in err and "bad.jsonl" in err


def test_missing_file_is_one_line_error(tmp_path: Path) -> None:
    err = one_line_error(run(str(tmp_path / "nope.jsonl")))
    assert "does not exist" in err
    err = one_line_error(run(str(tmp_path)))
    assert "is a folder" in err
