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

import shutil
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

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
from personae.training.gguf_lora import GGUF_MODULES, convert_adapter
from personae.training.options import TrainOptions
from personae.training.tokens import tokenize_chat

FORMAT_VERSION = 1
_PACKAGES = ("torch", "transformers", "peft", "trl")


class TrainingInterrupted(PersonaeError):
    """A run stopped before its end (Ctrl-C); its checkpoint is kept for ``--resume``."""

    code = "training_interrupted"


class Progress(Protocol):
    def on_start(self, total_steps: int, done_steps: int) -> None: ...

    def on_step(
        self, step: int, total: int, loss: float | None, tokens_per_second: float
    ) -> None: ...

    def on_note(self, text: str) -> None: ...


class _Quiet:
    def on_start(self, total_steps: int, done_steps: int) -> None:
        pass

    def on_step(self, step: int, total: int, loss: float | None, tokens_per_second: float) -> None:
        pass

    def on_note(self, text: str) -> None:
        pass


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


class _StopOnInterrupt:
    """While active, the first SIGINT asks the trainer to save and stop after this step."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _StopOnInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _callback(progress: Progress, stop: _StopOnInterrupt) -> Any:
    from transformers import TrainerCallback

    class _Report(TrainerCallback):
        def __init__(self) -> None:
            self.started = time.monotonic()
            self.tokens_at_start: int | None = None
            self.loss: float | None = None

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self.started = time.monotonic()
            self.tokens_at_start = int(state.num_input_tokens_seen or 0)
            progress.on_start(int(state.max_steps), int(state.global_step))

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs and "loss" in logs:
                self.loss = float(logs["loss"])

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> Any:
            seen = int(state.num_input_tokens_seen or 0) - (self.tokens_at_start or 0)
            rate = seen / max(time.monotonic() - self.started, 1e-9)
            progress.on_step(int(state.global_step), int(state.max_steps), self.loss, rate)
            if stop.requested:
                control.should_save = True
                control.should_training_stop = True
            return control

    return _Report()


def _quiet_libraries() -> None:
    """No progress bars of the libraries' own (dequantizing, tokenizing): the run has one."""
    import datasets
    import transformers

    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    transformers.utils.logging.set_verbosity_error()  # type: ignore[no-untyped-call]


@contextmanager
def _library_warnings_off() -> Iterator[None]:
    """Warnings of the libraries that say nothing to a user: PEFT looking for a Hugging Face
    config beside a GGUF base, transformers' renamed checkpointing attribute."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Could not find a config file")
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        yield


def _sft_dataset(records: Sequence[ChatRecord], tokenizer: Any, max_length: int) -> Any:
    from datasets import Dataset

    rows = []
    for record in records:
        chat = tokenize_chat(tokenizer, record.messages, max_length)
        if chat.trained_tokens:
            rows.append({"input_ids": chat.input_ids, "labels": chat.labels})
    if not rows:
        raise InvalidInput(
            f"no row has a reply within --max-length {max_length} tokens: raise --max-length"
        )
    return Dataset.from_list(rows)


def _dpo_dataset(records: Sequence[ChatRecord]) -> Any:
    from datasets import Dataset

    return Dataset.from_list([r.as_json() for r in records])


def _trainer(
    options: TrainOptions,
    model: Any,
    tokenizer: Any,
    train: Sequence[ChatRecord],
    held_out: Sequence[ChatRecord],
    folder: Path,
) -> Any:
    from peft import LoraConfig

    lora = LoraConfig(
        r=options.rank,
        lora_alpha=options.alpha,
        lora_dropout=0.05,
        target_modules=list(GGUF_MODULES),
        task_type="CAUSAL_LM",
    )
    common: dict[str, Any] = {
        "output_dir": str(folder / CHECKPOINTS),
        "per_device_train_batch_size": options.batch_size,
        "per_device_eval_batch_size": options.batch_size,
        "gradient_accumulation_steps": options.grad_accum,
        "num_train_epochs": options.epochs,
        "max_steps": options.max_steps or -1,
        "learning_rate": options.learning_rate,
        "lr_scheduler_type": "cosine",
        "warmup_steps": 0.05,
        "logging_steps": 1,
        "save_strategy": "steps",
        "save_steps": options.save_steps,
        "save_total_limit": 2,
        "eval_strategy": "no",
        "report_to": "none",
        "seed": options.seed,
        "use_cpu": options.device == "cpu",
        "bf16": options.device == "cuda",
        "dataloader_num_workers": 0,
        "include_num_input_tokens_seen": "non_padding",
        "disable_tqdm": True,
        "max_length": options.max_length,
        # Recomputing activations saves memory the small bases do not need, at a third more
        # time a step.
        "activation_checkpointing": False,
    }
    if options.method == "sft":
        from trl.trainer.sft_config import SFTConfig
        from trl.trainer.sft_trainer import SFTTrainer

        return SFTTrainer(
            model=model,
            args=SFTConfig(**common, packing=False),
            train_dataset=_sft_dataset(train, tokenizer, options.max_length),
            eval_dataset=_sft_dataset(held_out, tokenizer, options.max_length),
            processing_class=tokenizer,
            peft_config=lora,
        )
    from trl.trainer.dpo_config import DPOConfig
    from trl.trainer.dpo_trainer import DPOTrainer

    return DPOTrainer(
        model=model,
        args=DPOConfig(**common, beta=options.beta),
        train_dataset=_dpo_dataset(train),
        eval_dataset=_dpo_dataset(held_out),
        processing_class=tokenizer,
        peft_config=lora,
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
        import json

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
    progress = progress or _Quiet()
    options.check()
    require_training_packages()
    check_device(options.device)
    base = find_base(base_name)
    train, held_out = split_records(records, options.held_out)
    spec = _run_spec(character, name, base, options, records, train, held_out, sources)
    check_memory(base, options.device)
    folder = _prepare_folder(registry, character, name, spec, resume)
    started = clock()
    progress.on_note(f"loading {base.name} ({base.parameters / 1e6:.0f}M parameters)")
    _quiet_libraries()
    from transformers import PrinterCallback

    model, tokenizer = load_base(base, options.device)
    trainer = _trainer(options, model, tokenizer, train, held_out, folder)
    trainer.remove_callback(PrinterCallback)  # the progress is the caller's to show
    checkpoint = _last_checkpoint(folder) if resume else None
    before = spec.get("held_out_loss_before")
    if checkpoint is None:
        progress.on_note("held-out loss before training")
        before = float(trainer.evaluate()["eval_loss"])
        spec["held_out_loss_before"] = before
        write_json_atomically(folder / RUN, spec)
    else:
        import json

        before = json.loads((folder / RUN).read_text(encoding="utf-8")).get("held_out_loss_before")
    stop = _StopOnInterrupt()
    trainer.add_callback(_callback(progress, stop))
    with stop, _library_warnings_off():
        output = trainer.train(resume_from_checkpoint=checkpoint)
    if stop.requested:
        step = trainer.state.global_step
        raise TrainingInterrupted(
            f"stopped at step {step} of {trainer.state.max_steps} with a checkpoint: continue "
            f"with `personae train {character} --resume --name {name}` and the same options"
        )
    with _library_warnings_off():
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
