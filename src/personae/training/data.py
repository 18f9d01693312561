"""Training data in: chat records for SFT, preference pairs for DPO, checked before any work.

A record is one JSON object a line, in the formats TRL reads:

- SFT: ``{"messages": [{"role": "system"|"user"|"assistant", "content": "…"}, …]}`` with at
  least one ``assistant`` message (the turns the loss is taken on);
- DPO: ``{"prompt": [messages], "chosen": [{"role": "assistant", …}], "rejected": […]}`` (a
  plain string for ``chosen``/``rejected`` is read as one assistant message).

``--data`` is a ``.jsonl`` file, a folder of them, or an experience directory (``personae
experience build``), whose kept experiences are read as chat records. Sizes are bounded before
anything is parsed (:data:`MAX_LINE_CHARS`, :data:`MAX_ROWS`, :data:`MAX_MESSAGES`), and a bad
row is an error naming the file and the line, not a skipped row: a silently smaller dataset
would be worse than a clear stop.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from personae.errors import InvalidInput, NotFound

Method = Literal["sft", "dpo"]
ROLES = ("system", "user", "assistant")
MAX_LINE_CHARS = 200_000
MAX_ROWS = 200_000
MAX_MESSAGES = 200
HELD_OUT_SHARE = 0.1
MIN_HELD_OUT = 1
MAX_HELD_OUT = 200


@dataclass(frozen=True, slots=True)
class ChatRecord:
    """One training row: ``messages`` (SFT), or ``messages`` as the prompt with one ``chosen``
    and one ``rejected`` reply (DPO)."""

    messages: tuple[dict[str, str], ...]
    chosen: str = ""
    rejected: str = ""
    source: str = ""

    def as_json(self) -> dict[str, Any]:
        if not self.chosen:
            return {"messages": list(self.messages)}
        return {
            "prompt": list(self.messages),
            "chosen": [{"role": "assistant", "content": self.chosen}],
            "rejected": [{"role": "assistant", "content": self.rejected}],
        }


def _message(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{where}: a message must be an object with role and content")
    role, content = value.get("role"), value.get("content")
    if role not in ROLES:
        raise InvalidInput(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
    if not isinstance(content, str) or not content.strip():
        raise InvalidInput(f"{where}: a {role} message has no text")
    return {"role": role, "content": content}


def _messages(value: Any, where: str) -> tuple[dict[str, str], ...]:
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"{where}: expected a non-empty list of messages")
    if len(value) > MAX_MESSAGES:
        raise InvalidInput(f"{where}: {len(value)} messages, more than {MAX_MESSAGES} in one row")
    return tuple(_message(m, where) for m in value)


def _reply(value: Any, where: str) -> str:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and len(value) == 1:
        message = _message(value[0], where)
        if message["role"] == "assistant":
            return message["content"]
    raise InvalidInput(f"{where}: expected one assistant reply (a string or a one-message list)")


def parse_record(row: Any, where: str, method: Method) -> ChatRecord:
    """``row`` (parsed JSON) as a :class:`ChatRecord` for ``method``; :class:`InvalidInput`
    naming ``where`` when it is not one."""
    if not isinstance(row, dict):
        raise InvalidInput(f"{where}: not a chat record (expected a JSON object)")
    if method == "dpo":
        if not all(k in row for k in ("prompt", "chosen", "rejected")):
            raise InvalidInput(
                f"{where}: not a preference pair: DPO rows need prompt, chosen and rejected "
                "(make them with --from-chats, or train this data with --method sft)"
            )
        prompt = _messages(row["prompt"], where)
        if prompt[-1]["role"] == "assistant":
            raise InvalidInput(f"{where}: the prompt must end with a message to the character")
        chosen, rejected = _reply(row["chosen"], where), _reply(row["rejected"], where)
        if chosen.strip() == rejected.strip():
            raise InvalidInput(f"{where}: chosen and rejected are the same reply")
        return ChatRecord(prompt, chosen, rejected, source=where)
    if "messages" not in row:
        raise InvalidInput(
            f"{where}: not a chat record: SFT rows need a messages list "
            '({"messages": [{"role": …, "content": …}, …]})'
        )
    messages = _messages(row["messages"], where)
    if not any(m["role"] == "assistant" for m in messages):
        raise InvalidInput(f"{where}: no assistant message to learn from")
    return ChatRecord(messages, source=where)


def _jsonl_rows(path: Path) -> Iterable[tuple[Any, str]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        try:
            for number, line in enumerate(handle, 1):
                where = f"{path.name} line {number}"
                if len(line) > MAX_LINE_CHARS:
                    raise InvalidInput(f"{where}: longer than {MAX_LINE_CHARS} characters")
                if not line.strip():
                    continue
                try:
                    yield json.loads(line), where
                except ValueError:
                    raise InvalidInput(f"{where}: not JSON") from None
        except UnicodeDecodeError:
            raise InvalidInput(f"{path.name}: not UTF-8 text") from None


def _experience_rows(folder: Path, method: Method) -> Iterable[tuple[Any, str]]:
    """An experience directory's kept experiences as chat records (SFT), or the preference
    pairs its protective scenes recorded (DPO: the reply kept vs those turned away)."""
    from personae.experience.export import chat_messages, preference_pairs
    from personae.experience.records import EXPERIENCES, ExperienceDir, read_rows

    directory = ExperienceDir.open(folder)
    name = str(directory.manifest.get("character", ""))
    language: Literal["en", "ko"] = "ko" if directory.manifest.get("language") == "ko" else "en"
    for number, row in enumerate(read_rows(folder / EXPERIENCES), 1):
        where = f"{EXPERIENCES} row {number}"
        if method == "sft":
            yield {"messages": chat_messages(row, name, language)}, where
        else:
            for pair in preference_pairs(row, name, language):
                yield pair, where


def _sources(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise NotFound(f"no training data at {path}: give a .jsonl file or a folder of them")
    files = sorted(p for p in path.glob("*.jsonl") if p.is_file())
    return files


def load_records(paths: Sequence[str | Path], method: Method) -> list[ChatRecord]:
    """Every record in ``paths`` (files, folders, experience directories), in order."""
    from personae.experience.records import MANIFEST

    records: list[ChatRecord] = []
    for given in paths:
        path = Path(given)
        if path.is_dir() and (path / MANIFEST).is_file():
            rows: Iterable[tuple[Any, str]] = _experience_rows(path, method)
        else:
            sources = _sources(path)
            if not sources:
                raise InvalidInput(f"{path} has no .jsonl files to train on")
            rows = (item for source in sources for item in _jsonl_rows(source))
        for row, where in rows:
            if len(records) >= MAX_ROWS:
                raise InvalidInput(f"more than {MAX_ROWS} rows: split the data into runs")
            records.append(parse_record(row, where, method))
    if not records:
        raise InvalidInput("the training data has no rows")
    return records


def data_digest(records: Sequence[ChatRecord]) -> str:
    """SHA-256 of the records' content (not of the files), recorded in the adapter's manifest."""
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record.as_json(), ensure_ascii=False, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _bucket(record: ChatRecord) -> float:
    key = json.dumps(record.as_json(), ensure_ascii=False, sort_keys=True).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") / 2**64


def split_records(
    records: Sequence[ChatRecord], share: float = HELD_OUT_SHARE
) -> tuple[list[ChatRecord], list[ChatRecord]]:
    """Training rows and held-out rows: a row is held out when the hash of its content falls
    below ``share``, so its side depends on nothing else — adding rows moves no old one across
    and a resumed run sees the same split. At least one row is held out (the lowest hash) and
    at most :data:`MAX_HELD_OUT`."""
    if not 0 < share < 1:
        raise InvalidInput(f"the held-out share must be between 0 and 1, not {share}")
    if len(records) < 2:
        raise InvalidInput(
            f"{len(records)} row: too few to hold any out for a held-out loss; "
            "give at least 2 rows (a few dozen to learn anything)"
        )
    buckets = [_bucket(r) for r in records]
    ranked = sorted(range(len(records)), key=lambda i: buckets[i])
    held = [i for i in ranked if buckets[i] < share][:MAX_HELD_OUT] or ranked[:MIN_HELD_OUT]
    if len(held) == len(records):
        held = held[: len(records) - 1]
    chosen = set(held)
    train = [r for i, r in enumerate(records) if i not in chosen]
    return train, [r for i, r in enumerate(records) if i in chosen]


__all__ = [
    "MAX_LINE_CHARS",
    "MAX_ROWS",
    "ChatRecord",
    "Method",
    "data_digest",
    "load_records",
    "parse_record",
    "split_records",
]
