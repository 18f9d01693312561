"""The ``[privacy]`` table: how memory redacts, and whether transcripts are.

``redaction`` (mask, redact, partial or off) and ``types`` set the policy every memory is
written with: observations, profile facts, reflections, notes and the rolling summary.
``transcripts`` says what the chat's own messages keep: ``"keep"`` (the default) stores them
as written, so a chat reads back exactly; ``"redact"`` stores them redacted by the same policy
(the turn being answered still sees the raw message; later turns see what was stored).

It lives with the settings, over :mod:`personae.privacy.pii` (which imports nothing of
personae's but its errors), so that the store and the settings can both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, model_validator

from personae.errors import PersonaeError
from personae.privacy.pii import ALL_TYPES, MODES, RedactionPolicy, parse_types, redact
from personae.settings.base import Section, SettingError

Redaction = Literal["mask", "redact", "partial", "off"]


def _mode(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _types(value: Any) -> Any:
    if not isinstance(value, str) and not (
        isinstance(value, list | tuple | frozenset) and all(isinstance(t, str) for t in value)
    ):
        raise SettingError(f'must be a list of PII types, e.g. ["EMAIL", "PHONE"], not {value!r}')
    try:
        return parse_types(value)
    except PersonaeError as exc:
        raise SettingError(str(exc)) from None


class PrivacySection(Section):
    """``[privacy]``: the redaction policy (:meth:`policy`) and what transcripts keep."""

    TABLE = "privacy"

    redaction: Annotated[Redaction, BeforeValidator(_mode)] = "mask"
    # Checked even when redaction is off, so that turning it on cannot fail.
    types: Annotated[frozenset[str], BeforeValidator(_types)] = ALL_TYPES
    transcripts: Literal["keep", "redact"] = "keep"

    @model_validator(mode="after")
    def _transcripts_need_a_policy(self) -> PrivacySection:
        if self.transcripts == "redact" and self.redaction == "off":
            raise SettingError(
                f'transcripts = "redact" needs redaction on: set redaction to {", ".join(MODES)}'
            )
        return self

    def policy(self) -> RedactionPolicy | None:
        """The policy memory writes with; None when ``redaction = "off"``."""
        if self.redaction == "off":
            return None
        return RedactionPolicy(mode=self.redaction, types=self.types)

    def transcript_redactor(self) -> Callable[[str], str] | None:
        """What stored chat messages pass through: None to keep them as written (the
        default), else redaction by :meth:`policy`."""
        policy = self.policy()
        if self.transcripts != "redact" or policy is None:
            return None

        def redacted(text: str) -> str:
            return redact(text, policy).text

        return redacted


def privacy_section(table: PrivacySection | Mapping[str, Any]) -> PrivacySection:
    """``table`` as a checked section (a mapping: a ``[privacy]`` table as read)."""
    return table if isinstance(table, PrivacySection) else PrivacySection.parse(table)


def redaction_policy(table: PrivacySection | Mapping[str, Any]) -> RedactionPolicy | None:
    """``[privacy]`` → the policy memory writes with; ``redaction = "off"`` gives None."""
    return privacy_section(table).policy()


def transcript_redactor(table: PrivacySection | Mapping[str, Any]) -> Callable[[str], str] | None:
    """``[privacy]`` → what stored chat messages pass through (None: kept as written)."""
    return privacy_section(table).transcript_redactor()


__all__ = ["PrivacySection", "Redaction", "redaction_policy", "transcript_redactor"]
