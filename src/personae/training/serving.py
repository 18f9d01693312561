"""A character's adapters on a GPU server: vLLM, SGLang or llama.cpp's ``llama-server``.

The naming rule: on a server, a character's adapter is the LoRA module ``character@adapter``,
exactly its label (``holmes@v1``), the same id the personae server lists in ``/v1/models``.
With the ``openai`` backend a chat with Holmes whose adapter ``v1`` is active (or chosen with
``--adapter v1``) sends ``"model": "holmes@v1"`` (vLLM) or ``"model": "BASE:holmes@v1"``
(SGLang, ``[backend_options] lora_model = "model:name"``), after checking that the server lists
it; llama-server (``lora_model = "lora-id"``) gets the base model and the adapter's id, found
in the server's ``GET /lora-adapters`` by its path. :func:`serve_args` prints the engine
arguments that make it so.

vLLM and SGLang load the PEFT folder (``adapter_config.json`` + ``adapter_model.safetensors``,
no pickled weights) onto the base model's Hugging Face weights: the catalogue's ``upstream``
repository, which the GGUF the adapter was trained on was converted from. llama-server loads
``adapter.gguf`` onto that GGUF itself.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from personae.backends.base import AdapterServer, Backend
from personae.errors import AdapterError, BackendModelNotFound, InvalidInput, NotFound
from personae.training.adapters import PEFT, AdapterInfo, AdapterRegistry
from personae.training.gguf_lora import CONFIG_FILE, WEIGHTS_FILE, read_adapter_config

Engine = Literal["vllm", "sglang", "llama-server"]
ENGINES: tuple[Engine, ...] = ("vllm", "sglang", "llama-server")
ExportFormat = Literal["peft", "gguf"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("peft", "gguf")
# vLLM accepts only these --max-lora-rank values (vllm/config/lora.py, MaxLoRARanks).
VLLM_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)


def holds_adapters(backend_class: type[Any]) -> bool:
    """Whether a backend of ``backend_class`` can reply with adapters its server holds."""
    return isinstance(backend_class, type) and issubclass(backend_class, AdapterServer)


def served_adapter(backend: Backend, info: AdapterInfo, *, otherwise: str = "") -> Backend:
    """``backend`` replying with adapter ``info`` as its server holds it (see the module's
    naming rule). A server that does not list it is a one-line error naming the engine
    argument to add; ``otherwise`` ends it with the caller's other way out."""
    if not isinstance(backend, AdapterServer):
        raise AdapterError(
            f"{info.label} is a LoRA adapter: the {backend.name} backend cannot apply it; use "
            "the embedded backend or a server that holds it (see `personae adapters serve-args`)",
            param="model",
        )
    view = backend.with_adapter(info.label)
    if view is None:
        if getattr(backend, "adapter_engine", "vllm") == "llama-server":
            where = "has no adapter whose path names"
            start = (
                f"start llama-server with --lora {info.gguf.resolve()} --lora-init-without-apply "
                f'or name its id with [backend_options] lora_ids = {{"{info.label}" = ID}}'
            )
        else:
            where = "does not list the model"
            pair = _pair(info.label, str(peft_folder(info, check=False)), "name", "path")
            start = f"start vLLM with --enable-lora --lora-modules {pair}"
        raise BackendModelNotFound(
            f"the server {where} {info.label} ({info.character}'s LoRA adapter): {start} "
            f"(`personae adapters serve-args` prints them all){otherwise}",
            param="model",
        )
    return view


def peft_folder(info: AdapterInfo, *, check: bool = True) -> Path:
    """The adapter's PEFT folder, as vLLM and SGLang load it; with ``check``, an
    :class:`AdapterError` unless it holds the config and safetensors weights."""
    folder = info.path.resolve() / PEFT
    if check:
        for name in (CONFIG_FILE, WEIGHTS_FILE):
            if not (folder / name).is_file():
                raise AdapterError(
                    f"{info.label} has no {name} in {folder}: a GPU server cannot load it; "
                    f"train it again (`personae train {info.character} …`)",
                    param="adapter",
                )
    return folder


def adapter_rank(info: AdapterInfo) -> int:
    """The LoRA rank ``r`` of ``adapter_config.json``."""
    return read_adapter_config(peft_folder(info)).rank


def vllm_max_rank(rank: int) -> int:
    """The smallest ``--max-lora-rank`` vLLM accepts that fits ``rank``."""
    for allowed in VLLM_RANKS:
        if rank <= allowed:
            return allowed
    raise AdapterError(
        f"LoRA rank {rank} is over vLLM's largest --max-lora-rank ({VLLM_RANKS[-1]}): "
        "train with a smaller --rank"
    )


def base_repository(base: str) -> str:
    """The Hugging Face repository catalogue model ``base`` was converted from ("" if unknown:
    a ``.gguf`` of the user's own)."""
    from personae.models import CATALOGUE

    spec = CATALOGUE.get(base)
    return spec.upstream if spec else ""


@dataclass(frozen=True, slots=True)
class ServedAdapter:
    """One adapter as an engine loads it: ``path`` is the PEFT folder (vLLM, SGLang) or
    ``adapter.gguf`` (llama-server); ``rank`` is read from ``adapter_config.json`` where the
    engine's arguments need it."""

    name: str
    path: Path
    rank: int | None


@dataclass(frozen=True, slots=True)
class ServeArgs:
    """What :func:`serve_args` found: the engine's arguments, and what to tell the user."""

    engine: Engine
    base: str
    base_repository: str
    adapters: tuple[ServedAdapter, ...]
    args: tuple[str, ...]
    notes: tuple[str, ...]

    @property
    def command_line(self) -> str:
        return shlex.join(self.args)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": self.engine,
            "base": self.base,
            "base_repository": self.base_repository,
            "args": list(self.args),
            "adapters": [
                {"name": a.name, "path": str(a.path), "rank": a.rank} for a in self.adapters
            ],
            "notes": list(self.notes),
        }


def check_engine(engine: str) -> Engine:
    for known in ENGINES:
        if engine == known:
            return known
    raise InvalidInput(
        f"--format {engine!r} is not an engine personae knows: use {', '.join(ENGINES)}",
        param="format",
    )


def adapters_to_serve(
    registry: AdapterRegistry, character: str | None = None, base: str | None = None
) -> list[AdapterInfo]:
    """The finished adapters (of ``character``, on ``base``) one server can serve: one base
    model, so adapters made for several are an error asking for ``--base``."""
    ready = [a for a in registry.list(character) if a.ready]
    whose = f"{character} has" if character else "there are"
    if not ready:
        raise NotFound(
            f"{whose} no finished adapters to serve: train one with `personae train`",
            param="adapter",
        )
    if base is not None:
        ready = [a for a in ready if a.base == base]
        if not ready:
            raise NotFound(f"{whose} no finished adapters on base {base!r}", param="base")
    bases = sorted({a.base for a in ready})
    if len(bases) > 1:
        raise InvalidInput(
            f"these adapters were trained on {len(bases)} base models ({', '.join(bases)}) and "
            "a server loads one: add --base NAME",
            param="base",
        )
    return ready


def serve_args(adapters: Sequence[AdapterInfo], engine: Engine) -> ServeArgs:
    """The arguments that make ``engine`` serve ``adapters`` (all on one base model), each as
    its ``character@adapter`` label, and notes on what else it needs."""
    base = adapters[0].base
    repository = base_repository(base)
    if engine == "llama-server":
        served = tuple(ServedAdapter(a.label, a.gguf.resolve(), None) for a in adapters)
        args: list[str] = []
        for a in served:
            args += ["--lora", str(a.path)]
        args.append("--lora-init-without-apply")  # else every adapter applies to every request
        ids = ", ".join(f"{i} = {a.name}" for i, a in enumerate(served))
        gguf = _gguf_path(base)
        pull = "" if gguf else f" (pull it first: `personae models pull {base}`)"
        notes = (
            f"serve them on the GGUF they were trained on: llama-server -m "
            f"{gguf or base + '.gguf'} {shlex.join(args)}{pull}",
            f"adapter ids: {ids}; a request applies one with "
            '"lora": [{"id": ID, "scale": 1.0}] in its body (/v1/chat/completions takes it too)',
            'for personae\'s openai backend set [backend_options] lora_model = "lora-id": it '
            "finds each adapter's id by its path in GET /lora-adapters",
        )
        return ServeArgs(engine, base, repository, served, tuple(args), notes)
    served = tuple(ServedAdapter(a.label, peft_folder(a), adapter_rank(a)) for a in adapters)
    rank = max(a.rank or 0 for a in served)
    weights = repository or f"<the Hugging Face weights {base} was converted from>"
    if engine == "vllm":
        args = ["--enable-lora", "--max-lora-rank", str(vllm_max_rank(rank))]
        args += ["--max-loras", str(len(served)), "--lora-modules"]
        args += [_pair(a.name, str(a.path), "name", "path") for a in served]
        how = (
            f"serve them with: vllm serve {weights} {shlex.join(args)}",
            "a request names the adapter as its model: " + ", ".join(a.name for a in served),
        )
    else:
        # One batch slot for each adapter and one for the base model.
        args = ["--enable-lora", "--max-lora-rank", str(rank)]
        args += ["--max-loras-per-batch", str(len(served) + 1), "--lora-paths"]
        args += [_pair(a.name, str(a.path), "lora_name", "lora_path") for a in served]
        how = (
            f"serve them with: python -m sglang.launch_server --model-path {weights} "
            + shlex.join(args),
            f"a request names the adapter as MODEL:{served[0].name}; for personae's openai "
            'backend set [backend_options] lora_model = "model:name"',
        )
    notes = (
        *how,
        "the adapters were trained beside the catalogue's quantized GGUF; the server's "
        "full-precision weights are close to those, not the same",
    )
    return ServeArgs(engine, base, repository, served, tuple(args), notes)


def _pair(name: str, path: str, name_key: str, path_key: str) -> str:
    """``name=path`` as vLLM and SGLang read it, or their JSON form where a ``=`` or ``,`` in
    either would break that split."""
    if any(c in name + path for c in "=,"):
        return json.dumps({name_key: name, path_key: path}, ensure_ascii=False)
    return f"{name}={path}"


def _gguf_path(base: str) -> str:
    """Where catalogue model (or ``.gguf``) ``base`` is on this machine ("" if not pulled)."""
    from personae.errors import ModelError
    from personae.models import resolve_model

    try:
        return str(resolve_model(base).path)
    except ModelError:
        return ""


def export_adapter(info: AdapterInfo, dest: Path, fmt: ExportFormat) -> list[Path]:
    """Copy adapter ``info`` into folder ``dest`` (new, or empty) as a server loads it:
    ``peft`` — ``adapter_config.json`` (``base_model_name_or_path`` set to the base's Hugging
    Face repository) and ``adapter_model.safetensors``; ``gguf`` — ``adapter.gguf``. The folder
    appears whole or not at all. Returns the files written."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise InvalidInput(f"{dest} exists and is not an empty folder: choose a new one")
    if not info.ready:
        raise InvalidInput(f"{info.label} did not finish training: nothing to export")
    tmp = dest.with_name(f".{dest.name}.export-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if fmt == "gguf":
            shutil.copyfile(info.gguf, tmp / info.gguf.name)
        else:
            source = peft_folder(info)
            read_adapter_config(source)  # a LoRA a server can load, or one line saying why not
            config = json.loads((source / CONFIG_FILE).read_text(encoding="utf-8"))
            repository = base_repository(info.base)
            if repository:
                # PEFT recorded the folder transformers read the GGUF from, a path on this
                # machine: the repository is what a reader (or a hub) can find.
                config["base_model_name_or_path"] = repository
            (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
            shutil.copyfile(source / WEIGHTS_FILE, tmp / WEIGHTS_FILE)
        if dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return sorted(dest.iterdir())


__all__ = [
    "ENGINES",
    "EXPORT_FORMATS",
    "VLLM_RANKS",
    "Engine",
    "ExportFormat",
    "ServeArgs",
    "ServedAdapter",
    "adapter_rank",
    "adapters_to_serve",
    "base_repository",
    "check_engine",
    "export_adapter",
    "holds_adapters",
    "peft_folder",
    "serve_args",
    "served_adapter",
    "vllm_max_rank",
]
