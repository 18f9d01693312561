"""`personae eval roleplay personality|breaks` against a scripted backend: reports written,
labels compared, resumable runs, and one-line errors for every bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

from personae.backends import register_backend
from personae.cli import cli
from tests.support.scripted import ScriptedBackend
from tests.unit.test_questionnaire import five_point


class PersonalityBackend(ScriptedBackend):
    """Every instance the CLI builds shares one script and one call log."""

    name: ClassVar[str] = "personality-scripted"
    script: ClassVar[list[Any]] = []
    seen: ClassVar[list[Any]] = []

    def __init__(self, model: str = "scripted", **kw: Any) -> None:
        super().__init__(model, **kw)
        self.queue = PersonalityBackend.script
        self.calls = PersonalityBackend.seen


@pytest.fixture(autouse=True)
def scripted() -> Iterator[type[PersonalityBackend]]:
    register_backend("personality-scripted", PersonalityBackend)
    PersonalityBackend.script.clear()
    PersonalityBackend.seen.clear()
    yield PersonalityBackend


@pytest.fixture
def mini_file(tmp_path: Path) -> Path:
    path = tmp_path / "mini.json"
    path.write_text(json.dumps(five_point()), encoding="utf-8")
    return path


BACKEND = ("--backend", "personality-scripted", "--model", "actor")


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    err = result.stderr.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    return err


def test_personality_option_run_writes_reports_and_compares_the_label(
    tmp_path: Path, mini_file: Path
) -> None:
    for choice in ("5", "1", "4", "2", "4", "2"):
        PersonalityBackend.script.extend(["Quite so.", choice])
    out = tmp_path / "out"
    result = run(
        "eval", "roleplay", "personality", "sherlock",
        "-q", str(mini_file), "--label", "Boldness=high,Warmth=high", "--out", str(out),
        *BACKEND,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "label agreement: 1/2 dimensions (50%)" in result.stdout
    assert "Boldness" in result.stdout
    written = sorted(p.name for p in out.iterdir())
    assert written == [
        "personality-sherlock-mini-actor-option.html",
        "personality-sherlock-mini-actor-option.json",
        "personality-sherlock-mini-actor-option.md",
        "personality-sherlock-mini-actor.cache.jsonl",
    ]
    report = json.loads((out / "personality-sherlock-mini-actor-option.json").read_text())
    assert report["data"]["accuracy"] == 0.5
    # Greedy by default: an evaluation should be repeatable.
    assert all(params.temperature == 0.0 for _, params in PersonalityBackend.seen)

    # A rerun is served from the cache; --fresh starts over.
    PersonalityBackend.seen.clear()
    assert run(
        "eval", "roleplay", "personality", "sherlock", "-q", str(mini_file), "--label", "none",
        "--out", str(out), *BACKEND,
    ).exit_code == 0  # fmt: skip
    assert PersonalityBackend.seen == []
    PersonalityBackend.script.extend(["Again.", "3"] * 6)
    assert run(
        "eval", "roleplay", "personality", "sherlock", "-q", str(mini_file), "--label", "none",
        "--out", str(out), "--fresh", *BACKEND,
    ).exit_code == 0  # fmt: skip
    assert len(PersonalityBackend.seen) == 12


def test_personality_judge_scoring_and_limit(tmp_path: Path, mini_file: Path) -> None:
    PersonalityBackend.script.extend(
        ["I am bold.", "Fair.\nScore: 5", "I am kind.", "Ok.\nScore: 4"]
    )
    result = run(
        "eval", "roleplay", "personality", "sherlock", "-q", str(mini_file), "--scoring", "judge",
        "--judge-model", "judge", "--limit", "2", "--label", "none", "--out", str(tmp_path),
        *BACKEND,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "personality-sherlock-mini-actor-judge.json").read_text())
    assert [i["choice"] for i in report["data"]["items"]] == [5, 4]
    assert report["settings"]["judge model"] == "judge"
    assert [m for m in (c[0][-1].content for c in PersonalityBackend.seen)][1].startswith(
        "An AI is playing a character."
    )


def test_bfi_is_found_under_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data" / "questionnaires"
    data.mkdir(parents=True)
    bfi = five_point()
    (data / "BFI.json").write_text(json.dumps(bfi), encoding="utf-8")
    PersonalityBackend.script.extend(["Yes.", "4"])
    result = run(
        "eval", "roleplay", "personality", "mina", "--limit", "1", "--label", "none",
        "--out", str(tmp_path / "out"), *BACKEND,
        env={"PERSONAE_DATA_DIR": str(tmp_path / "data")},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    err = one_line_error(
        run(
            "eval",
            "roleplay",
            "personality",
            "mina",
            "-q",
            "16p",
            "--data-dir",
            str(tmp_path / "data"),
            *BACKEND,
        )  # fmt: skip
    )
    assert "16Personalities.json is not in" in err


def test_bundled_label_is_the_default(tmp_path: Path) -> None:
    data = five_point()
    data["name"] = "BFI"
    data["categories"][0]["cat_name"] = "Extraversion"
    data["categories"][1]["cat_name"] = "Agreeableness"
    for qid in ("1", "2", "3"):
        data["questions"][qid]["dimension"] = "Extraversion"
    for qid in ("4", "5", "6"):
        data["questions"][qid]["dimension"] = "Agreeableness"
    (tmp_path / "BFI.json").write_text(json.dumps(data), encoding="utf-8")
    PersonalityBackend.script.extend(["No.", "1", "No.", "1"])
    result = run(
        "eval", "roleplay", "personality", "sherlock", "--data-dir", str(tmp_path), "--limit", "2",
        "--out", str(tmp_path / "out"), *BACKEND,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "label agreement: 2/2 dimensions (100%)" in result.stdout


def test_label_file(tmp_path: Path, mini_file: Path) -> None:
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"labels": {"sherlock": {"Warmth": "low"}}}), encoding="utf-8")
    PersonalityBackend.script.extend(["Hm.", "1"])
    result = run(
        "eval", "roleplay", "personality", "sherlock", "-q", str(mini_file), "--limit", "1",
        "--label", str(labels), "--out", str(tmp_path / "o"), *BACKEND,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "label agreement: 0/1" in result.stdout
    err = one_line_error(
        run(
            "eval",
            "roleplay",
            "personality",
            "mina",
            "-q",
            str(mini_file),
            "--label",
            str(labels),
            *BACKEND,
        )  # fmt: skip
    )
    assert "has no label for 'mina'" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sherlock",), "needs BFI.json, which is external data"),
        (("sherlock", "-q", "nope.json"), "is neither bfi, 16p nor an existing JSON file"),
        (("sherlock", "-q", "{mini}", "--label", "Zeal=high"), "no dimension of MINI"),
        (("sherlock", "-q", "{mini}", "--label", "Boldness=9"), "outside the scale"),
        (("sherlock", "-q", "{bad}"), "missing field 'range'"),
        (("nobody-at-all", "-q", "{mini}"), "nobody-at-all"),
    ],
)
def test_personality_bad_inputs(
    tmp_path: Path, mini_file: Path, args: tuple[str, ...], message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "X", "categories": [], "questions": {}}), encoding="utf-8")
    filled = [a.replace("{mini}", str(mini_file)).replace("{bad}", str(bad)) for a in args]
    err = one_line_error(run("eval", "roleplay", "personality", *filled, *BACKEND))
    assert message in err


def test_personality_rejects_bad_option_values(mini_file: Path) -> None:
    result = run(
        "eval", "roleplay", "personality", "sherlock", "-q", str(mini_file),
        "--scoring", "vibes", *BACKEND,
    )  # fmt: skip
    assert result.exit_code == 2 and "vibes" in result.stderr
    result = run(
        "eval", "roleplay", "personality", "sherlock", "-q", str(mini_file),
        "--limit", "0", *BACKEND,
    )  # fmt: skip
    assert result.exit_code == 2


# --- breaks -----------------------------------------------------------------------------------


def test_breaks_run_and_resume(tmp_path: Path) -> None:
    PersonalityBackend.script.extend(
        ["As an AI, I cannot say.", "A quiet day.", "저는 AI가 아니오.", "평안하였소."]
    )
    out = tmp_path / "out"
    args = (
        "eval", "roleplay", "breaks", "sherlock", "hong-gildong",
        "--only", "id-ai,ctl-day,ko-id-ai,ko-ctl-day", "--out", str(out), *BACKEND,
    )  # fmt: skip
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "ai_disclosure" in result.stdout
    report = json.loads((out / "breaks-sherlock-hong-gildong-actor.json").read_text())
    assert report["data"]["rates"]["ai_disclosure"]["breaks"] == 1
    assert report["data"]["rates"]["ai_disclosure"]["replies"] == 4
    PersonalityBackend.seen.clear()
    assert run(*args).exit_code == 0
    assert PersonalityBackend.seen == []


def test_breaks_all_with_judge_and_era(tmp_path: Path) -> None:
    # Five characters; mina is modern (no anachronism probe), the rest get an-/ko-an- probes.
    PersonalityBackend.script.extend(["What is that?", "Eh?\nScore: 7"] * 4)
    result = run(
        "eval", "roleplay", "breaks", "all", "--only", "an-dna,ko-an-airplane", "--judge",
        "--era", "mina=victorian", "--out", str(tmp_path), *BACKEND,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "breaks-5-characters-actor.json").read_text())
    eras = {c["id"]: c["era"] for c in report["data"]["characters"]}
    assert eras["mina"] == "victorian" and eras["chunhyang"] == "joseon"
    assert report["data"]["rates"]["anachronism (judge)"]["replies"] == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sherlock", "--era", "victorian"), "is not CHARACTER=ERA"),
        (("sherlock", "--era", "watson=victorian"), "'watson', which is not among"),
        (("sherlock", "--only", "no-such-probe"), "no probe applies"),
        (("sherlock", "--probes", "{bad}"), "missing field 'probes'"),
        (("sherlock", "--probes", "{missing}"), "does not exist"),
        (("nobody-at-all",), "nobody-at-all"),
    ],
)
def test_breaks_bad_inputs(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    filled = [
        a.replace("{bad}", str(bad)).replace("{missing}", str(tmp_path / "none.json")) for a in args
    ]
    result = run("eval", "roleplay", "breaks", *filled, *BACKEND)
    assert message in one_line_error(result)


def test_breaks_needs_a_character() -> None:
    result = run("eval", "roleplay", "breaks", *BACKEND)
    assert result.exit_code == 2
