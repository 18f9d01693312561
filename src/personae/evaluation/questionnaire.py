"""Personality questionnaires in InCharacter's JSON format: loading, scoring, reading options.

A questionnaire file (InCharacter / PsychoBench ``data/questionnaires/*.json``) has:

- ``name``; ``range`` ``[low, high]`` of the answer scale; ``scale`` (a reversed answer is
  ``scale - answer``, so it must equal ``low + high``); ``compute_mode`` ``"AVG"`` or ``"SUM"``;
- ``reverse``: ids of reverse-scored items;
- ``categories``: one per dimension, ``{"cat_name", "cat_questions": [ids]}``;
- ``questions``: ``{"id": {"origin_en": statement, "rewritten_en": question, "dimension",
  "category"}}``.

The ``reverse`` list is the scoring key we follow. InCharacter itself derives polarity from each
question's ``category`` instead; where the two disagree (16Personalities item 25) the loaded
questionnaire records a note, and the report shows it.

After reverse scoring, a high dimension score means the first pole of a two-pole dimension
(``"E/I"`` → E) or simply "high" (BFI's Extraversion …). A dimension is *high* when its mean item
score is above the scale's midpoint, *low* when below (for SUM questionnaires that is the same
test as sum vs. midpoint × items).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from personae.errors import InvalidInput
from personae.metrics.stats import Estimate, bootstrap_mean

Level = Literal["high", "low", "neutral"]


@dataclass(frozen=True)
class Item:
    id: str
    statement: str
    question: str
    dimension: str
    reverse: bool
    texts: Mapping[str, str] = field(default_factory=dict)  # every origin_*/rewritten_* field


@dataclass(frozen=True)
class Dimension:
    name: str
    items: tuple[str, ...]
    high_pole: str
    low_pole: str


@dataclass(frozen=True)
class DimensionScore:
    dimension: str
    value: float  # the questionnaire's own aggregate (mean or sum), NaN without answers
    mean: Estimate  # mean item score with a bootstrap CI
    answered: int
    total: int
    level: Level | None  # None: no item answered


@dataclass(frozen=True)
class Questionnaire:
    name: str
    full_name: str
    low: int
    high: int
    scale: int
    mode: Literal["AVG", "SUM"]
    items: Mapping[str, Item]
    dimensions: tuple[Dimension, ...]
    notes: tuple[str, ...] = ()

    @property
    def midpoint(self) -> float:
        return (self.low + self.high) / 2

    def dimension(self, name: str) -> Dimension:
        for dim in self.dimensions:
            if dim.name == name:
                return dim
        raise InvalidInput(f"{self.name} has no dimension {name!r}")

    def scored(self, item_id: str, answer: float) -> float:
        """The answer as it counts toward its dimension (reversed for reverse-scored items)."""
        if not self.low <= answer <= self.high:
            raise InvalidInput(
                f"answer {answer} to item {item_id} is outside {self.low}..{self.high}"
            )
        return self.scale - answer if self.items[item_id].reverse else answer

    def level_of(self, mean: float) -> Level:
        if math.isclose(mean, self.midpoint):
            return "neutral"
        return "high" if mean > self.midpoint else "low"

    def score(self, answers: Mapping[str, float | None]) -> dict[str, DimensionScore]:
        """Dimension scores from raw answers (item id → answer on the scale, None = missing)."""
        unknown = sorted(set(answers) - set(self.items), key=_id_order)
        if unknown:
            raise InvalidInput(f"{self.name} has no item {unknown[0]!r}")
        out: dict[str, DimensionScore] = {}
        for dim in self.dimensions:
            values = [
                self.scored(i, float(a)) for i in dim.items if (a := answers.get(i)) is not None
            ]
            est = bootstrap_mean(values)
            if values:
                value = est.mean * len(values) if self.mode == "SUM" else est.mean
                level: Level | None = self.level_of(est.mean)
            else:
                value, level = math.nan, None
            out[dim.name] = DimensionScore(dim.name, value, est, len(values), len(dim.items), level)
        return out

    def subset(self, limit: int | None) -> list[Item]:
        """The first ``limit`` items taken round-robin across dimensions (all when None), so a
        short run still touches every dimension evenly; returned in questionnaire order."""
        ordered = [self.items[i] for dim in self.dimensions for i in dim.items]
        if limit is None or limit >= len(ordered):
            return sorted(ordered, key=lambda it: _id_order(it.id))
        if limit < 1:
            raise InvalidInput(f"--limit must be at least 1, not {limit}")
        queues = [list(dim.items) for dim in self.dimensions]
        chosen: list[str] = []
        while len(chosen) < limit:
            for queue in queues:
                if queue and len(chosen) < limit:
                    chosen.append(queue.pop(0))
        return sorted((self.items[i] for i in chosen), key=lambda it: _id_order(it.id))


def _id_order(item_id: str) -> tuple[int, int | str]:
    return (0, int(item_id)) if item_id.isdigit() else (1, item_id)


def load_questionnaire(path: str | Path) -> Questionnaire:
    """Read and validate a questionnaire file; every problem is one :class:`InvalidInput` line
    that names the file and the field."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"questionnaire file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read questionnaire {path}: {exc}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    return parse_questionnaire(data, source=path.name)


def parse_questionnaire(data: Any, *, source: str = "questionnaire") -> Questionnaire:
    def bad(message: str) -> InvalidInput:
        return InvalidInput(f"{source}: {message}")

    if not isinstance(data, dict):
        raise bad("the top level must be a JSON object")
    for key in ("name", "range", "categories", "questions"):
        if key not in data:
            raise bad(f"missing field {key!r}")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        raise bad("'name' must be a non-empty string")
    rng = data["range"]
    if (
        not isinstance(rng, list)
        or len(rng) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in rng)
        or rng[0] >= rng[1]
    ):
        raise bad(f"'range' must be two integers [low, high] with low < high, not {rng!r}")
    low, high = rng
    scale = data.get("scale", low + high)
    if not isinstance(scale, int) or scale != low + high:
        raise bad(f"'scale' is {scale!r} but reverse scoring needs range low + high = {low + high}")
    mode = str(data.get("compute_mode", "AVG")).upper()
    if mode not in ("AVG", "SUM"):
        raise bad(f"'compute_mode' must be AVG or SUM, not {data.get('compute_mode')!r}")

    questions = data["questions"]
    if not isinstance(questions, dict) or not questions:
        raise bad("'questions' must be a non-empty object of id → question")
    reverse_raw = data.get("reverse", [])
    if not isinstance(reverse_raw, list):
        raise bad("'reverse' must be a list of item ids")
    reverse = {str(r) for r in reverse_raw}
    for r in sorted(reverse, key=_id_order):
        if r not in questions:
            raise bad(f"'reverse' names item {r} which is not in 'questions'")

    categories = data["categories"]
    if not isinstance(categories, list) or not categories:
        raise bad("'categories' must be a non-empty list of dimensions")
    dims: list[Dimension] = []
    member: dict[str, str] = {}
    for n, cat in enumerate(categories):
        where = f"categories[{n}]"
        if not isinstance(cat, dict):
            raise bad(f"{where} must be an object")
        for key in ("cat_name", "cat_questions"):
            if key not in cat:
                raise bad(f"{where} is missing field {key!r}")
        cat_name, ids = cat["cat_name"], cat["cat_questions"]
        if not isinstance(cat_name, str) or not cat_name.strip():
            raise bad(f"{where}.cat_name must be a non-empty string")
        if not isinstance(ids, list) or not ids:
            raise bad(f"{where} ({cat_name}): 'cat_questions' must be a non-empty list of ids")
        item_ids = tuple(str(i) for i in ids)
        for i in item_ids:
            if i not in questions:
                raise bad(f"dimension {cat_name!r} lists item {i} which is not in 'questions'")
            if i in member:
                raise bad(f"item {i} is in both {member[i]!r} and {cat_name!r}")
            member[i] = cat_name
        if any(d.name == cat_name for d in dims):
            raise bad(f"dimension {cat_name!r} appears twice in 'categories'")
        high_pole, low_pole = _poles(cat_name)
        dims.append(Dimension(cat_name, item_ids, high_pole, low_pole))

    items: dict[str, Item] = {}
    notes: list[str] = []
    for qid, q in questions.items():
        where = f"questions[{qid!r}]"
        if not isinstance(q, dict):
            raise bad(f"{where} must be an object")
        if qid not in member:
            continue  # InCharacter also leaves out items that belong to no dimension
        statement = q.get("origin_en")
        if not isinstance(statement, str) or not statement.strip():
            raise bad(f"{where} is missing field 'origin_en' (the statement)")
        dimension = q.get("dimension", member[qid])
        if dimension != member[qid]:
            raise bad(
                f"{where} says dimension {dimension!r} but 'categories' puts it in {member[qid]!r}"
            )
        question = q.get("rewritten_en", "")
        texts = {k: v for k, v in q.items() if isinstance(v, str) and "_" in k}
        items[qid] = Item(
            qid, statement.strip(), str(question).strip(), member[qid], qid in reverse, texts
        )
        note = _polarity_note(qid, q.get("category"), member[qid], qid in reverse)
        if note:
            notes.append(note)

    ordered = {k: items[k] for k in sorted(items, key=_id_order)}
    full_name = data.get("full_name", name)
    return Questionnaire(
        name.strip(),
        str(full_name),
        low,
        high,
        scale,
        "SUM" if mode == "SUM" else "AVG",
        ordered,
        tuple(dims),
        tuple(notes),
    )


def _poles(name: str) -> tuple[str, str]:
    parts = name.split("/")
    if len(parts) == 2 and all(p.strip() for p in parts):
        return parts[0].strip(), parts[1].strip()
    return "high", "low"


def _polarity_note(qid: str, category: Any, dimension: str, reverse: bool) -> str | None:
    """Where an item's ``category`` implies another polarity than the ``reverse`` list."""
    if not isinstance(category, str):
        return None
    if category in ("positive", "negative"):
        implied = category == "negative"
    else:
        high, low = _poles(dimension)
        if category not in (high, low):
            return None
        implied = category == low
    if implied == reverse:
        return None
    return (
        f"item {qid}: category {category!r} implies {'reverse' if implied else 'direct'} "
        f"scoring, but the 'reverse' list says {'reverse' if reverse else 'direct'}; "
        "scored as the 'reverse' list says"
    )


def pole_name(dim: Dimension, level: Level | None) -> str:
    """``"E"``/``"I"`` for two-pole dimensions, else the level itself."""
    if level is None:
        return "–"
    if dim.high_pole == "high" or level == "neutral":
        return level
    return dim.high_pole if level == "high" else dim.low_pole


# --- reading a chosen option out of a reply ---------------------------------------------------

_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}  # fmt: skip
# A restated scale ("1 to 5", "1-5", "1에서 5까지", "out of 5", "5점 만점") is not an answer.
_SCALE_SPANS = re.compile(
    r"(?:from\s+)?\b\d+\s*(?:-|–|~|to|through|부터|에서)\s*\d+(?:\s*까지)?"
    r"|\bout\s+of\s+\d+|/\s*\d+|\d+\s*점\s*(?:만점|척도)|scale\s+of\s+\d+"
    r"|\b\d+\s*(?:means|denotes|stands\s+for|is\s+for|=)\s*[^,.;\n]*"
    r"|\b\d+\s*점?\s*(?:은|는)\s*['\"‘“]?\s*(?:전혀|매우|대체로|보통|약간|조금|그렇)[^,.;\n]*",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"(?<!\d)(?<!\d\.)(\d+(?:\.\d+)?)(?!\d|\.\d)|\b(" + "|".join(_WORDS) + r")\b", re.I
)
_CUE_BEFORE = re.compile(
    r"(?:i'?d say|i would say|i say|i'?d give|i give|i'?d rate|i rate|rate (?:it|myself|me)"
    r"(?: an?| as)?|i choose|i'?d choose|i pick|i'?d pick|i'?d go with|go with|more like|"
    r"closer to|answer(?: is)?|my answer|rating|score|choice|선택|답은|답|점수는|점수|저는|전|나는)"
    r"\W{0,6}$",
    re.IGNORECASE,
)


def _ascii_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def parse_option(text: str, low: int, high: int) -> float | None:
    """The number a reply picks on the ``low..high`` scale, or None when there is none or it is
    ambiguous. Reads "4", "I'd say 4", "**4**", "four", "4점", "저는 4점입니다"; ignores restated
    scales ("from 1 to 5", "out of 5", "5 means strongly agree"), years, addresses ("221B")
    and numbers outside the scale. Several different in-range numbers count only when exactly
    one of them is marked as the answer ("I'd say", "점", bold)."""
    import unicodedata

    if not text or not text.strip():
        return None
    clean = unicodedata.normalize("NFKC", text)
    clean = _SCALE_SPANS.sub(" ", clean)
    found: list[tuple[float, bool]] = []
    for match in _NUMBER.finditer(clean):
        token = match.group(1) or match.group(2)
        start, end = match.span()
        value = float(_WORDS[token.lower()]) if match.group(2) else float(token)
        before, after = clean[start - 1 : start], clean[end : end + 2]
        if match.group(1) and (
            _ascii_letter(before) or _ascii_letter(after[:1]) or re.match(r"[:,]\d", after)
        ):
            continue  # "221B", "4th", "GPT4", "4:30", "1,000": not a choice
        if not low <= value <= high:
            continue
        # "one" is a pronoun far more often than an answer ("I am not one to …"): a number
        # word counts only when marked as the answer or when it is the whole reply.
        if (
            match.group(2)
            and not _CUE_BEFORE.search(clean[max(0, start - 30) : start])
            and clean.strip(" \t\n.!*\"'").lower() != token.lower()
        ):
            continue
        cued = (
            bool(_CUE_BEFORE.search(clean[max(0, start - 30) : start]))
            or clean[end : end + 2].lstrip().startswith("점")
            or (clean[max(0, start - 2) : start] == "**" and clean[end : end + 2] == "**")
        )
        found.append((value, cued))
    values = {v for v, _ in found}
    if len(values) == 1:
        return values.pop()
    marked = {v for v, cued in found if cued}
    return marked.pop() if len(marked) == 1 else None
