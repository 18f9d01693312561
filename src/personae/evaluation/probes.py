"""Probe sets: the questions that provoke character breaks (identity, instruction, anachronism,
control), in English and Korean, and the era a character lives in. Used by the roleplay breaks
task and the fidelity suite; the detectors are in :mod:`personae.checks.breaks`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from personae.errors import InvalidInput

PROBE_KINDS: tuple[str, ...] = ("identity", "instruction", "anachronism", "control")


# --- probe sets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    id: str
    kind: str
    question: str
    eras: tuple[str, ...] = ()
    terms: tuple[str, ...] = ()  # for anachronism probes: words that show knowing the concept

    def applies_to(self, era: str | None) -> bool:
        if self.kind != "anachronism":
            return True
        return era is not None and era in self.eras


@dataclass(frozen=True)
class ProbeSet:
    language: str
    probes: tuple[Probe, ...]
    eras: dict[str, str] = field(default_factory=dict)  # era tag → description
    characters: dict[str, str] = field(default_factory=dict)  # character id → era tag
    source: str = ""

    def for_era(self, era: str | None) -> list[Probe]:
        return [p for p in self.probes if p.applies_to(era)]


def parse_probes(data: Any, *, source: str = "probes") -> ProbeSet:
    """Validate a probe file (see ``data/probes_en.json``); errors name the field."""

    def bad(message: str) -> InvalidInput:
        return InvalidInput(f"{source}: {message}")

    if not isinstance(data, dict):
        raise bad("the top level must be a JSON object")
    if "probes" not in data:
        raise bad("missing field 'probes'")
    raw = data["probes"]
    if not isinstance(raw, list) or not raw:
        raise bad("'probes' must be a non-empty list")
    eras = data.get("eras", {})
    characters = data.get("characters", {})
    if not isinstance(eras, dict) or not isinstance(characters, dict):
        raise bad("'eras' and 'characters' must be objects")
    probes: list[Probe] = []
    seen: set[str] = set()
    for n, p in enumerate(raw):
        where = f"probes[{n}]"
        if not isinstance(p, dict):
            raise bad(f"{where} must be an object")
        for key in ("id", "kind", "question"):
            if not isinstance(p.get(key), str) or not p[key].strip():
                raise bad(f"{where} is missing field {key!r}")
        pid = p["id"].strip()
        if pid in seen:
            raise bad(f"probe id {pid!r} appears twice")
        seen.add(pid)
        if p["kind"] not in PROBE_KINDS:
            raise bad(f"{where} ({pid}): kind {p['kind']!r} is not one of {', '.join(PROBE_KINDS)}")
        probe_eras = p.get("eras", [])
        terms = p.get("terms", [])
        if not isinstance(probe_eras, list) or not all(isinstance(e, str) for e in probe_eras):
            raise bad(f"{where} ({pid}): 'eras' must be a list of era tags")
        if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
            raise bad(f"{where} ({pid}): 'terms' must be a list of strings")
        if p["kind"] == "anachronism" and (not probe_eras or not terms):
            raise bad(f"{where} ({pid}): an anachronism probe needs 'eras' and 'terms'")
        for era in probe_eras:
            if eras and era not in eras:
                raise bad(f"{where} ({pid}): era {era!r} is not declared in 'eras'")
        probes.append(Probe(pid, p["kind"], p["question"].strip(), tuple(probe_eras), tuple(terms)))
    return ProbeSet(
        str(data.get("language", "en")),
        tuple(probes),
        {str(k): str(v) for k, v in eras.items()},
        {str(k): str(v) for k, v in characters.items()},
        source,
    )


def load_probes(path: str | Path) -> ProbeSet:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"probe file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read probe file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path.name}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return parse_probes(data, source=path.name)


def bundled_probes(language: str) -> ProbeSet:
    """The probe set shipped for ``language`` ('en' or 'ko')."""
    name = "probes_ko.json" if language == "ko" else "probes_en.json"
    text = resources.files("personae.evaluation").joinpath("data", name).read_text("utf-8")
    return parse_probes(json.loads(text), source=name)


# An era from the card itself, for characters the probe file does not list.
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")


def infer_era(text: str, eras: dict[str, str]) -> str | None:
    """Guess an era tag from a card's text: '조선' → joseon; a year → the era whose declared
    range ("1837-1901 …") holds it; "present day" → modern. None when unsure."""
    if "조선" in text or "joseon" in text.lower():
        return "joseon" if "joseon" in eras else None
    if re.search(r"present[- ]day|현대|요즘", text, re.I) and "modern" in eras:
        return "modern"
    years = [int(y) for y in _YEAR.findall(text)]
    for tag, description in eras.items():
        span = re.match(r"\s*(\d{3,4})\s*[-–]\s*(\d{3,4})", description)
        if span and years and int(span.group(1)) <= years[0] <= int(span.group(2)):
            return tag
    return None
