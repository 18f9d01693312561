"""The experience pipeline's parts without a model: profile chunks, scene and experience
parsing (malformed model output included), the quality gates, near-duplicates, export."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.characters import Character
from personae.errors import InvalidInput, NotFound
from personae.experience.dedupe import NearDuplicates, shingles
from personae.experience.export import chat_messages, export_row
from personae.experience.gates import GateRules, judge, unknown_terms
from personae.experience.interaction import (
    Interaction,
    Turn,
    is_character,
    parse_interaction,
    render_interaction,
    without_last_turn,
)
from personae.experience.profile import chunk_profile, make_profile, read_profile_file
from personae.experience.prompts import era_terms, protective_topics, scene_prompt
from personae.experience.scenes import parse_scenes

HOLMES = ("Sherlock Holmes",)
GOOD_EN = """Background:
A foggy evening at 221B Baker Street; Watson has just come in from his rounds.

Sherlock Holmes (thinking)
The mud on his boots is from the clay of Hampstead Heath, and he walked, not drove.

Watson (speaking)
Holmes, you look as though you have not slept for two days.

Sherlock Holmes (speaking)
Three, Watson. The Brixton affair will not let me rest until I know who wrote that word.

Watson (speaking)
And do you know?

Sherlock Holmes (speaking)
I know that he was tall, that he smoked a Trichinopoly cigar, and that he came in a cab.
"""


# -- profile -------------------------------------------------------------------------------


def test_chunks_follow_sections_and_paragraphs() -> None:
    text = (
        "== Early life ==\n" + "A sentence about youth. " * 20 + "\n\n"
        "== Work ==\n" + "Another about work. " * 20 + "\n\nA second paragraph about work."
    )
    chunks = chunk_profile(text, budget=800)
    assert [c.section for c in chunks] == ["Early life", "Work"]
    assert "second paragraph" in chunks[1].text and "youth" not in chunks[1].text


def test_a_long_paragraph_is_cut_between_sentences() -> None:
    text = " ".join(f"Sentence number {i} ends here." for i in range(200))
    chunks = chunk_profile(text, budget=500)
    assert len(chunks) > 5 and all(len(c.text) <= 500 for c in chunks)
    assert all(c.text.endswith("here.") for c in chunks)


def test_korean_profile_is_korean() -> None:
    profile = make_profile("홍길동", "홍길동은 조선의 서자로 태어나 활빈당을 이끌었다. " * 3)
    assert profile.language == "ko"


def test_card_fields_lead_the_profile() -> None:
    card = Character(name="Ada", description="{{char}} is a mathematician in London.")
    profile = make_profile("Ada", "She wrote the first published program for an engine.", card)
    assert profile.text.startswith("Ada is a mathematician")


@pytest.mark.parametrize("text", ["", "   ", "too short"])
def test_empty_profile_is_a_clear_error(text: str) -> None:
    with pytest.raises(InvalidInput, match="empty or too short"):
        make_profile("Ada", text)


def test_profile_file_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound, match="not found"):
        read_profile_file(tmp_path / "missing.txt")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_profile_file(bad)
    with pytest.raises(InvalidInput, match="not a file"):
        read_profile_file(tmp_path)


def test_nameless_character_is_an_error() -> None:
    with pytest.raises(InvalidInput, match="no name"):
        make_profile("  ", "x" * 100)


# -- scenes --------------------------------------------------------------------------------

SCENE = {
    "type": "chat",
    "time": "an evening in 1895",
    "place": "Baker Street",
    "people": ["Watson"],
    "background": "Watson returns with news of a murder in Brixton.",
}


def test_scenes_from_json_inside_chatter_and_fences() -> None:
    raw = "Sure! Here they are:\n```json\n" + json.dumps([SCENE, SCENE]) + "\n```\nEnjoy."
    scenes, dropped = parse_scenes(raw, "en")
    assert len(scenes) == 2 and dropped == []
    assert scenes[0]["people"] == ("Watson",) and scenes[0]["place"] == "Baker Street"


def test_scenes_from_broken_array_keep_the_whole_objects() -> None:
    raw = "[" + json.dumps(SCENE) + ", " + json.dumps(SCENE)[:-10]
    scenes, _ = parse_scenes(raw, "en")
    assert len(scenes) == 1


def test_scenes_from_character_llm_text_form() -> None:
    raw = (
        "Scene 1:\nType: Debate\nLocation: the Diogenes Club\n"
        "Background: Mycroft and Holmes argue over a missing treaty.\n\n"
        "Scene 2:\nType: Chat\nLocation: a cab\nBackground: Holmes explains a deduction."
    )
    scenes, dropped = parse_scenes(raw, "en")
    assert [s["place"] for s in scenes] == ["the Diogenes Club", "a cab"] and not dropped


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("I cannot help with that.", "not_json"),
        ('[{"kind": "chat", "where": "home"}]', "wrong_fields"),
        ('[{"background": 5}]', "wrong_fields"),
        ('["just a string"]', "wrong_fields"),
        ('[{"background": "' + "long " * 400 + '"}]', "too_long"),
        ('[{"background": "홍길동이 아버지와 달밤에 이야기를 나눈다."}]', "wrong_language"),
    ],
)
def test_malformed_scenes_are_dropped_with_a_reason(raw: str, reason: str) -> None:
    scenes, dropped = parse_scenes(raw, "en")
    assert scenes == [] and dropped == [reason]


def test_people_as_a_string_are_split() -> None:
    scenes, _ = parse_scenes(
        json.dumps([{**SCENE, "people": "Watson, Lestrade and Mrs Hudson"}]), "en"
    )
    assert scenes[0]["people"] == ("Watson", "Lestrade", "Mrs Hudson")


@given(st.text(max_size=300))
def test_scene_parser_never_raises(raw: str) -> None:
    scenes, dropped = parse_scenes(raw, "en")
    assert isinstance(scenes, list) and isinstance(dropped, list)


def test_scene_prompts_in_both_languages() -> None:
    en = scene_prompt("Holmes", "text", "", [("chat", "He met Watson."), ("quarrel", "X.")], "en")
    assert "JSON" in en
    assert "1. (chat) He met Watson.\n2. (quarrel) X." in en
    ko = scene_prompt("홍길동", "글", "활빈당", [("대화", "길동은 집을 떠났다.")], "ko")
    assert "한국어" in ko and "1. (대화) 길동은 집을 떠났다." in ko and "[활빈당]" in ko
    assert len(protective_topics("ko")) == len(protective_topics("en")) >= 10
    assert "스마트폰" in era_terms("ko") and "smartphone" in era_terms("en")


# -- interactions --------------------------------------------------------------------------


def test_parse_character_llm_format() -> None:
    parsed = parse_interaction(GOOD_EN, HOLMES)
    assert parsed.background.startswith("A foggy evening")
    assert [t.action for t in parsed.turns][:2] == ["thinking", "speaking"]
    assert [t.character for t in parsed.turns] == [True, False, True, False, True]
    assert parsed.turns[1].speaker == "Watson"


def test_parse_variants_inline_bold_korean_and_aliases() -> None:
    text = "**Holmes (speaking):** Sit down.\nYou look cold.\nLestrade (thinking)\nHmm.\n"
    parsed = parse_interaction(text, HOLMES)
    assert parsed.turns[0] == Turn("Sherlock Holmes", "speaking", "Sit down.\nYou look cold.", True)
    assert parsed.dropped_turns == 1  # another person's thoughts are not data
    korean = parse_interaction(
        "배경: 달밤.\n\n홍 길동 (생각)\n달이 밝다.\n\n도적 (말)\n두목!", ("홍길동",)
    )
    assert korean.background == "달밤." and korean.turns[0].character
    assert korean.turns[0].action == "thinking" and not korean.turns[1].character


def test_plain_script_falls_back_to_the_dialogue_parser() -> None:
    parsed = parse_interaction("Background: A room.\nHolmes: Hello.\nWatson: Hi.", HOLMES)
    assert parsed.background == "A room."
    assert [(t.speaker, t.character) for t in parsed.turns] == [
        ("Sherlock Holmes", True),
        ("Watson", False),
    ]


@given(st.text(max_size=400))
def test_interaction_parser_never_raises(text: str) -> None:
    assert isinstance(parse_interaction(text, HOLMES), Interaction)


def test_name_matching() -> None:
    assert is_character("Holmes", HOLMES) and is_character("sherlock holmes", HOLMES)
    assert not is_character("Mycroft Holmes", HOLMES) and not is_character("Watson", HOLMES)
    assert is_character("홍 길동", ("홍길동",))


def test_render_round_trips() -> None:
    parsed = parse_interaction(GOOD_EN, HOLMES)
    assert parse_interaction(render_interaction(parsed), HOLMES) == parsed
    assert len(without_last_turn(parsed).turns) == len(parsed.turns) - 1


# -- gates ---------------------------------------------------------------------------------

RULES = GateRules("Sherlock Holmes", "en", ("smartphone", "internet"))


def _interaction(*turns: tuple[str, str, str], background: str = "A room.") -> Interaction:
    return Interaction(
        background,
        tuple(Turn(s, a, t, s == "Sherlock Holmes") for s, a, t in turns),  # type: ignore[arg-type]
    )


def test_a_good_experience_passes() -> None:
    verdict = judge(parse_interaction(GOOD_EN, HOLMES), RULES)
    assert verdict.passed and verdict.score > 0


LONG = "I observe that the mud upon your boots is of the red clay of the western counties. " * 2


@pytest.mark.parametrize(
    ("turns", "reason"),
    [
        ((), "unparsable"),
        ((("Sherlock Holmes", "speaking", LONG), ("Watson", "speaking", "Ah.")), "too_few_turns"),
        (
            (("Sherlock Holmes", "thinking", LONG),) * 2 + (("Watson", "speaking", "Oh?"),) * 2,
            "no_character_turn",
        ),
        (
            (
                ("Sherlock Holmes", "speaking", LONG + " One."),
                ("Sherlock Holmes", "thinking", LONG + " Two."),
                ("Sherlock Holmes", "speaking", LONG + " Three."),
                ("Sherlock Holmes", "speaking", LONG + " Four."),
            ),
            "no_other_party",
        ),
        (
            (
                ("Sherlock Holmes", "speaking", "Yes."),
                ("Watson", "speaking", "Well?"),
                ("Sherlock Holmes", "speaking", "No."),
                ("Watson", "speaking", "Why?"),
            ),
            "too_short",
        ),
        (
            (
                (
                    "Sherlock Holmes",
                    "speaking",
                    "As an AI language model, I cannot solve crimes. " + LONG,
                ),
                ("Watson", "speaking", "Holmes?"),
                ("Sherlock Holmes", "speaking", LONG + " Indeed."),
                ("Watson", "speaking", "Go on."),
            ),
            "ai_disclosure",
        ),
        (
            (
                ("Sherlock Holmes", "speaking", LONG + " How can I help you today?"),
                ("Watson", "speaking", "Holmes?"),
                ("Sherlock Holmes", "speaking", "Quite so. " + LONG[:60]),
                ("Watson", "speaking", "Go on."),
            ),
            "assistant_speak",
        ),
        (
            (
                ("Sherlock Holmes", "speaking", LONG + "\nWatson: I agree entirely, Holmes!"),
                ("Watson", "speaking", "Holmes?"),
                ("Sherlock Holmes", "speaking", "Quite so. " + LONG[:60]),
                ("Watson", "speaking", "Go on."),
            ),
            "speaks_as_other",
        ),
        (
            (
                ("Sherlock Holmes", "speaking", LONG + " I checked it on my smartphone."),
                ("Watson", "speaking", "Holmes?"),
                ("Sherlock Holmes", "speaking", "Quite so. " + LONG[:60]),
                ("Watson", "speaking", "Go on."),
            ),
            "anachronism",
        ),
        (
            (
                ("Sherlock Holmes", "speaking", LONG),
                ("Watson", "speaking", "Holmes?"),
                ("Sherlock Holmes", "speaking", LONG),
                ("Watson", "speaking", "Go on."),
            ),
            "repetitive",
        ),
        (
            (
                (
                    "Sherlock Holmes",
                    "speaking",
                    "I know, but the mud on his boots is fresh. " + LONG,
                ),
                ("Watson", "speaking", "I know, but he came by cab this morning."),
                (
                    "Sherlock Holmes",
                    "thinking",
                    "I know, but a cab leaves no clay like that. " + LONG[:80],
                ),
                ("Watson", "speaking", "Then where was he, Holmes?"),
                ("Sherlock Holmes", "speaking", "I know, but Camberwell has such a yard."),
            ),
            "repetitive",
        ),
    ],
)
def test_gates_name_the_reason(turns: tuple[tuple[str, str, str], ...], reason: str) -> None:
    verdict = judge(_interaction(*turns), RULES)
    assert not verdict.passed and verdict.reasons[0] == reason, verdict


def test_a_character_reciting_the_prompt_is_dropped() -> None:
    recited = (
        "스마트폰은 홍길동의 세계에 없는 것이라서 들어 본 적이 없다: 홍길동은 어리둥절해하거나 "
        "궁금해하거나 의심하며 그게 무엇이냐고 묻고, 자기 삶과 시대에서 아는 것으로만 답한다."
    )
    turns = (
        ("지우", "speaking", "이 스마트폰 보셨어요? 요즘 다들 쓰는 물건이에요."),
        ("홍길동", "thinking", recited),
        ("지우", "speaking", "정말 모르세요?"),
        (
            "홍길동",
            "speaking",
            "그런 물건은 조선 팔도 어디에서도 본 적이 없소. 무엇에 쓰는 것이오?",
        ),
    )
    interaction = Interaction("", tuple(Turn(s, a, t, s == "홍길동") for s, a, t in turns))  # type: ignore[arg-type]
    verdict = judge(interaction, GateRules("홍길동", "ko"))
    assert verdict.reasons[:1] == ("copies_prompt",), verdict
    # The same scene without the recited thought passes that gate.
    kept = Interaction("", tuple(t for t in interaction.turns if t.text != recited))
    assert "copies_prompt" not in judge(kept, GateRules("홍길동", "ko")).reasons


def test_a_short_tag_word_reads_as_the_action() -> None:
    text = "Sherlock Holmes (think)\nOdd boots.\n\nWatson (speak)\nWell?\n\nHolmes (speak)\nClay."
    turns = parse_interaction(text, ("Sherlock Holmes",)).turns
    assert [(t.speaker, t.action) for t in turns] == [
        ("Sherlock Holmes", "thinking"), ("Watson", "speaking"), ("Sherlock Holmes", "speaking")
    ]  # fmt: skip


def test_an_action_after_the_colon_reads_as_the_action() -> None:
    text = 'Sherlock Holmes: (thinking) "Odd boots."\nWatson: (speaking) "Well?"'
    turns = parse_interaction(text, ("Sherlock Holmes",)).turns
    assert [(t.action, t.text) for t in turns] == [
        ("thinking", "Odd boots."),
        ("speaking", "Well?"),
    ]


def test_wrong_language_and_protective_echo() -> None:
    korean_rules = GateRules("홍길동", "ko")
    english = parse_interaction(GOOD_EN.replace("Sherlock Holmes", "홍길동"), ("홍길동",))
    assert "wrong_language" in judge(english, korean_rules).reasons
    # A protective scene: the stranger names the smartphone; the character may echo the word
    # in confusion, but not show it knows what one is.
    asked = (("Lily", "speaking", "What apps do you have on your smartphone?"),)
    puzzled = ("Sherlock Holmes", "speaking", "A smartphone? I have never heard the word. " + LONG)
    knowing = ("Sherlock Holmes", "speaking", "I mostly use the touchscreen apps. " + LONG)
    for answer, passes in ((puzzled, True), (knowing, False)):
        turns = (
            *asked,
            answer,
            ("Lily", "speaking", "Truly?"),
            ("Sherlock Holmes", "thinking", "Odd."),
        )
        verdict = judge(_interaction(*turns), RULES, topic_terms=("touchscreen", "apps"))
        assert verdict.passed is passes, verdict


def test_unknown_terms_skip_what_the_profile_mentions() -> None:
    assert unknown_terms("He built a computer.", ("computer", "internet")) == ("internet",)


# -- near-duplicates -----------------------------------------------------------------------


def test_near_duplicates_in_both_languages() -> None:
    twins = NearDuplicates(0.6)
    assert (
        twins.check_add("a", "Holmes and Watson discuss a strange letter at Baker Street") is None
    )
    assert (
        twins.check_add("b", "Holmes and Watson discuss a strange letter at Baker Street today")
        == "a"
    )
    assert (
        twins.check_add("c", "Mycroft explains the missing naval treaty at the Diogenes Club")
        is None
    )
    assert twins.check_add("d", "홍길동이 활빈당을 모아 탐관오리의 창고를 턴다") is None
    assert twins.check_add("e", "홍길동이 활빈당을 모아서 탐관오리의 창고를 턴다") == "d"
    assert len(twins) == 3
    assert shingles("") == set() and shingles("one two") == {"one", "two"}


# -- export --------------------------------------------------------------------------------


def _row(text: str = GOOD_EN) -> dict[str, object]:
    parsed = parse_interaction(text, HOLMES)
    return {
        "scene": {"id": "s0001", "type": "chat", "time": "1895", "place": "Baker Street"},
        "background": parsed.background,
        "turns": [t.as_dict() for t in parsed.turns],
    }


def test_chat_export_alternates_and_ends_with_the_character() -> None:
    messages = chat_messages(_row(), "Sherlock Holmes", "en")
    roles = [m["role"] for m in messages]
    assert roles[0] == "system" and roles[-1] == "assistant"
    assert all(a != b for a, b in zip(roles[1:], roles[2:], strict=False))
    assert "Sherlock Holmes" in messages[0]["content"] and "Baker Street" in messages[0]["content"]
    # The character spoke first: the scene opens as the user's message; thoughts are *…*.
    assert messages[1]["role"] == "user" and messages[1]["content"].startswith("(A foggy")
    assert messages[2]["content"].startswith("*The mud on his boots")


def test_character_llm_export() -> None:
    row = export_row(_row(), "Sherlock Holmes", "en", "character-llm")
    assert row["prompt"].rstrip().endswith("The interactions are as follows:")
    assert "Sherlock Holmes (thinking)\nThe mud" in row["output"]
