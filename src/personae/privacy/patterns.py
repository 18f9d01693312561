"""The regular expressions behind PII detection, and the checks a match must pass.

Each detector is a precompiled pattern plus an optional check on the match (Luhn, a valid date,
a digit count). Patterns favour precision: a bare run of digits is only taken where its shape is
unambiguous (a Korean mobile number, a Luhn-valid card, a 10-digit NANP number) or a keyword such
as "phone" or "SSN" stands just before it.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from personae.privacy.addresses import ADDRESS_PATTERNS

# A number must not start or end inside a longer word or number. Hangul is deliberately not a
# boundary: Korean particles attach straight to numbers ("010-1234-5678로").
_L = r"(?<![0-9A-Za-z_])(?<![0-9][.,/-])"
_R = r"(?![0-9A-Za-z_])(?![.,/-][0-9])"
_EXT = r"(?:[ ]?(?i:x|ext\.?|extension|#|내선)[ ]?\d{1,6})?"

Check = Callable[[re.Match[str]], bool]


@dataclass(frozen=True, slots=True)
class Detector:
    type: str
    pattern: re.Pattern[str]
    check: Check | None = None
    # The group holding the PII; context patterns match a keyword in front of it.
    group: str | int = 0
    # Cheap gates, so most lines skip most patterns: at least this many ASCII digits in the
    # text, and (when given) one of these words in the lowercased text.
    min_digits: int = 1
    words: tuple[str, ...] = ()


def _digits(s: str) -> str:
    return "".join(c for c in s if c.isdigit())


_RUN = re.compile(r"\d+")
_BARE_NANP = re.compile(r"\+?1?\d{10}")


def _groups(s: str) -> list[str]:
    return _RUN.findall(s)


def _is_year(g: str) -> bool:
    return len(g) == 4 and 1900 <= int(g) <= 2099


def _looks_like_date(groups: list[str]) -> bool:
    if len(groups) != 3:
        return False
    a, b, c = groups
    if len(a) == 4:
        y, mo, d = a, b, c
    elif len(c) == 4:
        y, mo, d = c, a, b
        if int(mo) > 12:  # DD-MM-YYYY
            mo, d = d, mo
    else:
        return False
    if len(mo) > 2 or len(d) > 2:
        return False
    return _is_year(y) and 1 <= int(mo) <= 12 and 1 <= int(d) <= 31


def _phone_ok(m: re.Match[str], lo: int = 7, hi: int = 15) -> bool:
    core = m.group("core") if "core" in m.re.groupindex else m.group(0)
    digits = _digits(core)
    if not lo <= len(digits) <= hi:
        return False
    groups = _groups(core)
    if _looks_like_date(groups) or [len(g) for g in groups] == [3, 2, 4]:
        return False  # a date, or a US SSN's shape (valid or not)
    return not (len(groups) >= 2 and all(_is_year(g) for g in groups))


def _nanp_ok(m: re.Match[str]) -> bool:
    core = m.group("core")
    digits = _digits(core)
    if not _phone_ok(m, 10, 11):
        return False
    if _BARE_NANP.fullmatch(core):
        # A bare run of ten digits is a phone number only with a valid NANP area and exchange.
        local = digits[-10:]
        return local[0] not in "01" and local[3] not in "01"
    return True


def _generic_ok(m: re.Match[str]) -> bool:
    groups = _groups(m.group("core"))
    # Four or more groups ("69 987 88 37", "12 34 56 78") is a phone shape even at 8 digits;
    # with fewer, a short last group is more likely a list or a measurement.
    many = len(groups) >= 4
    if not _phone_ok(m, 8 if many else 9, 13):
        return False
    if len(groups[-1]) < (2 if many else 3):
        return False
    if all(g.endswith("0") for g in groups):
        return False  # round numbers: "10 20 30 40", "100 200 300 4000"
    sep = m.group("s")
    rest = [len(g) for g in groups[1:]]
    if all(n == 3 for n in rest) and (sep in ".," or len(groups[0]) < 3):
        return False  # thousands grouping: 1 234 567, 12.345.678
    return not (sep == "." and len(groups) == 4 and all(len(g) <= 3 for g in groups))


def _paren_ok(m: re.Match[str]) -> bool:
    area = re.search(r"\((\d+)\)", m.group(0))
    if area is not None and _is_year(area.group(1)):
        return False  # "(2019) 123-130" is a citation, not a phone
    return _phone_ok(m, 7, 15)


def _context_phone_ok(m: re.Match[str]) -> bool:
    groups = _groups(m.group("core"))
    if len(groups) == 2 and all(len(g) == 4 for g in groups):
        a, b = int(groups[0]), int(groups[1])
        if 1000 <= a < b <= 2099:
            return False  # a span of years
    return _phone_ok(m, 7, 8)


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


def _card_ok(m: re.Match[str]) -> bool:
    digits = _digits(m.group(0))
    if not 13 <= len(digits) <= 19:
        return False
    # Issuer prefixes: Visa 4, Mastercard/Maestro 5 and 2221-2720, Amex/Diners/JCB 30, 34-39,
    # Discover/UnionPay/Maestro 6.
    head = digits[0]
    if head == "3":
        if digits[1] not in "045689" and not digits.startswith(("34", "37")):
            return False
    elif head == "2":
        if not 2221 <= int(digits[:4]) <= 2720:
            return False
    elif head not in "456":
        return False
    return luhn(digits)


def _rrn_ok(m: re.Match[str]) -> bool:
    digits = _digits(m.group(0))
    century = {"1": 1900, "2": 1900, "5": 1900, "6": 1900}.get(digits[6], 2000)
    try:
        _dt.date(century + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        return False
    return True


def _iban_ok(m: re.Match[str]) -> bool:
    s = m.group(0).replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    rotated = s[4:] + s[:4]
    number = "".join(str(int(c, 36)) for c in rotated)
    return int(number) % 97 == 1


def _ipv6_ok(m: re.Match[str]) -> bool:
    s = m.group(0)
    if not any(c.isdigit() for c in s):
        return False  # "dead::beef", "a::b" in code
    try:
        ipaddress.IPv6Address(s)
    except ValueError:
        return False
    return True


_NANP = (
    _L
    + r"(?P<core>(?:(?:\+1|001|1)[ .-]?)?(?:\(\d{3}\)[ ]?|\d{3}[ .-]?)\d{3}[ .-]?\d{4})"
    + _EXT
    + _R
)
_KR_MOBILE = _L + r"(?P<core>01[016789](?P<s>[-. ]?)\d{3,4}(?P=s)\d{4})" + _EXT + _R
_KR_LAND = _L + r"(?P<core>0(?:2|[3-6][1-5]|70)(?P<s>[-. ]?)[2-9]\d{2,3}(?P=s)\d{4})" + _EXT + _R
_INTL = (
    r"(?<![0-9A-Za-z_+])(?P<core>\+\d{1,15}(?:[ .-]?\(\d{1,4}\)[ .-]?\d{1,14})?"
    r"(?:[ .-]\d{1,14}){0,6})" + _EXT + _R
)
_TRUNK = _L + r"(?P<core>0\d{1,4}(?P<s>[ .-])\d{2,8}(?:(?P=s)\d{2,8}){0,3})" + _EXT + _R
_PAREN = (
    r"(?<![0-9A-Za-z_(+])(?P<core>(?:\+\d{1,3}[ .-]?)?\(\d{1,5}\)[ .-]?\d{2,8}"
    r"(?:[ .-]\d{2,8}){0,3})" + _EXT + _R
)
_GENERIC = _L + r"(?P<core>[1-9]\d{0,3}(?P<s>[ .-])\d{2,4}(?:(?P=s)\d{2,4}){1,4})" + _EXT + _R
_PHONE_WORDS = (
    r"(?:(?i:\b(?:phone|tel|telephone|mobile|cell|fax|call|contact|number|whatsapp)\b)"
    r"|전화|연락처|휴대폰|핸드폰|대표번호|고객센터|번호)"
)
_CONTEXT_PHONE = (
    _PHONE_WORDS
    + r"[^0-9\n]{0,20}?(?P<pii>"
    + _L
    + r"(?P<core>\d{3,4}[ .-]\d{4})"
    + _EXT
    + _R
    + ")"
)

_SSN = _L + r"(?!000|666|9)\d{3}(?P<s>[- .])(?!00)\d{2}(?P=s)(?!0000)\d{4}" + _R
_CONTEXT_SSN = (
    r"(?i:\b(?:ssn|social security(?: number| no\.?)?)\b)[^0-9\n]{0,20}?"
    r"(?P<pii>" + _L + r"(?!000|666|9)\d{3}(?!00)\d{2}(?!0000)\d{4}" + _R + ")"
)
_KR_RRN = _L + r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])-?[1-8]\d{6}" + _R
_CARD = (
    _L + r"(?:\d{13,19}|\d{4}(?P<s>[ -])\d{4}(?P=s)\d{4}(?P=s)\d{1,4}(?:(?P=s)\d{1,3})?"
    r"|\d{4}(?P<t>[ -])\d{6}(?P=t)\d{4,5})" + _R
)
_IBAN = (
    r"(?<![0-9A-Za-z_])[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?"
    r"(?![0-9A-Za-z_])"
)
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = r"(?<![0-9A-Za-z_.])(?:" + _OCTET + r"\.){3}" + _OCTET + r"(?![0-9A-Za-z_])(?!\.\d)"
_IPV6 = (
    r"(?<![0-9A-Za-z_:])(?:[0-9A-Fa-f]{1,4})?(?::(?:[0-9A-Fa-f]{1,4})?){2,7}"
    r"(?:(?<=:)(?:\d{1,3}\.){3}\d{1,3})?(?![0-9A-Za-z_:])(?!\.\d)"
)
_EMAIL = (
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9_%+-](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9_%+-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)


def _d(
    type_: str,
    pattern: str,
    check: Check | None = None,
    *,
    group: str | int = 0,
    digits: int = 1,
    words: tuple[str, ...] = (),
) -> Detector:
    return Detector(type_, re.compile(pattern), check, group, digits, words)


_PHONE_CUES = (
    "phone", "tel", "mobile", "cell", "fax", "call", "contact", "number", "whatsapp",
    "전화", "연락처", "휴대폰", "핸드폰", "번호", "고객센터",
)  # fmt: skip

# Order matters only for ties in the overlap rule (same span length): earlier wins.
DETECTORS: tuple[Detector, ...] = (
    _d("KR_RRN", _KR_RRN, _rrn_ok, digits=13),
    _d("US_SSN", _SSN, digits=9),
    _d("US_SSN", _CONTEXT_SSN, group="pii", digits=9, words=("ssn", "social security")),
    _d("CREDIT_CARD", _CARD, _card_ok, digits=13),
    _d("IBAN", _IBAN, _iban_ok, digits=8),
    _d("EMAIL", _EMAIL, digits=0, words=("@",)),
    _d("IP_ADDRESS", _IPV4, digits=4, words=(".",)),
    _d("IP_ADDRESS", _IPV6, _ipv6_ok, words=(":",)),
    _d("PHONE", _KR_MOBILE, lambda m: _phone_ok(m, 10, 11), digits=10),
    _d("PHONE", _KR_LAND, lambda m: _phone_ok(m, 9, 11), digits=9),
    _d("PHONE", _NANP, _nanp_ok, digits=10),
    _d("PHONE", _INTL, lambda m: _phone_ok(m, 8, 15), digits=8, words=("+",)),
    _d("PHONE", _PAREN, _paren_ok, digits=7, words=("(",)),
    _d("PHONE", _TRUNK, lambda m: _phone_ok(m, 9, 13), digits=9),
    _d("PHONE", _GENERIC, _generic_ok, digits=8),
    _d("PHONE", _CONTEXT_PHONE, _context_phone_ok, group="pii", digits=7, words=_PHONE_CUES),
    *(
        _d("ADDRESS", pattern, group=group, digits=digits, words=words)
        for pattern, group, digits, words in ADDRESS_PATTERNS
    ),
)
