"""`personae eval roleplay interview|pairwise` against scripted backends: one script per model
name, so the actor and the judge can be told apart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

from personae.backends import register_backend
from personae.cli import cli
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend


class PerModel(ScriptedBackend):
    """Each model name has its own script and call log, shared by every instance."""

    name: ClassVar[str] = "eval-scripted"
    scripts: ClassVar[dict[str, list[Any]]] = {}
    seen: ClassVar[dict[str, list[Any]]] = {}
    built: ClassVar[list[str]] = []

    def __init__(self, model: str = "scripted", **kw: Any) -> None:
        super().__init__(model, **kw)
        self.queue = PerModel.scripts.setdefault(model, [])
        self.calls = PerModel.seen.setdefault(model, [])
        PerModel.built.append(model)


@pytest.fixture(autouse=True)
def scripted() -> Iterator[type[PerModel]]:
    register_backend("eval-scripted", PerModel)
    for store in (PerModel.scripts, PerModel.seen):
        store.clear()
    PerModel.built.clear()
    yield PerModel


def script(model: str, *replies: Any) -> None:
    PerModel.scripts.setdefault(model, []).extend(replies)


def calls(model: str) -> list[Any]:
    return PerModel.seen.get(model, [])


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["eval", "roleplay", *args], catch_exceptions=False)


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    err = result.stderr.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    return err


ACTOR = ("--backend", "eval-scripted", "--model", "actor")
JUDGE = ("--judge-model", "judge")


def test_interview_writes_reports_and_prints_the_table(tmp_path: Path) -> None:
    script("actor", "I am Sherlock Holmes.", "Baker Street, of course.")
    script("judge", *[f"Reasoning.\nScore: {n}" for n in (6, 4, 5, 3)])
    result = run(
        "interview", "sherlock", *ACTOR, *JUDGE, "--limit", "2",
        "--dimensions", "values,personality", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(calls("actor")) == 2 and len(calls("judge")) == 4
    # Verdicts come per question, dimension by dimension: values 6 and 5, personality 4 and 3.
    assert "values" in result.stdout and "5.50 [5.00, 6.00]" in result.stdout
    assert "judge validity: 4/4 (100%)" in result.stdout
    stem = tmp_path / "interview-sherlock-single-actor"
    for suffix in (".json", ".md", ".html", ".cache.jsonl"):
        assert stem.with_name(stem.name + suffix).exists(), suffix
    data = json.loads(stem.with_suffix(".json").read_text("utf-8"))["data"]
    assert data["dimensions"]["personality"]["mean"] == 3.5
    assert "wrote" in result.stderr


def test_interview_resumes_and_fresh_starts_over(tmp_path: Path) -> None:
    args = ("interview", "sherlock", *ACTOR, *JUDGE, "--limit", "1", "--dimensions", "values")
    script("judge", "Score: 5")
    assert run(*args, "--out", str(tmp_path)).exit_code == 0
    assert (len(calls("actor")), len(calls("judge"))) == (1, 1)
    assert run(*args, "--out", str(tmp_path)).exit_code == 0
    assert (len(calls("actor")), len(calls("judge"))) == (1, 1)  # all from the cache
    script("judge", "Score: 5")
    assert run(*args, "--out", str(tmp_path), "--fresh").exit_code == 0
    assert (len(calls("actor")), len(calls("judge"))) == (2, 2)


def test_judge_defaults_to_the_actor_model_loaded_once(tmp_path: Path) -> None:
    script("actor", "I am Holmes.", "Reasoning.\nScore: 6")
    result = run(
        "interview", "sherlock", *ACTOR, "--limit", "1", "--dimensions", "values",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(calls("actor")) == 2 and PerModel.built == ["actor"]
    # Naming the actor's own model as judge also reuses the loaded backend.
    script("actor", "I am Holmes.", "Score: 6")
    result = run(
        "interview", "sherlock", *ACTOR, "--judge-model", "actor", "--limit", "1",
        "--dimensions", "values", "--out", str(tmp_path), "--fresh",
    )  # fmt: skip
    assert result.exit_code == 0 and PerModel.built == ["actor", "actor"]


def test_multi_mode_and_korean_character(tmp_path: Path) -> None:
    script("actor", "나는 홍길동이오.", "집을 떠난 사연이 있소.")
    script("judge", "점수: 6", "점수: 5")
    result = run(
        "interview", "hong-gildong", *ACTOR, *JUDGE, "--mode", "multi", "--limit", "2",
        "--dimensions", "stability", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    second = [m.content for m in calls("actor")[1][0] if m.role != "system"]
    assert second[:2] == [
        "그대 자신을 자세히 소개해 주시오. 어떤 사람이며 무슨 일을 하고 있소?",
        "나는 홍길동이오.",
    ]
    assert (tmp_path / "interview-hong-gildong-multi-actor.md").exists()


def test_profile_and_question_file(tmp_path: Path) -> None:
    profile = tmp_path / "wiki_Ada.txt"
    profile.write_text("# Ada Lovelace\n\nAda wrote the first published program.", "utf-8")
    questions = tmp_path / "q.json"
    questions.write_text(json.dumps([{"topic_id": "t1", "topic": "life", "question": "Who?"}]))
    script("judge", "Score: 7")
    result = run(
        "interview", "--profile", str(profile), "--name", "Ada Lovelace", "--questions",
        str(questions), *ACTOR, *JUDGE, "--dimensions", "memorization", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "first published program" in calls("actor")[0][0][0].content
    assert "first published program" in calls("judge")[0][0][-1].content
    assert (tmp_path / "interview-ada-lovelace-single-actor.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sherlock", "--questions", "{missing}"), "does not exist"),
        (("sherlock", "--questions", "{bad_json}"), "is not valid JSON"),
        (("sherlock", "--questions", "{no_field}"), "row 1 is missing the field 'question'"),
        (("nobody",), "no character 'nobody'"),
        (("sherlock", "--dimensions", "values,charm"), "unknown dimension 'charm'"),
        (("mina",), "no bundled interview questions for 'mina'"),
        (("--profile", "{profile}"), "--profile needs --name"),
        (("sherlock", "--profile", "{profile}", "--name", "X"), "not both"),
        ((), "name a CHARACTER"),
        (("--profile", "{missing}", "--name", "X"), "profile file .* does not exist"),
    ],
)
def test_interview_bad_input_is_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    files = {
        "missing": tmp_path / "missing.json",
        "bad_json": tmp_path / "bad.json",
        "no_field": tmp_path / "nofield.json",
        "profile": tmp_path / "profile.txt",
    }
    files["bad_json"].write_text("[{", "utf-8")
    files["no_field"].write_text('[{"question": "a"}, {"topic": "b"}]', "utf-8")
    files["profile"].write_text("Someone.", "utf-8")
    filled = [a.format(**{k: str(v) for k, v in files.items()}) for a in args]
    result = run("interview", *filled, *ACTOR, "--out", str(tmp_path / "out"))
    assert message.split(".*")[0] in one_line_error(result)
    assert PerModel.built == []  # bad input is caught before any model is loaded


def test_bad_mode_is_a_usage_error(tmp_path: Path) -> None:
    result = run("interview", "sherlock", "--mode", "both", *ACTOR)
    assert result.exit_code == 2 and "both" in result.stderr


def test_pairwise_command(tmp_path: Path) -> None:
    script("small", "Hm.", "Dunno.")
    script("big", "I am Holmes.", "Baker Street.")
    script("judge", "Winner: B", "Winner: A", "Winner: tie", "Winner: tie")
    result = run(
        "pairwise", "sherlock", "--backend", "eval-scripted", "--model", "small",
        "--model-b", "big", *JUDGE, "--limit", "2", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(calls("small")) == len(calls("big")) == 2 and len(calls("judge")) == 4
    assert "win rate of A (sherlock@small)" in result.stdout
    assert "position consistency" in result.stdout
    data = json.loads((tmp_path / "pairwise-sherlock-small-vs-sherlock-big.json").read_text())
    assert data["data"]["win_rate_a"]["mean"] == 0.25
    assert data["data"]["position_consistency"]["mean"] == 1.0


def test_pairwise_with_two_cards(tmp_path: Path) -> None:
    card = tmp_path / "holmes2.json"
    card.write_text(json.dumps(make_character("Holmes").to_card_dict()), "utf-8")
    script("judge", "Winner: A", "Winner: B")
    result = run(
        "pairwise", "sherlock", "--character-b", str(card), *ACTOR, *JUDGE, "--limit", "1",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert PerModel.built.count("actor") == 1  # one actor model shared by both sides
    assert (tmp_path / "pairwise-sherlock-actor-vs-holmes2-actor.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sherlock",), "B is the same as A"),
        (("sherlock", "--model-b", "actor"), "same actor"),
        (("nobody", "--model-b", "big"), "no character 'nobody'"),
        (("sherlock", "--model-b", "big", "--questions", "/nope.json"), "does not exist"),
    ],
)
def test_pairwise_bad_input_is_one_line(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = run("pairwise", *args, *ACTOR, "--out", str(tmp_path))
    assert message in one_line_error(result)
