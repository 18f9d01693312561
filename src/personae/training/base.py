"""The base model a LoRA is trained on: the catalogue's GGUF, loaded by ``transformers``.

``transformers`` reads the same GGUF file the embedded runtime serves (dequantizing it to full
precision), so the adapter is trained on the weights it will run beside, with the tokenizer and
chat template of that file, and no other weights are needed. Before loading, the memory it will
take is compared with what the machine has, so that a base too big for it is one clear line, not
the operating system killing the process twenty minutes in.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from personae.errors import InvalidInput
from personae.models import resolve_model

Device = Literal["cpu", "cuda"]
DEVICES: tuple[Device, ...] = ("cpu", "cuda")
# Training in float32 holds the weights (4 bytes a parameter), their gradients' flow and the
# optimizer only for the LoRA (small), and the activations of one sequence: about 1.5× the
# weights plus a fixed 1.5 GiB, which matched what the 135M, 0.5B and 1.5B bases took here.
_BYTES_PER_PARAMETER = 4 * 1.5
_FIXED_BYTES = 1.5 * 2**30


@dataclass(frozen=True, slots=True)
class BaseModel:
    name: str
    path: Path
    sha256: str
    architecture: str
    parameters: int

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.path.name,
            "sha256": self.sha256,
            "architecture": self.architecture,
            "parameters": self.parameters,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_base(name: str) -> BaseModel:
    """The pulled catalogue model ``name`` (or a ``.gguf`` path) as a training base."""
    from personae.training.gguf_lora import read_base_model

    resolved = resolve_model(name)
    info = read_base_model(resolved.path)
    # A catalogue model was verified against its SHA-256 when it was pulled.
    sha = resolved.spec.sha256 if resolved.spec else file_sha256(resolved.path)
    parameters = sum(rows * cols for rows, cols in info.shapes.values())
    return BaseModel(resolved.name, resolved.path, sha, info.architecture, parameters)


def needed_bytes(base: BaseModel) -> int:
    return int(base.parameters * _BYTES_PER_PARAMETER + _FIXED_BYTES)


def check_memory(base: BaseModel, device: Device) -> None:
    """:class:`InvalidInput` when ``device`` has clearly too little free memory for ``base``."""
    need = needed_bytes(base)
    if device == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info()
    else:
        import psutil

        free = psutil.virtual_memory().available
    if free < need:
        raise InvalidInput(
            f"not enough memory to train on {base.name}: it needs about "
            f"{math.ceil(need / 2**30)} GiB and {free / 2**30:.1f} GiB is free on the {device}; "
            "close other programs or choose a smaller --base (smollm2-135m, qwen2.5-coder-0.5b)"
        )


def check_device(device: str) -> Device:
    if device not in DEVICES:
        raise InvalidInput(f"--device must be cpu or cuda, not {device!r}")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise InvalidInput("--device cuda: no CUDA device is visible here; use --device cpu")
        return "cuda"
    return "cpu"


def _read_gguf(transformers: Any, torch: Any, folder: str, file: str, device: Device) -> Any:
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=file)
    dtype = torch.float32
    if device == "cuda" and torch.cuda.is_bf16_supported():
        dtype = torch.bfloat16
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=file, dtype=dtype)
    return tokenizer, model


def load_base(base: BaseModel, device: Device) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from the base's GGUF, on ``device``."""
    import torch
    import transformers

    folder, file = str(base.path.parent), base.path.name
    # The GGUF reader draws its own tqdm bar on stderr (it ignores transformers' switch for
    # progress bars); the run has its own progress, so the reader's output is dropped.
    with contextlib.redirect_stderr(io.StringIO()):
        tokenizer, model = _read_gguf(transformers, torch, folder, file, device)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.config.use_cache = False
    # transformers marks a model read from GGUF as "quantized" (and its Trainer refuses to train
    # it), but the weights it holds are the dequantized floats: plain weights to put a LoRA on.
    setattr(model, "hf_quantizer", None)  # noqa: B010  (torch's Module types attributes)
    setattr(model, "is_quantized", False)  # noqa: B010
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    moved: Any = model
    return moved.to(device), tokenizer


__all__ = [
    "DEVICES",
    "BaseModel",
    "Device",
    "check_device",
    "check_memory",
    "file_sha256",
    "find_base",
    "load_base",
    "needed_bytes",
]
