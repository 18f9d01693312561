"""The ``length`` verifier: how close a candidate's length is to the character's typical line.

The value is the fidelity check's ``length_fit``: 1 at the median length of the card's own
lines, 0.5 at half or twice it, a third at a third or three times
(:func:`personae.checks.style.length_fit`); lengths count a Hangul syllable as two
and a half Latin letters, so a Korean reply is measured fairly against an English card. A card
with no lines gives a neutral 0.5. Never a gate: a short answer can be the right one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from personae.agent.verifiers.base import Candidate, ReplyContext, Score
from personae.agent.verifiers.checks import check, turn

NEUTRAL = 0.5


class LengthVerifier:
    """Length fit against the card's typical line length; never a gate."""

    name = "length"

    def score(self, candidates: Sequence[Candidate], context: ReplyContext) -> list[Score]:
        typical = turn(context).card.typical_length
        out = []
        for candidate in candidates:
            scores = check(candidate, context).scores
            fit, ratio = scores.get("length_fit", math.nan), scores.get("length_ratio", math.nan)
            if math.isnan(fit) or math.isnan(ratio):
                out.append(Score(self.name, NEUTRAL, True, "the card has no typical length"))
                continue
            reason = f"{ratio:.2f}× the card's typical line ({typical:.0f} letters)"
            out.append(Score(self.name, min(1.0, max(0.0, fit)), True, reason))
        return out
