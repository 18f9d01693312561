"""A LoRA training run: SFT on chat records or DPO on preference pairs, with TRL and PEFT.

One run is one adapter folder (:mod:`personae.training.adapters`). It starts by writing what was
asked (``run.json``: method, base and its SHA-256, the data's hash and split, options), trains
with checkpoints every ``save_steps`` optimizer steps, and ends by saving the PEFT adapter,
converting it to GGUF for the embedded runtime and writing ``manifest.json`` last. A resume
(``resume=True``) checks that the data, base and options are the ones recorded and continues
from the last checkpoint, so the steps already done are not done again.

Ctrl-C stops at the end of the current step with a checkpoint (a second Ctrl-C stops at once);
a kill loses at most the steps since the last checkpoint. Either way there is no manifest, so
the half-trained adapter is never used by a chat.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from personae.errors import InvalidInput, PersonaeError
from personae.training.adapters import (
    CHECKPOINTS,
    GGUF,
    MANIFEST,
    PEFT,
    RUN,
    AdapterInfo,
    AdapterRegistry,
    write_json_atomically,
)
from personae.training.base import BaseModel, check_device, check_memory, find_base, load_base
from personae.training.data import ChatRecord, data_digest, split_records
from personae.training.gguf_lora import convert_adapter
from personae.training.options import TrainOptions
from personae.training.trainer import (
    Progress,
    QuietProgress,
    StopOnInterrupt,
    build_trainer,
    library_warnings_off,
    quiet_libraries,
    report_callback,
)

FORMAT_VERSION = 1
_PACKAGES = ("torch", "transformers", "peft", "trl")


class TrainingInterrupted(PersonaeError):
    """A run stopped before its end (Ctrl-C); its checkpoint is kept for ``--resume``."""

    code = "training_interrupted"


@dataclass
class TrainResult:
    adapter: AdapterInfo
    manifest: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def _versions() -> dict[str, str]:
    found = {}
    for name in ("personae", *_PACKAGES):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = ""
    return found


def require_training_packages() -> None:
    missing = []
    for name in (*_PACKAGES, "datasets"):
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        raise InvalidInput(
            f"training needs {', '.join(missing)}: install the train extra "
            "(pip install torch==2.13.0, then pip install 'personae[train]')"
        )


def _last_checkpoint(folder: Path) -> str | None:
    checkpoints = sorted(
        (p for p in (folder / CHECKPOINTS).glob("checkpoint-*") if p.is_dir()),
        key=lambda p: int(p.name.rsplit("-", 1)[1]) if p.name.rsplit("-", 1)[1].isdigit() else -1,
    )
    return str(checkpoints[-1]) if checkpoints else None


def _losses(log_history: Sequence[dict[str, Any]]) -> list[list[float]]:
    return [
        [int(entry["step"]), round(float(entry["loss"]), 4)]
        for entry in log_history
        if "loss" in entry and "step" in entry
    ]


def _run_spec(
    character: str,
    name: str,
    base: BaseModel,
    options: TrainOptions,
    records: Sequence[ChatRecord],
    train: Sequence[ChatRecord],
    held_out: Sequence[ChatRecord],
    sources: Sequence[str],
) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "character": character,
        "name": name,
        "method": options.method,
        "base": base.as_json(),
        "data": {
            "sha256": data_digest(records),
            "rows": len(records),
            "train_rows": len(train),
            "held_out_rows": len(held_out),
            "sources": list(sources),
        },
        "options": options.as_json(),
    }


def _prepare_folder(
    registry: AdapterRegistry, character: str, name: str, spec: dict[str, Any], resume: bool
) -> Path:
    folder = registry.folder(character, name)
    run_file = folder / RUN
    if (folder / MANIFEST).exists():
        raise InvalidInput(
            f"{character} already has a trained adapter {name!r}: choose another --name or "
            f"delete it (personae adapters delete {character} {name})"
        )
    if resume:
        if not run_file.is_file():
            raise InvalidInput(f"nothing to resume: {character} has no unfinished run {name!r}")
        recorded = json.loads(run_file.read_text(encoding="utf-8"))
        for key, what in (("data", "data"), ("base", "base model"), ("method", "method")):
            mine, theirs = spec[key], recorded.get(key)
            if key == "data":
                mine, theirs = mine["sha256"], (theirs or {}).get("sha256")
            if key == "base":
                mine, theirs = mine["sha256"], (theirs or {}).get("sha256")
            if mine != theirs:
                raise InvalidInput(
                    f"the unfinished run {name!r} was started with other {what}: resume it with "
                    "the same --data, --base and --method, or start a new --name"
                )
        if not TrainOptions(**_options_kwargs(spec["options"])).same_run(recorded["options"]):
            raise InvalidInput(
                f"the unfinished run {name!r} was started with other options (rank, epochs, lr, "
                "steps, lengths): resume it with the same ones, or start a new --name"
            )
        return folder
    if run_file.exists():
        raise InvalidInput(
            f"{character} has an unfinished run {name!r}: continue it with --resume, or delete "
            f"it (personae adapters delete {character} {name})"
        )
    folder.mkdir(parents=True, exist_ok=True)
    write_json_atomically(run_file, spec)
    return folder


def _options_kwargs(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "alpha"}


def _set_up(
    folder: Path,
    spec: dict[str, Any],
    base: BaseModel,
    options: TrainOptions,
    train: Sequence[ChatRecord],
    held_out: Sequence[ChatRecord],
    progress: Progress,
) -> tuple[Any, str | None, float | None]:
    """The trainer, the checkpoint to resume from, and the held-out loss before training
    (measured now for a fresh run, read back for a resumed one)."""
    progress.on_note(f"loading {base.name} ({base.parameters / 1e6:.0f}M parameters)")
    quiet_libraries()
    from transformers import PrinterCallback

    with library_warnings_off():
        model, tokenizer = load_base(base, options.device)
        trainer = build_trainer(options, model, tokenizer, train, held_out, folder)
    trainer.remove_callback(PrinterCallback)  # the progress is the caller's to show
    checkpoint = _last_checkpoint(folder)
    if checkpoint is not None:
        recorded = json.loads((folder / RUN).read_text(encoding="utf-8"))
        return trainer, checkpoint, recorded.get("held_out_loss_before")
    progress.on_note("held-out loss before training")
    with library_warnings_off():
        before = float(trainer.evaluate()["eval_loss"])
    spec["held_out_loss_before"] = before
    write_json_atomically(folder / RUN, spec)
    return trainer, None, before


def train_adapter(
    registry: AdapterRegistry,
    character: str,
    name: str,
    records: Sequence[ChatRecord],
    base_name: str,
    options: TrainOptions,
    *,
    sources: Sequence[str] = (),
    resume: bool = False,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.time,
) -> TrainResult:
    """Train adapter ``name`` of ``character`` (see the module docstring)."""
    progress = progress or QuietProgress()
    options.check()
    require_training_packages()
    check_device(options.device)
    base = find_base(base_name)
    train, held_out = split_records(records, options.held_out)
    spec = _run_spec(character, name, base, options, records, train, held_out, sources)
    check_memory(base, options.device)
    folder = _prepare_folder(registry, character, name, spec, resume)
    started = clock()
    try:
        trainer, checkpoint, before = _set_up(
            folder, spec, base, options, train, held_out, progress
        )
    except BaseException:
        # Nothing was trained: a fresh run leaves no folder behind (a bad --max-length, a
        # Ctrl-C while loading), so the same command can simply be run again.
        if not resume and not (folder / CHECKPOINTS).exists():
            shutil.rmtree(folder, ignore_errors=True)
        raise
    stop = StopOnInterrupt()
    trainer.add_callback(report_callback(progress, stop))
    with stop, library_warnings_off():
        output = trainer.train(resume_from_checkpoint=checkpoint)
    if stop.requested:
        step = trainer.state.global_step
        raise TrainingInterrupted(
            f"stopped at step {step} of {trainer.state.max_steps} with a checkpoint: continue "
            f"with `personae train {character} --resume --name {name}` and the same options"
        )
    with library_warnings_off():
        after = trainer.evaluate()
        trainer.model.save_pretrained(str(folder / PEFT), save_embedding_layers=False)
    progress.on_note("converting the adapter for the embedded runtime")
    convert_adapter(folder / PEFT, base.path, folder / GGUF)
    metrics = dict(output.metrics)
    seconds = clock() - started
    tokens = int(trainer.state.num_input_tokens_seen or 0)
    runtime = float(metrics.get("train_runtime", seconds))
    manifest = {
        **spec,
        "held_out_loss_before": before,
        "held_out_loss_after": float(after["eval_loss"]),
        "held_out_metrics": {k: v for k, v in after.items() if isinstance(v, int | float)},
        "steps": int(trainer.state.global_step),
        "losses": _losses(trainer.state.log_history),
        "train_loss": float(metrics.get("train_loss", 0.0)),
        "tokens_seen": tokens,
        "train_seconds": round(runtime, 1),
        "tokens_per_second": round(tokens / runtime, 2) if runtime > 0 else None,
        "seconds": round(seconds, 1),
        "finished_at": clock(),
        "versions": _versions(),
        "gguf": GGUF,
    }
    write_json_atomically(folder / MANIFEST, manifest)
    shutil.rmtree(folder / CHECKPOINTS, ignore_errors=True)
    return TrainResult(registry.get(character, name), manifest)


__all__ = [
    "Progress",
    "TrainResult",
    "TrainingInterrupted",
    "require_training_packages",
    "train_adapter",
]
