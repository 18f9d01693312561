"""What a verifier is, and how several are combined into one ranking of candidate replies.

A :class:`Verifier` scores every candidate reply of one turn at once (a judge compares them in
pairs, so it needs them together) and gives each a :class:`Score`: a value in 0..1, whether the
candidate passed (``passed=False`` is a failure a user sees at once: a *gate*) and a one-line
reason. :class:`Verifiers` runs several, weighs their values into one total and ranks the
candidates: those that pass every gate first, then by total, ties in input order.

Nothing here imports the evaluation package: the rule verifiers import it when first used, so
``import personae.agent`` stays as cheap as it was (guards.py does the same).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from personae.backends.base import Message
from personae.characters.card import Character
from personae.errors import InvalidInput, PersonaeError
from personae.text import Language

if TYPE_CHECKING:
    from personae.evaluation.judge import Judge
    from personae.memory.vectors import Embedder

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


# Default weights. The fidelity flags are what a user sees at once, and the judge (when there
# is one) reads what rules cannot: both weigh most. Anachronism only tells candidates apart on
# a probe (every candidate gets 1.0 otherwise). Style and consistency are coarse similarities
# whose values differ little between a good and a poor reply (style 0.91 vs 0.83 on Sherlock,
# see fidelity/style.py), so half weight; length fit says least about quality: a quarter.
DEFAULT_WEIGHTS: dict[str, float] = {
    "fidelity": 1.0,
    "anachronism": 1.0,
    "style": 0.5,
    "length": 0.25,
    "consistency": 0.5,
    "judge": 1.0,
}


class Verifiers:
    """Several verifiers with weights: :meth:`rank` orders candidates best first."""

    def __init__(self, weighted: Sequence[tuple[Verifier, float]]) -> None:
        pairs = list(weighted)
        if not pairs:
            raise VerifierError("no verifiers given: name at least one (e.g. fidelity)")
        names: set[str] = set()
        checked: list[tuple[Verifier, float]] = []
        for item in pairs:
            try:
                verifier, weight = item
            except (TypeError, ValueError):
                raise VerifierError(
                    f"each verifier is a (verifier, weight) pair, not {item!r}"
                ) from None
            name = getattr(verifier, "name", None)
            scorer = getattr(verifier, "score", None)
            if not isinstance(name, str) or not name or not callable(scorer):
                raise VerifierError(f"{verifier!r} is not a verifier (it needs name and score())")
            if name in names:
                raise VerifierError(f"verifier {name!r} given twice: give it once, one weight")
            names.add(name)
            if isinstance(weight, bool) or not isinstance(weight, int | float):
                raise VerifierError(f"verifier {name!r}: weight {weight!r} is not a number")
            w = float(weight)
            if not math.isfinite(w) or w < 0:
                raise VerifierError(f"verifier {name!r}: weight {weight!r} must be 0 or more")
            checked.append((verifier, w))
        if not any(w > 0 for _, w in checked):
            raise VerifierError("every verifier weight is zero: give at least one a weight above 0")
        self.weighted: tuple[tuple[Verifier, float], ...] = tuple(checked)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v, _ in self.weighted)

    @property
    def weights(self) -> dict[str, float]:
        return {v.name: w for v, w in self.weighted}

    def rank(self, candidates: Sequence[Candidate], context: ReplyContext) -> list[Ranked]:
        """The candidates best first: those that pass every gate before those that do not,
        then by total (the weighted mean of the values), ties in input order. A verifier that
        fails for want of its model or backend (a :class:`~personae.errors.PersonaeError`)
        gives every candidate a neutral 0.5 that passes, with the error as its reason: the
        other verifiers still decide."""
        items = [c if isinstance(c, Candidate) else Candidate(str(c)) for c in candidates]
        if not items:
            return []
        columns: list[list[Score]] = []
        for verifier, _ in self.weighted:
            try:
                scores = list(verifier.score(items, context))
            except PersonaeError as exc:
                note = f"{verifier.name} unavailable: {exc}"
                scores = [Score(verifier.name, 0.5, True, note) for _ in items]
            if len(scores) != len(items) or not all(isinstance(s, Score) for s in scores):
                raise TypeError(
                    f"verifier {verifier.name!r} gave {len(scores)} scores for "
                    f"{len(items)} candidates: it must give one Score per candidate, in order"
                )
            columns.append(scores)
        weight_sum = sum(w for _, w in self.weighted)
        ranked = []
        for i, candidate in enumerate(items):
            row = tuple(column[i] for column in columns)
            total = sum(s.value * w for s, (_, w) in zip(row, self.weighted, strict=True))
            ranked.append(
                Ranked(
                    candidate,
                    i,
                    # Rounded so that equal values summed in another order still tie.
                    round(total / weight_sum, 12),
                    all(s.passed for s in row),
                    row,
                )
            )
        ranked.sort(key=lambda r: (not r.passed, -r.total, r.index))
        return ranked

    @classmethod
    def default(
        cls,
        *,
        embedder: Embedder | None = None,
        judge: Judge | Any | None = None,
    ) -> Verifiers:
        """The rule-based set (fidelity, anachronism, style, length), with ``consistency``
        when an ``embedder`` is given and ``judge`` when a judge is (a
        :class:`~personae.evaluation.judge.Judge` or any backend), at :data:`DEFAULT_WEIGHTS`."""
        names = ["fidelity", "anachronism", "style", "length"]
        if embedder is not None:
            names.append("consistency")
        if judge is not None:
            names.append("judge")
        return cls.from_weights(
            {n: DEFAULT_WEIGHTS[n] for n in names}, embedder=embedder, judge=judge
        )

    @classmethod
    def from_weights(
        cls,
        weights: dict[str, float],
        *,
        embedder: Embedder | None = None,
        judge: Judge | Any | None = None,
    ) -> Verifiers:
        """Verifiers by name with their weights (``{"fidelity": 1, "style": 0.5}``), e.g. from
        settings or a command line. ``consistency`` needs ``embedder``, ``judge`` a judge."""
        from personae.agent.verifiers.registry import build

        return cls(
            [(build(name, embedder=embedder, judge=judge), w) for name, w in weights.items()]
        )
