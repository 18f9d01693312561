"""Quoted speech and its speaker, from prose written for these tests (English and Korean),
and scripts; bad input to the extractor."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.errors import InvalidInput, NotFound
from personae.experience.from_text import (
    MAX_UTTERANCE,
    character_lines,
    extract_lines,
    looks_like_script,
    read_book,
)
from personae.experience.from_text.quotes import find_quotes, paragraphs

ALIASES = ["Jonas Pike", "my companion", "my friend"]


def said(text: str, name: str = "Pike", **kw: object) -> list[tuple[str | None, str, str]]:
    found = extract_lines(text, name, ALIASES, narrator="Marlow", **kw)  # type: ignore[arg-type]
    return [(line.speaker, line.text, line.how) for line in found.lines]


def test_tag_after_before_and_inverted() -> None:
    text = (
        "“The tide is late,” said Pike.\n\n"
        "“It always is,” Mrs. Garrow answered.\n\n"
        "Pike said, “Then we wait.”\n\n"
        "“Wait for what?” asked the inspector."
    )
    assert said(text) == [
        ("Pike", "The tide is late.", "tag"),
        ("Mrs. Garrow", "It always is.", "tag"),
        ("Pike", "Then we wait.", "tag"),
        ("the inspector", "Wait for what?", "tag"),
    ]


def test_interrupting_tag_is_one_utterance() -> None:
    text = "“I think,” said he, “that the boat was moved.”\n\nPike was silent."
    [line] = extract_lines(text, "Pike", narrator="Marlow").lines
    assert line.text == "I think, that the boat was moved."


def test_two_speakers_in_one_paragraph_stay_apart() -> None:
    text = "“Is it?” asked Pike. “It is,” said the inspector."
    assert [s for s, _, _ in said(text)] == ["Pike", "the inspector"]


def test_narrator_and_alias_epithets() -> None:
    text = (
        "“You are late,” remarked my companion.\n\n"
        "“The train,” I answered.\n\n"
        "“Trains are never late for me,” said Jonas Pike."
    )
    assert [(s, how) for s, _, how in said(text)] == [
        ("Pike", "tag"),
        ("Marlow", "narrator"),
        ("Pike", "tag"),
    ]


def test_alternation_in_a_two_person_run() -> None:
    text = (
        "“Where were you?” said Pike.\n\n"
        "“At the docks,” said Mrs. Garrow.\n\n"
        "“Alone?”\n\n"
        "“With my brother.”\n\n"
        "“Then he lied to me.”"
    )
    lines = extract_lines(text, "Pike", ALIASES).lines
    assert [(line.speaker, line.how) for line in lines[2:]] == [
        ("Pike", "alternation"),
        ("Mrs. Garrow", "alternation"),
        ("Pike", "alternation"),
    ]
    assert lines[3].answers is not None and lines[3].answers.speaker == "Pike"
    assert lines[3].answers.text == "Alone?"


def test_untagged_opening_of_a_run_is_filled_from_the_turns_after_it() -> None:
    text = "“What is it?”\n\n“A letter,” said Pike.\n\n“From whom?” said Mrs. Garrow."
    assert said(text)[0][0] == "Mrs. Garrow"


def test_pronouns_resolve_to_the_latest_person_of_that_gender() -> None:
    text = (
        "Mrs. Garrow came in, and Pike rose to meet her.\n\n"
        "“You sent for me,” she said.\n\n"
        "“I did,” he answered."
    )
    assert [(s, how) for s, _, how in said(text)] == [
        ("Mrs. Garrow", "pronoun"),
        ("Pike", "pronoun"),
    ]


def test_action_beat_names_the_speaker() -> None:
    text = "“Hello,” said Pike.\n\nMrs. Garrow laughed. “You again.”"
    assert said(text)[1][:1] == ("Mrs. Garrow",)


def test_speech_over_several_paragraphs_is_one_utterance() -> None:
    text = (
        "“It began in May,” said Mrs. Garrow. “The boats went out.\n\n"
        "“Then the boats came back without him.\n\n"
        "“And nobody spoke of it.”\n\n"
        "“Go on,” said Pike."
    )
    lines = extract_lines(text, "Pike").lines
    assert len(lines) == 2
    assert lines[0].speaker == "Mrs. Garrow"
    assert lines[0].text.endswith("And nobody spoke of it.")
    assert "The boats went out.\nThen the boats came back" in lines[0].text
    assert lines[1].answers is not None and lines[1].answers.speaker == "Mrs. Garrow"


def test_offsets_context_and_single_quotes() -> None:
    text = "The fog was thick that night.\n\n“She said ‘never’,” said Pike, “and meant it.”"
    [line] = extract_lines(text, "Pike").lines
    assert text[line.offset] == "“"
    assert "‘never’" in line.text
    assert "fog was thick" in line.context


def test_straight_quotes_and_line_per_paragraph() -> None:
    text = '"Ready?" said Pike.\n"Ready," said Mrs. Garrow.\n"Go."\n'
    assert len(paragraphs(text)) == 3
    assert [s for s, _, _ in said(text)] == ["Pike", "Mrs. Garrow", "Pike"]


KOREAN = """\
“오늘은 비가 오겠군.” 하고 홈즈가 말했다.

왓슨은 “어떻게 아십니까?”라고 물었다.

“구름을 보게.”

“구름이야 늘 있지요.”

“자네는 보기만 하고 관찰하지 않아.”라고 그가 대답했다.

그녀는 “두 분 다 틀렸어요.”라고 말했다.
"""


def test_korean_tags_and_alternation() -> None:
    found = extract_lines(KOREAN, "홈즈", ["셜록 홈즈"])
    assert found.language == "ko"
    got = [(line.speaker, line.how) for line in found.lines]
    assert got[0] == ("홈즈", "tag")
    assert got[1] == ("왓슨", "tag")
    assert got[2] == ("홈즈", "alternation")
    assert got[3] == ("왓슨", "alternation")
    assert got[4] == ("홈즈", "pronoun")
    assert found.lines[0].text == "오늘은 비가 오겠군."


def test_korean_corner_brackets_and_narrator() -> None:
    text = "「어서 오게.」 하고 홈즈가 말했다.\n\n「고맙습니다.」라고 내가 대답했다."
    found = extract_lines(text, "홈즈", narrator="왓슨")
    assert [(line.speaker, line.how) for line in found.lines] == [
        ("홈즈", "tag"),
        ("왓슨", "narrator"),
    ]


SCRIPT = "Watson: Where were you?\nHolmes: On the roof.\nWatson: Why?\nHolmes: Pipes.\n"


def test_scripts_use_the_script_parser() -> None:
    assert looks_like_script(SCRIPT) and not looks_like_script(KOREAN)
    found = extract_lines(SCRIPT, "Holmes", ["Sherlock Holmes"])
    assert found.kind == "script"
    mine = character_lines(found, "s.txt")
    assert [line.text for line in mine] == ["On the roof.", "Pipes."]
    assert mine[1].answers is not None and mine[1].answers.text == "Why?"
    assert SCRIPT[mine[0].offset :].startswith("On the roof")


def test_unknown_character_names_who_speaks() -> None:
    found = extract_lines("“Hi,” said Pike.\n\n“Hello,” said Garrow.", "Holmes")
    with pytest.raises(InvalidInput, match=r"'Holmes' speaks no line in b.txt; names that do: "):
        character_lines(found, "b.txt")


def test_text_without_speech() -> None:
    found = extract_lines("It rained. Nobody came.", "Pike")
    with pytest.raises(InvalidInput, match="no quoted speech"):
        character_lines(found, "b.txt")


@pytest.mark.parametrize(
    ("name", "aliases", "needle"),
    [("  ", [], "empty"), ("x" * 200, [], "at most"), ("Pike", [" "], "empty")],
)
def test_bad_names(name: str, aliases: list[str], needle: str) -> None:
    with pytest.raises(InvalidInput, match=needle):
        extract_lines("“Hi,” said Pike.", name, aliases)


def test_long_utterances_are_cut() -> None:
    text = "“" + "word " * 3000 + "”said Pike."
    [line] = extract_lines(text, "Pike").lines
    assert len(line.text) <= MAX_UTTERANCE + 2


def test_read_book_bounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(NotFound):
        read_book(tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n\n")
    with pytest.raises(InvalidInput, match="empty"):
        read_book(empty)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("“Café,” said Pike.".encode("cp1252"))
    with pytest.raises(InvalidInput, match="not UTF-8"):
        read_book(latin)
    with pytest.raises(InvalidInput, match="not a file"):
        read_book(tmp_path)
    from personae.experience.from_text import extract

    monkeypatch.setattr(extract, "MAX_BYTES", 10)
    big = tmp_path / "big.txt"
    big.write_text("“Hello there,” said Pike.")
    with pytest.raises(InvalidInput, match="more than the limit"):
        read_book(big)


_QUOTEY = st.text(alphabet=st.sampled_from(list('“”"「」 \n\nab.,Hesaid그가말했다')), max_size=200)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=300), _QUOTEY))
def test_extractor_never_crashes(text: str) -> None:
    found = extract_lines(text, "He")
    for line in found.lines:
        assert line.text.strip()
        assert 0 <= line.offset < max(1, len(text))
    assert all(q.text for q in find_quotes(text))
