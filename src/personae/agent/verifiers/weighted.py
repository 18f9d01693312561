"""Verifiers by name and weight, combined: :class:`Verifiers` runs several, weighs their values
into one total and ranks the candidates (those that pass every gate first, then by total, ties
in input order); :func:`build` makes a built-in verifier from its name, for settings and command
lines (``{"fidelity": 1, "style": 0.5}``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from personae.agent.verifiers.anachronism import AnachronismVerifier
from personae.agent.verifiers.base import (
    Candidate,
    Ranked,
    ReplyContext,
    Score,
    Verifier,
    VerifierError,
)
from personae.agent.verifiers.consistency import ConsistencyVerifier
from personae.agent.verifiers.fidelity import FidelityVerifier
from personae.agent.verifiers.judge import JudgeVerifier
from personae.agent.verifiers.length import LengthVerifier
from personae.agent.verifiers.style import StyleVerifier
from personae.errors import PersonaeError

if TYPE_CHECKING:
    from personae.checks.judge import Judge
    from personae.retrieval.vectors import Embedder

NAMES: tuple[str, ...] = ("fidelity", "anachronism", "style", "length", "consistency", "judge")
"""Every built-in verifier's name."""


def build(name: str, *, embedder: Embedder | None = None, judge: Any | None = None) -> Verifier:
    """The built-in verifier called ``name``; ``consistency`` needs ``embedder``, ``judge`` a
    judge (a :class:`~personae.checks.judge.Judge` or any backend)."""
    if name == "fidelity":
        return FidelityVerifier()
    if name == "anachronism":
        return AnachronismVerifier()
    if name == "style":
        return StyleVerifier()
    if name == "length":
        return LengthVerifier()
    if name == "consistency":
        if embedder is None:
            raise VerifierError("the consistency verifier needs an embedder (embeddings extra)")
        return ConsistencyVerifier(embedder)
    if name == "judge":
        if judge is None:
            raise VerifierError("the judge verifier needs a judge model: name one")
        # One yes/no question per candidate where the judge's backend gives log-probabilities
        # (cheap enough for a chat turn), pairs both ways elsewhere.
        return JudgeVerifier(judge, mode="auto")
    raise VerifierError(f"unknown verifier {name!r}: use one of {', '.join(NAMES)}")


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
        :class:`~personae.checks.judge.Judge` or any backend), at :data:`DEFAULT_WEIGHTS`."""
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
        return cls(
            [(build(name, embedder=embedder, judge=judge), w) for name, w in weights.items()]
        )
