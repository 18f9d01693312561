"""The PEFT LoRA -> GGUF adapter converter on tiny synthetic files (no model, no torch): what it
writes, the q/k row reordering llama bases need, and one clear line for every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gguf")
from gguf import GGUFReader, GGUFWriter  # noqa: E402
from safetensors.numpy import save_file  # noqa: E402

from personae.errors import AdapterError  # noqa: E402
from personae.training import convert_adapter, rope_rows_to_gguf  # noqa: E402

HIDDEN, N_HEAD, N_HEAD_KV, FFN, LAYERS, RANK = 16, 2, 1, 24, 2, 4
HEAD_DIM = HIDDEN // N_HEAD
# (out, in) of each adapted projection, as PEFT sees it.
SHAPES = {
    "q_proj": (HIDDEN, HIDDEN),
    "k_proj": (N_HEAD_KV * HEAD_DIM, HIDDEN),
    "v_proj": (N_HEAD_KV * HEAD_DIM, HIDDEN),
    "o_proj": (HIDDEN, HIDDEN),
    "up_proj": (FFN, HIDDEN),
    "down_proj": (HIDDEN, FFN),
}
GGUF_NAMES = {
    "q_proj": "attn_q",
    "k_proj": "attn_k",
    "v_proj": "attn_v",
    "o_proj": "attn_output",
    "up_proj": "ffn_up",
    "down_proj": "ffn_down",
}


def base_gguf(path: Path, arch: str = "llama", layers: int = LAYERS) -> Path:
    """A base model file with the metadata and tensor shapes the converter reads."""
    writer = GGUFWriter(path, arch)
    writer.add_block_count(layers)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    for layer in range(layers):
        for module, (out, inp) in SHAPES.items():
            name = f"blk.{layer}.{GGUF_NAMES[module]}.weight"
            writer.add_tensor(name, np.zeros((out, inp), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def peft_name(layer: int, module: str) -> str:
    part = "mlp" if module in ("gate_proj", "up_proj", "down_proj") else "self_attn"
    return f"base_model.model.model.layers.{layer}.{part}.{module}"


def peft_adapter(
    folder: Path,
    *,
    modules: tuple[str, ...] = tuple(SHAPES),
    layers: int = LAYERS,
    config: dict[str, object] | None = None,
    extra: dict[str, np.ndarray] | None = None,
) -> Path:
    """A PEFT-style adapter folder with random matrices."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, np.ndarray] = {}
    for layer in range(layers):
        for module in modules:
            out, inp = SHAPES.get(module, (HIDDEN, HIDDEN))
            stem = peft_name(layer, module)
            tensors[f"{stem}.lora_A.weight"] = rng.normal(size=(RANK, inp)).astype(np.float32)
            tensors[f"{stem}.lora_B.weight"] = rng.normal(size=(out, RANK)).astype(np.float32)
    tensors.update(extra or {})
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    settings: dict[str, object] = {
        "peft_type": "LORA",
        "r": RANK,
        "lora_alpha": 8,
        "target_modules": list(modules),
        "bias": "none",
    }
    settings.update(config or {})
    (folder / "adapter_config.json").write_text(json.dumps(settings), encoding="utf-8")
    return folder


def read(path: Path) -> tuple[dict[str, object], dict[str, np.ndarray]]:
    reader = GGUFReader(path)
    fields = {k: f.contents() for k, f in reader.fields.items() if not k.startswith("GGUF.")}
    tensors = {t.name: np.array(t.data).reshape(tuple(reversed(t.shape))) for t in reader.tensors}
    return fields, tensors


# -- the permutation -----------------------------------------------------------------------------


def test_rope_rows_interleave_the_halves_of_each_head() -> None:
    # Two heads of 4 rows: HF pairs (0,2),(1,3) within a head, GGML neighbours (0,1),(2,3).
    rows = np.arange(8)[:, None] * np.ones((1, 3))
    out = rope_rows_to_gguf(rows, n_head=2)
    assert out[:, 0].tolist() == [0, 2, 1, 3, 4, 6, 5, 7]
    assert np.array_equal(out[:, 1], out[:, 0])  # whole rows move


def test_rope_rows_match_the_reshape_swap_form() -> None:
    rng = np.random.default_rng(1)
    rows = rng.normal(size=(3 * 64, 5))
    expected = rows.reshape(3, 2, 32, 5).swapaxes(1, 2).reshape(rows.shape)
    assert np.array_equal(rope_rows_to_gguf(rows, n_head=3), expected)


def test_rope_rows_refuse_heads_that_do_not_split() -> None:
    with pytest.raises(AdapterError, match="heads"):
        rope_rows_to_gguf(np.zeros((10, 2)), n_head=3)


# -- what is written ------------------------------------------------------------------------------


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_converted_adapter_has_llama_cpps_keys_names_and_shapes(tmp_path: Path, arch: str) -> None:
    base = base_gguf(tmp_path / "base.gguf", arch)
    adapter = peft_adapter(tmp_path / "adapter")
    out = convert_adapter(adapter, base, tmp_path / "out" / "lora.gguf")
    fields, tensors = read(out)
    assert fields["general.architecture"] == arch
    assert fields["general.type"] == "adapter"
    assert fields["adapter.type"] == "lora"
    assert fields["adapter.lora.alpha"] == pytest.approx(8.0)
    assert len(tensors) == 2 * LAYERS * len(SHAPES)
    from safetensors.numpy import load_file

    peft = load_file(str(adapter / "adapter_model.safetensors"))
    for module, (out_dim, in_dim) in SHAPES.items():
        stem = peft_name(1, module)
        lora_a = tensors[f"blk.1.{GGUF_NAMES[module]}.weight.lora_a"]
        lora_b = tensors[f"blk.1.{GGUF_NAMES[module]}.weight.lora_b"]
        assert lora_a.shape == (RANK, in_dim) and lora_b.shape == (out_dim, RANK)
        assert np.array_equal(lora_a, peft[f"{stem}.lora_A.weight"])
        expected_b = peft[f"{stem}.lora_B.weight"]
        if arch == "llama" and module in ("q_proj", "k_proj"):
            heads = N_HEAD if module == "q_proj" else N_HEAD_KV
            expected_b = rope_rows_to_gguf(expected_b, heads)
        assert np.array_equal(lora_b, expected_b), module
    assert not list((tmp_path / "out").glob(".*partial"))


def test_rslora_folds_its_square_root_into_alpha(tmp_path: Path) -> None:
    base = base_gguf(tmp_path / "base.gguf")
    adapter = peft_adapter(tmp_path / "adapter", config={"use_rslora": True})
    fields, _ = read(convert_adapter(adapter, base, tmp_path / "lora.gguf"))
    assert fields["adapter.lora.alpha"] == pytest.approx(8.0 * RANK**0.5)


def test_f16_output(tmp_path: Path) -> None:
    base = base_gguf(tmp_path / "base.gguf")
    adapter = peft_adapter(tmp_path / "adapter")
    _, tensors = read(convert_adapter(adapter, base, tmp_path / "lora.gguf", dtype="f16"))
    assert all(t.dtype == np.float16 for t in tensors.values())


# -- bad inputs: one line that says what to do -----------------------------------------------------


def one_line(exc: pytest.ExceptionInfo[AdapterError]) -> str:
    message = str(exc.value)
    assert message and "\n" not in message
    return message


def test_a_folder_without_an_adapter_config_is_not_a_lora_dir(tmp_path: Path) -> None:
    base = base_gguf(tmp_path / "base.gguf")
    with pytest.raises(AdapterError) as exc:
        convert_adapter(tmp_path, base, tmp_path / "lora.gguf")
    assert "not a LoRA adapter folder" in one_line(exc)


def test_another_peft_method_is_not_lora(tmp_path: Path) -> None:
    base = base_gguf(tmp_path / "base.gguf")
    adapter = peft_adapter(tmp_path / "adapter", config={"peft_type": "IA3"})
    with pytest.raises(AdapterError) as exc:
        convert_adapter(adapter, base, tmp_path / "lora.gguf")
    assert "'IA3'" in one_line(exc)


def test_a_pickled_adapter_asks_for_safetensors(tmp_path: Path) -> None:
    base = base_gguf(tmp_path / "base.gguf")
    adapter = peft_adapter(tmp_path / "adapter")
    (adapter / "adapter_model.safetensors").rename(adapter / "adapter_model.bin")
    with pytest.raises(AdapterError) as exc:
        convert_adapter(adapter, base, tmp_path / "lora.gguf")
    assert "safe_serialization=True" in one_line(exc)


def test_broken_config_json(tmp_path: Path) -> None:
    base = base_gguf(tmp_path / "base.gguf")
    adapter = peft_adapter(tmp_path / "adapter")
    (adapter / "adapter_config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(AdapterError) as exc:
        convert_adapter(adapter, base, tmp_path / "lora.gguf")
    assert "not readable JSON" in one_line(exc)


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"use_dora": True}, "DoRA"),
        ({"rank_pattern": {"q_proj": 8}}, "rank_pattern"),
        ({"modules_to_save": ["lm_head"]}, "modules_to_save"),
        ({"bias": "all"}, "bias"),
    ],
)
def test_lora_variants_llama_cpp_cannot_express(
    tmp_path: Path, config: dict[str, object], named: str
) -> None:
    base = base_gguf(tmp_path / "base.gguf")
    adapter = peft_adapter(tmp_path / "adapter", config=config)
    with pytest.raises(AdapterError) as exc:
        convert_adapter(adapter, base, tmp_path / "lora.gguf")
    assert named in one_line(exc) and "plain LoRA" in one_line(exc)


def test_an_adapter_for_a_wider_model_does_not_fit(tmp_path: Path) -> None:
    base = base_gguf(tmp_path / "base.gguf")
    adapter = peft_adapter(tmp_path / "adapter")
    wide = {
        "base_model.model.model.layers.0.self_attn.o_proj.lora_B.weight": np.ones(
            (HIDDEN * 2, RANK), dtype=np.float32
        )
    }
    peft_adapter(tmp_path / "adapter", extra=wide)
    with pytest.raises(AdapterError) as exc:
        convert_adapter(adapter, base, tmp_path / "lora.gguf")
    assert "does not fit base model" in one_line(exc) and "o_proj" in one_line(exc)


def test_an_adapter_with_more_layers_than_the_base_does_not_fit(tmp_path: Path) -> None:
    base = base_gguf(tmp_path / "base.gguf", layers=1)
    adapter = peft_adapter(tmp_path / "adapter", layers=2)
    with pytest.raises(AdapterError) as exc:
        convert_adapter(adapter, base, tmp_path / "lora.gguf")
    assert "layer 1" in one_line(exc)


def test_an_adapter_trained_on_another_catalogue_model(tmp_path: Path) -> None:
    base = base_gguf(tmp_path / "base.gguf")
    adapter = peft_adapter(
        tmp_path / "adapter", config={"base_model_name_or_path": "qwen2.5-coder-0.5b"}
    )
    with pytest.raises(AdapterError) as exc:
        convert_adapter(adapter, base, tmp_path / "lora.gguf")
    assert "trained on qwen2.5-coder-0.5b" in one_line(exc)


def test_an_unsupported_target_module(tmp_path: Path) -> None:
    base = base_gguf(tmp_path / "base.gguf")
    head = {
        "base_model.model.lm_head.lora_A.weight": np.ones((RANK, HIDDEN), dtype=np.float32),
        "base_model.model.lm_head.lora_B.weight": np.ones((32, RANK), dtype=np.float32),
    }
    adapter = peft_adapter(tmp_path / "adapter", extra=head)
    with pytest.raises(AdapterError) as exc:
        convert_adapter(adapter, base, tmp_path / "lora.gguf")
    assert "lm_head" in one_line(exc) and "target_modules" in one_line(exc)


def test_an_unsupported_architecture(tmp_path: Path) -> None:
    base = base_gguf(tmp_path / "base.gguf", arch="gemma")
    adapter = peft_adapter(tmp_path / "adapter")
    with pytest.raises(AdapterError) as exc:
        convert_adapter(adapter, base, tmp_path / "lora.gguf")
    assert "'gemma'" in one_line(exc) and "llama, qwen2" in one_line(exc)


def test_bf16_tensors_are_read_without_torch(tmp_path: Path) -> None:
    from personae.training.gguf_lora import read_safetensors

    header = json.dumps({"x": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    raw = len(header).to_bytes(8, "little") + header + bytes.fromhex("803f00c0")  # 1.0, -2.0
    (tmp_path / "t.safetensors").write_bytes(raw)
    assert read_safetensors(tmp_path / "t.safetensors")["x"].tolist() == [1.0, -2.0]
