"""The TRL side of a run: the trainer for a method (SFT on tokenized chat records with the loss on
the character's turns, DPO on preference pairs), both with the same LoRA on every linear layer
of the base; the progress callback; Ctrl-C as "save and stop after this step"; the libraries'
own bars and warnings kept off the user's screen."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from personae.errors import InvalidInput
from personae.training.adapters import CHECKPOINTS
from personae.training.data import ChatRecord
from personae.training.gguf_lora import GGUF_MODULES
from personae.training.options import TrainOptions
from personae.training.tokens import tokenize_chat


class Progress(Protocol):
    def on_start(self, total_steps: int, done_steps: int) -> None: ...

    def on_step(
        self, step: int, total: int, loss: float | None, tokens_per_second: float
    ) -> None: ...

    def on_note(self, text: str) -> None: ...


class QuietProgress:
    """Progress that shows nothing."""

    def on_start(self, total_steps: int, done_steps: int) -> None:
        pass

    def on_step(self, step: int, total: int, loss: float | None, tokens_per_second: float) -> None:
        pass

    def on_note(self, text: str) -> None:
        pass


class StopOnInterrupt:
    """While active, the first SIGINT asks the trainer to save and stop after this step."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> StopOnInterrupt:
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


def report_callback(progress: Progress, stop: StopOnInterrupt) -> Any:
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


def quiet_libraries() -> None:
    """No progress bars of the libraries' own (dequantizing, tokenizing): the run has one."""
    import datasets
    import transformers

    os.environ.setdefault("TQDM_DISABLE", "1")  # the GGUF loader's own bar
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    transformers.utils.logging.set_verbosity_error()  # type: ignore[no-untyped-call]


@contextmanager
def library_warnings_off() -> Iterator[None]:
    """Warnings of the libraries that say nothing to a user: PEFT looking for a Hugging Face
    config beside a GGUF base, transformers' renamed checkpointing attribute."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Could not find a config file")
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*")
        yield


def _sft_dataset(records: Sequence[ChatRecord], tokenizer: Any, max_length: int, what: str) -> Any:
    from datasets import Dataset

    rows = []
    for record in records:
        chat = tokenize_chat(tokenizer, record.messages, max_length)
        if chat.trained_tokens:
            rows.append({"input_ids": chat.input_ids, "labels": chat.labels})
    if not rows:
        raise InvalidInput(
            f"no {what} row has a reply within --max-length {max_length} tokens (the prompt "
            "before it is longer): raise --max-length"
        )
    return Dataset.from_list(rows)


def _dpo_dataset(records: Sequence[ChatRecord]) -> Any:
    from datasets import Dataset

    return Dataset.from_list([r.as_json() for r in records])


def lora_config(options: TrainOptions) -> Any:
    """The LoRA every run puts on the base: rank ``options.rank`` on every linear layer of each
    block (the modules a llama.cpp adapter can carry)."""
    from peft import LoraConfig

    return LoraConfig(
        r=options.rank,
        lora_alpha=options.alpha,
        lora_dropout=0.05,
        target_modules=list(GGUF_MODULES),
        task_type="CAUSAL_LM",
    )


def build_trainer(
    options: TrainOptions,
    model: Any,
    tokenizer: Any,
    train: Sequence[ChatRecord],
    held_out: Sequence[ChatRecord],
    folder: Path,
) -> Any:
    lora = lora_config(options)
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
            train_dataset=_sft_dataset(train, tokenizer, options.max_length, "training"),
            eval_dataset=_sft_dataset(held_out, tokenizer, options.max_length, "held-out"),
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


__all__ = [
    "Progress",
    "build_trainer",
    "library_warnings_off",
    "lora_config",
    "quiet_libraries",
    "StopOnInterrupt",
    "report_callback",
]
