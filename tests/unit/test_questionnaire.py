"""Questionnaires: loading InCharacter's format (with clear errors), reverse scoring, AVG/SUM
aggregation, labels, and reading a chosen option out of a reply. Fixtures are written here;
the real BFI/16P files are read only by the optional test at the end."""

from __future__ import annotations

import copy
import json
import math
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.errors import InvalidInput
from personae.evaluation.labels import accuracy, compare_label, parse_label
from personae.evaluation.questionnaire import (
    load_questionnaire,
    parse_option,
    parse_questionnaire,
    pole_name,
)


def five_point() -> dict[str, Any]:
    """A 6-item, two-dimension questionnaire on a 1..5 scale (items 2 and 5 reversed)."""
    return {
        "name": "MINI",
        "full_name": "Mini Inventory",
        "scale": 6,
        "compute_mode": "AVG",
        "reverse": [2, 5],
        "range": [1, 5],
        "categories": [
            {"cat_name": "Boldness", "cat_questions": [1, 2, 3]},
            {"cat_name": "Warmth", "cat_questions": [4, 5, 6]},
        ],
        "questions": {
            "1": {"origin_en": "Is daring.", "dimension": "Boldness", "category": "positive"},
            "2": {"origin_en": "Is timid.", "dimension": "Boldness", "category": "negative"},
            "3": {"origin_en": "Takes risks.", "dimension": "Boldness", "category": "positive"},
            "4": {"origin_en": "Is kind.", "dimension": "Warmth", "category": "positive"},
            "5": {"origin_en": "Is cold.", "dimension": "Warmth", "category": "negative"},
            "6": {
                "origin_en": "Helps others.",
                "rewritten_en": "Do you help others?",
                "dimension": "Warmth",
                "category": "positive",
            },
            "7": {"origin_en": "An unscored filler item.", "dimension": None},
        },
    }


def seven_point_sum() -> dict[str, Any]:
    """A 16P-like file: two-pole dimensions, 1..7, SUM, categories as pole letters."""
    return {
        "name": "POLES",
        "scale": 8,
        "compute_mode": "SUM",
        "reverse": [2, 4],
        "range": [1, 7],
        "categories": [
            {"cat_name": "E/I", "cat_questions": [1, 2]},
            {"cat_name": "T/F", "cat_questions": [3, 4]},
        ],
        "questions": {
            "1": {"origin_en": "You make friends easily", "dimension": "E/I", "category": "E"},
            "2": {"origin_en": "You avoid parties", "dimension": "E/I", "category": "I"},
            "3": {"origin_en": "You follow your head", "dimension": "T/F", "category": "T"},
            # Reverse-listed but category says T: a polarity disagreement to note.
            "4": {"origin_en": "You enjoy a debate", "dimension": "T/F", "category": "T"},
        },
    }


def test_loads_items_dimensions_and_reverse_flags() -> None:
    q = parse_questionnaire(five_point())
    assert q.name == "MINI" and q.full_name == "Mini Inventory"
    assert (q.low, q.high, q.scale, q.mode, q.midpoint) == (1, 5, 6, "AVG", 3.0)
    assert list(q.items) == ["1", "2", "3", "4", "5", "6"]  # the filler belongs to no dimension
    assert [d.name for d in q.dimensions] == ["Boldness", "Warmth"]
    assert [i for i, it in q.items.items() if it.reverse] == ["2", "5"]
    assert q.items["6"].question == "Do you help others?"
    assert q.notes == ()


def test_reverse_scoring_math() -> None:
    q = parse_questionnaire(five_point())
    assert q.scored("1", 5) == 5
    assert q.scored("2", 5) == 1  # 6 - 5
    assert q.scored("2", 2) == 4
    with pytest.raises(InvalidInput, match="outside 1..5"):
        q.scored("1", 6)


def test_average_scores_with_reverse_items() -> None:
    q = parse_questionnaire(five_point())
    scores = q.score({"1": 5, "2": 1, "3": 4, "4": 1, "5": 5, "6": None})
    bold, warm = scores["Boldness"], scores["Warmth"]
    # Boldness: 5, 6-1=5, 4 → mean 4.67, high. Warmth: 1, 6-5=1 (6 missing) → 1, low.
    assert bold.value == pytest.approx(14 / 3) and bold.level == "high"
    assert (bold.answered, bold.total) == (3, 3)
    assert warm.value == pytest.approx(1.0) and warm.level == "low"
    assert (warm.answered, warm.total) == (2, 3)
    assert bold.mean.low <= bold.mean.mean <= bold.mean.high


def test_sum_mode_and_neutral_and_missing() -> None:
    q = parse_questionnaire(seven_point_sum())
    assert q.mode == "SUM" and q.midpoint == 4.0
    scores = q.score({"1": 7, "2": 1, "3": 4})
    ei, tf = scores["E/I"], scores["T/F"]
    assert ei.value == pytest.approx(7 + (8 - 1))  # sum of scored items
    assert ei.mean.mean == pytest.approx(7.0) and ei.level == "high"
    assert tf.value == pytest.approx(4.0) and tf.level == "neutral"
    assert pole_name(q.dimension("E/I"), "high") == "E"
    assert pole_name(q.dimension("E/I"), "low") == "I"
    assert pole_name(q.dimension("E/I"), None) == "–"
    empty = q.score({})
    assert math.isnan(empty["E/I"].value) and empty["E/I"].level is None


def test_polarity_disagreement_is_noted_not_fatal() -> None:
    q = parse_questionnaire(seven_point_sum())
    assert q.items["4"].reverse
    assert len(q.notes) == 1 and q.notes[0].startswith("item 4:")


def test_unknown_answer_id_is_an_error() -> None:
    q = parse_questionnaire(five_point())
    with pytest.raises(InvalidInput, match="no item '99'"):
        q.score({"99": 3})


def test_subset_spreads_over_dimensions() -> None:
    q = parse_questionnaire(five_point())
    assert [i.id for i in q.subset(None)] == ["1", "2", "3", "4", "5", "6"]
    assert [i.id for i in q.subset(2)] == ["1", "4"]
    assert [i.id for i in q.subset(3)] == ["1", "2", "4"]
    assert len(q.subset(100)) == 6
    with pytest.raises(InvalidInput, match="at least 1"):
        q.subset(0)


def _without(path: str) -> dict[str, Any]:
    data = five_point()
    target: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    del target[keys[-1]]
    return data


def _with(path: str, value: Any) -> dict[str, Any]:
    data = five_point()
    target: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        target[int(keys[-1])] = value
    else:
        target[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "top level must be a JSON object"),
        (_without("name"), "missing field 'name'"),
        (_without("range"), "missing field 'range'"),
        (_without("categories"), "missing field 'categories'"),
        (_without("questions"), "missing field 'questions'"),
        (_with("name", " "), "'name' must be a non-empty string"),
        (_with("range", [5, 1]), "'range' must be two integers"),
        (_with("range", [1, "5"]), "'range' must be two integers"),
        (_with("range", [1, 2, 3]), "'range' must be two integers"),
        (_with("scale", 5), "'scale' is 5 but reverse scoring needs"),
        (_with("compute_mode", "MEDIAN"), "'compute_mode' must be AVG or SUM"),
        (_with("questions", {}), "'questions' must be a non-empty object"),
        (_with("reverse", "2"), "'reverse' must be a list"),
        (_with("reverse", [2, 42]), "'reverse' names item 42"),
        (_with("categories", []), "'categories' must be a non-empty list"),
        (_with("categories.0", "x"), "categories[0] must be an object"),
        (_without("categories.0.cat_name"), "categories[0] is missing field 'cat_name'"),
        (_without("categories.1.cat_questions"), "categories[1] is missing field 'cat_questions'"),
        (_with("categories.0.cat_questions", []), "'cat_questions' must be a non-empty list"),
        (_with("categories.0.cat_questions", [1, 77]), "lists item 77 which is not in"),
        (_with("categories.1.cat_questions", [1, 4]), "item 1 is in both"),
        (_with("categories.1.cat_name", "Boldness"), "appears twice"),
        (_without("questions.3.origin_en"), "questions['3'] is missing field 'origin_en'"),
        (_with("questions.4", "text"), "questions['4'] must be an object"),
        (_with("questions.4.dimension", "Boldness"), "says dimension 'Boldness'"),
    ],
)
def test_bad_questionnaires_name_the_field(data: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)) as info:
        parse_questionnaire(data, source="mini.json")
    assert str(info.value).startswith("mini.json: ")
    assert "\n" not in str(info.value)


def test_load_questionnaire_file_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_questionnaire(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": ', encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"bad.json: not valid JSON \(line 1"):
        load_questionnaire(bad)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidInput, match="cannot read"):
        load_questionnaire(latin)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(five_point()), encoding="utf-8")
    assert load_questionnaire(good).name == "MINI"


# --- labels -----------------------------------------------------------------------------------


def test_parse_label_forms() -> None:
    q = parse_questionnaire(five_point())
    assert parse_label("B=high,W=low", q) == {"Boldness": "high", "Warmth": "low"}
    assert parse_label("boldness: H; warmth=-", q) == {"Boldness": "high", "Warmth": "low"}
    assert parse_label("Warmth=4.5", q) == {"Warmth": 4.5}
    assert parse_label({"Boldness": "low", "warmth": 2}, q) == {"Boldness": "low", "Warmth": 2.0}
    poles = parse_questionnaire(seven_point_sum())
    assert parse_label("E/I=I,T/F=T", poles) == {"E/I": "low", "T/F": "high"}
    assert parse_label("IT", poles) == {"E/I": "low", "T/F": "high"}
    assert parse_label("E-F", poles) == {"E/I": "high", "T/F": "low"}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "the label is empty"),
        ("Boldness", "not DIMENSION=VALUE"),
        ("Boldness=", "is not DIMENSION=VALUE"),
        ("Zeal=high", "no dimension of MINI"),
        ("Boldness=high,B=low", "gives dimension 'Boldness' twice"),
        ("Boldness=sometimes", "use high, low or a number"),
        ("Boldness=9", "outside the scale 1..5"),
        ("Boldness=nan", "outside the scale"),
    ],
)
def test_bad_labels(spec: str, message: str) -> None:
    q = parse_questionnaire(five_point())
    with pytest.raises(InvalidInput, match=re.escape(message)):
        parse_label(spec, q)


def test_bad_labels_for_pole_dimensions() -> None:
    poles = parse_questionnaire(seven_point_sum())
    with pytest.raises(InvalidInput, match="2-letter type code"):
        parse_label("INTJ", poles)
    with pytest.raises(InvalidInput, match="letter 'X'"):
        parse_label("XT", poles)
    with pytest.raises(InvalidInput, match="use high, low, E or I"):
        parse_label("E/I=Q", poles)
    data = five_point()
    data["categories"][1]["cat_name"] = "Bolder"
    for qid in ("4", "5", "6"):
        data["questions"][qid]["dimension"] = "Bolder"
    with pytest.raises(InvalidInput, match="'Bold' is ambiguous"):
        parse_label("Bold=high", parse_questionnaire(data))
    with pytest.raises(InvalidInput, match="must be high, low"):
        parse_label({"E/I": True}, poles)
    with pytest.raises(InvalidInput, match="must be text"):
        parse_label(42, poles)  # type: ignore[arg-type]


def test_compare_label_and_accuracy() -> None:
    q = parse_questionnaire(five_point())
    scores = q.score({"1": 5, "2": 1, "3": 4, "4": 1, "5": 5, "6": 2})
    checks = compare_label(scores, {"Boldness": "high", "Warmth": 4.0}, q)
    assert [(c.dimension, c.expected, c.predicted, c.agrees) for c in checks] == [
        ("Boldness", "high", "high", True),
        ("Warmth", "high", "low", False),
    ]
    assert checks[1].expected_value == 4.0
    assert accuracy(checks) == 0.5
    assert math.isnan(accuracy([]))
    # A dimension with no scored item never agrees.
    none = compare_label(q.score({}), {"Boldness": "low"}, q)
    assert none[0].predicted is None and not none[0].agrees


# --- option parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4", 4),
        ("4.", 4),
        ("I'd say 4", 4),
        ("I would say 2, on reflection.", 2),
        ("**5**", 5),
        ("Four.", 4),
        ("No one could say; I'd say four.", 4),
        ("On a scale from 1 to 5, I'd say 4.", 4),
        ("1 means strongly disagree and 5 means strongly agree. I choose 2.", 2),
        ("I have 2 brothers, but I'd say 4.", 4),
        ("4 out of 5", 4),
        ("4/5", 4),
        ("3.5", 3.5),
        ("Holmes: 3", 3),
        ("４", 4),
        ("4점", 4),
        ("저는 4점입니다.", 4),
        ("5점 만점에 4점이오.", 4),
        ("1에서 5 중에 3이요", 3),
        ("음... 2번이요", 2),
        ("３점이오", 3),
    ],
)
def test_parse_option_reads_the_choice(text: str, expected: float) -> None:
    assert parse_option(text, 1, 5) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Hmm. That depends on the day.",
        "221B Baker Street",
        "In 1895 I was 41.",
        "3 or 4",
        "4th",
        "GPT4",
        "4:30",
        "6",
        "0",
        "I give it a 4. Maybe 3.",
        "그건 말하기 어렵소.",
        "일곱 점",
        "I am not one to judge others.",
        "One must observe. Two facts make a chain.",
    ],
)
def test_parse_option_junk_is_none(text: str) -> None:
    assert parse_option(text, 1, 5) is None


def test_parse_option_uses_the_scale() -> None:
    assert parse_option("6", 1, 7) == 6
    assert parse_option("I'd say 7", 1, 7) == 7
    assert parse_option("7", 1, 5) is None


@given(st.text(max_size=80), st.integers(1, 3), st.integers(4, 9))
def test_parse_option_is_none_or_in_range(text: str, low: int, high: int) -> None:
    value = parse_option(text, low, high)
    assert value is None or low <= value <= high


@given(st.integers(1, 7))
def test_parse_option_bare_number_roundtrip(n: int) -> None:
    assert parse_option(str(n), 1, 7) == n
    assert parse_option(f"I'd say {n}.", 1, 7) == n
    assert parse_option(f"{n}점", 1, 7) == n


# --- the real questionnaires (external data; skipped when absent) ------------------------------

DATA = Path(
    os.environ.get("PERSONAE_DATA_DIR") or Path(__file__).resolve().parents[3] / "shared" / "data"
)


@pytest.mark.parametrize(
    ("name", "items", "dims", "mode"),
    [("BFI.json", 44, 5, "AVG"), ("16Personalities.json", 60, 4, "SUM")],
)
def test_real_questionnaires_load(name: str, items: int, dims: int, mode: str) -> None:
    path = DATA / "questionnaires" / name
    if not path.is_file():
        pytest.skip(f"{path} is external data and not present")
    q = load_questionnaire(path)
    assert (len(q.items), len(q.dimensions), q.mode) == (items, dims, mode)
    for dim in q.dimensions:
        assert all(q.items[i].dimension == dim.name for i in dim.items)
    if name == "BFI.json":
        assert q.notes == ()
        assert parse_label("E=low,A=low,O=high", q) == {
            "Extraversion": "low",
            "Agreeableness": "low",
            "Openness": "high",
        }
        # All 5s: reversed items drag every dimension to the middle or below.
        scores = q.score(dict.fromkeys(q.items, 5.0))
        assert scores["Extraversion"].mean.mean == pytest.approx((5 * 5 + 1 * 3) / 8)
    else:
        assert any("item 25" in n for n in q.notes)
        assert parse_label("INTJ", q) == {"E/I": "low", "S/N": "low", "T/F": "high", "P/J": "low"}


def test_fixture_is_not_mutated_by_parsing() -> None:
    data = five_point()
    before = copy.deepcopy(data)
    parse_questionnaire(data)
    assert data == before
