"""Checks of one character reply, cheap enough to run inside a chat turn.

The rules (no model): :mod:`.reply` (:func:`check_reply`: every fidelity flag and score of a
reply against the card and the chat so far), built on :mod:`.overlap` (copying an earlier reply,
the greeting, the examples or the card; echoing the user), :mod:`.speech` (empty, cut-off, the
"User" placeholder), :mod:`.language` (wrong language, code-switching), :mod:`.style` (style
similarity, length fit), :mod:`.breaks` (AI disclosure, out-of-character refusal, speaking as the
user, anachronism) and :mod:`.assistant_speak`. And :mod:`.judge`: a judge model's rubric scores
and pairwise verdicts.

The reply guards and the best-of-N verifiers (:mod:`personae.agent`) run them on every reply; the
fidelity evaluation (:mod:`personae.evaluation.fidelity`) runs them over a corpus.
"""

from personae.checks.reply import (
    FLAGS,
    INSTRUCTION_FIELDS,
    SCORES,
    CardReference,
    ReplyCheck,
    check_reply,
    copied_sources,
)

__all__ = [
    "FLAGS",
    "INSTRUCTION_FIELDS",
    "SCORES",
    "CardReference",
    "ReplyCheck",
    "check_reply",
    "copied_sources",
]
