"""A card drafted from what a book gives a character: the model writes the profile and the
lorebook's texts from the character's lines; the rules choose the lines, the example dialogue
(the character's own exchanges, never invented), the lorebook's names and keys — and fill in
whatever the model does not give (no JSON, wrong fields, empty, the wrong language), saying
so in :attr:`DraftedCard.fallback`. Nothing the model returns makes this fail.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from personae.backends.base import Backend, GenerationParams, Message, collect
from personae.characters.card import Character
from personae.characters.lorebook_model import Lorebook, LoreEntry
from personae.errors import BackendError
from personae.experience.from_text.attribution import ExtractedLine
from personae.experience.from_text.entities import Entity, recurring_entities
from personae.experience.from_text.extract import Extraction
from personae.experience.from_text.names import Cast
from personae.experience.from_text.prompts import ANSWERS, KIND, LOREBOOK, PROFILE, UNKNOWN
from personae.experience.from_text.sample import example_exchanges, sample_lines
from personae.text import hangul_share

PROFILE_FIELDS = ("description", "personality", "scenario", "first_mes")
LIMITS = {"description": 1500, "personality": 500, "scenario": 600, "first_mes": 600}
MAX_LORE = 400
DEFAULT_PARAMS = GenerationParams(temperature=0.3, max_tokens=600, seed=17)


@dataclass(slots=True)
class DraftedCard:
    """The card, which fields the model wrote (``from_model``), which the rules filled and
    why (``fallback``: field → reason), the material it was drafted from, and the model's
    replies as they came (``replies``)."""

    character: Character
    from_model: list[str] = field(default_factory=list)
    fallback: dict[str, str] = field(default_factory=dict)
    sample: list[ExtractedLine] = field(default_factory=list)
    examples: list[ExtractedLine] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in a model's reply: code fences, text before and after, and
    a trailing comma or two are tolerated; None when there is none."""
    decoder = json.JSONDecoder()
    cleaned = text.replace("```json", "```").replace("```", "\n")
    for start in (i for i, ch in enumerate(cleaned) if ch == "{"):
        for candidate in (
            cleaned[start:],
            cleaned[start:].replace(",}", "}").replace(",\n}", "\n}"),
        ):
            try:
                value, _ = decoder.raw_decode(candidate)
            except ValueError:
                continue
            if isinstance(value, dict):
                return value
    return None


_PAIR = re.compile(r'"([A-Za-z_ ]{1,40})"\s*:\s*"((?:[^"\\]|\\.)*)(?:"|$)', re.DOTALL)


def salvage_fields(text: str) -> dict[str, str]:
    """``"key": "value"`` pairs read from a reply that is not valid JSON (cut off by the token
    limit, a stray quote, a missing comma): whatever can be read, the last value even when its
    closing quote never came."""
    found: dict[str, str] = {}
    for key, raw in _PAIR.findall(text):
        try:
            value = json.loads(f'"{raw}"')
        except ValueError:
            value = raw.replace('\\"', '"')
        found.setdefault(key.strip(), value)
    return found


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return " ".join(value.split()) if "\n" not in value.strip() else value.strip()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(v.strip() for v in value if v.strip())
    return ""


def _check(value: Any, language: str, limit: int) -> tuple[str, str | None]:
    """The field's text, or "" and why it cannot be used."""
    text = _as_text(value)
    if not text or text.strip(". …") == "":
        return "", "empty or missing"
    korean = hangul_share(text) > 0.3
    if (language == "ko") != korean:
        return "", "not in the book's language"
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "…"
    return text, None


def _ask(
    backend: Backend, prompt: str, params: GenerationParams, replies: list[str]
) -> tuple[dict[str, Any] | None, str]:
    try:
        text, _ = collect(backend.stream([Message("user", prompt)], params))
    except BackendError as exc:
        return None, f"the model failed ({exc})"
    replies.append(text)
    found = parse_json_object(text)
    if found is None:
        salvaged = salvage_fields(text)
        if salvaged:
            return salvaged, ""
        return None, "the model gave no JSON object" if text.strip() else "the model gave nothing"
    return found, ""


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"


def _lines_block(lines: list[ExtractedLine], name: str, language: str) -> str:
    parts = []
    for line in lines:
        said = f"{name}: {_clip(line.text, 500)}"
        if line.answers is not None:
            who = line.answers.speaker or UNKNOWN[language]
            said = f"({ANSWERS[language]} {who}: {_clip(line.answers.text, 160)})\n{said}"
        parts.append(said)
    return "\n\n".join(parts)


def _narration(lines: list[ExtractedLine], limit: int = 8) -> str:
    seen: list[str] = []
    for line in lines:
        context = _clip(line.context, 240)
        if len(context) > 30 and context not in seen:
            seen.append(context)
    step = max(1, len(seen) // limit)
    return "\n".join(f"- {c}" for c in seen[::step][:limit])


def _examples(lines: list[ExtractedLine]) -> str:
    blocks = []
    for line in lines:
        answer = line.answers.text if line.answers else ""
        blocks.append(
            f"<START>\n{{{{user}}}}: {_clip(answer, 300)}\n{{{{char}}}}: {_clip(line.text, 600)}"
        )
    return "\n".join(blocks)


def _partners(lines: list[ExtractedLine], name: str) -> list[str]:
    counts: dict[str, int] = {}
    for line in lines:
        who = line.answers.speaker if line.answers else None
        if who and who != name:
            counts[who] = counts.get(who, 0) + 1
    return sorted(counts, key=lambda w: -counts[w])[:3]


def _rule_profile(
    extraction: Extraction, title: str, mine: list[ExtractedLine], first: ExtractedLine | None
) -> dict[str, str]:
    name, n = extraction.character, len(mine)
    partners = ", ".join(_partners(mine, name))
    if extraction.language == "ko":
        description = f"{name}은(는) 「{title}」의 등장인물이다. 작품에서 {n}마디를 한다" + (
            f"; 주로 {partners}와(과) 이야기한다." if partners else "."
        )
        scenario = f"{{{{user}}}}는 「{title}」의 세계에서 {name}을(를) 만난다."
    else:
        description = f"{name} is a character in {title}, who speaks {n} lines in it" + (
            f", most often to {partners}." if partners else "."
        )
        scenario = f"{{{{user}}}} meets {name} in the world of {title}."
    return {
        "description": description,
        "personality": "",
        "scenario": scenario,
        "first_mes": first.text if first is not None else "",
    }


def _lore_prompt(entities: list[Entity], extraction: Extraction, title: str) -> str:
    language = extraction.language
    kinds = KIND["ko" if language == "ko" else "en"]
    rows = []
    for entity in entities:
        passages = " / ".join(_clip(s, 200) for s in entity.snippets[:2]) or "-"
        rows.append(f"{entity.name} ({kinds.get(entity.kind, entity.kind)}): {passages}")
    example = ", ".join(f'"{e.name}": "..."' for e in entities[:2])
    return LOREBOOK[language].format(
        title=title, name=extraction.character, example=example, entries="\n".join(rows)
    )


def _lorebook(
    entities: list[Entity], texts: dict[str, Any], language: str, title: str
) -> tuple[Lorebook | None, int]:
    if not entities:
        return None, 0
    written = 0
    entries = []
    for order, entity in enumerate(entities):
        content, _ = _check(texts.get(entity.name), language, MAX_LORE)
        if content:
            written += 1
        else:
            content = " ".join(entity.snippets[:2]) or entity.name
        entries.append(
            LoreEntry(
                keys=entity.keys,
                content=content,
                insertion_order=100 + order,
                name=entity.name,
                comment=entity.kind,
                id=order,
            )
        )
    return Lorebook(name=title, entries=entries), written


def draft_card(
    extraction: Extraction,
    book: str,
    *,
    title: str,
    backend: Backend | None,
    params: GenerationParams | None = None,
    sample_tokens: int = 1100,
) -> DraftedCard:
    """Draft ``extraction.character``'s card from ``book`` (the text the extraction read),
    titled ``title``. Without a ``backend``, by the rules alone."""
    language = extraction.language
    name = extraction.character
    mine = extraction.of_character()
    others = [line for line in extraction.lines if line.speaker not in (None, name)]
    sample = sample_lines(mine, others, budget_tokens=sample_tokens)
    examples = example_exchanges(mine, others)
    cast = Cast(name, extraction.aliases, narrator=extraction.narrator, language=language)
    speakers = [s for s, _ in extraction.speakers().most_common(30)]
    entities = recurring_entities(book, cast, speakers)
    opening = next((line for line in sample if line.answers is None), sample[0] if sample else None)
    fields = _rule_profile(extraction, title, mine, opening)
    drafted = DraftedCard(Character(name=name), sample=sample, examples=examples, entities=entities)
    params = params or DEFAULT_PARAMS
    lore_texts: dict[str, Any] = {}
    if backend is None:
        drafted.fallback = {f: "no model" for f in (*PROFILE_FIELDS, "lorebook")}
    else:
        prompt = PROFILE[language].format(
            name=name,
            title=title,
            lines=_lines_block(sample, name, language),
            narration=_narration(sample) or "-",
            names=", ".join(e.name for e in entities) or "-",
        )
        answer, why = _ask(backend, prompt, params, drafted.replies)
        for key in PROFILE_FIELDS:
            text, problem = _check((answer or {}).get(key), language, LIMITS[key])
            if text:
                fields[key] = text
                drafted.from_model.append(key)
            else:
                drafted.fallback[key] = why or str(problem)
        if entities:
            found, why = _ask(
                backend, _lore_prompt(entities, extraction, title), params, drafted.replies
            )
            lore_texts = found or {}
            if why:
                drafted.fallback["lorebook"] = why
    book_entries, written = _lorebook(entities, lore_texts, language, title)
    if written:
        drafted.from_model.append("lorebook")
    if backend is not None and entities and written < len(entities):
        drafted.fallback.setdefault(
            "lorebook", f"the model described {written} of {len(entities)} entries"
        )
    drafted.character = Character(
        name=name,
        description=fields["description"],
        personality=fields["personality"],
        scenario=fields["scenario"],
        first_mes=fields["first_mes"],
        mes_example=_examples(examples),
        character_book=book_entries,
        tags=["from-text", language],
        creator_notes=(
            f"Drafted by `personae card from-text` from {title}: {len(mine)} lines of {name} "
            f"({extraction.kind}); written by the model: {', '.join(drafted.from_model) or 'none'}."
        ),
        extensions={
            "personae": {
                "from_text": {
                    "title": title,
                    "kind": extraction.kind,
                    "language": language,
                    "lines": len(mine),
                    "attributed_by": dict(extraction.methods(name)),
                    "model": getattr(backend, "model", None),
                    "from_model": drafted.from_model,
                    "fallback": drafted.fallback,
                }
            }
        },
    )
    return drafted


__all__ = ["DEFAULT_PARAMS", "DraftedCard", "draft_card", "parse_json_object", "salvage_fields"]
