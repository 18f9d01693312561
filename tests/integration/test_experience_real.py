"""The experience pipeline on the real embedded runtime (SmolLM2-135M): whatever a tiny model
writes for scenes and experiences is kept or dropped with a reason, never a crash; the directory
is valid, exports, and a second build generates nothing new."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.backends import get_backend
from personae.characters import bundled_characters
from personae.experience.build import BuildOptions, build_experiences
from personae.experience.export import export_row
from personae.experience.gates import REASONS
from personae.experience.profile import make_profile
from personae.experience.records import EXPERIENCES, SCENES, ExperienceDir
from personae.experience.scenes import SCENE_DROPS
from personae.experience.stats import dataset_stats

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # about a minute and a half alone

PROFILE = (
    "== Baker Street ==\nSherlock Holmes shares rooms at 221B Baker Street with Dr Watson, "
    "an army doctor back from Afghanistan. Mrs Hudson, the landlady, brings up the clients "
    "who ring at all hours.\n\n== Cases ==\nInspector Lestrade of Scotland Yard brings Holmes "
    "the cases the police cannot solve. Holmes once lost to Irene Adler and keeps her photograph."
)


def test_a_real_model_builds_a_valid_directory(real_model: str, tmp_path: Path) -> None:
    card = bundled_characters()["sherlock"]
    profile = make_profile(card.name, PROFILE, card)
    options = BuildOptions(
        scenes=1,
        protective_ratio=1.0,
        candidates=2,
        parallel=1,
        rounds=1,
        max_tokens=120,
        scene_tokens=240,
    )
    out = tmp_path / "holmes"
    backend = get_backend("embedded", model=real_model, n_ctx=4096, n_parallel=2)
    try:
        first = build_experiences(backend, profile, out, options, model=real_model)
        again = build_experiences(backend, profile, out, options, model=real_model)
    finally:
        backend.close()  # type: ignore[attr-defined]
    directory = ExperienceDir.open(out)
    stats = dataset_stats(directory)
    assert directory.rows(SCENES), "every scene request leaves a row, even one that found none"
    # Each scene ends kept or dropped, and a drop names a reason the gates or the scene
    # parser know.
    experience_drops = {k: v for k, v in stats["dropped"].items() if not k.startswith("scene_")}
    assert stats["experiences"] + sum(experience_drops.values()) == stats["scenes"]
    assert stats["pending"] == 0 and first.kept == stats["experiences"]
    for reason in experience_drops:
        assert reason in REASONS or reason == "near_duplicate", reason
    for reason in stats["dropped"].keys() - experience_drops.keys():
        assert reason.removeprefix("scene_") in (
            *SCENE_DROPS,
            "near_duplicate",
            "beyond_moments",
        ), reason
    assert again.resumed and again.generated == 0 and again.kept == 0
    for row in directory.rows(EXPERIENCES):
        exported = export_row(row, card.name, "en", "openai")
        assert json.dumps(exported) and exported["messages"][0]["role"] == "system"
