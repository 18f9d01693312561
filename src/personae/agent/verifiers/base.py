"""What a verifier is, and how several are combined into one ranking of candidate replies.

A :class:`Verifier` scores every candidate reply of one turn at once (a judge compares them in
pairs, so it needs them together) and gives each a :class:`Score`: a value in 0..1, whether the
candidate passed (``passed=False`` is a failure a user sees at once: a *gate*) and a one-line
reason. :class:`~.weighted.Verifiers` runs several and ranks the candidates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from personae.backends.base import Message
from personae.characters.card import Character
from personae.errors import InvalidInput
from personae.text import Language

if TYPE_CHECKING:
    pass

MAX_TEXT = 8000
"""Characters of a candidate (and of each history message) that a verifier analyses: replies
are a few hundred characters; a runaway one is judged on its first 8,000, which keeps every
check bounded whatever the model wrote."""
MAX_REASON = 400
"""A reason is one line of at most this many characters."""


class VerifierError(InvalidInput, ValueError):
    """Verifiers were put together wrongly (no verifier, a negative or non-finite weight, all
    weights zero, two of one name). A ``ValueError`` too, for callers that catch that."""


@dataclass(frozen=True)
class Candidate:
    """One candidate reply and why its generation stopped (``"stop"``, ``"length"``, ...)."""

    text: str
    finish_reason: str | None = None


@dataclass(frozen=True)
class ReplyContext:
    """What a candidate reply answers: the character, the user's newest message, and the
    prompt's messages before it (``history``; system messages among them are ignored, the
    greeting comes first). ``language`` is the language the reply must be in (the user's).
    ``recalled``: memories and the character's own lines shown this turn; ``lore``: the text of
    the lorebook entries active this turn; ``probe_terms``: anachronism probe terms, when known.
    """

    character: Character
    user_name: str
    user: str
    history: Sequence[Message]
    language: Language
    recalled: Sequence[str] = ()
    lore: Sequence[str] = ()
    probe_terms: Sequence[str] = ()
    # What the rule verifiers prepare once per turn and share (the card's reference, the
    # history as dicts, each candidate's fidelity check): four verifiers, one check each.
    _memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def memo(self, key: Any) -> Any:
        return self._memo.get(key)

    def remember(self, key: Any, value: Any) -> Any:
        self._memo[key] = value
        return value


def one_line(text: str, limit: int = MAX_REASON) -> str:
    """``text`` on one line (whitespace collapsed), cut to ``limit`` characters with "…"."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Score:
    """One verifier's verdict on one candidate: ``value`` in 0..1 (higher is better),
    ``passed`` False for a failure a user sees at once (a gate), ``reason`` one line."""

    verifier: str
    value: float
    passed: bool
    reason: str

    def __post_init__(self) -> None:
        value = float(self.value)
        if math.isnan(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"verifier {self.verifier!r} gave {self.value!r}: a value is 0..1")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "passed", bool(self.passed))
        object.__setattr__(self, "reason", one_line(self.reason))

    def as_dict(self) -> dict[str, Any]:
        return {
            "verifier": self.verifier,
            "value": self.value,
            "passed": self.passed,
            "reason": self.reason,
        }


@runtime_checkable
class Verifier(Protocol):
    """Scores the candidate replies of one turn: one :class:`Score` per candidate, in order."""

    name: str

    def score(self, candidates: Sequence[Candidate], context: ReplyContext) -> list[Score]: ...


@dataclass(frozen=True)
class Ranked:
    """A candidate with its place in the input (``index``), its weighted mean value
    (``total``), whether it passed every gate, and every verifier's score."""

    candidate: Candidate
    index: int
    total: float
    passed: bool
    scores: tuple[Score, ...]

    def score_of(self, verifier: str) -> Score | None:
        """The score ``verifier`` gave, or None when it was not run."""
        return next((s for s in self.scores if s.verifier == verifier), None)

    @property
    def failed(self) -> tuple[str, ...]:
        """The verifiers whose gate this candidate failed."""
        return tuple(s.verifier for s in self.scores if not s.passed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "text": self.candidate.text,
            "finish_reason": self.candidate.finish_reason,
            "total": self.total,
            "passed": self.passed,
            "scores": [s.as_dict() for s in self.scores],
        }
