"""The ``[privacy]`` table of ``config.toml``: how memory redacts, and whether transcripts are.

``redaction`` (mask, redact, partial or off) and ``types`` set the policy every memory is
written with: observations, profile facts, reflections, notes and the rolling summary.
``transcripts`` says what the chat's own messages keep: ``"keep"`` (the default) stores them
as written, so a chat reads back exactly; ``"redact"`` stores them redacted by the same policy
(the turn being answered still sees the raw message; later turns see what was stored).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from personae.errors import ConfigError, PersonaeError
from personae.privacy.pii import DEFAULT_POLICY, MODES, RedactionPolicy, parse_types, redact

KEYS = ("redaction", "types", "transcripts")
TRANSCRIPTS = ("keep", "redact")


def _check_keys(table: Mapping[str, Any]) -> None:
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"[privacy] has no setting {unknown[0]!r}: use {', '.join(KEYS)}")


def redaction_policy(table: Mapping[str, Any]) -> RedactionPolicy | None:
    """``[privacy]`` → the policy memory writes with; ``redaction = "off"`` gives None. Every
    key is checked, ``transcripts`` too."""
    _check_keys(table)
    mode = table.get("redaction", DEFAULT_POLICY.mode)
    mode = mode.strip().lower() if isinstance(mode, str) else mode
    if mode not in (*MODES, "off"):
        raise ConfigError(
            f"[privacy] redaction must be one of {', '.join(MODES)} or off, not {mode!r}"
        )
    types = DEFAULT_POLICY.types
    if "types" in table:  # checked even when off, so that turning redaction on cannot fail
        value = table["types"]
        if not isinstance(value, str) and not (
            isinstance(value, Sequence) and all(isinstance(t, str) for t in value)
        ):
            raise ConfigError(
                f'[privacy] types must be a list of PII types, e.g. ["EMAIL", "PHONE"], '
                f"not {value!r}"
            )
        try:
            types = parse_types(value)
        except PersonaeError as exc:
            raise ConfigError(f"[privacy] types: {exc}") from None
    transcripts = table.get("transcripts", "keep")
    if transcripts not in TRANSCRIPTS:
        raise ConfigError(f'[privacy] transcripts must be "keep" or "redact", not {transcripts!r}')
    if mode == "off":
        if transcripts == "redact":
            raise ConfigError(
                '[privacy] transcripts = "redact" needs redaction on: set redaction to '
                f"{', '.join(MODES)}"
            )
        return None
    return dataclasses.replace(DEFAULT_POLICY, mode=mode, types=types)


def transcript_redactor(table: Mapping[str, Any]) -> Callable[[str], str] | None:
    """What stored chat messages pass through: None to keep them as written (the default),
    else redaction by the ``[privacy]`` policy."""
    policy = redaction_policy(table)
    if table.get("transcripts", "keep") != "redact" or policy is None:
        return None

    def redacted(text: str) -> str:
        return redact(text, policy).text

    return redacted
