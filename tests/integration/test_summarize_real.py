"""Summarization and the DialogSum task on the real embedded model (SmolLM2), through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_cli

pytestmark = pytest.mark.integration

DIALOGUE = (
    "#Person1#: Could you help me carry these boxes to the car?\n"
    "#Person2#: Sure. Where are you taking them?\n"
    "#Person1#: To my new flat. I'm moving on Saturday.\n"
    "#Person2#: Then I'll come on Saturday and help you unpack too.\n"
)


def test_summarize_consensus_on_the_real_model(real_model: str, tmp_path: Path) -> None:
    result = run_cli(
        "summarize",
        "-",
        "--style",
        "consensus",
        "--samples",
        "3",
        "--json",
        "--model",
        real_model,
        home=tmp_path,
        stdin=DIALOGUE,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert len(payload["candidates"]) == 3
    assert payload["summary"] in payload["candidates"]
    assert payload["summary"].strip()
    assert len(payload["agreement"]) == 3 and all(0 <= a <= 1 for a in payload["agreement"])


def test_eval_dialogsum_on_the_real_model(real_model: str, tmp_path: Path) -> None:
    data = tmp_path / "tiny.jsonl"
    rows = [
        {"fname": "t0", "dialogue": DIALOGUE, "summary": "#Person2# will help #Person1# move."},
        {
            "fname": "t1",
            "dialogue": "#Person1#: Is the library open today?\n#Person2#: Yes, until nine.",
            "summary": "#Person2# tells #Person1# the library is open until nine.",
        },
    ]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    out = tmp_path / "out"
    args = ("eval", "dialogsum", "--data", str(data), "--out", str(out), "--model", real_model)
    result = run_cli(*args, "--strategy", "zero-shot", "--strategy", "few-shot", home=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "dialogsum.json").read_text())
    rows_out = {row["strategy"]: row for row in report["data"]["rows"]}
    assert {"lead-3", "longest-3", "zero-shot", "few-shot-2"} <= set(rows_out)
    assert rows_out["zero-shot"]["n"] == 2
    assert 0 <= rows_out["zero-shot"]["scores"]["mean"]["mean"] <= 1
    cached = (out / "dialogsum.cache.jsonl").read_text().splitlines()
    assert len(cached) == 4
    again = run_cli(*args, "--strategy", "zero-shot", home=tmp_path)  # resumes: nothing new
    assert again.returncode == 0, again.stderr
    assert (out / "dialogsum.cache.jsonl").read_text().splitlines() == cached
