"""Reading data files with errors that name the file and line: JSONL rows (``read_jsonl``), and
predictions or references as one text per line or JSONL rows with a text field (``read_texts``).

A file is JSONL when its first non-blank line is a JSON object; then every non-blank line must be
one (a bad row is an error naming the file and line, never silently read as plain text), and
blank lines are skipped. Otherwise each line is one text — blank lines in the middle included, so
items stay aligned with the other files; blank lines at the very end are dropped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from personae.errors import InvalidInput, NotFound

TEXT_FIELDS = ("text", "summary")


def _json_object(line: str) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _field(row: dict[str, Any], fields: Sequence[str], where: str) -> str:
    for name in fields:
        if name in row:
            value = row[name]
            if not isinstance(value, str):
                raise InvalidInput(f"{where}: field {name!r} is {type(value).__name__}, not text")
            return value
    wanted = " or ".join(repr(f) for f in fields)
    present = ", ".join(repr(k) for k in row) or "none"
    raise InvalidInput(f"{where}: the row has no {wanted} field (its fields: {present})")


def read_lines(path: str | os.PathLike[str]) -> list[str]:
    """The lines of a UTF-8 text file (``\\r\\n`` or ``\\n``), with clear errors."""
    path = Path(path)
    if not path.exists():
        raise NotFound(f"file not found: {path}")
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    # Only "\n" separates lines: str.splitlines would also split a text at U+2028, \x0c, …
    return [line.removesuffix("\r") for line in text.split("\n")]


def read_texts(path: str | os.PathLike[str], *, fields: Sequence[str] = TEXT_FIELDS) -> list[str]:
    """One text per item of ``path``: its lines, or from JSONL the first of ``fields`` each row
    has (``text``, then ``summary``). An empty file is an error."""
    lines = read_lines(path)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise InvalidInput(f"{path} is empty: it needs one text per line, or JSONL rows")
    if _json_object(first) is None:
        while lines and not lines[-1].strip():
            lines.pop()
        return lines
    texts: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        row = _json_object(line)
        if row is None:
            raise InvalidInput(
                f"{path}: line {number} is not a JSON object, but the file is JSONL "
                "(its first row is one); fix that row"
            )
        texts.append(_field(row, fields, f"{path}: line {number}"))
    return texts


def read_jsonl(path: str | os.PathLike[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for every non-blank line of a JSONL file."""
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InvalidInput(f"{path}: line {number} is not valid JSON ({exc})") from None
        if not isinstance(row, dict):
            raise InvalidInput(f"{path}: line {number} is not a JSON object")
        yield number, row
