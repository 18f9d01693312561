"""Find PII in text and redact it by a policy, before anything reaches a character's memory."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from personae.errors import InvalidInput
from personae.privacy.patterns import DETECTORS

PII_TYPES: tuple[str, ...] = (
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "US_SSN",
    "KR_RRN",
    "IP_ADDRESS",
    "IBAN",
    "ADDRESS",
)
"""Every type :func:`find_pii` knows, by the names used in spans and placeholders."""

MODES: tuple[str, ...] = ("mask", "redact", "partial")
"""``mask``: ``[EMAIL]``-style placeholder per type; ``redact``: ``[REDACTED]``; ``partial``:
keep the last 4 digits of numbers (``****-****-****-1234``) and the first letter of an email."""

ALL_TYPES: frozenset[str] = frozenset(PII_TYPES)
_DIGIT = re.compile(r"[0-9]")
_ALNUM = re.compile(r"[0-9A-Za-z]")
_EXTENSION = re.compile(r"[ ]?(?i:x|ext\.?|extension|#|내선)[ ]?[0-9]+$")


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One piece of PII: its type and ``text[start:end]`` in the original text."""

    type: str
    start: int
    end: int
    text: str


def parse_types(types: str | Iterable[str] | None) -> frozenset[str]:
    """Turn ``None`` (all), ``"EMAIL,PHONE"`` or an iterable of names into a validated set.

    Names are case-insensitive; an unknown one raises :class:`InvalidInput` listing the valid
    names."""
    if types is None:
        return ALL_TYPES
    if isinstance(types, frozenset) and types <= ALL_TYPES:
        return types
    names = types.split(",") if isinstance(types, str) else list(types)
    chosen: set[str] = set()
    for name in names:
        if not isinstance(name, str):
            raise InvalidInput(f"PII type names are strings, not {type(name).__name__}")
        key = name.strip().upper()
        if not key:
            continue
        if key not in ALL_TYPES:
            raise InvalidInput(
                f"unknown PII type {name.strip()!r}; choose from: {', '.join(PII_TYPES)}",
                param="types",
            )
        chosen.add(key)
    if not chosen:
        raise InvalidInput(f"no PII types given; choose from: {', '.join(PII_TYPES)}")
    return frozenset(chosen)


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise InvalidInput(f"text must be a str, not {type(text).__name__} (decode bytes first)")
    return text


def _find(text: str, types: frozenset[str]) -> list[PiiSpan]:
    n_digits = sum(map(text.count, "0123456789"))
    lower = text.lower()
    candidates: list[tuple[int, int, int, int, str]] = []
    for rank, det in enumerate(DETECTORS):
        if det.type not in types or n_digits < det.min_digits:
            continue
        if det.words and not any(w in lower for w in det.words):
            continue
        for m in det.pattern.finditer(text):
            if det.check is not None and not det.check(m):
                continue
            start, end = m.span(det.group)
            # Longest first; on equal length the more specific detector (earlier) wins.
            candidates.append((start - end, rank, start, end, det.type))
    if not candidates:
        return []
    candidates.sort()
    taken: list[tuple[int, int]] = []
    spans: list[PiiSpan] = []
    for _, _, start, end, kind in candidates:
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        spans.append(PiiSpan(kind, start, end, text[start:end]))
    spans.sort(key=lambda s: s.start)
    return spans


def find_pii(text: str, types: str | Iterable[str] | None = None) -> list[PiiSpan]:
    """PII in ``text``, sorted by position and never overlapping.

    ``types`` limits the search (names from :data:`PII_TYPES`; default all). Where two matches
    overlap, the longer one wins, and on equal length the more specific type (a checksum-verified
    number over a phone pattern)."""
    return _find(_check_text(text), parse_types(types))


@dataclass(frozen=True)
class RedactionPolicy:
    """How :func:`redact` replaces PII: ``mode`` (one of :data:`MODES`) and which ``types``.

    ``types`` accepts any iterable of names (or ``"EMAIL,PHONE"``) and is stored as a frozenset;
    an unknown mode or type raises :class:`InvalidInput`."""

    mode: str = "mask"
    types: frozenset[str] = field(default=ALL_TYPES)
    placeholder: str = "[REDACTED]"

    def __post_init__(self) -> None:
        mode = self.mode.strip().lower() if isinstance(self.mode, str) else self.mode
        if mode not in MODES:
            raise InvalidInput(
                f"unknown redaction mode {self.mode!r}; choose from: {', '.join(MODES)}",
                param="mode",
            )
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "types", parse_types(self.types))


DEFAULT_POLICY = RedactionPolicy()


@dataclass(frozen=True)
class Redacted:
    """The redacted text and the spans found in the original (offsets into the original)."""

    text: str
    spans: list[PiiSpan]


def _partial(span: PiiSpan) -> str:
    s = span.text
    if span.type == "EMAIL":
        local, _, domain = s.rpartition("@")
        return f"{local[:1]}***@{domain}"
    if span.type == "ADDRESS":
        return "[ADDRESS]"  # no part of an address is safe to show
    if span.type == "IP_ADDRESS":
        sep = ":" if ":" in s else "."
        head, _, last = s.rpartition(sep)
        return _ALNUM.sub("*", head) + sep + last
    ext = ""
    if span.type == "PHONE":
        found = _EXTENSION.search(s)
        if found is not None:
            s, ext = s[: found.start()], _DIGIT.sub("*", s[found.start() :])
    pattern = _ALNUM if span.type == "IBAN" else _DIGIT
    keep = [m.start() for m in pattern.finditer(s)][-4:]
    cut = keep[0] if keep else len(s)
    return pattern.sub("*", s[:cut]) + s[cut:] + ext


def _replacement(span: PiiSpan, policy: RedactionPolicy) -> str:
    if policy.mode == "mask":
        return f"[{span.type}]"
    if policy.mode == "redact":
        return policy.placeholder
    return _partial(span)


def redact(
    text: str, policy: RedactionPolicy = DEFAULT_POLICY, *, allow: Collection[str] = ()
) -> Redacted:
    """Replace the PII in ``text`` that ``policy`` covers; the spans point into ``text``.
    ``allow``: texts whose PII is public, kept where found: a span that is part of one of
    them (casefolded) stays, such as the address a character's own profile gives ("221B
    Baker Street" is its world, not a user's secret)."""
    spans = _find(_check_text(text), policy.types)
    if allow and spans:
        public = [a.casefold() for a in allow]
        spans = [s for s in spans if not any(s.text.casefold() in a for a in public)]
    if not spans:
        return Redacted(text, spans)
    out: list[str] = []
    pos = 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(_replacement(span, policy))
        pos = span.end
    out.append(text[pos:])
    return Redacted("".join(out), spans)
