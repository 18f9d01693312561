"""Labels: what a character's personality test *should* show, and whether it did.

A label gives, per dimension, ``"high"``/``"low"``, a pole letter of a two-pole dimension
(``"E/I=I"``), a whole type code (``"INTJ"``), or a number on the answer scale (compared by which
side of the midpoint it lies on). Labels come from the command line, from a JSON file, or from
``data/bfi_labels.json`` — our own judgement of the bundled characters, not published annotations.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from personae.errors import InvalidInput
from personae.evaluation.questionnaire import Dimension, DimensionScore, Level, Questionnaire

_HIGH = {"high", "h", "+", "hi", "높음", "높다"}
_LOW = {"low", "l", "-", "lo", "낮음", "낮다"}


@dataclass(frozen=True)
class LabelCheck:
    dimension: str
    expected: Level
    predicted: Level | None
    expected_value: float | None  # when the label gave a number

    @property
    def agrees(self) -> bool:
        return self.predicted == self.expected


def parse_label(spec: str | Mapping[str, Any], questionnaire: Questionnaire) -> dict[str, Any]:
    """Expected dimension values from ``"E=high,A=low"``, ``"E/I=I,T/F=T"``, a type code such as
    ``"INTJ"`` (two-pole dimensions only), or a mapping ``{dimension: "high"|"low"|pole|number}``.
    Dimensions may be named in full or by a unique case-insensitive prefix. Returns dimension
    name → ``"high"``/``"low"`` or a number on the answer scale."""
    if isinstance(spec, str):
        text = spec.strip()
        if not text:
            raise InvalidInput("the label is empty; use e.g. 'E=high,A=low'")
        if "=" not in text and ":" not in text:
            pairs = _code_pairs(text, questionnaire)
        else:
            pairs = []
            for part in re.split(r"[,;]", text):
                if not part.strip():
                    continue
                key, sep, value = part.replace(":", "=", 1).partition("=")
                if not sep or not key.strip() or not value.strip():
                    raise InvalidInput(f"label part {part.strip()!r} is not DIMENSION=VALUE")
                pairs.append((key.strip(), value.strip()))
    elif isinstance(spec, Mapping):
        pairs = [(str(k), v) for k, v in spec.items()]
    else:
        raise InvalidInput("a label must be text like 'E=high,A=low' or a JSON object")
    out: dict[str, Any] = {}
    for key, value in pairs:
        dim = _find_dimension(key, questionnaire)
        if dim.name in out:
            raise InvalidInput(f"the label gives dimension {dim.name!r} twice")
        out[dim.name] = _label_value(value, dim, questionnaire)
    return out


def _code_pairs(code: str, questionnaire: Questionnaire) -> list[tuple[str, Any]]:
    two_pole = [d for d in questionnaire.dimensions if d.high_pole != "high"]
    letters = code.replace("-", "").strip()
    if not two_pole or len(letters) != len(two_pole):
        raise InvalidInput(
            f"label {code!r} is not DIMENSION=VALUE pairs"
            + (f" or a {len(two_pole)}-letter type code" if two_pole else "")
        )
    pairs: list[tuple[str, Any]] = []
    for letter in letters:
        for dim in two_pole:
            if letter.upper() in (dim.high_pole.upper(), dim.low_pole.upper()):
                pairs.append((dim.name, letter))
                break
        else:
            raise InvalidInput(
                f"letter {letter!r} of label {code!r} is no pole of {questionnaire.name}"
            )
    return pairs


def _find_dimension(key: str, questionnaire: Questionnaire) -> Dimension:
    want = key.strip().lower()
    exact = [d for d in questionnaire.dimensions if d.name.lower() == want]
    if exact:
        return exact[0]
    found = [d for d in questionnaire.dimensions if d.name.lower().startswith(want)]
    if len(found) == 1:
        return found[0]
    names = ", ".join(d.name for d in questionnaire.dimensions)
    if not found:
        raise InvalidInput(
            f"label names {key!r}, which is no dimension of {questionnaire.name} ({names})"
        )
    raise InvalidInput(f"label dimension {key!r} is ambiguous in {questionnaire.name} ({names})")


def _label_value(value: Any, dim: Dimension, questionnaire: Questionnaire) -> Any:
    if isinstance(value, bool):
        raise InvalidInput(f"label for {dim.name!r} must be high, low, a pole or a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).strip()
        low = text.lower()
        if low in _HIGH:
            return "high"
        if low in _LOW:
            return "low"
        if dim.high_pole != "high":
            if low == dim.high_pole.lower():
                return "high"
            if low == dim.low_pole.lower():
                return "low"
        try:
            number = float(text)
        except ValueError:
            poles = f", {dim.high_pole} or {dim.low_pole}" if dim.high_pole != "high" else ""
            raise InvalidInput(
                f"label for {dim.name!r} is {text!r}; use high, low{poles} or a number"
            ) from None
    if not questionnaire.low <= number <= questionnaire.high or math.isnan(number):
        raise InvalidInput(
            f"label for {dim.name!r} is {number:g}, outside the scale "
            f"{questionnaire.low}..{questionnaire.high}"
        )
    return number


def compare_label(
    scores: Mapping[str, DimensionScore],
    label: Mapping[str, Any],
    questionnaire: Questionnaire,
) -> list[LabelCheck]:
    """Per labelled dimension: expected vs. predicted level (a numeric label counts by which
    side of the midpoint it lies on)."""
    checks = []
    for dim in questionnaire.dimensions:
        if dim.name not in label:
            continue
        want = label[dim.name]
        number = float(want) if isinstance(want, int | float) else None
        expected: Level = questionnaire.level_of(number) if number is not None else want
        score = scores.get(dim.name)
        checks.append(LabelCheck(dim.name, expected, score.level if score else None, number))
    return checks


def accuracy(checks: Sequence[LabelCheck]) -> float:
    """Share of labelled dimensions whose predicted level agrees (NaN without labels)."""
    return sum(c.agrees for c in checks) / len(checks) if checks else math.nan


def load_label_file(path: str, character_id: str, q: Questionnaire) -> dict[str, Any] | None:
    """A label from a JSON file: ``{dimension: value}``, ``{character_id: {…}}``, or
    ``{"labels": {character_id: {…}}}`` (optionally keyed by questionnaire name first)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"label file {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read label file {path}: {exc}") from None
    found = labels_for(data, character_id, q)
    return parse_label(found, q) if found is not None else None


def labels_for(data: Any, character_id: str, q: Questionnaire) -> Mapping[str, Any] | None:
    """Pick ``character_id``'s label for ``q`` out of a label file's JSON (None: not there)."""
    if not isinstance(data, dict):
        raise InvalidInput("a label file must hold a JSON object")
    if isinstance(data.get("labels"), dict):
        data = data["labels"]
    if isinstance(data.get(q.name), dict):
        data = data[q.name]
    if data and not any(isinstance(v, dict) for v in data.values()):
        return dict(data)  # a flat {dimension: value} label
    entry = data.get(character_id)
    if not isinstance(entry, dict):
        return None
    inner = entry.get(q.name)
    return dict(inner) if isinstance(inner, dict) else dict(entry)


def bundled_label(character_id: str, q: Questionnaire) -> tuple[dict[str, Any], str] | None:
    """Our own label for a bundled character (``data/bfi_labels.json``), when there is one for
    this questionnaire: (label, where it came from)."""
    text = resources.files("personae.evaluation").joinpath("data", "bfi_labels.json")
    data = json.loads(text.read_text("utf-8"))
    if data.get("questionnaire") != q.name:
        return None
    found = data["labels"].get(character_id)
    if not isinstance(found, dict):
        return None
    # Only the dimensions this file has: a trimmed "BFI" must not make the run fail.
    names = {d.name for d in q.dimensions}
    kept = {k: v for k, v in found.items() if k in names}
    if not kept:
        return None
    return parse_label(kept, q), f"bundled label for {character_id} (our own judgement)"
