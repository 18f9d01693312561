"""Memory and privacy settings from ``config.toml``'s ``[memory]`` and ``[privacy]`` tables."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from personae.errors import ConfigError, PersonaeError
from personae.memory.episodic import Weights
from personae.memory.manager import MEMORY_KINDS, MemorySettings
from personae.privacy import DEFAULT_POLICY, MODES, RedactionPolicy, parse_types

_NUMBERS = {
    "lines_k": int,
    "episodes_k": int,
    "search_depth": int,
    "decay": float,
    "reflection_threshold": float,
    "summary_trigger": float,
    "summary_keep": float,
    "profile_tokens": int,
}
_CHOICES = {"profile_scope", "importance", "facts"}
_FLAGS = {"reflect"}
KEYS = ("kinds", "weights", *_NUMBERS, *_CHOICES, *_FLAGS)


def memory_settings(table: Mapping[str, Any], kinds: Sequence[str] | None = None) -> MemorySettings:
    """``[memory]`` → settings; ``kinds`` (e.g. from ``--memories``) overrides the table's."""
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"[memory] has no setting {unknown[0]!r}: use {', '.join(KEYS)}")
    changes: dict[str, Any] = {}
    try:
        for key, kind in _NUMBERS.items():
            if key in table:
                changes[key] = kind(table[key])
        for key in _CHOICES | _FLAGS:
            if key in table:
                changes[key] = table[key] if key in _CHOICES else bool(table[key])
        if "weights" in table:
            w = table["weights"]
            if not isinstance(w, Mapping) or set(w) - {"recency", "importance", "relevance"}:
                raise ConfigError(
                    "[memory] weights must be a table of recency, importance and relevance"
                )
            changes["weights"] = Weights(**{k: float(v) for k, v in w.items()})
        chosen = kinds if kinds is not None else table.get("kinds", MEMORY_KINDS)
        if isinstance(chosen, str) or not isinstance(chosen, Sequence):
            raise ConfigError('[memory] kinds must be a list, e.g. ["episodic", "profile"]')
        return MemorySettings.only(list(chosen), **changes)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[memory] has a value of the wrong type: {exc}") from None
    except PersonaeError as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"[memory]: {exc}") from None


def redaction_policy(table: Mapping[str, Any]) -> RedactionPolicy | None:
    """``[privacy]`` → the policy memory writes with; ``redaction = "off"`` gives None."""
    unknown = sorted(set(table) - {"redaction", "types"})
    if unknown:
        raise ConfigError(f"[privacy] has no setting {unknown[0]!r}: use redaction, types")
    mode = str(table.get("redaction", DEFAULT_POLICY.mode))
    if mode == "off":
        return None
    if mode not in MODES:
        raise ConfigError(f"[privacy] redaction must be one of {', '.join(MODES)} or off")
    try:
        types = parse_types(table["types"]) if "types" in table else DEFAULT_POLICY.types
    except PersonaeError as exc:
        raise ConfigError(f"[privacy] types: {exc}") from None
    return dataclasses.replace(DEFAULT_POLICY, mode=mode, types=types)
