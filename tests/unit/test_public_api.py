"""The notebook-sized API the README documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import personae
from personae import Agent, Chat, Turn, load_character, open_library
from personae.agent.persona import expand_persona
from personae.characters import character_from_role
from personae.errors import BackendError, CardError, NotFound
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend


def test_readme_flow() -> None:
    backend = ScriptedBackend().enqueue("Elementary.", "Good evening.")
    holmes = load_character("sherlock")
    agent = Agent(holmes, backend, user_name="Watson")
    assert "".join(agent.reply([Turn("user", "What do you deduce?")])) == "Elementary."
    db = open_library()
    chat = Chat.start(db, "sherlock", backend, user_name="Watson")
    assert "".join(chat.send("Good evening, Holmes.")) == "Good evening."


def test_load_character_from_file_and_errors(tmp_path: Path) -> None:
    card = tmp_path / "irene.json"
    card.write_text(json.dumps(make_character("Irene").to_card_dict()), encoding="utf-8")
    assert load_character(card).name == "Irene"
    with pytest.raises(NotFound):
        load_character("nobody-at-all")
    with pytest.raises(CardError):
        load_character(tmp_path / "missing.png")


def test_lazy_exports() -> None:
    assert personae.get_backend is not None and personae.Character is not None
    with pytest.raises(AttributeError):
        _ = personae.nothing_here  # type: ignore[attr-defined]


def test_expand_persona_appends_and_records() -> None:
    base = character_from_role("retired Korean math teacher, ENFJ, Busan dialect")
    backend = ScriptedBackend().enqueue("He grows tomatoes on his roof in Haeundae.")
    expanded = expand_persona(base, backend)
    assert expanded.description.endswith("Haeundae.")
    assert expanded.extensions["personae"]["expanded_background"].startswith("He grows")
    assert expanded.extensions["personae"]["role"] == base.extensions["personae"]["role"]
    with pytest.raises(BackendError):
        expand_persona(base, ScriptedBackend().enqueue(""))
