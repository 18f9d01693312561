"""llama.cpp's ``llama-server`` and its LoRA adapters, which it knows by number.

llama-server loads the adapters given with ``--lora PATH`` (ids 0, 1, … in that order), lists
them at ``GET /lora-adapters`` — at the server's root, not under ``/v1`` — as
``[{"id": 0, "path": "…", "scale": 0.0}, …]``, and applies them per request with
``"lora": [{"id": ID, "scale": S}]`` in the body (``/v1/chat/completions`` included). An id a
request leaves out keeps its server-wide scale, so a request for one adapter names them all:
the chosen one at 1, the others at 0.

personae finds adapter ``character@adapter`` by its path, in the layouts it writes itself:
``…/character/adapter/adapter.gguf`` (the adapter store, as ``personae adapters serve-args``
prints it), ``…/character@adapter/adapter.gguf`` (a folder named by the label, as
``personae adapters export … --to …/character@adapter`` makes) or ``…/character@adapter.gguf``.
Any other path is named with ``[backend_options] lora_ids = {"character@adapter" = ID}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import JsonValue

ADAPTER_FILE = "adapter.gguf"
# A server lists the adapters it was started with; more than this is not a list we read.
MAX_ADAPTERS = 4096


def lora_adapters_url(base_url: str) -> str:
    """Where llama-server lists its adapters, from the OpenAI-style ``base_url`` (``…/v1``)."""
    return base_url.rstrip("/").removesuffix("/v1") + "/lora-adapters"


def parse_lora_adapters(payload: Any) -> dict[int, str]:
    """``GET /lora-adapters``'s answer as ``{id: path}``; ValueError if it is not that list."""
    if not isinstance(payload, list) or len(payload) > MAX_ADAPTERS:
        raise ValueError("not a list of adapters")
    adapters: dict[int, str] = {}
    for entry in payload:
        if not isinstance(entry, dict):
            raise ValueError("an adapter is not an object")
        number, path = entry.get("id"), entry.get("path", "")
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise ValueError("an adapter has no id")
        adapters[number] = path if isinstance(path, str) else ""
    return adapters


def labels_of_path(path: str) -> set[str]:
    """The ``character@adapter`` labels an adapter file's path names (see the module's rule)."""
    if not path:
        return set()
    pure: PurePath = PureWindowsPath(path) if "\\" in path else PurePosixPath(path)
    labels = {pure.stem} if pure.suffix == ".gguf" and "@" in pure.stem else set()
    if pure.name == ADAPTER_FILE:
        folders = pure.parent.parts
        if folders and "@" in folders[-1]:
            labels.add(folders[-1])
        if len(folders) >= 2:
            labels.add(f"{folders[-2]}@{folders[-1]}")
    return labels


def find_lora_id(adapters: Mapping[int, str], label: str) -> int | None:
    """The id of the adapter whose path names ``label``; None if none does. Two that both do
    (the same file loaded twice) are one adapter: the first is taken."""
    for number in sorted(adapters):
        if label in labels_of_path(adapters[number]):
            return number
    return None


def lora_field(ids: Iterable[int], chosen: int) -> list[JsonValue]:
    """The request's ``lora``: ``chosen`` at scale 1, every other id at 0."""
    return [
        {"id": number, "scale": 1.0 if number == chosen else 0.0}
        for number in sorted({*ids, chosen})
    ]


__all__ = [
    "ADAPTER_FILE",
    "MAX_ADAPTERS",
    "find_lora_id",
    "labels_of_path",
    "lora_adapters_url",
    "lora_field",
    "parse_lora_adapters",
]
