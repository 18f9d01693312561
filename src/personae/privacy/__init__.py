"""Privacy: find PII (emails, phone numbers, cards, SSNs, 주민등록번호, IPs, addresses) and redact
it by a policy before text is stored.

    from personae.privacy import RedactionPolicy, redact
    redact("mail me: kim@example.com", RedactionPolicy(mode="partial")).text
    # 'mail me: k***@example.com'
"""

from personae.privacy.pii import (
    ALL_TYPES,
    DEFAULT_POLICY,
    MODES,
    PII_TYPES,
    PiiSpan,
    Redacted,
    RedactionPolicy,
    find_pii,
    parse_types,
    redact,
)

__all__ = [
    "ALL_TYPES",
    "DEFAULT_POLICY",
    "MODES",
    "PII_TYPES",
    "PiiSpan",
    "Redacted",
    "RedactionPolicy",
    "find_pii",
    "parse_types",
    "redact",
]
