"""The rolling summary: older turns folded into a running summary when history outgrows its room.

After a reply, if the messages not yet summarized cost more than ``trigger`` of the room the
prompt has for history, the oldest of them are summarized in whole blocks of
:data:`~personae.context.budget.DROP_BLOCK` messages until what is left fits in ``keep`` of the
room. Each block's summary (the dialogue summarizer, zero-shot, up to three sentences, told to
keep every fact a speaker gives about themselves) is appended to the
running summary; when that grows past ``max_summary_tokens``, the running summary is itself
condensed.

The prompt then starts its history right after the last summarized message and shows the summary
just before it. The summary changes exactly when the first kept message moves, which already
changes the prompt's prefix, so the prefix stays byte-stable between those moments (P1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from personae.backends.base import Backend
from personae.context.budget import DROP_BLOCK, MESSAGE_OVERHEAD
from personae.errors import InvalidInput
from personae.summarization import Summarizer, SummaryConfig
from personae.summarization.dialogue import dialogue_from_messages, text_language
from personae.summarization.prompts import KEEP_PERSONAL_FACTS


@dataclass(frozen=True)
class Message:
    """A stored chat message as the summary sees it. ``setting``: the greeting, which sets the
    scene: it counts toward the history's size and is folded away with its block, but it is
    not summarized (issue 14: a summary that retells the greeting's stage direction)."""

    id: int
    speaker: str
    text: str
    setting: bool = False


@dataclass(frozen=True)
class Plan:
    """Which messages to fold into the summary now (none when history still fits)."""

    fold: tuple[Message, ...]

    @property
    def through(self) -> int | None:
        return self.fold[-1].id if self.fold else None


def plan_fold(
    pending: Sequence[Message],
    *,
    room: int,
    count_tokens: Callable[[str], int],
    trigger: float = 0.75,
    keep: float = 0.5,
    block: int = DROP_BLOCK,
) -> Plan:
    """``pending``: messages after the last summarized one, oldest first; ``room``: tokens the
    prompt has for history. Folds whole blocks, and never the newest two messages."""
    if not 0 < keep <= trigger <= 1:
        raise InvalidInput("rolling summary needs 0 < keep <= trigger <= 1")
    if room <= 0 or block <= 0:
        raise InvalidInput("rolling summary needs a positive room and block")
    costs = [count_tokens(m.text) + MESSAGE_OVERHEAD for m in pending]
    total = sum(costs)
    if total <= trigger * room:
        return Plan(())
    folded = 0
    while folded + block <= len(pending) - 2 and total > keep * room:
        total -= sum(costs[folded : folded + block])
        folded += block
    return Plan(tuple(pending[:folded]))


_CONDENSE_PREFIX = {"en": "Earlier", "ko": "이전"}


class RollingSummarizer:
    """Writes the running summary with any backend (the chat's own, by default).

    ``language`` None (the default) summarizes each block in the language its messages are
    written in; 'en' or 'ko' fixes it."""

    def __init__(
        self,
        backend: Backend,
        *,
        language: str | None = None,
        max_words: int = 50,
        max_summary_tokens: int = 300,
        count_tokens: Callable[[str], int] | None = None,
    ) -> None:
        if language not in (None, "en", "ko"):
            raise InvalidInput(f"language must be 'en' or 'ko', not {language!r}")
        self.backend = backend
        self.language = language
        self.max_words = max_words
        self.max_summary_tokens = max_summary_tokens
        self.count = count_tokens or (lambda text: len(text.split()) * 2)
        self._by_language: dict[str, Summarizer] = {}

    def _summarizer(self, language: str) -> Summarizer:
        if language not in self._by_language:
            self._by_language[language] = Summarizer(
                self.backend,
                SummaryConfig(
                    max_words=self.max_words,
                    max_sentences=3,
                    language=language,
                    focus=KEEP_PERSONAL_FACTS[language],
                ),
            )
        return self._by_language[language]

    def fold(self, previous: str, messages: Sequence[Message]) -> str:
        """The running summary after adding ``messages`` to what ``previous`` covers."""
        messages = [m for m in messages if not m.setting]
        if not messages:
            return previous
        language = self.language or text_language(" ".join(m.text for m in messages))
        summarizer = self._summarizer(language)
        dialogue = dialogue_from_messages([(m.speaker, m.text) for m in messages])
        new = summarizer.summarize(dialogue).text.strip()
        running = f"{previous.strip()} {new}".strip() if previous.strip() else new
        if self.count(running) > self.max_summary_tokens:
            label = _CONDENSE_PREFIX[language]
            condensed = summarizer.summarize(
                dialogue_from_messages([(label, previous.strip()), (label, new)])
            ).text.strip()
            running = condensed or running
        return running
