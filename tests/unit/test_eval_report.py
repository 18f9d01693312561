"""Reports: one object written as JSON, Markdown and a self-contained HTML page."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from personae.evaluation.report import BarChart, Report, Table
from personae.metrics.stats import Estimate


def make_report() -> Report:
    estimates = {
        "rouge1": Estimate(0.41, 0.39, 0.43, 500),
        "rouge2 <b>": Estimate(0.2, 0.18, 0.22, 500),
        "empty": Estimate(math.nan, math.nan, math.nan, 0),
    }
    return Report(
        title="DialogSum | dev",
        description="LEAD-3 <baseline> & friends",
        settings={"tokenizer": "default", "stemmer": True},
        tables=[
            Table(
                "Scores",
                ["metric", "F | 95% CI", "n"],
                [
                    ["rouge1", estimates["rouge1"], 500],
                    ["a|b", 0.123456, 3],
                    ["multi\nline", math.nan, 12.5],
                ],
            )
        ],
        charts=[BarChart.of_estimates("F-measure", estimates, scale=100, unit="%")],
        data={"per_item": [0.1, 0.2], "estimate": estimates["rouge1"], "path": Path("x/y")},
    )


def test_write_all_three(tmp_path: Path) -> None:
    paths = make_report().write(tmp_path / "out" / "report")
    assert [p.name for p in paths] == ["report.json", "report.md", "report.html"]
    assert all(p.exists() for p in paths)

    data = json.loads(paths[0].read_text(encoding="utf-8"))
    assert data["title"] == "DialogSum | dev"
    assert data["settings"] == {"tokenizer": "default", "stemmer": True}
    assert data["data"]["estimate"] == {"mean": 0.41, "low": 0.39, "high": 0.43, "n": 500}
    assert data["data"]["path"] == "x/y"
    assert data["tables"][0]["columns"] == ["metric", "F | 95% CI", "n"]
    # Standard JSON: no value is null, never a bare NaN that browsers and jq reject.
    assert "NaN" not in paths[0].read_text(encoding="utf-8")
    assert data["tables"][0]["rows"][2][1] is None
    assert data["charts"][0]["values"][2] is None

    markdown = paths[1].read_text(encoding="utf-8")
    assert "# DialogSum | dev" in markdown
    assert "| metric | F \\| 95% CI | n |" in markdown
    assert "| a\\|b | 0.1235 | 3 |" in markdown
    assert "| rouge1 | 0.41 [0.39, 0.43] | 500 |" in markdown
    assert "| multi line | – | 12.50 |" in markdown
    assert "- **stemmer**: True" in markdown

    page = paths[2].read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "<svg" in page and "</svg>" in page
    assert "rouge2 &lt;b&gt;" in page and "rouge2 <b>" not in page
    assert "LEAD-3 &lt;baseline&gt; &amp; friends" in page
    assert "<td>0.41 [0.39, 0.43]</td>" in page


def test_stem_with_a_dot_keeps_it(tmp_path: Path) -> None:
    paths = make_report().write(tmp_path / "dialogsum.dev")
    assert [p.name for p in paths] == [
        "dialogsum.dev.json",
        "dialogsum.dev.md",
        "dialogsum.dev.html",
    ]
    paths = make_report().write(tmp_path / "page.html")
    assert [p.name for p in paths] == ["page.json", "page.md", "page.html"]


def test_chart_svg_handles_nan_and_whiskers() -> None:
    chart = BarChart("t", ["a", "b"], [0.5, math.nan], [0.4, math.nan], [0.6, math.nan])
    svg = chart.svg()
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 1 and svg.count("<line") == 1


def test_chart_of_zeros_does_not_divide_by_zero() -> None:
    assert "<rect" in BarChart("zeros", ["a"], [0.0]).svg()


def test_report_without_extras() -> None:
    report = Report(title="bare")
    assert report.to_markdown().startswith("# bare")
    assert "<svg" not in report.to_html()
    assert report.to_json()["tables"] == []


def test_unwritable_value_is_named(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="object"):
        Report(title="t", data={"x": object()}).write(tmp_path / "r")
