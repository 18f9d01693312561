"""The rule-table helpers shared by the English (:mod:`profile_rules`) and Korean
(:mod:`profile_rules_ko`) fact rules.

Rule tables are written compactly: each pattern is anchored at both ends, a space stands for
``\\s+``, and a pattern with neither a ``v`` group nor a closing ``$`` gets `` (?P<v>.+)``
appended.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Pair = tuple[str, str]
Handler = Callable[[re.Match[str]], list[Pair]]


def _words(text: str) -> list[str]:
    return text.split()


def _set(text: str) -> frozenset[str]:
    return frozenset(_words(text))


def _compile(
    rules: list[tuple[str, Handler]], flags: int = 0
) -> list[tuple[re.Pattern[str], Handler]]:
    out = []
    for spec, handler in rules:
        pattern = spec.replace(" ", r"\s+")
        if "(?P<v>" not in pattern and not pattern.endswith("$"):
            pattern += r"\s+(?P<v>.+)"
        out.append((re.compile(f"^{pattern.removesuffix('$')}$", flags), handler))
    return out


def _one(label: str, fn: Callable[[str], str | None]) -> Handler:
    def handle(m: re.Match[str]) -> list[Pair]:
        value = fn(m.group("v"))
        return [(label, value)] if value else []

    return handle
