"""A PEFT LoRA adapter as a GGUF LoRA adapter that llama.cpp (the embedded runtime) loads.

PEFT saves an adapter as a folder: ``adapter_config.json`` (rank, ``lora_alpha``, target modules)
and ``adapter_model.safetensors`` with a pair of matrices per adapted linear layer,
``…layers.N.self_attn.q_proj.lora_A.weight`` (rank × in) and ``….lora_B.weight`` (out × rank).
llama.cpp wants one GGUF file of ``general.type = "adapter"``, ``adapter.type = "lora"``,
``adapter.lora.alpha``, the base model's ``general.architecture``, and the same matrices named
after the base model's tensors: ``blk.N.attn_q.weight.lora_a`` / ``.lora_b``. The numpy shapes
stay PEFT's (GGUF lists dimensions the other way round, so ``lora_a`` reads ``[in, rank]`` there,
which is what llama.cpp checks against the base tensor's ``[in, out]``). llama.cpp scales the
product by ``scale * alpha / rank`` with the rank read off the tensors, PEFT by ``alpha / rank``,
so writing PEFT's alpha keeps the two equal at scale 1.

One layout difference matters: for llama-architecture bases (SmolLM2) llama.cpp's own converter
reorders the rows of every attention head of ``q`` and ``k`` so that rotary embedding pairs
neighbouring dimensions (GGML's rope) where Hugging Face's pairs the two halves of the head
("rotate half"). The base GGUF holds q/k in that order, so an adapter's ``lora_B`` for q and k
(its output rows) must be reordered the same way (:func:`rope_rows_to_gguf`); ``lora_A`` acts on
the input and stays. Qwen2 GGUFs keep Hugging Face's order (NEOX rope): no reordering.

The adapter is checked against the base GGUF itself (architecture, layer count, every tensor's
shape), so a mismatch is an :class:`~personae.errors.AdapterError` before llama.cpp sees it.
Only numpy and the ``gguf`` package are needed; the safetensors file is read here (its format is
an 8-byte header length, a JSON header and the raw arrays) so that bf16 adapters need no torch.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from personae.errors import AdapterError
from personae.models import resolve_model

CONFIG_FILE = "adapter_config.json"
WEIGHTS_FILE = "adapter_model.safetensors"

# PEFT's module names on Llama/Qwen2 decoders -> the GGUF tensor of the base model they adapt.
GGUF_MODULES: Mapping[str, str] = {
    "q_proj": "attn_q",
    "k_proj": "attn_k",
    "v_proj": "attn_v",
    "o_proj": "attn_output",
    "gate_proj": "ffn_gate",
    "up_proj": "ffn_up",
    "down_proj": "ffn_down",
}
# Architectures whose GGUF q/k rows llama.cpp's converter reordered for GGML's rope (True), or
# left in Hugging Face's order (False). Another architecture is refused rather than guessed at.
ROPE_REORDERED: Mapping[str, bool] = {"llama": True, "qwen2": False}

_TENSOR = re.compile(
    r"(?:^|\.)layers\.(?P<layer>\d+)\.(?:self_attn|mlp)\.(?P<module>\w+)"
    r"\.lora_(?P<half>[AB])(?:\.[\w-]+)?\.weight$"
)
_SAFETENSORS_DTYPES: Mapping[str, str] = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "BF16": "<u2"}


@dataclass(frozen=True, slots=True)
class AdapterConfig:
    """What ``adapter_config.json`` says that the conversion needs. ``alpha`` is the value that
    gives llama.cpp PEFT's scaling (rsLoRA's ``alpha / sqrt(rank)`` folded in)."""

    rank: int
    alpha: float
    base_model: str | None
    target_modules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BaseModelInfo:
    """The base GGUF's facts an adapter must agree with. ``shapes`` maps each 2-D tensor name
    to ``(rows, columns)`` = ``(out, in)`` of its linear layer."""

    name: str
    path: Path
    architecture: str
    n_layer: int
    n_head: int
    n_head_kv: int
    shapes: Mapping[str, tuple[int, int]]


def read_adapter_config(adapter_dir: Path) -> AdapterConfig:
    """The LoRA settings of a PEFT adapter folder; :class:`AdapterError` for anything else, or
    for LoRA variants a llama.cpp adapter cannot express."""
    adapter_dir = Path(adapter_dir)
    config_path = adapter_dir / CONFIG_FILE
    if not config_path.is_file():
        raise AdapterError(
            f"{adapter_dir} is not a LoRA adapter folder (no {CONFIG_FILE}): give the folder "
            "PEFT's save_pretrained wrote"
        )
    try:
        raw = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AdapterError(
            f"{config_path} is not readable JSON ({exc}): save the adapter again"
        ) from None
    if not isinstance(raw, dict) or raw.get("peft_type") != "LORA":
        kind = raw.get("peft_type") if isinstance(raw, dict) else None
        raise AdapterError(
            f"{adapter_dir} is not a LoRA adapter (peft_type {kind!r}): only LoRA adapters "
            "can be converted"
        )
    if not (adapter_dir / WEIGHTS_FILE).is_file():
        raise AdapterError(
            f"{adapter_dir} has no {WEIGHTS_FILE}: save the adapter with safe_serialization=True"
        )
    biased = raw.get("bias", "none") != "none" or raw.get("lora_bias")
    unsupported = [
        what
        for what, used in (
            ("DoRA (use_dora)", raw.get("use_dora")),
            ("per-module ranks (rank_pattern)", raw.get("rank_pattern")),
            ("per-module alphas (alpha_pattern)", raw.get("alpha_pattern")),
            ("trained full modules (modules_to_save)", raw.get("modules_to_save")),
            ("LoRA biases (bias, lora_bias)", biased),
            ("activated LoRA (alora_invocation_tokens)", raw.get("alora_invocation_tokens")),
        )
        if used
    ]
    if unsupported:
        raise AdapterError(
            f"the adapter in {adapter_dir} uses {', '.join(unsupported)}, which llama.cpp "
            "adapters cannot express: train a plain LoRA"
        )
    rank, alpha = raw.get("r"), raw.get("lora_alpha")
    if not isinstance(rank, int) or rank < 1 or not isinstance(alpha, int | float):
        raise AdapterError(f"{config_path} has no valid r and lora_alpha: save the adapter again")
    if raw.get("use_rslora"):
        # rsLoRA scales by alpha / sqrt(r); llama.cpp always divides by r.
        alpha = alpha * math.sqrt(rank)
    targets = raw.get("target_modules")
    target_modules = tuple(targets) if isinstance(targets, list) else ()
    base = raw.get("base_model_name_or_path")
    return AdapterConfig(
        rank=rank,
        alpha=float(alpha),
        base_model=base if isinstance(base, str) and base else None,
        target_modules=target_modules,
    )


def read_base_model(base: str | Path) -> BaseModelInfo:
    """Architecture, head counts and tensor shapes of a base model: a catalogue name (pulled)
    or a ``.gguf`` path."""
    from gguf import GGUFReader

    resolved = resolve_model(str(base))
    reader = GGUFReader(resolved.path)

    def field(key: str) -> Any:
        found = reader.fields.get(key)
        return None if found is None else found.contents()

    arch = field("general.architecture")
    if arch not in ROPE_REORDERED:
        raise AdapterError(
            f"base model {resolved.name} is of architecture {arch!r}, which the adapter "
            f"converter does not support: use one of {', '.join(sorted(ROPE_REORDERED))}"
        )
    n_head = field(f"{arch}.attention.head_count")
    n_head_kv = field(f"{arch}.attention.head_count_kv") or n_head
    n_layer = field(f"{arch}.block_count")
    if not all(isinstance(x, int) and x > 0 for x in (n_head, n_head_kv, n_layer)):
        raise AdapterError(
            f"base model {resolved.name} does not state its layer and head counts as single "
            "numbers: the adapter converter cannot use it"
        )
    shapes = {
        t.name: (int(t.shape[1]), int(t.shape[0])) for t in reader.tensors if len(t.shape) == 2
    }
    return BaseModelInfo(resolved.name, resolved.path, arch, n_layer, n_head, n_head_kv, shapes)


def rope_rows_to_gguf(rows: np.ndarray, n_head: int) -> np.ndarray:
    """``rows`` (the output rows of a q or k projection, or of its ``lora_B``) reordered from
    Hugging Face's rotary layout to the one llama.cpp's llama GGUFs use: within each head of
    ``d`` rows, row ``2*i + s`` of the result is row ``s*d/2 + i`` of the input (s = 0, 1)."""
    out_dim = rows.shape[0]
    if n_head < 1 or out_dim % (2 * n_head):
        raise AdapterError(
            f"{out_dim} rows do not split into {n_head} heads of an even size: the adapter "
            "does not fit this base model"
        )
    half = out_dim // n_head // 2
    head = np.arange(n_head)[:, None, None] * 2 * half
    pair = np.arange(half)[None, :, None]
    side = np.arange(2)[None, None, :]
    order = (head + side * half + pair).reshape(-1)
    reordered: np.ndarray = rows[order]
    return reordered


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as float32 numpy arrays (f16, bf16 and f64 widened or
    narrowed); :class:`AdapterError` for a file that is not one."""
    try:
        data = Path(path).read_bytes()
        (size,) = struct.unpack_from("<Q", data, 0)
        header = json.loads(data[8 : 8 + size])
    except (OSError, struct.error, ValueError) as exc:
        raise AdapterError(
            f"{path} is not a safetensors file ({exc}): save the adapter again"
        ) from None
    body = memoryview(data)[8 + size :]
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _SAFETENSORS_DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise AdapterError(
                f"{path}: tensor {name} is of type {info.get('dtype')}, not a float type: "
                "save the adapter in float32, float16 or bfloat16"
            )
        start, end = info["data_offsets"]
        array = np.frombuffer(body[start:end], dtype=dtype).reshape(info["shape"])
        if info["dtype"] == "BF16":
            # bfloat16 is the upper half of a float32.
            array = (array.astype(np.uint32) << 16).view(np.float32)
        tensors[name] = array.astype(np.float32)
    return tensors


def convert_adapter(
    adapter_dir: Path,
    base: str | Path,
    out: Path,
    *,
    dtype: Literal["f32", "f16"] = "f32",
) -> Path:
    """Write the PEFT LoRA adapter in ``adapter_dir`` (trained on ``base``: a catalogue name or
    a ``.gguf`` path) to ``out`` as a GGUF LoRA adapter for llama.cpp, and return ``out``.

    The file appears only when complete (written beside it, then renamed), so an interrupted
    conversion never leaves a half-written adapter. Raises :class:`AdapterError` when the folder
    is not a LoRA adapter, the adapter does not fit ``base``, or it adapts a module llama.cpp
    adapters cannot carry.
    """
    from gguf import GGUFWriter

    adapter_dir, out = Path(adapter_dir), Path(out)
    config = read_adapter_config(adapter_dir)
    info = read_base_model(base)
    if config.base_model and _names_other_model(config.base_model, info):
        raise AdapterError(
            f"the adapter in {adapter_dir} was trained on {config.base_model}, not on "
            f"{info.name}: convert it with --base {config.base_model}"
        )
    tensors = _gguf_tensors(adapter_dir, config, info)
    numpy_dtype = np.float32 if dtype == "f32" else np.float16
    tmp = out.with_name(f".{out.name}.partial")
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = GGUFWriter(tmp, info.architecture)
    try:
        writer.add_type("adapter")
        writer.add_string("adapter.type", "lora")
        writer.add_float32("adapter.lora.alpha", config.alpha)
        writer.add_name(f"{adapter_dir.name} (LoRA for {info.name})")
        for name, array in tensors.items():
            writer.add_tensor(name, np.ascontiguousarray(array, dtype=numpy_dtype))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    writer.close()
    os.replace(tmp, out)
    return out


def _names_other_model(base_model: str, info: BaseModelInfo) -> bool:
    """Whether the adapter's ``base_model_name_or_path`` names a catalogue model or GGUF file
    other than ``info``. Anything else (a Hugging Face id, a folder of the training run) says
    nothing certain; the tensor shapes are checked in any case."""
    from personae.models import CATALOGUE

    if base_model in CATALOGUE:
        return base_model != info.name
    if base_model.lower().endswith(".gguf"):
        return Path(base_model).name != info.path.name
    return False


def _gguf_tensors(
    adapter_dir: Path, config: AdapterConfig, info: BaseModelInfo
) -> dict[str, np.ndarray]:
    """The adapter's matrices under their GGUF names, reordered where the base needs it and
    checked against the base's shapes."""
    for module in config.target_modules:
        if module not in GGUF_MODULES:
            raise _unsupported(module, adapter_dir)
    pairs: dict[tuple[int, str], dict[str, np.ndarray]] = {}
    for name, array in read_safetensors(adapter_dir / WEIGHTS_FILE).items():
        match = _TENSOR.search(name)
        if match is None:
            raise _unsupported(name, adapter_dir)
        module = match["module"]
        if module not in GGUF_MODULES:
            raise _unsupported(module, adapter_dir)
        pairs.setdefault((int(match["layer"]), module), {})[match["half"]] = array
    if not pairs:
        raise AdapterError(f"{adapter_dir / WEIGHTS_FILE} holds no LoRA matrices: train again")
    reorder = ROPE_REORDERED[info.architecture]
    tensors: dict[str, np.ndarray] = {}
    for (layer, module), pair in sorted(pairs.items()):
        where = f"layer {layer} {module}"
        if set(pair) != {"A", "B"}:
            raise AdapterError(f"{adapter_dir}: {where} lacks lora_A or lora_B: save it again")
        lora_a, lora_b = pair["A"], pair["B"]
        target = f"blk.{layer}.{GGUF_MODULES[module]}.weight"
        shape = info.shapes.get(target)
        if (
            layer >= info.n_layer
            or shape is None
            or lora_a.ndim != 2
            or lora_b.ndim != 2
            or lora_a.shape[0] != lora_b.shape[1]
            or (lora_b.shape[0], lora_a.shape[1]) != shape
        ):
            fits = f"{shape[0]}×{shape[1]}" if shape else "no such tensor"
            raise AdapterError(
                f"the adapter in {adapter_dir} does not fit base model {info.name}: {where} is "
                f"{lora_b.shape[0]}×{lora_a.shape[1]} ({fits} in the base): convert it with "
                "the base model it was trained on"
            )
        if reorder and module == "q_proj":
            lora_b = rope_rows_to_gguf(lora_b, info.n_head)
        elif reorder and module == "k_proj":
            lora_b = rope_rows_to_gguf(lora_b, info.n_head_kv)
        tensors[f"{target}.lora_a"] = lora_a
        tensors[f"{target}.lora_b"] = lora_b
    return tensors


def _unsupported(module: str, adapter_dir: Path) -> AdapterError:
    return AdapterError(
        f"the adapter in {adapter_dir} adapts {module}, which the embedded runtime cannot "
        f"load from an adapter: train with target_modules among {', '.join(GGUF_MODULES)}"
    )


__all__ = [
    "CONFIG_FILE",
    "GGUF_MODULES",
    "ROPE_REORDERED",
    "WEIGHTS_FILE",
    "AdapterConfig",
    "BaseModelInfo",
    "convert_adapter",
    "read_adapter_config",
    "read_base_model",
    "rope_rows_to_gguf",
]
