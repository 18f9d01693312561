"""The fidelity conversation set: it loads, meets its coverage rules, and a bad set file is one
clear error."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from personae.characters import bundled_characters
from personae.errors import InvalidInput
from personae.evaluation.tasks.fidelity_set import (
    LANGUAGES,
    MIN_TURNS,
    PERIOD_CHARACTERS,
    REQUIRED_PROBES,
    coverage_problems,
    load_conversation,
    load_set,
    select,
)

HANGUL = re.compile(r"[\uac00-\ud7a3]")


def test_bundled_set_covers_every_bundled_character_and_two_role_templates() -> None:
    conversations = load_set()
    played = {c.character for c in conversations if c.character}
    assert played == set(bundled_characters())
    roles = [c for c in conversations if c.role]
    assert sorted(c.language for c in roles) == ["en", "ko"]


@pytest.mark.parametrize("conversation", load_set(), ids=lambda c: c.id)
def test_each_conversation_meets_the_coverage_rules(conversation: Any) -> None:
    assert coverage_problems(conversation) == []
    assert len(conversation.turns) >= MIN_TURNS
    probes = [t.probe for t in conversation.turns]
    assert set(REQUIRED_PROBES) <= set(probes)
    # The name comes early, and the recall question after what it asks about was said.
    assert probes.index("name") <= 1
    assert probes.index("recall") >= 3


@pytest.mark.parametrize("conversation", load_set(), ids=lambda c: c.id)
def test_turn_languages_are_tagged_by_what_the_turn_is_written_in(conversation: Any) -> None:
    assert conversation.language in LANGUAGES
    for number, turn in enumerate(conversation.turns, start=1):
        written = "ko" if HANGUL.search(turn.user) else "en"
        assert turn.language == written, f"{conversation.id} turn {number}"


def test_at_least_two_conversations_switch_language() -> None:
    switching = [c for c in load_set() if any(t.probe == "switch" for t in c.turns)]
    assert len(switching) >= 2
    assert {c.language for c in switching} == {"en", "ko"}


def test_period_characters_list_anachronism_terms_for_modern_technology() -> None:
    for c in load_set():
        tech = [t for t in c.turns if t.probe == "modern_tech"]
        if c.character in PERIOD_CHARACTERS:
            assert all(t.terms for t in tech), c.id
        else:
            assert all(t.terms is None for t in tech), c.id


def test_role_template_characters_build_in_their_language() -> None:
    for c in load_set():
        card = c.role_character()
        if c.role is None:
            assert card is None
            continue
        assert card is not None and card.first_mes and card.mes_example
        assert bool(HANGUL.search(card.first_mes)) == (c.language == "ko"), c.id


def test_select_by_character_or_conversation_id() -> None:
    conversations = load_set()
    assert [c.id for c in select(conversations, "sherlock")] == ["sherlock-en"]
    assert [c.id for c in select(conversations, "busan-teacher-ko")] == ["busan-teacher-ko"]
    assert len(select(conversations, None)) == len(conversations)
    with pytest.raises(InvalidInput, match="no conversation in the set plays 'moriarty'"):
        select(conversations, "moriarty")


def _write(tmp_path: Path, data: Any, name: str = "c.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def _valid() -> dict[str, Any]:
    return {
        "id": "mine-en",
        "character": "sherlock",
        "language": "en",
        "user_name": "Ana",
        "turns": [{"user": "Hello.", "language": "en", "probe": None}],
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"character": "moriarty"}, "'moriarty' is not a bundled character"),
        ({"role": "ship captain"}, 'exactly one of "character"'),
        ({"language": "fr"}, '"language" must be one of en, ko'),
        ({"turns": []}, '"turns" must be a non-empty list'),
        ({"id": "Bad Id"}, "id 'Bad Id'"),
        ({"turns": [{"user": "Hi", "language": "en", "probe": "weather"}]}, "turn 1: probe"),
        ({"turns": [{"user": "", "language": "en"}]}, 'turn 1: "user" must be'),
        ({"turns": [{"user": "Hi", "language": "en", "terms": "app"}]}, "turn 1: terms must"),
    ],
)
def test_a_bad_conversation_file_is_one_line_naming_the_file(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = _write(tmp_path, {**_valid(), **change})
    with pytest.raises(InvalidInput) as caught:
        load_conversation(path)
    text = str(caught.value)
    assert "\n" not in text and str(path) in text and message in text


def test_not_json_missing_and_duplicate_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not JSON"):
        load_conversation(_write(tmp_path, "{oops"))
    with pytest.raises(InvalidInput, match="no such conversation file or folder"):
        load_set(tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InvalidInput, match="no conversation files"):
        load_set(empty)
    folder = tmp_path / "set"
    folder.mkdir()
    _write(folder, _valid(), "a.json")
    _write(folder, _valid(), "b.json")
    with pytest.raises(InvalidInput, match="two conversations have the id 'mine-en'"):
        load_set(folder)


def test_a_small_set_of_ones_own_loads_though_it_misses_the_coverage_rules(
    tmp_path: Path,
) -> None:
    [conversation] = load_set(_write(tmp_path, _valid()))
    assert conversation.user_name == "Ana" and conversation.turns[0].probe is None
    problems = coverage_problems(conversation)
    assert "1 turns, fewer than 12" in problems and "no 'ai' turn" in problems
