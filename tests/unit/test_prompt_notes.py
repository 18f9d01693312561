"""Notes stay where they were given; a new note says only what the prompt does not show yet."""

from __future__ import annotations

from personae.agent.prompt import PromptBuilder, Turn
from personae.context.notes import (
    NoteSection,
    PromptMemory,
    fresh_sections,
    render_note,
    text_section,
)
from tests.support.factories import entry, make_book, make_character


def words(text: str) -> int:
    return len(text.split())


def builder(n_ctx: int = 4096, **fields: object) -> PromptBuilder:
    return PromptBuilder(
        make_character(**fields), user_name="Mina", count_tokens=words, n_ctx=n_ctx
    )


PROFILE = NoteSection("What you know about Mina:", ("- Mina keeps bees.", "- Mina has a brother."))


def memory(*extra: str) -> PromptMemory:
    sections = (PROFILE, NoteSection("[Mina's own words]", tuple(extra))) if extra else (PROFILE,)
    return PromptMemory(sections=sections)


def play(b: PromptBuilder, texts: list[str], memories: list[PromptMemory]) -> list[list[object]]:
    """Each turn's prompt, the note stored with its message as a chat does."""
    history: list[Turn] = [Turn("assistant", "Good evening.")]
    prompts = []
    for text, mem in zip(texts, memories, strict=True):
        prompt = b.build([*history, Turn("user", text)], max_tokens=50, memory=mem)
        prompts.append(prompt.messages)
        history += [Turn("user", text, prompt.note), Turn("assistant", f"Reply to {text}")]
    return prompts


def test_each_prompt_extends_the_previous_one() -> None:
    b = builder()
    texts = ["I keep bees.", "My brother visits.", "What of it?"]
    prompts = play(b, texts, [memory(), memory('- "I was stung"'), memory()])
    for before, after in zip(prompts, prompts[1:], strict=False):
        # Everything up to and including the previous user message is unchanged: only the
        # reply, the new note (if any) and the new message are new to the backend.
        assert after[: len(before)] == before[: len(before)]


def test_a_new_note_holds_only_what_is_not_shown_yet() -> None:
    b = builder()
    prompts = play(b, ["a", "b", "c"], [memory(), memory('- "I was stung"'), memory()])
    notes = [[m.content for m in p if m.role == "system"][1:] for p in prompts]
    assert "Mina keeps bees" in notes[0][-1]
    # Turn 2: the profile is already in the prompt; only the new memory is added.
    assert "Mina keeps bees" not in notes[1][-1] and "I was stung" in notes[1][-1]
    assert notes[1][-1].startswith("[Mina's own words]")
    # Turn 3: nothing new at all, so no new note (the two earlier ones stay in place).
    assert len(notes[2]) == 2


def test_regenerate_shows_the_stored_note_unchanged() -> None:
    b = builder()
    history = [Turn("assistant", "Hello."), Turn("user", "Hi", "[Old note]\n- kept")]
    prompt = b.build(history, max_tokens=50, memory=memory('- "new"'))
    assert [m.content for m in prompt.messages if m.role == "system"][1] == "[Old note]\n- kept"
    assert not prompt.note_is_new and prompt.note == "[Old note]\n- kept"


def test_lore_entry_is_given_once_while_it_stays_triggered() -> None:
    book = make_book(entry(["moriarty"], "Moriarty is a professor of mathematics."))
    b = builder(character_book=book)
    prompts = play(b, ["Moriarty?", "Tell me more of Moriarty."], [PromptMemory()] * 2)
    joined = [m.content for m in prompts[1] if m.role == "system"]
    assert sum("professor of mathematics" in text for text in joined) == 1


def test_a_note_of_a_dropped_message_is_given_again() -> None:
    b = builder(n_ctx=420)
    history: list[Turn] = [Turn("assistant", "Hello.")]
    for i in range(30):
        prompt = b.build(
            [*history, Turn("user", f"m{i} " + "w " * 20)], max_tokens=50, memory=memory()
        )
        history += [Turn("user", f"m{i} " + "w " * 20, prompt.note), Turn("assistant", "ok " * 20)]
    assert prompt.history_dropped > 0
    system = "\n".join(m.content for m in prompt.messages if m.role == "system")
    assert "Mina keeps bees" in system  # the profile is always somewhere in the prompt


def test_answer_language_directive_when_the_user_switches() -> None:
    b = builder()  # an English card
    ko = b.build([Turn("user", "안녕하세요, 오늘 날씨가 좋네요.")], max_tokens=50)
    assert "answer in Korean" in ko.note
    en = b.build([Turn("user", "Good evening, Mr Holmes.")], max_tokens=50)
    assert en.note == ""


def test_fresh_sections_and_rendering() -> None:
    sections = [PROFILE, NoteSection("", ("[answer in Korean]",), repeat=True)]
    given = render_note(sections)
    left = fresh_sections(sections, given)
    assert left == [NoteSection("", ("[answer in Korean]",), repeat=True)]
    assert text_section("  \n ") is None
    assert text_section("a\n\nb") == NoteSection("", ("a", "b"), "\n\n")
    assert NoteSection("H", ("  ",)).render() == ""


def test_forgetting_or_correcting_a_memory_empties_the_notes_that_show_it(tmp_path) -> None:
    from personae.store import CharacterRepository, ChatRepository, Database
    from personae.store.memories import MemoryRepository, NewMemory

    db = Database(tmp_path / "p.db")
    CharacterRepository(db).add(make_character(), character_id="holmes")
    chats = ChatRepository(db)
    chat = chats.create("holmes", user_name="Ana", user_id="ana")
    memories = MemoryRepository(db)

    def fact(text: str) -> int:
        return memories.add(
            NewMemory("fact", text, [], "words", user_id="ana", character_id="holmes", label="x")
        )

    bees, peanuts = fact("Ana keeps bees."), fact("Ana is allergic to peanuts.")
    user_bees, _ = chats.begin_turn(chat, "I keep bees.", note="What you know:\n- Ana keeps bees.")
    user_nuts, _ = chats.begin_turn(chat, "Peanuts!", note="- Ana is allergic to peanuts.")
    other, _ = chats.begin_turn(chat, "Hello.", note="[Background]\n- Baker Street")
    memories.delete([bees])
    memories.update(peanuts, NewMemory("fact", "Ana is allergic to cats.", [], "words"))
    notes = {m.id: m.note for m in chats.messages(chat)}
    assert notes[user_bees] == "" and notes[user_nuts] == ""
    assert notes[other] == "[Background]\n- Baker Street"  # untouched


def test_a_recalled_message_still_in_the_prompt_is_not_recalled_again() -> None:
    b = builder()
    said = "My brother Tom keeps bees in Sussex."
    history = [Turn("assistant", "Hello."), Turn("user", said), Turn("assistant", "Indeed.")]
    recall = PromptMemory(sections=(NoteSection("[Mina's own words]", (f'- "{said}"',)),))
    prompt = b.build([*history, Turn("user", "What of him?")], max_tokens=50, memory=recall)
    assert prompt.note == ""
