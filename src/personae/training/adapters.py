"""Where a character's trained adapters live, which one it uses, and what makes one usable.

Layout, under ``$PERSONAE_HOME/adapters`` (:func:`adapters_root`)::

    <character id>/
        active                 the name of the adapter the character uses (absent: none)
        <adapter name>/
            run.json           the run as asked for (written first; a resume must match it)
            checkpoints/       the trainer's checkpoints while it runs (removed when done)
            peft/              the adapter as PEFT saved it
            adapter.gguf       the same, converted for the embedded runtime
            manifest.json      written last, atomically: the adapter is usable iff it exists

So an interrupted run — killed, out of memory, Ctrl-C — is never usable by accident: it has no
manifest, ``adapters list`` shows it as incomplete, and ``personae train --resume`` continues it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from personae.config import home
from personae.errors import InvalidInput, NotFound
from personae.store.characters import check_id

MANIFEST = "manifest.json"
RUN = "run.json"
GGUF = "adapter.gguf"
PEFT = "peft"
CHECKPOINTS = "checkpoints"
ACTIVE = "active"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def adapters_root() -> Path:
    return home() / "adapters"


def check_name(name: str) -> str:
    """An adapter name: lower-case letters, digits, ``.``, ``_``, ``-``; at most 64."""
    if not _NAME.match(name) or ".." in name:
        raise InvalidInput(
            f"{name!r} is not an adapter name: use lower-case letters, digits, '.', '_' and "
            "'-' (at most 64), e.g. 'book-sft'",
            param="adapter",
        )
    return name


def write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True, slots=True)
class AdapterInfo:
    character: str
    name: str
    path: Path
    manifest: dict[str, Any] | None
    run: dict[str, Any] | None

    @property
    def ready(self) -> bool:
        return self.manifest is not None and self.gguf.is_file()

    @property
    def gguf(self) -> Path:
        return self.path / GGUF

    @property
    def base(self) -> str:
        source = self.manifest or self.run or {}
        return str(source.get("base", {}).get("name", ""))

    @property
    def method(self) -> str:
        source = self.manifest or self.run or {}
        return str(source.get("method", ""))

    @property
    def label(self) -> str:
        """``character@adapter``: how the server and ``--adapter`` name it."""
        return f"{self.character}@{self.name}"


class AdapterRegistry:
    """The adapters under ``root`` (default :func:`adapters_root`)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or adapters_root()

    def folder(self, character: str, name: str) -> Path:
        return self.root / check_id(character) / check_name(name)

    def _info(self, character: str, folder: Path) -> AdapterInfo:
        return AdapterInfo(
            character, folder.name, folder, _read_json(folder / MANIFEST), _read_json(folder / RUN)
        )

    def list(self, character: str | None = None) -> list[AdapterInfo]:
        """Every adapter (of ``character``), finished or not, by character then name."""
        if not self.root.is_dir():
            return []
        owners = [check_id(character)] if character else sorted(os.listdir(self.root))
        found = []
        for owner in owners:
            base = self.root / owner
            if not base.is_dir():
                continue
            for entry in sorted(base.iterdir()):
                if entry.is_dir() and _NAME.match(entry.name):
                    found.append(self._info(owner, entry))
        return found

    def get(self, character: str, name: str) -> AdapterInfo:
        folder = self.folder(character, name)
        if not folder.is_dir():
            known = ", ".join(a.name for a in self.list(character)) or "none yet"
            raise NotFound(
                f"{character} has no adapter {name!r} (it has: {known}); train one with "
                "`personae train`",
                param="adapter",
            )
        return self._info(character, folder)

    def find(self, character: str, name: str) -> AdapterInfo | None:
        """Adapter ``name`` of ``character`` when there is one (finished or not), else None —
        for a name that may be something else (the server's ``character@model``)."""
        if not _NAME.match(name) or ".." in name:
            return None
        folder = self.folder(character, name)
        return self._info(character, folder) if folder.is_dir() else None

    def usable(self, character: str, name: str) -> AdapterInfo:
        info = self.get(character, name)
        if not info.ready:
            raise InvalidInput(
                f"adapter {info.label} did not finish training: resume it with `personae train "
                f"{character} --resume --name {name} …` or delete it",
                param="adapter",
            )
        return info

    def delete(self, character: str, name: str) -> None:
        info = self.get(character, name)
        if self.active_name(character) == name:
            (self.root / character / ACTIVE).unlink(missing_ok=True)
        shutil.rmtree(info.path)

    def activate(self, character: str, name: str | None) -> AdapterInfo | None:
        """Make ``name`` the adapter ``character`` uses (None: none)."""
        marker = self.root / check_id(character) / ACTIVE
        if name is None:
            marker.unlink(missing_ok=True)
            return None
        info = self.usable(character, name)
        tmp = marker.with_name(ACTIVE + ".tmp")
        tmp.write_text(name + "\n", encoding="utf-8")
        os.replace(tmp, marker)
        return info

    def active_name(self, character: str) -> str | None:
        try:
            name = (self.root / check_id(character) / ACTIVE).read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return name if _NAME.match(name) else None

    def active(self, character: str) -> AdapterInfo | None:
        """The adapter ``character`` uses, when it has one that is ready."""
        name = self.active_name(character)
        if name is None:
            return None
        folder = self.root / character / name
        if not folder.is_dir():
            return None
        info = self._info(character, folder)
        return info if info.ready else None

    def resolve(self, character: str, choice: str | None) -> AdapterInfo | None:
        """The adapter a command uses for ``character``: ``choice`` is ``--adapter`` (a name,
        ``none``, or None for the active one)."""
        if choice is None:
            return self.active(character)
        if choice == "none":
            return None
        return self.usable(character, choice)

    def latest_unfinished(self, character: str) -> AdapterInfo | None:
        unfinished = [a for a in self.list(character) if not a.ready and a.run is not None]
        if not unfinished:
            return None
        return max(unfinished, key=lambda a: (a.path / RUN).stat().st_mtime)


__all__ = [
    "ACTIVE",
    "CHECKPOINTS",
    "GGUF",
    "MANIFEST",
    "PEFT",
    "RUN",
    "AdapterInfo",
    "AdapterRegistry",
    "adapters_root",
    "check_name",
    "write_json_atomically",
]
