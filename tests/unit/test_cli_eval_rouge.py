"""`personae eval rouge`: JSON shape, multi-reference, Korean, file formats, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rouge_score import rouge_scorer  # type: ignore[import-untyped]

from personae.cli import cli
from personae.errors import InvalidInput, NotFound
from personae.text.files import read_texts

TYPES = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
PREDICTIONS = ["the cat sat on the mat", "a dog ran in the park", "nothing matches here"]
REFERENCES_A = ["the cat sat", "the dog ran in a park", "completely different words"]
REFERENCES_B = ["a cat was sitting on a mat", "dogs running", "nothing here"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["eval", "rouge", *args], catch_exceptions=False)


def write(path: Path, lines: list[str]) -> str:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def jsonl(path: Path, rows: list[object]) -> str:
    return write(path, [json.dumps(row, ensure_ascii=False) for row in rows])


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    err = result.stderr.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    assert result.stdout == ""
    return err


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    return {
        "pred": write(tmp_path / "pred.txt", PREDICTIONS),
        "ref_a": write(tmp_path / "ref_a.txt", REFERENCES_A),
        "ref_b": jsonl(tmp_path / "ref_b.jsonl", [{"summary": t} for t in REFERENCES_B]),
    }


def expected_means(references: list[list[str]], stemmer: bool) -> dict[str, dict[str, float]]:
    """Mean over references per item, then over items, from rouge-score itself."""
    scorer = rouge_scorer.RougeScorer(TYPES, use_stemmer=stemmer)
    out: dict[str, dict[str, float]] = {}
    for rouge_type in TYPES:
        sums = {"precision": 0.0, "recall": 0.0, "fmeasure": 0.0}
        for prediction, refs in zip(PREDICTIONS, references, strict=True):
            for ref in refs:
                score = scorer.score(ref, prediction)[rouge_type]
                for field in sums:
                    sums[field] += getattr(score, field) / len(refs) / len(PREDICTIONS)
        out[rouge_type] = sums
    return out


def assert_close(got: dict[str, dict[str, float]], want: dict[str, dict[str, float]]) -> None:
    assert list(got) == TYPES
    for rouge_type in TYPES:
        assert list(got[rouge_type]) == ["precision", "recall", "fmeasure"]
        for field, value in want[rouge_type].items():
            assert got[rouge_type][field] == pytest.approx(value, abs=1e-12)
            assert 0.0 <= got[rouge_type][field] <= 1.0


@pytest.mark.parametrize("stemmer", [False, True])
def test_json_shape_single_reference(files: dict[str, str], stemmer: bool) -> None:
    args = ["--predictions", files["pred"], "--references", files["ref_a"], "--json"]
    result = run(*args, *(["--stemmer"] if stemmer else []))
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert_close(got, expected_means([[r] for r in REFERENCES_A], stemmer))


def test_json_multi_reference_mixes_text_and_jsonl(files: dict[str, str]) -> None:
    result = run(
        "--predictions", files["pred"],
        "--references", files["ref_a"],
        "--references", files["ref_b"],
        "--stemmer", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    want = expected_means([list(p) for p in zip(REFERENCES_A, REFERENCES_B, strict=True)], True)
    assert_close(json.loads(result.stdout), want)


def test_table_names_tokenizer_and_interval(files: dict[str, str]) -> None:
    result = run("--predictions", files["pred"], "--references", files["ref_a"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "tokenizer: default" in out and "stemmer: off" in out
    assert "F 95% CI" in out
    for rouge_type in TYPES:
        assert rouge_type in out
    assert "3 items × 1 reference:" in out


def test_korean_with_kiwi(tmp_path: Path) -> None:
    pytest.importorskip("kiwipiepy")
    pred = write(tmp_path / "p.txt", ["철수는 학교로 갔어요", "오늘 날씨가 좋네요"])
    ref = jsonl(
        tmp_path / "r.jsonl", [{"text": "철수가 학교에 갔다"}, {"text": "오늘 날씨가 좋다"}]
    )
    scores = {}
    for tokenizer in ("kiwi", "whitespace"):
        args = ["--predictions", pred, "--references", ref, "--tokenizer", tokenizer, "--json"]
        result = run(*args)
        assert result.exit_code == 0, result.output
        scores[tokenizer] = json.loads(result.stdout)
    assert scores["kiwi"]["rouge1"]["fmeasure"] > scores["whitespace"]["rouge1"]["fmeasure"] > 0
    table = run("--predictions", pred, "--references", ref, "--tokenizer", "kiwi")
    assert "tokenizer: kiwi" in table.stdout


def test_identical_korean_scores_one(tmp_path: Path) -> None:
    texts = ["안녕하세요, 반갑습니다.", "홍길동이 율도국으로 떠났다."]
    pred, ref = write(tmp_path / "p.txt", texts), write(tmp_path / "r.txt", texts)
    result = run("--predictions", pred, "--references", ref, "--json")
    assert all(
        v == {"precision": 1.0, "recall": 1.0, "fmeasure": 1.0}
        for v in json.loads(result.stdout).values()
    )


# --- reading files -----------------------------------------------------------------------------


def test_read_texts_plain_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes("\ufeffone\r\n\r\nthree {not json}\n\n\n".encode())
    assert read_texts(path) == ["one", "", "three {not json}"]


def test_read_texts_jsonl_fields_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"text": "a\\nb", "summary": "ignored"}\n\n{"summary": "c", "id": 2}\n', encoding="utf-8"
    )
    assert read_texts(path) == ["a\nb", "c"]
    assert read_texts(path, fields=("summary",)) == ["ignored", "c"]


def test_read_texts_keeps_unicode_line_separators_inside_a_text(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("a\u2028b\x0cc\nd\n", encoding="utf-8")
    assert read_texts(path) == ["a\u2028b\x0cc", "d"]


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (None, NotFound, "file not found"),
        (b"", InvalidInput, "is empty"),
        (b"\n  \n", InvalidInput, "is empty"),
        (b"\xff\xfe bad", InvalidInput, "is not UTF-8"),
        (b'{"text": "a"}\n{"text": "b"\n', InvalidInput, "line 2 is not a JSON object"),
        (b'{"text": "a"}\n[1]\n', InvalidInput, "line 2 is not a JSON object"),
        (b'{"text": "a"}\n{"body": "b", "id": 3}\n', InvalidInput, "line 2: the row has no"),
        (b'{"text": 5}\n', InvalidInput, "field 'text' is int, not text"),
    ],
)
def test_read_texts_errors(
    tmp_path: Path, content: bytes | None, error: type[Exception], message: str
) -> None:
    path = tmp_path / "f.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=message) as info:
        read_texts(path)
    assert str(path) in str(info.value)


# --- bad input through the command: one line, non-zero, no traceback ---------------------------


def test_missing_predictions_file(files: dict[str, str], tmp_path: Path) -> None:
    err = one_line_error(
        run("--predictions", str(tmp_path / "nope.txt"), "--references", files["ref_a"])
    )
    assert "file not found" in err and "nope.txt" in err


def test_missing_reference_file(files: dict[str, str], tmp_path: Path) -> None:
    err = one_line_error(
        run("--predictions", files["pred"], "--references", str(tmp_path / "gone.jsonl"))
    )
    assert "gone.jsonl" in err


def test_directory_instead_of_file(files: dict[str, str], tmp_path: Path) -> None:
    err = one_line_error(run("--predictions", str(tmp_path), "--references", files["ref_a"]))
    assert "is not a file" in err


def test_line_count_mismatch_names_both_files_and_counts(
    files: dict[str, str], tmp_path: Path
) -> None:
    short = write(tmp_path / "short.txt", REFERENCES_A[:2])
    err = one_line_error(
        run("--predictions", files["pred"], "--references", files["ref_a"], "--references", short)
    )
    assert "pred.txt has 3 texts" in err and "short.txt has 2" in err


def test_malformed_jsonl_row_names_file_and_line(files: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a"}\n{"text": "b",}\n{"text": "c"}\n', encoding="utf-8")
    err = one_line_error(run("--predictions", files["pred"], "--references", str(bad)))
    assert "bad.jsonl" in err and "line 2" in err


def test_row_without_text_names_the_row(files: dict[str, str], tmp_path: Path) -> None:
    bad = jsonl(tmp_path / "rows.jsonl", [{"text": "a"}, {"text": "b"}, {"answer": "c"}])
    err = one_line_error(run("--predictions", files["pred"], "--references", bad))
    assert "rows.jsonl" in err and "line 3" in err and "'text' or 'summary'" in err
    assert "'answer'" in err


def test_unknown_tokenizer(files: dict[str, str]) -> None:
    result = run(
        "--predictions", files["pred"], "--references", files["ref_a"], "--tokenizer", "mecab"
    )
    err = one_line_error(result)
    assert "unknown tokenizer 'mecab'" in err and "default, whitespace, kiwi, char" in err


def test_empty_file(files: dict[str, str], tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    err = one_line_error(run("--predictions", str(empty), "--references", files["ref_a"]))
    assert "empty.txt is empty" in err


def test_references_are_required(files: dict[str, str]) -> None:
    result = run("--predictions", files["pred"])
    assert result.exit_code == 2 and "--references" in result.output
