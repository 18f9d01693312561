"""Profile facts that need more than a clause's start: lead-ins, facts inside a clause, a name
given by pronoun in a later sentence, and the precision cases that must stay silent. (The
clause-initial rules are tested in test_memory_profile.py.)"""

from __future__ import annotations

import pytest

from personae.memory.profile import extract_facts

Expected = list[tuple[str, str]]

ENGLISH: list[tuple[str, Expected]] = [
    (
        "Do you know, I am 34 years of age, and my sister still writes to ask whether I am "
        "wearing flannel.",
        [("age", "34")],
    ),
    ("I must admit my own favourite tipple is sloe gin.", [("likes", "sloe gin")]),
    ("I tune pianos for a living.", [("job", "tunes pianos for a living")]),
    ("I teach children for a living", [("job", "teaches children for a living")]),
    ("I have been a piano tuner since I was fifteen.", [("job", "piano tuner")]),
    ("I have brought my dog along. His name is Pilchard.", [("pet", "dog Pilchard")]),
    ("My sister is visiting. She is called Ann.", [("family", "sister Ann")]),
    ("I am engaged to be married! Her name is Clementine.", [("partner", "fiancée Clementine")]),
    ("I had a letter from my sister Winifred yesterday.", [("family", "sister Winifred")]),
    (
        "At home it was loud, for I am the eldest of nine children.",
        [("family", "eldest of nine children")],
    ),
    ("I am one of the bell-ringing band at St Mary's.", [("hobby", "bell-ringing band")]),
    ("I have lately taken two rooms in Cloudesley Square.", [("lives_in", "Cloudesley Square")]),
    ("We have decided to go to Bruges in the spring.", [("plan", "to go to Bruges in the spring")]),
    (
        "It is my old copy of the Pickwick Papers, my favourite book in the world, which I read "
        "every winter.",
        [("likes", "the Pickwick Papers")],
    ),
    (
        "She knitted me a muffler in cornflower blue, which is my favourite colour of all.",
        [("likes", "cornflower blue")],
    ),
    (
        "My favourite colour is green, my favourite food is pasta.",
        [("likes", "green"), ("likes", "pasta")],
    ),
]

ENGLISH_NOTHING = [
    "His name is Bob.",  # whose? nothing was mentioned before
    "My brother came too. Her name is Ann.",  # "her" is not the brother
    "I am honestly terrified of the creatures.",  # which creatures?
    "I do not tune pianos for a living.",
    "I have been a fool.",
    "If I had a dog, his name would be Rex.",
    "Suppose I lived in Paris, my sister Amélie would visit.",
    "I do this for a living.",
    "Speaking of which, do you have a sister?",
]


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_english_facts_in_context(text: str, expected: Expected) -> None:
    assert [(f.label, f.value) for f in extract_facts(text, language="en")] == expected


@pytest.mark.parametrize("text", ENGLISH_NOTHING)
def test_english_near_misses_give_nothing(text: str) -> None:
    assert extract_facts(text, language="en") == []


def test_new_shapes_read_as_sentences() -> None:
    texts = [f.text for f in extract_facts("I tune pianos for a living.")]
    assert texts == ["The user tunes pianos for a living."]
    texts = [f.text for f in extract_facts("I am the eldest of nine children.")]
    assert texts == ["The user is the eldest of nine children."]


def test_a_pronoun_only_reaches_back_within_one_message() -> None:
    assert extract_facts("His name is Pilchard.") == []
    assert extract_facts("I walked my dog. It rained. His name is Pilchard.") != []
