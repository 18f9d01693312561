"""The ``style`` verifier: how much a candidate sounds like the character's own lines.

The value is the fidelity check's ``style_similarity`` (cosine of character 1–3-gram counts
with the card's example lines, :class:`personae.checks.style.StyleProfile`). Two
scripts share no n-grams, so a candidate in another language than the card's voice (Sherlock
answering a Korean user in Korean) has no style score: it gets a neutral 0.5, not a zero that
would punish the right language. Never a gate: the measure separates an assistant's register
from a character's, not one character from another (see fidelity/style.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from personae.agent.verifiers.base import Candidate, ReplyContext, Score
from personae.agent.verifiers.checks import check, turn

NEUTRAL = 0.5


class StyleVerifier:
    """Character n-gram similarity to the character's own lines; never a gate."""

    name = "style"

    def score(self, candidates: Sequence[Candidate], context: ReplyContext) -> list[Score]:
        card = turn(context).card
        out = []
        for candidate in candidates:
            result = check(candidate, context)
            value = result.scores.get("style_similarity", math.nan)
            if not card.style.norm:
                out.append(Score(self.name, NEUTRAL, True, "the card has no lines to compare"))
            elif math.isnan(value):
                reason = (
                    f"reply in {result.reply_language}, {card.name}'s lines in "
                    f"{card.voice_language}: not comparable (neutral)"
                )
                out.append(Score(self.name, NEUTRAL, True, reason))
            else:
                value = min(1.0, max(0.0, value))
                reason = f"style similarity {value:.2f} to {card.name}'s own lines"
                out.append(Score(self.name, value, True, reason))
        return out
