"""Extractive baselines every summarization number is read against.

LEAD-3: the first three turns. LONGEST-3: the three longest turns (by characters), in dialogue
order — long turns carry the content in everyday dialogue (DialogSum paper, §5).
"""

from __future__ import annotations

from personae.summarization.dialogue import Dialogue


def lead(dialogue: Dialogue, n: int = 3) -> str:
    return "\n".join(t.line() for t in dialogue.turns[:n])


def longest(dialogue: Dialogue, n: int = 3) -> str:
    ranked = sorted(range(len(dialogue.turns)), key=lambda i: (-len(dialogue.turns[i].text), i))
    keep = sorted(ranked[:n])
    return "\n".join(dialogue.turns[i].line() for i in keep)


BASELINES = {"lead-3": lead, "longest-3": longest}
