"""What a pronoun in an allergy stands for, within one English message.

"I keep bees in Sussex, and I'm allergic to their stings": the rules read "their stings" as no
value at all (a pronoun names nothing), and the fact was lost. :func:`resolve_references`
rewrites the pronoun to the thing the message spoke of before it ("bee stings"), looking back
only inside the same message. When nothing earlier fits, a possessive is dropped ("allergic to
their stings" → "allergic to stings": still true, if less precise) and a bare "them"/"it" is
left alone, so no fact comes of it.
"""

from __future__ import annotations

import re

from personae.memory.profile_rules_base import _set

_ALLERGY_REF = re.compile(
    r"\b(?P<lead>allergic to|allerg(?:y|ies) to) (?P<p>their|its|them|it)\b(?P<rest> [\w-]+)?",
    re.I,
)
# A plural noun as the object of a verb of keeping or liking, or after a determiner.
_LEADS = (
    "keep keeps kept have has had raise raises breed breeds grow grows love loves like likes tend "
    "tends feed feeds with my our the some of about among near"
)
# A lookahead, so that matches overlap: in "my neighbour keeps wasps" both "my neighbour keeps"
# and "keeps wasps" are tried, and a lead word is never the noun.
_PLURAL = re.compile(
    rf"(?=\b(?:{'|'.join(_LEADS.split())})(?: [a-z]+)? (?P<n>[a-z]{{3,}}s)\b)", re.I
)
_LEAD_SET = _set(_LEADS)
_SINGULAR = re.compile(r"\b(?:a|an|my|our|the) (?P<n>[a-z]{3,})(?: (?P<m>[a-z]{3,}))?\b", re.I)
_NOT_NOUNS = _set(
    "this his hers its yes was is has does us always perhaps sometimes less unless across thus "
    "lot bit few lots kind sort way time day week year thing things but and that which who "
    "because when while are were has have had for with from very"
)


def _singular(noun: str) -> str:
    low = noun.lower()
    if low.endswith("ies"):
        return noun[:-3] + "y"
    if low.endswith(("sses", "xes", "ches", "shes", "zes")):
        return noun[:-2]
    return noun[:-1]


def _antecedent(before: str, *, plural: bool) -> str | None:
    if plural:
        found = [m.group("n") for m in _PLURAL.finditer(before)]
        nouns = [n for n in found if not n.lower().endswith("ss") and n.lower() not in _LEAD_SET]
    else:  # "a cat but …" is a cat, "a lovely cat" too: the second word when it is one
        nouns = [
            m.group("m") if m.group("m") and m.group("m").lower() not in _NOT_NOUNS else m["n"]
            for m in _SINGULAR.finditer(before)
        ]
    nouns = [n for n in nouns if n.lower() not in _NOT_NOUNS]
    return nouns[-1].lower() if nouns else None


def resolve_references(sentence: str, earlier: str = "") -> str:
    """``sentence`` with an allergy's pronoun replaced by what ``earlier`` text of the same
    message (and the sentence before it) spoke of; see the module notes."""
    found = _ALLERGY_REF.search(sentence)
    if found is None:
        return sentence
    pronoun = found.group("p").lower()
    rest = found.group("rest") or ""
    plural = pronoun in ("their", "them")
    noun = _antecedent(f"{earlier} {sentence[: found.start()]}", plural=plural)
    if pronoun in ("them", "it"):
        if noun is None:
            return sentence
        said = noun + rest
    elif noun is None:
        said = rest.strip()  # "their stings" with nothing before: "stings"
    else:
        said = (_singular(noun) if plural else noun) + rest
    if not said:
        return sentence
    return f"{sentence[: found.start()]}{found.group('lead')} {said}{sentence[found.end() :]}"
