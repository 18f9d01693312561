"""Role-play fidelity: rule-based flags and scores for every character reply, and the corpus
report (``personae eval fidelity score``).

- :mod:`.overlap`: copying an earlier reply, the greeting or the examples; echo; repeats.
- :mod:`.speech`: empty and cut-off replies, the "User" placeholder (character breaks and
  assistant-speak are :mod:`personae.evaluation.breaks` rules).
- :mod:`.language`: wrong language, code-switching.
- :mod:`.style`: style similarity and length fit.
- :mod:`.check`: :func:`check_reply`, one reply's flags and scores.
- :mod:`.transcripts`, :mod:`.report`: reading transcripts, the corpus report.
"""

from personae.evaluation.fidelity.check import (
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
