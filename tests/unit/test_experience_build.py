"""The experience pipeline end to end on a scripted backend: scenes, experiences, protective
experiences, rejection sampling, drops by reason, resume after a kill, --limit."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import pytest

from personae.errors import BackendError, InvalidInput, NotFound
from personae.experience.build import BuildOptions, _seed, build_experiences
from personae.experience.profile import make_profile
from personae.experience.prompts import example_scene
from personae.experience.records import DATASET, EXPERIENCES, SCENES, ExperienceDir
from personae.experience.stats import dataset_stats
from tests.support.scripted import ScriptedBackend

PROFILE = make_profile(
    "Sherlock Holmes",
    "Sherlock Holmes is a consulting detective in Victorian London. He lodges at 221B Baker "
    "Street with Dr Watson and solves the cases Scotland Yard cannot. His brother Mycroft sits "
    "in the Diogenes Club and advises the government. Inspector Lestrade brings him the cases "
    "that baffle the police. He plays the violin late at night when a problem will not yield. "
    "Irene Adler once outwitted him, and he keeps her photograph.",
)
PLACES = ["Baker Street", "the Diogenes Club", "a hansom cab", "Scotland Yard", "Covent Garden"]


def scenes_json(start: int, count: int) -> str:
    return json.dumps(
        [
            {
                "type": "chat",
                "time": f"evening {start + i}",
                "place": PLACES[(start + i) % len(PLACES)],
                "people": ["Watson"],
                "background": f"Case number {start + i}: "
                + " ".join(f"clue{(start + i) * 13 + k}" for k in range(12)),
            }
            for i in range(count)
        ]
    )


_WORDS = (
    "mud clay boots cab fog lamp window street letter ring cigar ash pipe violin coat hat glove "
    "watch chain knife rope blood key lock door stair cellar garden river bridge dock ship train "
    "ticket station hotel club bank clerk banker widow colonel doctor maid groom sailor priest "
    "nephew heir will forged stolen hidden buried burned poisoned followed watched lied paid"
)
VOCABULARY = _WORDS.split()


def said(n: int, k: int, words: int = 14) -> str:
    pick = random.Random(n * 100 + k)
    return " ".join(pick.choice(VOCABULARY) for _ in range(words))


def experience(n: int, other: str = "Watson") -> str:
    """A passing experience, different enough from every other n."""
    return (
        f"Background:\nScene {n} at Baker Street.\n\n"
        f"Sherlock Holmes (thinking)\n{said(n, 1)}.\n\n"
        f"{other} (speaking)\nWhat do you see, Holmes? {said(n, 2, 6)}?\n\n"
        f"Sherlock Holmes (speaking)\n{said(n, 3, 20)}.\n\n"
        f"{other} (speaking)\n{said(n, 4, 6)}.\n\n"
        f"Sherlock Holmes (speaking)\n{said(n, 5, 12)}.\n"
    )


AI = (
    "Background:\nA room.\n\nSherlock Holmes (speaking)\nAs an AI language model, I cannot "
    "pretend to be a detective, but I can help you write a story about one today.\n\n"
    "Watson (speaking)\nOh.\n\nSherlock Holmes (speaking)\nI am an AI assistant made to help.\n\n"
    "Watson (speaking)\nI see."
)


def options(**kw: object) -> BuildOptions:
    values: dict[str, object] = {"scenes": 3, "protective_ratio": 0.0, "candidates": 1}
    values.update(kw)
    return BuildOptions(**values)  # type: ignore[arg-type]


def test_build_keeps_passing_experiences_and_writes_the_dataset(tmp_path: Path) -> None:
    backend = ScriptedBackend().enqueue(scenes_json(1, 3), *(experience(n) for n in range(3)))
    report = build_experiences(backend, PROFILE, tmp_path / "out", options(), model="scripted")
    assert report.kept == 3 and not report.resumed and not report.dropped
    directory = ExperienceDir.open(tmp_path / "out")
    stats = dataset_stats(directory)
    assert stats["scenes"] == 3 and stats["experiences"] == 3 and stats["pending"] == 0
    assert stats["language"] == "en" and stats["turns"] == 15 and stats["tokens"] > 100
    dataset = [json.loads(line) for line in (tmp_path / "out" / DATASET).read_text().splitlines()]
    assert len(dataset) == 3 and dataset[0]["messages"][0]["role"] == "system"
    # The prompts: one scene request for the chunk, then one per scene, in the right shape.
    prompts = [messages[0].content for messages, _ in backend.calls]
    assert "JSON array" in prompts[0] and "(thinking)" in prompts[1]
    assert "Case number 1" in prompts[1] and "Sherlock Holmes" in prompts[1]


def test_each_scene_is_asked_for_a_sentence_of_the_profile(tmp_path: Path) -> None:
    """Scenes are anchored to the profile's sentences, a kind each; the next pass gives each
    sentence another kind; scenes past the moments asked for (a loop) are dropped."""
    backend = ScriptedBackend().enqueue(scenes_json(1, 9), scenes_json(20, 6))
    backend.enqueue(*(experience(n) for n in range(12)))
    build_experiences(
        backend, PROFILE, tmp_path / "out", options(scenes=8, rounds=1), model="scripted"
    )
    first, second = (messages[0].content for messages, _ in backend.calls[:2])
    assert "1. (chat) Sherlock Holmes is a consulting detective" in first
    assert "6. (debate) Irene Adler once outwitted him" in first
    assert "1. (discussion) Sherlock Holmes is a consulting detective" in second
    stats = dataset_stats(ExperienceDir.open(tmp_path / "out"))
    # The pass ends on the request that reaches the target, so it may overshoot a little.
    assert stats["dropped"]["scene_beyond_moments"] == 3 and stats["scenes"] == 12


def test_scene_requests_are_asked_together_and_kept_in_request_order(tmp_path: Path) -> None:
    profile = make_profile(
        "Sherlock Holmes",
        " ".join(f"Holmes looked into the affair of the {w} and found it strange." for w in
                 VOCABULARY[:12]),
    )  # fmt: skip
    backend = ScriptedBackend()
    backend.by_seed = {
        _seed(0, "c0p0g0"): scenes_json(1, 6),
        _seed(0, "c0p0g1"): scenes_json(50, 6),
    }
    backend.enqueue(*(experience(n) for n in range(12)))
    backend.gate = threading.Event()
    build = threading.Thread(
        target=build_experiences,
        args=(backend, profile, tmp_path / "out", options(scenes=12, parallel=2, rounds=1)),
        kwargs={"model": "scripted"},
    )
    build.start()
    deadline = time.monotonic() + 10
    while len(backend.calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    asked_together = len(backend.calls) == 2  # both scene requests out before either answered
    backend.gate.set()
    build.join(30)
    assert asked_together
    rows = ExperienceDir.open(tmp_path / "out").rows(SCENES)
    assert [r["key"] for r in rows] == ["c0p0g0", "c0p0g1"]
    assert rows[0]["scenes"][0]["id"] == "s0001" and rows[0]["scenes"][0]["time"] == "evening 1"
    assert rows[1]["scenes"][0]["id"] == "s0007" and rows[1]["scenes"][0]["time"] == "evening 50"


def test_a_scene_that_copies_the_prompts_example_is_dropped(tmp_path: Path) -> None:
    copied = json.dumps([example_scene("en"), *json.loads(scenes_json(1, 1))], default=list)
    backend = ScriptedBackend().enqueue(copied, experience(1))
    build_experiences(backend, PROFILE, tmp_path / "out", options(scenes=1), model="scripted")
    [row] = ExperienceDir.open(tmp_path / "out").rows(SCENES)
    assert row["dropped"] == {"near_duplicate": 1} and len(row["scenes"]) == 1


def test_rejection_sampling_keeps_the_candidate_that_passes(tmp_path: Path) -> None:
    backend = ScriptedBackend().enqueue(scenes_json(1, 1), AI, experience(7))
    report = build_experiences(
        backend, PROFILE, tmp_path / "out", options(scenes=1, rounds=2), model="scripted"
    )
    assert report.kept == 1 and report.generated == 3  # one scene request, two tries
    [row] = ExperienceDir.open(tmp_path / "out").rows(EXPERIENCES)
    assert row["tries"] == 2 and row["rejected"] == {"ai_disclosure": 1}


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "unparsable"),
        ("I'm sorry, I can't write that.", "unparsable"),
        (AI, "ai_disclosure"),
        ("Sherlock Holmes (speaking)\nYes.\n\nWatson (speaking)\nNo.", "too_few_turns"),
        (experience(1).replace("Sherlock Holmes (", "Mycroft ("), "no_character_turn"),
    ],
)
def test_malformed_experiences_are_dropped_with_a_reason(
    tmp_path: Path, reply: str, reason: str
) -> None:
    backend = ScriptedBackend().enqueue(scenes_json(1, 1), reply)
    report = build_experiences(
        backend, PROFILE, tmp_path / "out", options(scenes=1, rounds=1), model="scripted"
    )
    assert report.kept == 0 and report.dropped == {reason: 1}
    assert dataset_stats(ExperienceDir.open(tmp_path / "out"))["dropped"] == {reason: 1}


def test_a_repeat_of_a_kept_experience_is_a_near_duplicate(tmp_path: Path) -> None:
    backend = ScriptedBackend().enqueue(scenes_json(1, 2), experience(1), experience(1))
    report = build_experiences(
        backend, PROFILE, tmp_path / "out", options(scenes=2, rounds=1), model="scripted"
    )
    assert report.kept == 1 and report.dropped == {"near_duplicate": 1}


def test_bad_scene_output_is_counted_and_the_next_pass_tries_again(tmp_path: Path) -> None:
    backend = ScriptedBackend().enqueue("not json at all", scenes_json(1, 2), experience(1))
    report = build_experiences(
        backend, PROFILE, tmp_path / "out", options(scenes=1), model="scripted"
    )
    stats = dataset_stats(ExperienceDir.open(tmp_path / "out"))
    assert stats["dropped"].get("scene_not_json") == 1 and report.kept >= 1


def test_a_resume_stops_where_a_profile_that_gave_no_scenes_stopped(tmp_path: Path) -> None:
    first = ScriptedBackend().enqueue("not json", "still not json")
    build_experiences(first, PROFILE, tmp_path / "out", options(scenes=2), model="scripted")
    assert len(first.calls) == 2  # two passes that found nothing: the profile gives no more
    again = ScriptedBackend()
    report = build_experiences(
        again, PROFILE, tmp_path / "out", options(scenes=2), model="scripted"
    )
    assert report.resumed and again.calls == [] and report.generated == 0


def test_a_resume_rechecks_what_older_gates_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    backend = ScriptedBackend().enqueue(scenes_json(1, 2), experience(1), experience(2))
    build_experiences(backend, PROFILE, out, options(scenes=2, rounds=1), model="scripted")
    directory = ExperienceDir.open(out)
    rows = directory.rows(EXPERIENCES)
    # As if older, laxer gates had kept a loop: every Watson line opens the same way.
    looped = dict(rows[1])
    looped["turns"] = [
        {**t, "text": "Yes, that is true. " + t["text"]} if not t["character"] else t
        for t in rows[1]["turns"]
    ] + [{"speaker": "Watson", "action": "speaking", "text": "Yes, that is true, Holmes.",
          "character": False}]  # fmt: skip
    directory.replace(EXPERIENCES, [rows[0], looped])
    report = build_experiences(
        ScriptedBackend(), PROFILE, out, options(scenes=2, rounds=1), model="scripted"
    )
    assert report.dropped == {"repetitive": 1} and report.generated == 0
    stats = dataset_stats(ExperienceDir.open(out))
    assert stats["experiences"] == 1 and stats["dropped"] == {"repetitive": 1}
    assert stats["pending"] == 0
    [dropped] = ExperienceDir.open(out).rows("dropped.jsonl")
    assert dropped["rechecked"] is True and "Yes, that is true" in dropped["sample"]
    assert len((out / DATASET).read_text().splitlines()) == 1


def test_protective_scenes_are_made_by_rule_and_gated(tmp_path: Path) -> None:
    knowing = experience(5, other="Lily").replace(
        "Holmes (speaking)\n", "Holmes (speaking)\nI check my smartphone apps. ", 1
    )
    backend = ScriptedBackend().enqueue(
        scenes_json(1, 2), experience(1), experience(2), knowing, experience(9, other="Lily")
    )
    report = build_experiences(
        backend,
        PROFILE,
        tmp_path / "out",
        options(scenes=2, protective_ratio=0.5, rounds=2),
        model="scripted",
    )
    rows = ExperienceDir.open(tmp_path / "out").rows(EXPERIENCES)
    protective = [r for r in rows if r["scene"]["protective"]]
    assert report.kept == 3 and len(protective) == 1
    assert protective[0]["rejected"] == {"anachronism": 1}
    # The turned-away reply is kept beside the experience: a DPO pair (issue 18).
    (turned_away,) = protective[0]["rejected_replies"]
    assert turned_away["reason"] == "anachronism"
    assert turned_away["text"].startswith("I check my smartphone apps.")
    assert all("rejected_replies" not in r for r in rows if not r["scene"]["protective"])
    prompt = next(m[0].content for m, _ in backend.calls if "never heard of it" in m[0].content)
    assert "Lily" in prompt and "smartphone" in prompt
    assert dataset_stats(ExperienceDir.open(tmp_path / "out"))["protective"] == 1


def test_a_killed_build_resumes_without_generating_anything_twice(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = ScriptedBackend().enqueue(
        scenes_json(1, 3), experience(1), BackendError("the model process died")
    )
    with pytest.raises(BackendError):
        build_experiences(first, PROFILE, out, options(), model="scripted")
    # A kill mid-write leaves half a line: it is ignored, and that scene is done again.
    with (out / EXPERIENCES).open("a") as handle:
        handle.write('{"scene": {"id": "s0002"}, "turns": [')
    second = ScriptedBackend().enqueue(experience(2), experience(3))
    report = build_experiences(second, PROFILE, out, options(), model="scripted")
    assert report.resumed and report.kept == 2 and report.generated == 2
    assert not any("JSON array" in m[0].content for m, _ in second.calls)  # no scene re-asked
    ids = [r["scene"]["id"] for r in ExperienceDir.open(out).rows(EXPERIENCES)]
    assert sorted(ids) == ["s0001", "s0002", "s0003"]


def test_limit_makes_a_trial_and_the_next_run_continues(tmp_path: Path) -> None:
    out = tmp_path / "out"
    backend = ScriptedBackend().enqueue(scenes_json(1, 3), experience(1))
    assert build_experiences(backend, PROFILE, out, options(limit=1), model="s").kept == 1
    assert dataset_stats(ExperienceDir.open(out))["pending"] == 2
    backend.enqueue(experience(2), experience(3))
    assert build_experiences(backend, PROFILE, out, options(), model="s").kept == 2


def test_parallel_build_on_threads(tmp_path: Path) -> None:
    backend = ScriptedBackend().enqueue(scenes_json(1, 4), *(experience(n) for n in range(4)))
    report = build_experiences(
        backend, PROFILE, tmp_path / "out", options(scenes=4, parallel=3), model="s"
    )
    assert report.kept == 4


def test_another_profile_never_writes_into_a_directory(tmp_path: Path) -> None:
    out = tmp_path / "out"
    backend = ScriptedBackend().enqueue(scenes_json(1, 1), experience(1))
    build_experiences(backend, PROFILE, out, options(scenes=1), model="s")
    other = make_profile("Irene Adler", "Irene Adler is an opera singer who outwitted Holmes once.")
    with pytest.raises(InvalidInput, match="another profile"):
        build_experiences(ScriptedBackend(), other, out, options(scenes=1), model="s")
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "notes.txt").write_text("mine")
    with pytest.raises(InvalidInput, match="not empty"):
        build_experiences(ScriptedBackend(), PROFILE, stray, options(), model="s")
    with pytest.raises(NotFound):
        ExperienceDir.open(tmp_path / "nowhere")


@pytest.mark.parametrize(
    "kw", [{"scenes": 0}, {"protective_ratio": 1.5}, {"candidates": 0}, {"limit": 0}]
)
def test_bad_options_are_clear_errors(kw: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        options(**kw)


def test_pii_in_an_experience_is_redacted(tmp_path: Path) -> None:
    leaky = experience(4) + "Write to me at watson@example.com, Watson.\n"
    backend = ScriptedBackend().enqueue(scenes_json(1, 1), leaky)
    build_experiences(backend, PROFILE, tmp_path / "out", options(scenes=1), model="s")
    text = (tmp_path / "out" / EXPERIENCES).read_text()
    assert "watson@example.com" not in text
    assert dataset_stats(ExperienceDir.open(tmp_path / "out"))["redacted"] == 1
    assert (tmp_path / "out" / SCENES).exists()


def test_pii_the_profile_itself_states_is_the_characters_world(tmp_path: Path) -> None:
    profile = make_profile(
        "Sherlock Holmes", PROFILE.text + " Clients write to holmes@example.org."
    )
    leaky = experience(4) + "Write to holmes@example.org, or to me at watson@example.com.\n"
    backend = ScriptedBackend().enqueue(scenes_json(1, 1), leaky)
    build_experiences(backend, profile, tmp_path / "out", options(scenes=1), model="s")
    text = (tmp_path / "out" / EXPERIENCES).read_text()
    assert "holmes@example.org" in text and "watson@example.com" not in text
