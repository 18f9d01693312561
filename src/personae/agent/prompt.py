"""Prompt assembly: character + lorebook + history → messages that fit the context window.

Order is chosen so the *prefix* of the prompt stays byte-identical from one turn to the next,
because that is what lets the embedded backend reuse its KV cache (TTFT stays flat as a chat
grows):

1. one system message with everything stable: system prompt, constant lorebook entries at their
   ``before_char``/``after_char`` place, description, personality, scenario, example dialogues;
2. the chat history, oldest first — when it no longer fits, the oldest messages are dropped in
   blocks of :data:`DROP_BLOCK` so the first kept message (and so the prefix) only moves every few
   turns instead of every turn;
3. lorebook entries activated by keywords and what memory recalled for this turn (the user's
   profile, memories, the character's own lines), as one system note just before the newest user
   message (see :mod:`personae.context.notes`). Earlier turns' notes stay where they were given
   (``Turn.note``), so the prompt up to the newest message is the previous prompt plus the
   previous reply, all of it in the backend's cache; the new note holds only what the prompt
   does not already show, and the language to answer in when the user's is not the card's;
4. the card's post-history instructions, last.

To *continue* a message (``continuing=True``: the history ends with the character's unfinished
message), that message goes after everything else and is marked as the prefix of the reply, so
the model writes on from its last word.

With memory on, the running summary of turns no longer in the history sits between 1 and 2: it
changes only when the history's first message moves, which changes the prefix anyway.

The card is never dropped: if it cannot fit, that is a :class:`~personae.errors.ContextOverflow`.
Example dialogues go before history does not: they are dropped only when even the newest message
would not fit beside them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from personae.agent.tokens import CountTokens
from personae.backends.base import Message, Role
from personae.characters import Character, LoreEntry, activate_entries, entry_text, expand_macros
from personae.characters.user_names import as_spoken, in_prompt_text, third_person_text
from personae.context.budget import DROP_BLOCK, MESSAGE_OVERHEAD, SAFETY_MARGIN
from personae.context.notes import (
    NoteSection,
    PromptMemory,
    fresh_sections,
    render_note,
)
from personae.errors import ContextOverflow
from personae.text import detect_language

DEFAULT_SYSTEM_PROMPT = {
    "en": (
        "You are {{char}}. Write {{char}}'s next reply in a fictional role-play chat with "
        "{{user}}. Stay in character at all times, in {{char}}'s own voice, knowledge and way "
        "of speaking. Write only what {{char}} says and does; never write {{user}}'s lines."
    ),
    "ko": (
        "당신은 {{char}}입니다. {{user}}와 나누는 가상의 롤플레이 대화에서 {{char}}의 다음 말을 "
        "쓰세요. 언제나 {{char}}의 성격, 지식, 말투를 지키세요. {{char}}의 말과 행동만 쓰고 "
        "{{user}}의 대사는 절대 쓰지 마세요. 한국어로 답하세요."
    ),
}

_LABELS = {
    "en": {
        "personality": "{{char}}'s personality: ",
        "scenario": "Scenario: ",
        "examples": "Example conversations showing how {{char}} speaks:",
        "lore": "[Background knowledge relevant now]",
        "summary": "[Summary of the conversation before the messages below]",
    },
    "ko": {
        "personality": "{{char}}의 성격: ",
        "scenario": "상황: ",
        "examples": "{{char}}의 말투를 보여 주는 대화 예시:",
        "lore": "[지금 대화와 관련된 배경 지식]",
        "summary": "[아래 메시지 이전 대화의 요약]",
    },
}

# When the user writes in the other language than the card's (card language → user language).
_ANSWER_IN: dict[str, dict[str, str]] = {
    "en": {"ko": "[{{user}} wrote in Korean: answer in Korean, as {{char}}.]"},
    "ko": {"en": "[{{user}}가 영어로 말했습니다. 이번에는 {{char}}로서 영어로 답하세요.]"},
}


@dataclass(frozen=True)
class Turn:
    """One message of chat history as the prompt sees it. ``note``: the system note the
    character was given just before this message (a user's: lore and recall; a reply's: the
    retry note its try was given), shown again at the same place."""

    role: Role
    content: str
    note: str = ""


@dataclass
class AssembledPrompt:
    messages: list[Message]
    prompt_tokens: int
    history_kept: int
    history_dropped: int
    examples_dropped: int = 0
    lore: list[LoreEntry] = field(default_factory=list)
    # The note placed before the newest user message: the one that message already had (a
    # regenerated reply), else this turn's new one ("" when there is nothing new to say).
    note: str = ""
    note_is_new: bool = False


def card_language(character: Character) -> str:
    """'ko' when the card is mostly written in Hangul, else 'en'."""
    sample = " ".join(
        [character.description, character.personality, character.first_mes, character.scenario]
    )
    return detect_language(sample)


class PromptBuilder:
    """Assembles prompts for one character; caches the parts that never change."""

    def __init__(
        self,
        character: Character,
        *,
        user_name: str,
        count_tokens: CountTokens,
        n_ctx: int,
        language: str | None = None,
    ) -> None:
        self.character = character
        self.count = count_tokens
        self.n_ctx = n_ctx
        self.language = language or card_language(character)
        self._labels = _LABELS[self.language]
        book = character.character_book
        entries = book.entries if book else []
        self._constant = [e for e in entries if e.enabled and e.constant]
        self.set_user_name(user_name)

    def set_user_name(self, user_name: str) -> None:
        """Use ``user_name`` for ``{{user}}`` from now on (the user told memory their name)."""
        self.user_name = user_name
        # A neutral name is "you" only where the character speaks (the examples); the
        # instructions and the card's description call the user "the user" (characters.user_names).
        self.prompt_user = in_prompt_text(user_name, language=self.language)
        name = self.character.name
        self._examples = [
            as_spoken(b, char=name, user=user_name, language=self.language).strip()
            for b in self.character.example_blocks()
        ]

    def _expand(self, text: str, *, original: str | None = None) -> str:
        """``text`` as the instructions and card fields say it (see :meth:`set_user_name`)."""
        if self.prompt_user != self.user_name:
            text = third_person_text(text, language=self.language)
        extra = {} if original is None else {"original": original}
        return expand_macros(text, char=self.character.name, user=self.prompt_user, **extra).strip()

    def system_text(self, examples: int | None = None) -> str:
        """The stable system message, with the first ``examples`` example chats (all if None)."""
        card = self.character
        default = self._expand(DEFAULT_SYSTEM_PROMPT[self.language])
        if card.system_prompt.strip():
            head = self._expand(card.system_prompt, original=default)
        else:
            head = default
        parts = [head]
        parts += [
            self._expand(entry_text(e)) for e in self._constant if e.position == "before_char"
        ]
        if card.description.strip():
            parts.append(self._expand(card.description))
        if card.personality.strip():
            parts.append(self._expand(self._labels["personality"] + card.personality))
        if card.scenario.strip():
            parts.append(self._expand(self._labels["scenario"] + card.scenario))
        parts += [
            self._expand(entry_text(e)) for e in self._constant if e.position != "before_char"
        ]
        chosen = self._examples if examples is None else self._examples[:examples]
        if chosen:
            block = "\n\n".join(f"<START>\n{ex}" for ex in chosen)
            parts.append(self._expand(self._labels["examples"]) + "\n" + block)
        return "\n\n".join(p for p in parts if p)

    def _cost(self, text: str) -> int:
        return self.count(text) + MESSAGE_OVERHEAD

    def history_room(self, max_tokens: int, *, reserve: int = 0) -> int:
        """Tokens left for history beside the full card, the post-history instructions and
        ``reserve`` more (memory's notes and summary)."""
        post = self.character.post_history_instructions.strip()
        used = self._cost(self.system_text()) + (self._cost(post) if post else 0)
        return self.n_ctx - max_tokens - SAFETY_MARGIN - used - reserve

    def build(
        self,
        history: Sequence[Turn],
        *,
        max_tokens: int,
        memory: PromptMemory | None = None,
        continuing: bool = False,
    ) -> AssembledPrompt:
        """Messages for the next reply to ``history`` (oldest first, newest last); with
        ``continuing``, for the rest of its last message, which must be the character's."""
        if continuing and (not history or history[-1].role != "assistant"):
            raise ValueError("only a last message of the character's can be continued")
        budget = self.n_ctx - max_tokens - SAFETY_MARGIN
        if budget <= 0:
            raise ContextOverflow(
                f"max_tokens {max_tokens} leaves no room for a prompt in a {self.n_ctx}-token "
                "context; lower --max-tokens or raise --ctx"
            )
        card = self.character
        lore = self._triggered_lore(history)
        memory = memory or PromptMemory()
        summary = ""
        if memory.summary.strip():
            summary = f"{self._labels['summary']}\n{memory.summary.strip()}"
        post = ""
        if card.post_history_instructions.strip():
            post = self._expand(card.post_history_instructions, original="")
        # The note goes before the newest user message; if that message already has one (a
        # regenerated reply), it is shown as it was and nothing new is added.
        target = max((i for i, t in enumerate(history) if t.role == "user"), default=None)
        stored_note = history[target].note if target is not None else ""
        sections: list[NoteSection] = []
        if target is not None and not stored_note.strip():
            sections = self._note_sections(lore, memory, history[target].content)
        fixed = (self._cost(post) if post else 0) + (self._cost(summary) if summary else 0)
        costs = [
            self._cost(t.content) + (self._cost(t.note) if t.note.strip() and i != target else 0)
            for i, t in enumerate(history)
        ]
        suffix = [0] * (len(costs) + 1)
        for i in range(len(costs) - 1, -1, -1):
            suffix[i] = suffix[i + 1] + costs[i]
        newest = costs[-1] if costs else 0

        n_examples = len(self._examples)
        system = self.system_text()
        note = stored_note.strip() or render_note(sections)
        start = 0
        for _ in range(3):
            # What the kept history already shows is not said again; a note of a message that
            # was dropped no longer counts, so its items may come back (a second pass).
            note_cost = self._cost(note) if note else 0
            while n_examples > 0 and self._cost(system) + fixed + note_cost + newest > budget:
                n_examples -= 1
                system = self.system_text(n_examples)
            room = budget - self._cost(system) - fixed - note_cost
            if room < newest:
                raise ContextOverflow(
                    f"{card.name}'s card and the newest message need "
                    f"{budget - room + newest} tokens but only {budget} fit in a "
                    f"{self.n_ctx}-token context with {max_tokens} reserved for the reply; raise "
                    "--ctx, lower --max-tokens, or shorten the message"
                )
            start = next(i for i in range(len(costs) + 1) if suffix[i] <= room)
            if start > 0:
                quantised = -(-start // DROP_BLOCK) * DROP_BLOCK
                if quantised < len(costs):
                    start = quantised
            if stored_note.strip():
                break
            # The kept messages count too: a memory of the user's own words from a message
            # still in the prompt is said there already.
            given = "\n".join(
                [
                    system,
                    *(t.note for i, t in enumerate(history[start:], start) if i != target),
                    *(t.content for t in history[start:]),
                ]
            )
            fresh = render_note(fresh_sections(sections, given))
            if fresh == note:
                break
            note = fresh
        kept = list(history[start:])
        system_cost = self._cost(system)
        note_cost = self._cost(note) if note else 0

        messages = [Message("system", system)]
        if summary:
            messages.append(Message("system", summary))
        for i, t in enumerate(kept, start):
            if i == target:
                if note:
                    messages.append(Message("system", note))
            elif t.note.strip():
                messages.append(Message("system", t.note.strip()))
            messages.append(Message(t.role, t.content))
        if post:
            messages.append(Message("system", post))
        if continuing:
            # Last of all, even after the post-history instructions: the model writes on
            # from its final word (the lore note before it does not move the prefix).
            partial = max(i for i, m in enumerate(messages) if m.role == "assistant")
            messages.append(Message("assistant", messages.pop(partial).content, prefix=True))
        total = system_cost + fixed + note_cost + suffix[start]
        return AssembledPrompt(
            messages=messages,
            prompt_tokens=total,
            history_kept=len(kept),
            history_dropped=start,
            examples_dropped=len(self._examples) - n_examples,
            lore=lore,
            note=note,
            note_is_new=bool(note) and not stored_note.strip(),
        )

    def reply_language(self, history: Sequence[Turn]) -> str:
        """The language the next reply should be in: the user's newest message's, the card's
        when there is none (or it has no letters)."""
        newest = next((t.content for t in reversed(history) if t.role == "user"), "")
        return detect_language(newest, default="ko" if self.language == "ko" else "en")

    def _note_sections(
        self, lore: list[LoreEntry], memory: PromptMemory, user_text: str
    ) -> list[NoteSection]:
        """This turn's note, item by item: triggered lore, memory's recall, and the language
        to answer in when the user wrote in another than the card's."""
        sections = []
        if lore:
            ordered = [e for e in lore if e.position == "before_char"]
            ordered += [e for e in lore if e.position != "before_char"]
            items = tuple(self._expand(entry_text(e)) for e in ordered)
            sections.append(NoteSection(self._labels["lore"], items))
        sections += memory.note_sections()
        asked = self.reply_language([Turn("user", user_text)])
        if asked != self.language:
            directive = self._expand(_ANSWER_IN[self.language][asked])
            sections.append(NoteSection("", (directive,), repeat=True))
        return sections

    def _triggered_lore(self, history: Sequence[Turn]) -> list[LoreEntry]:
        book = self.character.character_book
        if book is None or not book.entries:
            return []
        active = activate_entries(book, [t.content for t in history], count_tokens=self.count)
        return [e for e in active if not e.constant]
