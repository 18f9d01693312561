from __future__ import annotations

import pytest

from personae.agent.prompt import PromptBuilder, Turn, card_language
from personae.context.budget import DROP_BLOCK
from personae.context.notes import PromptMemory
from personae.errors import ContextOverflow
from tests.support.factories import entry, make_book, make_character


def words(text: str) -> int:
    return len(text.split())


def builder(n_ctx: int = 4096, **fields: object) -> PromptBuilder:
    return PromptBuilder(
        make_character(**fields), user_name="Mina", count_tokens=words, n_ctx=n_ctx
    )


def history(n: int, size: int = 10) -> list[Turn]:
    return [
        Turn("user" if i % 2 == 0 else "assistant", f"m{i} " + "w " * (size - 1)) for i in range(n)
    ]


def test_order_and_macros() -> None:
    prompt = builder().build([Turn("user", "Hi {{char}}")], max_tokens=100)
    system = prompt.messages[0]
    assert system.role == "system"
    assert "You are Holmes" in system.content
    assert (
        "Mina: How did you know?" in system.content and "Holmes: Your tan, Mina." in system.content
    )
    assert "{{" not in system.content
    assert prompt.messages[-1].content == "Hi {{char}}"  # user text is never macro-expanded


def test_system_prompt_override_with_original() -> None:
    b = builder(system_prompt="{{original}} Never break the fourth wall.")
    text = b.system_text()
    assert text.startswith("You are Holmes") and "fourth wall" in text
    b = builder(system_prompt="Only this.")
    assert b.system_text().startswith("Only this.")


def test_post_history_last_and_lore_before_last_user() -> None:
    book = make_book(
        entry(["moriarty"], "Moriarty is a professor of mathematics."),
        entry([], "Holmes plays the violin.", constant=True, position="before_char"),
    )
    b = builder(post_history_instructions="Reply in two sentences.", character_book=book)
    turns = [Turn("assistant", "Hello."), Turn("user", "Tell me about Moriarty.")]
    prompt = b.build(turns, max_tokens=50)
    roles = [m.role for m in prompt.messages]
    assert roles == ["system", "assistant", "system", "user", "system"]
    assert "professor" in prompt.messages[2].content
    assert prompt.messages[-1].content == "Reply in two sentences."
    system = prompt.messages[0].content
    assert system.index("violin") < system.index("consulting detective")


def test_stable_prefix_across_turns() -> None:
    b = builder()
    h = history(20)
    first = b.build(h[:9], max_tokens=50).messages
    second = b.build(h[:11], max_tokens=50).messages
    assert second[: len(first) - 1] == first[:-1] or second[: len(first)] == first


def test_history_dropped_oldest_first_in_blocks() -> None:
    b = builder(n_ctx=600)
    starts = []
    for n in range(40, 80, 2):
        p = b.build(history(n), max_tokens=100)
        assert p.prompt_tokens <= 600 - 100
        starts.append(p.history_dropped)
        assert p.messages[-1].content.startswith(f"m{n - 1} ")
    assert all(s % DROP_BLOCK == 0 for s in starts)
    assert len(set(starts)) < len(starts)  # the cut point (and prefix) stays put for a while
    assert starts == sorted(starts)


def test_examples_dropped_before_overflow_and_card_never() -> None:
    long_examples = "<START>\n{{char}}: " + "x " * 300
    b = builder(n_ctx=500, mes_example=long_examples)
    p = b.build([Turn("user", "hi " * 50)], max_tokens=100)
    assert p.examples_dropped == 1
    assert "consulting detective" in p.messages[0].content


def test_context_overflow_is_clear() -> None:
    b = builder(n_ctx=300, description="d " * 400)
    with pytest.raises(ContextOverflow, match="--ctx"):
        b.build([Turn("user", "hi")], max_tokens=50)
    with pytest.raises(ContextOverflow, match="max_tokens"):
        builder(n_ctx=300).build([Turn("user", "hi")], max_tokens=400)


def test_language_detection() -> None:
    assert card_language(make_character()) == "en"
    ko = make_character(
        "홍길동",
        description="조선의 의적 홍길동이다.",
        personality="의롭다",
        first_mes="누구시오?",
        scenario="",
    )
    assert card_language(ko) == "ko"
    b = PromptBuilder(ko, user_name="민아", count_tokens=words, n_ctx=4096)
    assert "한국어로 답하세요" in b.system_text()


def test_memory_summary_after_system_and_recall_with_the_lore() -> None:
    book = make_book(entry(["moriarty"], "Moriarty is a professor of mathematics."))
    b = builder(character_book=book)
    turns = [Turn("assistant", "Hello."), Turn("user", "Tell me about Moriarty.")]
    memory = PromptMemory(summary="They met at Bart's.", recall="- Mina's dog is Biscuit.")
    prompt = b.build(turns, max_tokens=50, memory=memory)
    roles = [m.role for m in prompt.messages]
    assert roles == ["system", "system", "assistant", "system", "user"]
    assert prompt.messages[1].content.endswith("They met at Bart's.")
    note = prompt.messages[3].content
    assert note.index("professor") < note.index("Biscuit")
    plain = b.build(turns, max_tokens=50)
    assert prompt.prompt_tokens > plain.prompt_tokens  # memory is paid for in the budget
    # Only recall, no lore: still one note just before the newest user message.
    only = b.build([Turn("user", "Hi")], max_tokens=50, memory=PromptMemory(recall="- x"))
    assert [m.role for m in only.messages] == ["system", "system", "user"]
    assert b.build(turns, max_tokens=50, memory=PromptMemory()).messages == plain.messages


def test_prefix_with_memory_stays_stable_while_recall_changes() -> None:
    b = builder()
    h = history(20)
    first = b.build(h[:9], max_tokens=50, memory=PromptMemory("S", "- one")).messages
    second = b.build(h[:11], max_tokens=50, memory=PromptMemory("S", "- two")).messages
    assert first[:2] == second[:2]  # system + summary
    assert first[2:9] == second[2:9]  # history up to the recall note


def test_history_room_leaves_space_for_the_card_and_reserve() -> None:
    b = builder(n_ctx=1000, post_history_instructions="Be brief.")
    room = b.history_room(100)
    assert 0 < room < 1000 - 100
    assert b.history_room(100, reserve=50) == room - 50


def test_continuing_puts_the_partial_message_last_as_the_prefix() -> None:
    book = make_book(entry(["moriarty"], "Moriarty is a professor of mathematics."))
    b = builder(post_history_instructions="Reply in two sentences.", character_book=book)
    turns = [Turn("user", "Tell me about Moriarty."), Turn("assistant", "He is a")]
    prompt = b.build(turns, max_tokens=50, continuing=True)
    shape = [(m.role, m.prefix) for m in prompt.messages]
    assert shape == [
        ("system", False),
        ("system", False),  # the lore, before the user's message
        ("user", False),
        ("system", False),  # post-history instructions
        ("assistant", True),  # written on from its last word
    ]
    assert prompt.messages[-1].content == "He is a"
    # A new reply after the same history leaves that message an ordinary, finished one.
    assert not any(m.prefix for m in b.build(turns, max_tokens=50).messages)
    with pytest.raises(ValueError, match="character's"):
        b.build(turns[:1], max_tokens=50, continuing=True)
