"""What a training run is asked to do, checked before anything is loaded."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from personae.errors import InvalidInput
from personae.training.base import DEVICES, Device
from personae.training.data import Method

DEFAULT_LR = {"sft": 2e-4, "dpo": 5e-5}


@dataclass(frozen=True, slots=True)
class TrainOptions:
    """A LoRA run. ``lr`` None takes the method's default; ``max_steps`` None runs ``epochs``;
    ``save_steps``: a checkpoint every that many optimizer steps (and at a Ctrl-C)."""

    method: Method = "sft"
    rank: int = 8
    epochs: float = 2.0
    lr: float | None = None
    max_steps: int | None = None
    max_length: int = 1024
    batch_size: int = 1
    grad_accum: int = 4
    beta: float = 0.1
    held_out: float = 0.1
    save_steps: int = 20
    seed: int = 0
    device: Device = "cpu"

    @property
    def learning_rate(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.method]

    @property
    def alpha(self) -> int:
        return 2 * self.rank

    def check(self) -> TrainOptions:
        if self.method not in ("sft", "dpo"):
            raise InvalidInput(f"--method must be sft or dpo, not {self.method!r}")
        if self.device not in DEVICES:
            raise InvalidInput(f"--device must be cpu or cuda, not {self.device!r}")
        bounds: list[tuple[str, float, float, float]] = [
            ("--rank", self.rank, 1, 256),
            ("--epochs", self.epochs, 0.01, 100),
            ("--lr", self.learning_rate, 1e-8, 1e-1),
            ("--max-length", self.max_length, 32, 32_768),
            ("--batch-size", self.batch_size, 1, 256),
            ("--grad-accum", self.grad_accum, 1, 256),
            ("--beta", self.beta, 1e-3, 10),
            ("--held-out", self.held_out, 0.01, 0.5),
            ("--save-steps", self.save_steps, 1, 1_000_000),
        ]
        if self.max_steps is not None:
            bounds.append(("--max-steps", self.max_steps, 1, 10_000_000))
        for flag, value, low, high in bounds:
            if not low <= value <= high:
                raise InvalidInput(f"{flag} must be between {low:g} and {high:g}, not {value:g}")
        return self

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["lr"] = self.learning_rate
        data["alpha"] = self.alpha
        return data

    def same_run(self, other: dict[str, Any]) -> bool:
        """Whether a recorded run's options train the same way (the device may differ)."""
        mine = {k: v for k, v in self.as_json().items() if k != "device"}
        theirs = {k: v for k, v in other.items() if k != "device"}
        return mine == theirs


__all__ = ["DEFAULT_LR", "TrainOptions"]
