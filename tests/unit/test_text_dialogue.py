"""The one parser of speaker-tagged dialogue lines (summarization and card add-lines use it)."""

from __future__ import annotations

import pytest

from personae.errors import InvalidInput
from personae.text.dialogue import fold_name, speaker_matches, split_turns


def test_tags_are_kept_as_written_and_untagged_lines_continue_a_turn() -> None:
    text = "#Person1#: Hello.\nand more.\n#Person2#: Hi.\n\n민수：안녕?\n{{char}}: Yes."
    assert split_turns(text) == [
        ("#Person1#", "Hello. and more."),
        ("#Person2#", "Hi."),
        ("민수", "안녕?"),
        ("{{char}}", "Yes."),
    ]


def test_prose_times_and_urls_never_start_a_turn() -> None:
    text = "He paused and said: go\n10:30 is late\nhttps://example.com/x\nHolmes: Come, Watson."
    assert split_turns(text) == [("Holmes", "Come, Watson.")]


def test_scenes_stage_directions_and_narration() -> None:
    text = "<START>\nA: one\n(He sighs.)\n\nThe rain fell.\n<START>\nB: two"
    assert split_turns(text) == [None, ("A", "one"), None, ("B", "two")]


def test_strict_names_the_line_that_is_in_no_turn() -> None:
    with pytest.raises(InvalidInput, match="in no turn: 'no speaker here'"):
        split_turns("no speaker here\nA: hi", strict=True)
    with pytest.raises(InvalidInput, match="The rain fell"):
        split_turns("A: hi\n\nThe rain fell.", strict=True)
    assert split_turns("A: hi\nstill A", strict=True) == [("A", "hi still A")]


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff", "::::", "#: x", "a" * 5000])
def test_odd_input_gives_no_turns_and_never_raises(text: str) -> None:
    assert split_turns(text) == []


def test_known_speakers_and_matching() -> None:
    assert split_turns("the narrator: it was late", ["The Narrator"]) == [
        ("the narrator", "it was late")
    ]
    assert fold_name("#Person1#") == fold_name(" person1 ")
    assert speaker_matches("HOLMES", ["holmes"]) and not speaker_matches("Watson", ["holmes"])
