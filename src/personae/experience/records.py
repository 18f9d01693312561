"""The dataset directory: what a build has made so far, append-only, so that an interrupted
build continues where it stopped and nothing is generated twice.

    DIR/manifest.json      who, from which profile (SHA-256), with which options and model
    DIR/scenes.jsonl       one row per scene request done: {"key", "scenes": [...], "dropped"}
    DIR/experiences.jsonl  one row per kept experience
    DIR/dropped.jsonl      one row per dropped experience (its scene and reason)
    DIR/dataset.jsonl      the kept experiences in chat format (written at the end of a build)

Every row is written whole, flushed and synced before the work it records counts as done; a
last line cut off by a kill is ignored when the directory is read again (and that work is
simply done again).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from personae.errors import InvalidInput, NotFound

MANIFEST = "manifest.json"
SCENES = "scenes.jsonl"
EXPERIENCES = "experiences.jsonl"
DROPPED = "dropped.jsonl"
DATASET = "dataset.jsonl"
FORMAT_VERSION = 1


def profile_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """The whole JSON rows of a JSONL file; a cut-off or corrupt line (a kill mid-write) is
    skipped."""
    if not path.exists():
        return
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if not line.endswith("\n"):
                return  # the last line of a killed write
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if isinstance(row, dict):
                yield row


class ExperienceDir:
    """A dataset directory, opened for reading (:meth:`open`) or for a build (:meth:`create`
    or :meth:`resume`). Appends are thread-safe."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | Path) -> ExperienceDir:
        path = Path(path)
        file = path / MANIFEST
        if not path.is_dir():
            raise NotFound(
                f"no experience directory at {path}: build one with `personae experience build`"
            )
        if not file.is_file():
            raise InvalidInput(f"{path} is not an experience directory (it has no {MANIFEST})")
        try:
            manifest = json.loads(file.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            raise InvalidInput(
                f"{file} is unreadable ({exc}): build into a new directory"
            ) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
            raise InvalidInput(f"{file} is not a manifest this version of personae reads")
        return cls(path, manifest)

    @classmethod
    def create_or_resume(
        cls, path: str | Path, manifest: dict[str, Any]
    ) -> tuple[ExperienceDir, bool]:
        """The directory for a build: a new one, or the existing one when it was built for the
        same character from the same profile (then ``True``: the build resumes). Anything else
        there is an error, so that no unrelated directory is written into."""
        path = Path(path)
        manifest = {"format": FORMAT_VERSION, **manifest}
        if path.exists() and not path.is_dir():
            raise InvalidInput(f"--out {path} is a file, not a directory")
        if path.is_dir() and (path / MANIFEST).exists():
            found = cls.open(path)
            for key in ("character", "profile_sha256"):
                if found.manifest.get(key) != manifest.get(key):
                    raise InvalidInput(
                        f"{path} holds experiences of {found.manifest.get('character')!r} from "
                        "another profile: choose a new --out directory to build this one"
                    )
            found.repair()
            return found, True
        if path.is_dir() and any(path.iterdir()):
            raise InvalidInput(
                f"{path} is not empty and not an experience directory: choose a new --out"
            )
        try:
            path.mkdir(parents=True, exist_ok=True)
            tmp = path / (MANIFEST + ".tmp")
            tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, path / MANIFEST)
        except OSError as exc:
            raise InvalidInput(f"cannot write to {path}: {exc.strerror or exc}") from None
        return cls(path, manifest), False

    def repair(self) -> None:
        """Cut a last line that a kill left half-written, so the next row starts on a line
        of its own (the half row was never counted as done)."""
        for name in (SCENES, EXPERIENCES, DROPPED):
            path = self.path / name
            if not path.exists() or path.stat().st_size == 0:
                continue
            data = path.read_bytes()
            if data.endswith(b"\n"):
                continue
            with path.open("r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)

    def append(self, name: str, row: dict[str, Any]) -> None:
        line = json.dumps(row, ensure_ascii=False) + "\n"
        with self._lock, (self.path / name).open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def rows(self, name: str) -> list[dict[str, Any]]:
        return list(read_rows(self.path / name))

    def replace(self, name: str, rows: list[dict[str, Any]]) -> Path:
        """Replace the file ``name`` whole (a temporary file, then a rename: a kill leaves
        the old file or the new one, never half of either)."""
        target = self.path / name
        tmp = self.path / (name + ".tmp")
        with self._lock:
            with tmp.open("w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        return target

    def write_dataset(self, rows: list[dict[str, Any]]) -> Path:
        """Replace ``dataset.jsonl`` whole."""
        return self.replace(DATASET, rows)


__all__ = [
    "DATASET",
    "DROPPED",
    "EXPERIENCES",
    "MANIFEST",
    "SCENES",
    "ExperienceDir",
    "profile_digest",
    "read_rows",
]
