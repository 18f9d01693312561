"""The ``anachronism`` verifier: on an anachronism probe (``probe_terms`` given), a candidate
that uses the modern concept knowingly fails
(:func:`personae.checks.breaks.detect_anachronism`, through the shared fidelity check).

Without probe terms there is nothing to detect: every candidate gets 1.0 and passes. A hit is a
gate by default (a character of 1850 explaining a smartphone is a break a user sees at once);
``gate=False`` keeps it a value only.
"""

from __future__ import annotations

from collections.abc import Sequence

from personae.agent.verifiers.base import Candidate, ReplyContext, Score
from personae.agent.verifiers.checks import check


class AnachronismVerifier:
    """0 and failed when a candidate uses a probe's modern term knowingly, else 1."""

    name = "anachronism"

    def __init__(self, *, gate: bool = True) -> None:
        self.gate = gate

    def score(self, candidates: Sequence[Candidate], context: ReplyContext) -> list[Score]:
        if not any(t.strip() for t in context.probe_terms):
            return [Score(self.name, 1.0, True, "no probe terms") for _ in candidates]
        out = []
        for candidate in candidates:
            hit = check(candidate, context).hits.get("anachronism")
            if hit is None:
                out.append(Score(self.name, 1.0, True, "no probe term used knowingly"))
            else:
                out.append(Score(self.name, 0.0, not self.gate, hit))
        return out
