"""The PEFT folder a run saves, for real (PEFT on SmolLM2 read from the catalogue's GGUF, saved
as `train_adapter` saves it, untrained): what vLLM and SGLang load — `adapter_config.json` and
`adapter_model.safetensors`, no pickled weights — and `adapters export` gives it a base model a
reader can find (PEFT records the local folder transformers read the GGUF from)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.training.adapters import GGUF, MANIFEST, PEFT, AdapterRegistry
from personae.training.serving import export_adapter, serve_args

pytestmark = pytest.mark.integration
pytest.importorskip("peft")


def test_a_runs_peft_folder_is_what_a_gpu_server_loads(real_model: str, tmp_path: Path) -> None:
    from peft import PeftConfig, get_peft_model
    from safetensors import safe_open

    from personae.training.base import find_base, load_base
    from personae.training.gguf_lora import convert_adapter
    from personae.training.options import TrainOptions
    from personae.training.trainer import lora_config

    registry = AdapterRegistry(tmp_path / "adapters")
    folder = registry.folder("holmes", "v1")
    folder.mkdir(parents=True)
    base = find_base(real_model)
    model, _ = load_base(base, "cpu")
    peft_model = get_peft_model(model, lora_config(TrainOptions()))
    peft_model.save_pretrained(str(folder / PEFT), save_embedding_layers=False)  # as a run does
    convert_adapter(folder / PEFT, base.path, folder / GGUF)
    (folder / MANIFEST).write_text(json.dumps({"method": "sft", "base": base.as_json()}))
    info = registry.usable("holmes", "v1")

    saved = {p.name for p in (folder / PEFT).iterdir()}
    assert {"adapter_config.json", "adapter_model.safetensors"} <= saved
    assert not [name for name in saved if name.endswith((".bin", ".pt", ".pth"))]
    args = serve_args([info], "vllm").args
    assert args[:3] == ("--enable-lora", "--max-lora-rank", str(TrainOptions().rank))

    out = tmp_path / "out"
    export_adapter(info, out, "peft")
    assert sorted(p.name for p in out.iterdir()) == [
        "adapter_config.json",
        "adapter_model.safetensors",
    ]
    config = PeftConfig.from_pretrained(str(out))
    assert config.base_model_name_or_path == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert config.r == TrainOptions().rank
    with safe_open(str(out / "adapter_model.safetensors"), framework="numpy") as tensors:
        names = list(tensors.keys())
    # vLLM reads PEFT's names: base_model.model.<module path>.lora_A/lora_B.weight
    assert names and all(n.startswith("base_model.model.model.layers.") for n in names)
    assert {n.rsplit(".", 2)[-2] for n in names} == {"lora_A", "lora_B"}
