"""A resumable results file: one JSON object per line, keyed, appended as each item finishes.

Long evaluations (hundreds of model calls) write every finished item at once, so an interrupted
run picks up where it stopped. A torn last line (the process died mid-write) is ignored and
rewritten; any other unreadable line is an error that names the line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from personae.errors import InvalidInput


class ResultCache:
    """``cache.get(key)`` → the stored value or None; ``cache.put(key, value)`` appends it."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._items: dict[str, Any] = {}
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                key, value = record["key"], record["value"]
            except (ValueError, KeyError, TypeError) as exc:
                if number == len(lines):  # the last line, with no newline: a torn write
                    with self.path.open("r+b") as handle:
                        handle.truncate(len(raw) - len(line))
                    return
                raise InvalidInput(
                    f"{self.path}: line {number} is not a cache record ({exc}); "
                    "delete the file to start the run over"
                ) from exc
            self._items[str(key)] = value
        if raw and not raw.endswith(b"\n"):
            with self.path.open("ab") as handle:
                handle.write(b"\n")

    def __contains__(self, key: str) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Any:
        return self._items.get(key)

    def items(self) -> Iterator[tuple[str, Any]]:
        return iter(self._items.items())

    def put(self, key: str, value: Any) -> None:
        line = json.dumps({"key": key, "value": value}, ensure_ascii=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        self._items[key] = value
