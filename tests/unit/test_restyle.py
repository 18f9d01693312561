from __future__ import annotations

import pytest

from personae.agent.restyle import (
    ATTEMPTS,
    MAX_LINE_CHARS,
    MAX_RESTYLE_CHARS,
    build_messages,
    clean,
    restyle,
    restyle_line,
    restyle_lines,
    style_samples,
)
from personae.backends import GenerationParams
from personae.characters import bundled_characters
from personae.errors import InvalidInput
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend

HOLMES_LINES = (
    "<START>\n{{user}}: How did you know?\n"
    "{{char}}: *He smiles.* Your tan, {{user}}. It is quite elementary, my dear fellow. "
    "Data, data, data! I cannot make bricks without clay."
)


def holmes() -> object:
    return make_character(mes_example=HOLMES_LINES)


def test_each_line_is_restyled_and_quotes_trimmed() -> None:
    backend = ScriptedBackend().enqueue('"Most singular, Watson."', "「Capital work!」")
    out = restyle(make_character(), backend, "That is odd.\n\nGreat work!")
    assert out == "Most singular, Watson.\nCapital work!"
    assert len(backend.calls) == 2  # the blank line is skipped, each answer passed at once


def test_the_prompt_is_an_editing_task_with_the_characters_own_lines() -> None:
    backend = ScriptedBackend().enqueue("I am obliged to you for today's assistance.")
    character = make_character(mes_example=HOLMES_LINES)
    restyle(character, backend, "Thank you for your help today.")
    messages, params = backend.calls[0]
    system, user, opened = messages
    assert system.role == "system" and "script editor" in system.content
    # Style samples: the character's own sentences, actions and the listener's name left out.
    assert "It is quite elementary, my dear fellow." in system.content
    assert "He smiles" not in system.content and "Your tan" not in system.content
    assert "a thank-you stays a thank-you" in system.content
    assert "{{" not in system.content
    # The line goes in the user turn, not as something to answer in the role-play.
    assert user.role == "user" and "Plain line: Thank you for your help today." in user.content
    assert opened.role == "assistant" and opened.prefix and opened.content == '"'
    assert '"\n' in params.stop
    # The output is capped near three times the input, under the caller's own cap.
    assert params.max_tokens < 200


def test_korean_character_gets_a_korean_task_and_answers_in_korean() -> None:
    backend = ScriptedBackend().enqueue("고맙소.")
    hong = bundled_characters()["hong-gildong"]
    assert list(restyle_lines(hong, backend, "Thank you.")) == ["고맙소."]
    system, user, _ = backend.calls[0][0]
    assert "말투" in system.content and "한국어로 옮겨" in system.content
    assert "평범한 대사 (영어, 한국어로 옮겨 말하세요): Thank you." in user.content


def test_samples_prefer_the_characters_language() -> None:
    mina = bundled_characters()["mina"]  # an English card with Korean example lines
    samples = style_samples(mina)
    assert samples and all(len(s) >= 8 for s in samples)
    hong = style_samples(bundled_characters()["hong-gildong"])
    assert hong and all("*" not in s for s in hong)


def test_an_assistant_answer_is_tried_again() -> None:
    backend = ScriptedBackend().enqueue("안녕하세요! 도움이 필요하신가요?", "오늘 도와주어 고맙소.")
    hong = bundled_characters()["hong-gildong"]
    params = GenerationParams(temperature=0.5, seed=7)
    out = restyle_line(hong, backend, "Thank you for your help today.", params=params)
    assert out == "오늘 도와주어 고맙소."
    first, second = (p for _, p in backend.calls)
    assert second.seed == 8 and second.temperature >= 0.8


@pytest.mark.parametrize(
    "bad",
    [
        "Thank you for your help today.",  # an echo of the input
        "Thank you kindly, sir.",  # English from a Korean character
        "...",  # nothing said
    ],
)
def test_a_wrong_answer_is_retried_then_the_least_bad_is_kept(bad: str) -> None:
    backend = ScriptedBackend().enqueue(*([bad] * ATTEMPTS))
    hong = bundled_characters()["hong-gildong"]
    out = restyle_line(hong, backend, "Thank you for your help today.")
    assert len(backend.calls) == ATTEMPTS
    assert out == clean(bad, hong.name)


def test_an_assistant_answer_is_the_last_choice() -> None:
    backend = ScriptedBackend().enqueue(
        "How can I help you today?", "Thank you for your help today.", "How may I assist you?"
    )
    assert restyle_line(holmes(), backend, "Thank you for your help today.") == (  # type: ignore[arg-type]
        "Thank you for your help today."
    )


def test_a_lost_number_is_retried() -> None:
    backend = ScriptedBackend().enqueue("The bridge is long.", "The bridge, sir, is 40 paces.")
    out = restyle_line(holmes(), backend, "The bridge is 40 steps long.")  # type: ignore[arg-type]
    assert out == "The bridge, sir, is 40 paces."


def test_an_input_that_is_itself_assistant_speak_is_not_held_against_the_rewrite() -> None:
    backend = ScriptedBackend().enqueue("How can I help you today, then?")
    line = "How can I help you today?"
    assert restyle_line(holmes(), backend, line) == "How can I help you today, then?"  # type: ignore[arg-type]
    assert len(backend.calls) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('Holmes: "Elementary."', "Elementary."),
        ("*He sighs.* Elementary.\nAnd more.", "Elementary."),
        ("\n\n“Elementary.”", "Elementary."),
        ("*nods*\nElementary.", "Elementary."),
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert clean(raw, "Holmes") == expected


def test_build_messages_states_the_length_budget() -> None:
    messages = build_messages(make_character(), "Hi there.", words=12)
    assert "about 12 words at most" in messages[0].content


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "x" * (MAX_RESTYLE_CHARS + 1),
        "fine\n" + "y" * (MAX_LINE_CHARS + 1),
    ],
)
def test_bad_inputs(text: str) -> None:
    backend = ScriptedBackend()
    with pytest.raises(InvalidInput):
        list(restyle_lines(make_character(), backend, text))
    assert not backend.calls  # rejected before any model call, even the fine first line


@pytest.mark.parametrize("line", ["", "  ", "z" * (MAX_LINE_CHARS + 1)])
def test_bad_single_line(line: str) -> None:
    with pytest.raises(InvalidInput):
        restyle_line(make_character(), ScriptedBackend(), line)


def test_a_copied_style_sample_or_a_cut_off_line_is_retried() -> None:
    backend = ScriptedBackend().enqueue(
        "It is quite elementary, my dear fellow.",  # one of the style samples, word for word
        "Of course it is,",  # ends on a comma: cut off
        "I owe you my thanks for today's help, my dear fellow.",
    )
    out = restyle_line(holmes(), backend, "Thank you for your help today.")  # type: ignore[arg-type]
    assert out == "I owe you my thanks for today's help, my dear fellow."
    assert len(backend.calls) == 3


def test_a_lost_name_is_retried_in_english() -> None:
    backend = ScriptedBackend().enqueue("Thank you.", "My thanks for the bread, Gretel.")
    out = restyle_line(holmes(), backend, "Thank you for the bread, Gretel.")  # type: ignore[arg-type]
    assert out == "My thanks for the bread, Gretel."


def test_a_line_told_as_a_story_keeps_only_what_is_said() -> None:
    said = clean('Excuse me," Elizabeth said, "I lost the map, Hansel."', "Elizabeth")
    assert said == "Excuse me, I lost the map, Hansel."


def test_a_short_style_sample_said_back_is_retried() -> None:
    elizabeth = bundled_characters()["elizabeth"]
    assert "Mr Darcy?" in style_samples(elizabeth)
    backend = ScriptedBackend().enqueue("Mr Darcy?", "The wolf lies in wait behind the great oak.")
    out = restyle_line(elizabeth, backend, "The wolf is waiting behind the big oak tree.")
    assert out == "The wolf lies in wait behind the great oak."
