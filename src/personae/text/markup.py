"""Role-play markup: ``*actions*`` between asterisks, as cards and replies write them."""

from __future__ import annotations

import re

# One action: asterisks around text on one line (as the web page renders them).
ACTION = re.compile(r"\*[^*\n]*\*")


def without_actions(text: str) -> str:
    """``text`` with each ``*action*`` replaced by a space: what is said aloud."""
    return ACTION.sub(" ", text)
