"""Reading fidelity transcripts: JSONL, one record per character reply (see the fields below).

A record: ``conversation``, ``character``, ``language`` ("en"/"ko": the language the user writes
in that turn), ``model``, ``turn`` (1-based), ``user_name``, ``user`` (the user's message),
``reply``, ``finish_reason``, ``history`` (``{"role", "content"}`` messages before the user's
message, the greeting first), ``card`` (``name``, ``first_mes``, ``mes_example``,
``description``, and optionally ``personality``, ``scenario``, ``system_prompt`` and
``post_history_instructions``), and optionally ``probe`` (what the turn probes) and
``probe_terms``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from personae.errors import InvalidInput
from personae.text import Language

CARD_FIELDS = (
    "name",
    "first_mes",
    "mes_example",
    "description",
    "personality",
    "scenario",
    "system_prompt",
    "post_history_instructions",
)
"""The card fields a transcript record may carry (``name`` is required)."""
REQUIRED = ("conversation", "character", "language", "model", "turn", "user", "reply", "card")


@dataclass(frozen=True)
class TranscriptRow:
    """One character reply of a fidelity transcript, validated."""

    conversation: str
    character: str
    language: Language
    model: str
    turn: int
    user_name: str
    user: str
    reply: str
    finish_reason: str | None
    history: tuple[dict[str, str], ...]
    card: dict[str, str]
    probe: str | None
    probe_terms: tuple[str, ...]
    line: int


def read_transcripts(path: str | Path) -> list[TranscriptRow]:
    """Every record of the JSONL file at ``path``; a bad one is an :class:`InvalidInput`
    naming the file, the line and the field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"transcript file {path} does not exist") from None
    except IsADirectoryError:
        raise InvalidInput(f"{path} is a folder: give the transcript JSONL file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read transcript file {path}: {exc}") from None
    rows: list[TranscriptRow] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{path} line {number}: not valid JSON ({exc.msg})") from None
        rows.append(parse_record(record, where=f"{path} line {number}", line=number))
    if not rows:
        raise InvalidInput(f"{path} holds no transcript records: expected one JSON object a line")
    return rows


def parse_record(record: Any, *, where: str = "record", line: int = 0) -> TranscriptRow:
    """One transcript record, checked field by field."""

    def bad(message: str) -> InvalidInput:
        return InvalidInput(f"{where}: {message}")

    if not isinstance(record, dict):
        raise bad("a record must be a JSON object")
    for key in REQUIRED:
        if key not in record:
            raise bad(f"missing field {key!r}")
    for key in ("conversation", "character", "model", "user", "reply"):
        if not isinstance(record[key], str):
            raise bad(f"field {key!r} must be a string")
    if record["language"] not in ("en", "ko"):
        raise bad(f'field \'language\' must be "en" or "ko", not {record["language"]!r}')
    turn = record["turn"]
    if not isinstance(turn, int) or isinstance(turn, bool) or turn < 1:
        raise bad("field 'turn' must be a whole number from 1")
    card = record["card"]
    if not isinstance(card, dict) or not isinstance(card.get("name"), str):
        raise bad("field 'card' must be an object with at least a 'name'")
    for key in CARD_FIELDS[1:]:
        if not isinstance(card.get(key, ""), str):
            raise bad(f"field 'card.{key}' must be a string")
    history = record.get("history", [])
    if not isinstance(history, list):
        raise bad("field 'history' must be a list of {role, content} messages")
    for n, message in enumerate(history):
        if (
            not isinstance(message, dict)
            or message.get("role") not in ("user", "assistant", "system")
            or not isinstance(message.get("content"), str)
        ):
            raise bad(f'history[{n}] must be {{"role": "user"|"assistant", "content": …}}')
    user_name = record.get("user_name", "User")
    finish = record.get("finish_reason")
    probe = record.get("probe")
    terms = record.get("probe_terms") or []
    if not isinstance(user_name, str):
        raise bad("field 'user_name' must be a string")
    if finish is not None and not isinstance(finish, str):
        raise bad("field 'finish_reason' must be a string or null")
    if probe is not None and not isinstance(probe, str):
        raise bad("field 'probe' must be a string or null")
    if not isinstance(terms, list) or not all(isinstance(t, str) for t in terms):
        raise bad("field 'probe_terms' must be a list of strings")
    return TranscriptRow(
        conversation=record["conversation"],
        character=record["character"],
        language=record["language"],
        model=record["model"],
        turn=turn,
        user_name=user_name,
        user=record["user"],
        reply=record["reply"],
        finish_reason=finish,
        history=tuple({"role": m["role"], "content": m["content"]} for m in history),
        card={k: card.get(k, "") for k in CARD_FIELDS},
        probe=probe,
        probe_terms=tuple(terms),
        line=line,
    )
