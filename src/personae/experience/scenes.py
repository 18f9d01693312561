"""Scenes: what the model proposes for a profile chunk, read defensively.

A scene is a moment the character lives through: ``type``, ``time``, ``place``, ``people``
present and a ``background``. The model is asked for a JSON array; what comes back is read as
well as it can be — the array inside code fences or chatter, the objects one by one when the
array is broken, or Character-LLM's own "Scene 1: / Type: / Location: / Background:" lists — and
every item that cannot be a scene is dropped with a reason, never raised.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from personae.text import Language, detect_language

MAX_BACKGROUND = 800
MIN_BACKGROUND = 12
MAX_FIELD = 120
MAX_PEOPLE = 8

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)
_OBJECT = re.compile(r"\{[^{}]*\}", re.S)
_LIST_HEAD = re.compile(r"^\s*(?:scene|장면)\s*\d+\s*[:.]?\s*$", re.I | re.M)
_KEY_LINE = re.compile(r"^\s*[-*]?\s*([A-Za-z가-힣 ]{1,20})\s*[:：]\s*(.*)$")
_KEYS = {
    "type": "type",
    "종류": "type",
    "유형": "type",
    "time": "time",
    "때": "time",
    "시간": "time",
    "시기": "time",
    "place": "place",
    "location": "place",
    "곳": "place",
    "장소": "place",
    "people": "people",
    "characters": "people",
    "사람": "people",
    "인물": "people",
    "등장인물": "people",
    "background": "background",
    "status": "background",
    "situation": "background",
    "배경": "background",
    "상황": "background",
}


@dataclass(frozen=True)
class Scene:
    """One scene; ``id`` is stable across resumes ("s0007"; protective ones "p0003"), and
    ``topic`` names what a protective scene asks about."""

    id: str
    type: str
    time: str
    place: str
    people: tuple[str, ...]
    background: str
    chunk: int = -1
    protective: bool = False
    topic: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["people"] = list(self.people)
        if not self.extra:
            data.pop("extra")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scene:
        return cls(
            id=str(data["id"]),
            type=str(data.get("type", "")),
            time=str(data.get("time", "")),
            place=str(data.get("place", "")),
            people=tuple(str(p) for p in data.get("people", ())),
            background=str(data.get("background", "")),
            chunk=int(data.get("chunk", -1)),
            protective=bool(data.get("protective", False)),
            topic=str(data.get("topic", "")),
            extra=dict(data.get("extra", {})),
        )

    def text(self) -> str:
        """What near-duplicate detection compares: where, who and the situation."""
        return f"{self.type} {self.place} {' '.join(self.people)} {self.background}"


def _json_items(raw: str) -> list[Any] | None:
    candidates = [m.group(1) for m in _FENCE.finditer(raw)] + [raw]
    for text in candidates:
        start, end = text.find("["), text.rfind("]")
        if 0 <= start < end:
            try:
                value = json.loads(text[start : end + 1])
            except ValueError:
                continue
            if isinstance(value, list):
                return value
        start, end = text.find("{"), text.rfind("}")
        if 0 <= start < end:
            try:
                value = json.loads(text[start : end + 1])
            except ValueError:
                continue
            if isinstance(value, dict):
                inner = value.get("scenes")
                return inner if isinstance(inner, list) else [value]
    objects = []
    for match in _OBJECT.finditer(raw):
        try:
            value = json.loads(match.group(0))
        except ValueError:
            continue
        objects.append(value)
    return objects or None


def _listed_items(raw: str) -> list[dict[str, str]]:
    """Character-LLM's text form: "Scene 1:" blocks of "Key: value" lines."""
    blocks = _LIST_HEAD.split(raw)
    items: list[dict[str, str]] = []
    for block in blocks:
        item: dict[str, str] = {}
        for line in block.splitlines():
            match = _KEY_LINE.match(line)
            if match and match.group(1).strip().lower() in _KEYS:
                item[_KEYS[match.group(1).strip().lower()]] = match.group(2).strip()
        if item:
            items.append(item)
    return items


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if isinstance(v, (str, int, float)))
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        return ""
    return " ".join(str(value).split())[:MAX_FIELD]


def _people(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = re.split(r"[,;、，]|\band\b|\s및\s|와\s|과\s", value)
    if not isinstance(value, list):
        return ()
    names = [" ".join(str(v).split())[:60] for v in value if isinstance(v, (str, int))]
    return tuple(dict.fromkeys(n for n in names if n))[:MAX_PEOPLE]


def _scene_fields(item: Any, language: Language) -> dict[str, Any] | str:
    """The scene's fields, or why it is dropped."""
    if not isinstance(item, dict):
        return "wrong_fields"
    lowered = {str(k).strip().lower(): v for k, v in item.items()}
    fields = {_KEYS[k]: v for k, v in lowered.items() if k in _KEYS}
    background = fields.get("background")
    if not isinstance(background, str) or len(background.strip()) < MIN_BACKGROUND:
        return "wrong_fields"
    background = " ".join(background.split())
    if len(background) > MAX_BACKGROUND:
        return "too_long"
    if detect_language(background, language) != language:
        return "wrong_language"
    return {
        "type": _text(fields.get("type")) or ("대화" if language == "ko" else "chat"),
        "time": _text(fields.get("time")),
        "place": _text(fields.get("place")),
        "people": _people(fields.get("people")),
        "background": background,
    }


# Why the parser drops a scene (the build adds "near_duplicate" and "beyond_moments").
SCENE_DROPS = ("empty", "not_json", "wrong_fields", "too_long", "wrong_language")


def parse_scenes(raw: str, language: Language) -> tuple[list[dict[str, Any]], list[str]]:
    """The scenes in a model's answer and the reasons the rest were dropped (``not_json``
    when nothing scene-like is in it at all; ``wrong_fields``, ``too_long``,
    ``wrong_language`` per item)."""
    if not isinstance(raw, str) or not raw.strip():
        return [], ["empty"]
    items: list[Any] | None = _json_items(raw)
    if not items:
        items = _listed_items(raw)
    if not items:
        return [], ["not_json"]
    scenes: list[dict[str, Any]] = []
    dropped: list[str] = []
    for item in items:
        fields = _scene_fields(item, language)
        if isinstance(fields, str):
            dropped.append(fields)
        else:
            scenes.append(fields)
    return scenes, dropped


__all__ = ["MAX_BACKGROUND", "SCENE_DROPS", "Scene", "parse_scenes"]
