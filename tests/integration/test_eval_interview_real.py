"""A two-question interview on the real embedded model (SmolLM2 as actor and as judge), through
the CLI, end to end: answers, verdicts, reports, and a resumed second run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_cli

# Ten judge calls and two model loads: about a minute on 2 idle cores, past its 600 s limit
# on a loaded machine, so it runs only with --run-slow.
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_two_question_interview(real_model: str, personae_home: Path, tmp_path: Path) -> None:
    args = (
        *("eval", "roleplay", "interview", "sherlock", "--model", real_model),
        *("--judge-model", real_model, "--limit", "2", "--max-tokens", "40"),
        *("--judge-max-tokens", "80", "--out", str(tmp_path)),
    )
    result = run_cli(*args, home=personae_home)
    assert result.returncode == 0, result.stderr
    report = tmp_path / f"interview-sherlock-single-{real_model}.json"
    data = json.loads(report.read_text("utf-8"))["data"]
    assert len(data["items"]) == 2
    assert all(item["answer"].strip() for item in data["items"])
    assert set(data["dimensions"]) == {
        "memorization",
        "values",
        "personality",
        "hallucination",
        "stability",
    }
    validity = data["validity"]
    assert validity["judged"] == 10 and 0 <= validity["rate"] <= 1
    for item in data["items"]:
        for verdict in item["scores"].values():
            assert verdict["score"] is None or 1 <= verdict["score"] <= 7
    assert report.with_suffix(".html").read_text("utf-8").count("<svg") == 1
    assert "judge validity" in result.stdout

    # The second run finds every answer and verdict in the cache.
    cache = tmp_path / f"interview-sherlock-single-{real_model}.cache.jsonl"
    lines = cache.read_text("utf-8").count("\n")
    again = run_cli(*args, home=personae_home)
    assert again.returncode == 0, again.stderr
    assert cache.read_text("utf-8").count("\n") == lines
    assert json.loads(report.read_text("utf-8"))["data"]["items"] == data["items"]
