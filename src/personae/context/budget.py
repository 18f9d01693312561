"""The token budget rules the prompt builder and memory's rolling summary share."""

from __future__ import annotations

DROP_BLOCK = 8
"""History that does not fit is dropped this many messages at a time, oldest first, so the
prompt's start moves rarely and the backend's prompt cache keeps matching between turns; the
rolling summary folds in the same blocks."""

MESSAGE_OVERHEAD = 6
"""Tokens a chat template adds around each message (``<|im_start|>role\n … <|im_end|>\n``)."""

SAFETY_MARGIN = 16
"""Tokens kept free when a prompt is fitted to the context: the counts are estimates of the chat
template's."""

__all__ = ["DROP_BLOCK", "MESSAGE_OVERHEAD", "SAFETY_MARGIN"]
