"""The character's own lines: the script parser (every tag format, continuation, context, the
things that are not tags), a card's example lines, and indexing them into the memory bank."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.errors import InvalidInput
from personae.memory import lines as lines_module
from personae.memory.bank import MemoryBank
from personae.memory.lines import (
    MAX_LINES,
    ScriptLine,
    card_source,
    default_speakers,
    import_lines,
    line_drafts,
    lines_for,
    new_lines,
    parse_script,
    speaker_matches,
    sync_card_lines,
)
from personae.store import CharacterRepository, Database
from tests.support.embedder import HashEmbedder
from tests.support.factories import make_character

SCRIPT = """\
Watson: Where were you all night?
Holmes: At the docks, watching a ship
that never sailed.

(Holmes lights his pipe.)
Watson: And?
Holmes: And I have our man.
"""

KOREAN = """\
길동: 형님, 어디 가시오?
홍길동: 산채로 돌아가네.
길동: 저도 데려가 주시오.
홍길동: 따라오게. 허나 발소리는 죽이게.
"""


def speakers_and_texts(found: list[ScriptLine]) -> list[tuple[str, str]]:
    return [(line.speaker, line.text) for line in found]


# -- the parser ---------------------------------------------------------------------------------


def test_plain_colon_script_with_continuation_and_context() -> None:
    found = parse_script(SCRIPT)
    assert found == [
        ScriptLine("Watson", "Where were you all night?", None),
        ScriptLine(
            "Holmes",
            "At the docks, watching a ship that never sailed.",
            "Watson: Where were you all night?",
        ),
        ScriptLine("Watson", "And?", "Holmes: At the docks, watching a ship that never sailed."),
        ScriptLine("Holmes", "And I have our man.", "Watson: And?"),
    ]


@pytest.mark.parametrize(
    ("line", "speaker", "text"),
    [
        ("Holmes: Elementary.", "Holmes", "Elementary."),
        ("Holmes：Elementary.", "Holmes", "Elementary."),
        ("ハルヒ：遅い！", "ハルヒ", "遅い！"),
        ("ハルヒ:「遅い！」", "ハルヒ", "遅い！"),
        ("ハルヒ「遅い！」", "ハルヒ", "遅い！"),
        ("춘향『서방님!』", "춘향", "서방님!"),
        ("Holmes “Quite so.”", "Holmes", "Quite so."),
        ('Holmes: "Quite so."', "Holmes", "Quite so."),
        ("#Person1#: Hello, how are you?", "Person1", "Hello, how are you?"),
        ("#Person2#：Fine.", "Person2", "Fine."),
        ("{{char}}: Indeed.", "{{char}}", "Indeed."),
        ("{{USER}}: Hm?", "{{user}}", "Hm?"),
        ("<BOT>: Indeed.", "{{char}}", "Indeed."),
        ("홍길동: 나는 홍길동이오.", "홍길동", "나는 홍길동이오."),
        ("홍길동:나는 홍길동이오.", "홍길동", "나는 홍길동이오."),
        ("Mr. Darcy: You must allow me.", "Mr. Darcy", "You must allow me."),
        ("The Man in Black: As you wish.", "The Man in Black", "As you wish."),
        ("HOLMES (V.O.): The game is afoot.", "HOLMES", "The game is afoot."),
        ("O'Brien: Aye.", "O'Brien", "Aye."),
        ("Holmes: See you at 10:30.", "Holmes", "See you at 10:30."),
        ("Holmes: [softly] Come [now].", "Holmes", "[softly] Come [now]."),
        ("Holmes: (softly) Come.", "Holmes", "(softly) Come."),
    ],
)
def test_every_tag_format(line: str, speaker: str, text: str) -> None:
    assert speakers_and_texts(parse_script(line)) == [(speaker, text)]


def test_quote_spanning_lines_is_joined_and_unwrapped() -> None:
    found = parse_script("ハルヒ「ただの人間には\n興味ありません」")
    assert speakers_and_texts(found) == [("ハルヒ", "ただの人間には 興味ありません")]


def test_screenplay_name_alone_then_the_line() -> None:
    found = parse_script("Holmes:\nYou have been in Afghanistan, I perceive.")
    assert speakers_and_texts(found) == [("Holmes", "You have been in Afghanistan, I perceive.")]


@pytest.mark.parametrize(
    "prose",
    [
        "He paused and said: nothing more.",
        "Note: the door was open.",
        "NB: Holmes lies here.",
        "Meet me at 10:30 tomorrow.",
        "10:30 The train leaves.",
        "https://example.com/script: see here",
        "Ratio 3:1 they said",
        "Why, then: who?",
        "I saw it. Then: nothing.",
        "그때 그가 말했다: 가자.",
        "He said “hi” and left.",
        "A name that is far too long to be any speaker at all: yes",
    ],
)
def test_prose_is_never_a_speaker(prose: str) -> None:
    assert parse_script(prose) == []
    # …and after a real line it reads as that line's continuation, not a new turn.
    assert speakers_and_texts(parse_script(f"Holmes: Look.\n{prose}")) == [
        ("Holmes", f"Look. {prose}")
    ]


def test_blank_line_ends_a_turn_and_narration_is_skipped() -> None:
    found = parse_script("Holmes: One.\n\nThe fog thickened over Baker Street.\nWatson: Two.")
    assert speakers_and_texts(found) == [("Holmes", "One."), ("Watson", "Two.")]


def test_stage_directions_alone_are_skipped() -> None:
    text = "Holmes: Come.\n[Exit Watson]\n(pause)\n【暗転】\nHolmes: (sighs)\nWatson: Well?"
    found = parse_script(text)
    assert speakers_and_texts(found) == [("Holmes", "Come."), ("Watson", "Well?")]
    assert found[1].context == "Holmes: Come."


def test_context_is_the_previous_turn_by_someone_else() -> None:
    found = parse_script("Watson: Where?\nHolmes: Here.\nHolmes: And there.\nWatson: Ah.")
    assert [line.context for line in found] == [
        None,
        "Watson: Where?",
        "Watson: Where?",
        "Holmes: And there.",
    ]


def test_start_begins_a_new_scene_without_context() -> None:
    found = parse_script("Watson: Hi.\n<START>\nHolmes: Hello.")
    assert found[1] == ScriptLine("Holmes", "Hello.", None)


def test_korean_script_and_crlf() -> None:
    found = parse_script(KOREAN.replace("\n", "\r\n"))
    assert [line.speaker for line in found] == ["길동", "홍길동", "길동", "홍길동"]
    assert found[3].context == "길동: 저도 데려가 주시오."


def test_speakers_filter_keeps_others_as_context() -> None:
    found = parse_script(SCRIPT, speakers=["holmes"])
    assert [line.speaker for line in found] == ["Holmes", "Holmes"]
    assert found[1].context == "Watson: And?"
    assert parse_script("#Person1#: Hi.\n#Person2#: Yo.", speakers=["#Person2#"]) == [
        ScriptLine("Person2", "Yo.", "Person1: Hi.")
    ]


def test_a_named_speaker_is_recognised_whatever_its_shape() -> None:
    text = "the narrator, later: It rained.\nNote: Fine."
    assert parse_script(text) == []
    assert speakers_and_texts(parse_script(text, speakers=["The Narrator, Later"])) == [
        ("the narrator, later", "It rained. Note: Fine.")
    ]
    assert speakers_and_texts(parse_script(text, speakers=["note"])) == [("Note", "Fine.")]


@pytest.mark.parametrize("text", ["", "   \n\n", "Just some prose.\nMore prose.", "\ufeff"])
def test_empty_and_untagged_input(text: str) -> None:
    assert parse_script(text) == []


def test_bom_is_ignored() -> None:
    assert speakers_and_texts(parse_script("\ufeffHolmes: Hi.")) == [("Holmes", "Hi.")]


def test_speaker_matches() -> None:
    assert speaker_matches("HOLMES", ["holmes"])
    assert speaker_matches("Mr.  Darcy", ["mr. darcy"])
    assert not speaker_matches("Holmes", ["Watson"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=60),
            st.sampled_from(
                ["Holmes: hi", "#P1#: x", "{{char}}:", "(aside)", "", "<START>", "名「", "a:b"]
            ),
        ),
        max_size=12,
    ),
    st.none() | st.lists(st.text(max_size=10), max_size=3),
)
def test_parse_never_raises_and_lines_are_never_empty(
    parts: list[str], speakers: list[str] | None
) -> None:
    for line in parse_script("\n".join(parts), speakers=speakers):
        assert line.speaker.strip() and line.text.strip()
        assert line.context is None or line.context.strip()


# -- a card's lines -----------------------------------------------------------------------------

CARD_EXAMPLES = (
    "<START>\n{{user}}: How did you know?\n{{char}}: Your tan, {{user}}.\n"
    "<START>\n{{user}}: Tea?\n<BOT>: Never before noon.\nHolmes: Nor after it."
)


def test_lines_for_a_card_expands_macros_and_splits_blocks() -> None:
    holmes = make_character("Sherlock Holmes", mes_example=CARD_EXAMPLES)
    found = lines_for(holmes, user="Watson")
    assert found == [
        ScriptLine("Sherlock Holmes", "Your tan, Watson.", "Watson: How did you know?"),
        ScriptLine("Sherlock Holmes", "Never before noon.", "Watson: Tea?"),
        ScriptLine("Holmes", "Nor after it.", "Watson: Tea?"),
    ]


def test_lines_for_adds_a_script_and_uses_default_speakers() -> None:
    holmes = make_character("Sherlock Holmes", nickname="Sherlock", mes_example="")
    assert default_speakers(holmes) == ["Sherlock Holmes", "Sherlock", "Holmes"]
    found = lines_for(holmes, SCRIPT)
    assert [line.text for line in found] == [
        "At the docks, watching a ship that never sailed.",
        "And I have our man.",
    ]
    assert [line.speaker for line in lines_for(holmes, SCRIPT, speakers=["Watson"])] == [
        "Watson",
        "Watson",
    ]
    everyone = lines_for(holmes, SCRIPT, keep_others=True)
    assert len(everyone) == 4


def test_default_speakers_of_korean_and_titled_names() -> None:
    assert default_speakers(make_character("홍길동")) == ["홍길동"]
    assert default_speakers(make_character("Mr. Fitzwilliam Darcy")) == [
        "Mr. Fitzwilliam Darcy",
        "Fitzwilliam",
        "Darcy",
    ]


def test_line_drafts() -> None:
    drafts = line_drafts(
        "holmes",
        [ScriptLine("Holmes", "Elementary.", "Watson: How?"), ScriptLine("Holmes", "Quite.")],
        source="script:test",
    )
    assert [d.text for d in drafts] == ["Watson: How?\nHolmes: Elementary.", "Holmes: Quite."]
    assert {(d.kind, d.user_id, d.character_id, d.label, d.source) for d in drafts} == {
        ("line", None, "holmes", "Holmes", "script:test")
    }


# -- indexing -----------------------------------------------------------------------------------


@pytest.fixture
def db(store_location: str | Path) -> Database:
    database = Database(store_location)
    CharacterRepository(database).add(
        make_character("Sherlock Holmes", mes_example=CARD_EXAMPLES), character_id="holmes"
    )
    return database


@pytest.fixture
def bank(db: Database) -> MemoryBank:
    return MemoryBank(db, embedder=HashEmbedder())


def stored_lines(bank: MemoryBank) -> list[tuple[str, str]]:
    return [(i.source, i.text) for i in bank.repo.partition(None, "holmes", ["line"])]


def test_sync_card_lines_is_idempotent_and_follows_edits(bank: MemoryBank) -> None:
    holmes = make_character("Sherlock Holmes", mes_example=CARD_EXAMPLES)
    assert sync_card_lines(bank, "holmes", holmes) == 3
    first = stored_lines(bank)
    assert {source for source, _ in first} == {card_source(holmes)}
    assert card_source(holmes).startswith("card:") and len(card_source(holmes)) == 17
    assert sync_card_lines(bank, "holmes", holmes) == 0
    assert stored_lines(bank) == first
    # Imported lines survive a card re-sync; the old card lines do not.
    import_lines(bank, "holmes", [ScriptLine("Holmes", "Data!")], source="script:x")
    edited = holmes.model_copy(update={"mes_example": "<START>\n{{char}}: I am lost."})
    assert sync_card_lines(bank, "holmes", edited) == 1
    assert stored_lines(bank) == [
        ("script:x", "Holmes: Data!"),
        (card_source(edited), "Sherlock Holmes: I am lost."),
    ]
    found = bank.search("lost", kinds=["line"], user_id="ana", character_id="holmes")
    assert [r.item.text for r in found][0] == "Sherlock Holmes: I am lost."


def test_sync_with_no_examples_removes_old_card_lines(bank: MemoryBank) -> None:
    holmes = make_character("Sherlock Holmes", mes_example=CARD_EXAMPLES)
    sync_card_lines(bank, "holmes", holmes)
    assert sync_card_lines(bank, "holmes", holmes.model_copy(update={"mes_example": ""})) == 0
    assert stored_lines(bank) == []


def test_import_skips_duplicates(bank: MemoryBank) -> None:
    found = parse_script(SCRIPT + "\n" + SCRIPT, speakers=["Holmes"])
    assert len(found) == 4
    assert import_lines(bank, "holmes", found, source="script:a") == 2
    assert import_lines(bank, "holmes", found, source="script:b") == 0
    assert new_lines(bank, "holmes", found, source="script:c") == []
    assert {source for source, _ in stored_lines(bank)} == {"script:a"}


def test_duplicates_are_recognised_after_redaction(bank: MemoryBank) -> None:
    line = [ScriptLine("Holmes", "Write to holmes@example.com at once.")]
    assert import_lines(bank, "holmes", line, source="s") == 1
    assert "holmes@example.com" not in stored_lines(bank)[0][1]
    assert import_lines(bank, "holmes", line, source="s") == 0


def test_import_reports_progress_in_batches(
    bank: MemoryBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lines_module, "BATCH", 2)
    seen: list[tuple[int, int]] = []
    many = [ScriptLine("Holmes", f"Clue number {i}.") for i in range(5)]
    assert import_lines(bank, "holmes", many, source="s", progress=lambda *a: seen.append(a)) == 5
    assert seen == [(2, 5), (4, 5), (5, 5)]


def test_import_refuses_more_than_the_limit(bank: MemoryBank) -> None:
    too_many = [ScriptLine("Holmes", "x")] * (MAX_LINES + 1)
    with pytest.raises(InvalidInput, match="50,000"):
        import_lines(bank, "holmes", too_many, source="s")
    assert stored_lines(bank) == []


def test_card_lines_are_kept_even_when_a_script_has_them_too(bank: MemoryBank) -> None:
    holmes = make_character("Sherlock Holmes", mes_example="<START>\n{{char}}: I am lost.")
    import_lines(bank, "holmes", [ScriptLine("Sherlock Holmes", "I am lost.")], source="s")
    assert sync_card_lines(bank, "holmes", holmes) == 1
    assert [source for source, _ in stored_lines(bank)] == ["s", card_source(holmes)]


def test_first_chats_starting_together_index_the_card_once(db: Database) -> None:
    # Several users' first chats (threads here; processes on PostgreSQL) at the same moment.
    import threading

    holmes = make_character("Sherlock Holmes", mes_example=CARD_EXAMPLES)
    added: list[int] = []
    start = threading.Barrier(6)

    def first_chat() -> None:
        with Database(db.location) as own:
            bank = MemoryBank(own, embedder=HashEmbedder())
            start.wait()
            added.append(sync_card_lines(bank, "holmes", holmes))

    threads = [threading.Thread(target=first_chat) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(added) == [0, 0, 0, 0, 0, 3]
    rows = db.conn.execute("SELECT COUNT(*) FROM memories WHERE kind = 'line'").fetchone()
    assert rows[0] == 3
