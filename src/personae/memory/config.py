"""Memory and privacy settings from ``config.toml``'s ``[memory]`` and ``[privacy]`` tables
(``[privacy]`` is read by :mod:`personae.privacy.settings`; its function is re-exported here).

Every value is checked here, when a command starts, and a bad one is a :class:`ConfigError`
naming its key: left to the memory code, a bad ``decay`` would fail only at the first recall,
in the middle of a chat, and ``reflect = "no"`` would quietly mean yes.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from personae.errors import ConfigError, PersonaeError
from personae.memory.episodic import Weights
from personae.memory.manager import MEMORY_KINDS, MIN_QUERY_TOKENS, MemorySettings
from personae.privacy.settings import redaction_policy

__all__ = ["KEYS", "memory_settings", "redaction_policy"]  # redaction_policy: [privacy]


def _not_negative(x: float) -> bool:
    return x >= 0


def _query_tokens(x: float) -> bool:
    return x >= MIN_QUERY_TOKENS


def _fraction(x: float) -> bool:
    return 0 < x <= 1


# key: (int or float, the check, what the error message asks for)
_NUMBERS: dict[str, tuple[type, Callable[[float], bool], str]] = {
    "lines_k": (int, _not_negative, "a whole number >= 0"),
    "episodes_k": (int, _not_negative, "a whole number >= 0"),
    "search_depth": (int, _not_negative, "a whole number >= 0"),
    "query_tokens": (int, _query_tokens, f"a whole number >= {MIN_QUERY_TOKENS}"),
    "decay": (float, _fraction, "a number in (0, 1]"),
    "reflection_threshold": (float, _not_negative, "a number >= 0"),
    "summary_trigger": (float, _fraction, "a number in (0, 1]"),
    "summary_keep": (float, _fraction, "a number in (0, 1]"),
    "profile_tokens": (int, _not_negative, "a whole number >= 0"),
}
_HINTS = typing.get_type_hints(MemorySettings)
_CHOICES = {k: typing.get_args(_HINTS[k]) for k in ("profile_scope", "importance", "facts")}
_FLAGS = ("reflect",)
_WEIGHTS = tuple(f.name for f in dataclasses.fields(Weights))
KEYS = ("kinds", "weights", *_NUMBERS, *_CHOICES, *_FLAGS)


def _number(key: str, value: object, kind: type, ok: Callable[[float], bool], what: str) -> Any:
    if (
        isinstance(value, bool)  # an int in Python, but `lines_k = true` is a mistake, not 1
        or not isinstance(value, int | float)
        or (kind is int and isinstance(value, float))
        or not ok(value)
    ):
        raise ConfigError(f"[memory] {key} must be {what}, not {value!r}")
    return kind(value)


def _kinds(value: object) -> list[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise ConfigError(
            f'[memory] kinds must be a list, e.g. ["episodic", "profile"], not {value!r}'
        )
    for kind in value:
        if kind not in MEMORY_KINDS:
            raise ConfigError(
                f"[memory] kinds has an unknown memory {kind!r}: use {', '.join(MEMORY_KINDS)}"
            )
    return list(value)


def _weights(value: object) -> Weights:
    if not isinstance(value, Mapping):
        raise ConfigError(f"[memory] weights must be a table of {', '.join(_WEIGHTS)}")
    unknown = sorted(set(value) - set(_WEIGHTS))
    if unknown:
        raise ConfigError(f"[memory] weights has no {unknown[0]!r}: use {', '.join(_WEIGHTS)}")
    return Weights(
        **{
            k: _number(f"weights.{k}", v, float, _not_negative, "a number >= 0")
            for k, v in value.items()
        }
    )


def memory_settings(table: Mapping[str, Any], kinds: Sequence[str] | None = None) -> MemorySettings:
    """``[memory]`` → settings; ``kinds`` (e.g. from ``--memories``) overrides the table's."""
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"[memory] has no setting {unknown[0]!r}: use {', '.join(KEYS)}")
    changes: dict[str, Any] = {}
    for key, (kind, ok, what) in _NUMBERS.items():
        if key in table:
            changes[key] = _number(key, table[key], kind, ok, what)
    for key, choices in _CHOICES.items():
        if key in table:
            if table[key] not in choices:
                listed = " or ".join(map(repr, choices))
                raise ConfigError(f"[memory] {key} must be {listed}, not {table[key]!r}")
            changes[key] = table[key]
    for key in _FLAGS:
        if key in table:
            if not isinstance(table[key], bool):
                raise ConfigError(f"[memory] {key} must be true or false, not {table[key]!r}")
            changes[key] = table[key]
    if "weights" in table:
        changes["weights"] = _weights(table["weights"])
    keep = changes.get("summary_keep", MemorySettings.summary_keep)
    trigger = changes.get("summary_trigger", MemorySettings.summary_trigger)
    if keep > trigger:
        raise ConfigError(
            f"[memory] summary_keep ({keep}) must not be more than summary_trigger ({trigger})"
        )
    chosen = _kinds(table["kinds"]) if "kinds" in table else list(MEMORY_KINDS)
    try:
        # kinds given by the caller come from a flag, not the file: their error says so itself
        return MemorySettings.only(list(kinds) if kinds is not None else chosen, **changes)
    except PersonaeError as exc:
        if kinds is not None:
            raise
        raise ConfigError(f"[memory]: {exc}") from None
