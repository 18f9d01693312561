"""Keeping credentials out of what a server says back: servers echo the key they rejected,
whole or in part, and that text reaches users and logs."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Runs of characters a key is written with, masks ("sk-abc1****wxyz") included.
_TOKEN = re.compile(r"[A-Za-z0-9_\-.~+/=*]+")
_KEY_LIKE = re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-.*]{6,}")
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9_\-.~+/=*]+")
# A run sharing this many characters in a row with a secret is taken for (part of) it.
_SECRET_OVERLAP = 6
REDACTED = "***"


def scrub_secrets(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` without anything that is or looks like a credential: each of ``secrets``, any
    run of key characters sharing six in a row with one of them (a server's "sk-abc123****wxyz"
    echo of a key), ``sk-…`` keys and ``Bearer`` tokens."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    grams = {
        secret[i : i + _SECRET_OVERLAP]
        for secret in secrets
        for i in range(len(secret) - _SECRET_OVERLAP + 1)
    }
    if grams:

        def hide(match: re.Match[str]) -> str:
            run = match.group()
            for i in range(len(run) - _SECRET_OVERLAP + 1):
                if run[i : i + _SECRET_OVERLAP] in grams:
                    return REDACTED
            return run

        text = _TOKEN.sub(hide, text)
    text = _KEY_LIKE.sub(lambda m: m.group()[:3] + REDACTED, text)
    return _BEARER.sub("Bearer " + REDACTED, text)


__all__ = ["REDACTED", "scrub_secrets"]
