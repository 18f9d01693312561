"""`personae experience …` through the CLI on the scripted backend: build, stats --json,
show, export in both formats, and bad input as one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.test_cli import CliBackend, one_line_error, run, scripted  # noqa: F401
from tests.unit.test_experience_build import experience, scenes_json

PROFILE_TEXT = (
    "== Life ==\nSherlock Holmes is a consulting detective in Victorian London. He lodges at "
    "221B Baker Street with Dr Watson and solves the cases Scotland Yard cannot."
)


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "holmes.txt"
    path.write_text(PROFILE_TEXT, encoding="utf-8")
    return path


def build(out: Path, profile: Path, *extra: str) -> object:
    return run(
        "experience", "build", "sherlock", "--profile", str(profile), "--out", str(out),
        "--scenes", "2", "--protective-ratio", "0", "--candidates", "1", "--parallel", "1",
        "--backend", "cli-scripted", *extra,
    )  # fmt: skip


def test_build_stats_show_export(
    scripted: type[CliBackend],  # noqa: F811
    profile: Path,
    tmp_path: Path,
) -> None:
    out = tmp_path / "data"
    scripted.script.extend([scenes_json(1, 2), experience(1), experience(2)])
    result = build(out, profile)
    assert result.exit_code == 0, result.output
    assert "2 experiences of 2 scenes" in result.stderr
    stats = json.loads(run("experience", "stats", str(out), "--json").stdout)
    assert set(stats) >= {
        "scenes", "experiences", "protective", "turns", "tokens", "dropped", "language"
    }  # fmt: skip
    assert stats["experiences"] == 2 and stats["language"] == "en"
    assert "experiences" in run("experience", "stats", str(out)).stdout
    shown = run("experience", "show", str(out), "--sample", "1").stdout
    assert "Sherlock Holmes (speaking)" in shown and "Watson (speaking)" in shown
    none = run("experience", "show", str(out), "--protective")
    assert "no protective experiences" in one_line_error(none)
    for fmt, key in (("openai", "messages"), ("character-llm", "output")):
        target = tmp_path / f"{fmt}.jsonl"
        assert (
            run("experience", "export", str(out), "--format", fmt, "-o", str(target)).exit_code == 0
        )
        rows = [json.loads(line) for line in target.read_text().splitlines()]
        assert len(rows) == 2 and key in rows[0]
    # The card leads the profile, so the prompts carry both the card and the file's text.
    prompt = scripted.seen[1][0][0].content
    assert "Baker Street" in prompt and "consulting detective" in prompt


def test_a_second_build_resumes(
    scripted: type[CliBackend],  # noqa: F811
    profile: Path,
    tmp_path: Path,
) -> None:
    out = tmp_path / "data"
    scripted.script.extend([scenes_json(1, 2), experience(1)])
    assert build(out, profile, "--limit", "1").exit_code == 0
    scripted.script.extend([experience(2)])
    result = build(out, profile)
    assert result.exit_code == 0 and "resumed" in result.stderr
    assert json.loads(run("experience", "stats", str(out), "--json").stdout)["experiences"] == 2


def test_bad_input_is_one_line(profile: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("   \n")
    out = str(tmp_path / "o")
    cases = [
        (("experience", "build", "nobody-here", "--profile", str(profile), "--out", out),
         "unknown character"),
        (("experience", "build", "sherlock", "--profile", str(tmp_path / "none.txt"), "--out", out),
         "not found"),
        (("experience", "build", "Ada", "--bare", "--profile", str(empty), "--out", out),
         "too short"),
        (("experience", "build", "Ada", "--bare", "--out", out), "--bare needs --profile"),
        (("experience", "stats", str(tmp_path / "nowhere")), "no experience directory"),
        (("experience", "stats", str(tmp_path)), "not an experience directory"),
        (("experience", "show", str(tmp_path / "nowhere")), "no experience directory"),
        (("experience", "export", str(tmp_path / "nowhere"), "-o", "x.jsonl"),
         "no experience directory"),
    ]  # fmt: skip
    for args, needle in cases:
        assert needle in one_line_error(
            run(*args, "--backend", "cli-scripted") if args[1] == "build" else run(*args)
        ), args


def test_a_bare_name_builds_from_the_profile_alone(
    scripted: type[CliBackend],  # noqa: F811
    profile: Path,
    tmp_path: Path,
) -> None:
    scripted.script.extend([scenes_json(1, 1), experience(3)])
    result = run(
        "experience", "build", "Sherlock Holmes", "--bare", "--profile", str(profile),
        "--out", str(tmp_path / "d"), "--scenes", "1", "--protective-ratio", "0",
        "--candidates", "1", "--backend", "cli-scripted",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
