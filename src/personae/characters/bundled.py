"""The starter characters shipped with the package (``characters/bundled/*.json``)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from personae.characters.card import Character
from personae.characters.formats.json_card import parse_card_json


@lru_cache(maxsize=1)
def _load() -> tuple[tuple[str, str], ...]:
    # Cache the raw JSON, not the models: callers get fresh Characters they may mutate.
    folder = resources.files("personae.characters").joinpath("bundled")
    found = []
    for item in folder.iterdir():
        if item.name.endswith(".json"):
            found.append((item.name.removesuffix(".json"), item.read_text("utf-8")))
    return tuple(sorted(found))


def bundled_characters() -> dict[str, Character]:
    """Every bundled character by slug id (``sherlock``, ``hong-gildong`` …), sorted by id."""
    return {
        slug: parse_card_json(text.encode("utf-8"), source=f"bundled card {slug}")
        for slug, text in _load()
    }
