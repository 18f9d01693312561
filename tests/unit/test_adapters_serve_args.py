"""`personae adapters serve-args` (the engine arguments that serve every adapter under its
`character@adapter` name, for vLLM, SGLang and llama-server) and `personae adapters export` (a
folder a server loads). Adapters are made by hand, as in test_training_adapters: no training."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from personae.config import home
from personae.errors import AdapterError
from personae.training.adapters import AdapterRegistry
from personae.training.serving import serve_args, vllm_max_rank
from tests.unit.test_adapters_remote import make_served_adapter
from tests.unit.test_cli import one_line_error, run
from tests.unit.test_training_adapters import make_adapter


@pytest.fixture
def registry() -> AdapterRegistry:
    registry = AdapterRegistry(home() / "adapters")
    make_served_adapter(registry, "sherlock", "v1", rank=8)
    make_served_adapter(registry, "hong-gildong", "exp", rank=12)
    make_adapter(registry, "sherlock", "half", ready=False)  # unfinished: never served
    return registry


def peft(registry: AdapterRegistry, character: str, name: str) -> str:
    return str((registry.folder(character, name) / "peft").resolve())


def test_vllm_args_serve_every_adapter_under_its_name(registry: AdapterRegistry) -> None:
    result = run("adapters", "serve-args")
    assert result.exit_code == 0, result.stderr
    assert shlex.split(result.stdout) == [
        "--enable-lora",
        "--max-lora-rank",
        "16",  # the largest rank is 12: vLLM takes 1, 8, 16, 32 …
        "--max-loras",
        "2",
        "--lora-modules",
        f"hong-gildong@exp={peft(registry, 'hong-gildong', 'exp')}",
        f"sherlock@v1={peft(registry, 'sherlock', 'v1')}",
    ]
    # Where the base comes from: the catalogue model's Hugging Face repository.
    assert "vllm serve HuggingFaceTB/SmolLM2-135M-Instruct --enable-lora" in result.stderr
    one = shlex.split(run("adapters", "serve-args", "--character", "sherlock").stdout)
    assert one[2] == "8" and one[-1] == f"sherlock@v1={peft(registry, 'sherlock', 'v1')}"


def test_sglang_and_llama_server_args(registry: AdapterRegistry) -> None:
    sglang = run("adapters", "serve-args", "--format", "sglang")
    assert shlex.split(sglang.stdout) == [
        "--enable-lora",
        "--max-lora-rank",
        "12",
        "--max-loras-per-batch",
        "3",
        "--lora-paths",
        f"hong-gildong@exp={peft(registry, 'hong-gildong', 'exp')}",
        f"sherlock@v1={peft(registry, 'sherlock', 'v1')}",
    ]
    assert 'lora_model = "model:name"' in sglang.stderr
    llama = run("adapters", "serve-args", "--format", "llama-server")
    gguf = {
        c: str((registry.folder(c, n) / "adapter.gguf").resolve())
        for c, n in [("hong-gildong", "exp"), ("sherlock", "v1")]
    }
    assert shlex.split(llama.stdout) == [
        "--lora",
        gguf["hong-gildong"],
        "--lora",
        gguf["sherlock"],
        "--lora-init-without-apply",
    ]
    assert "0 = hong-gildong@exp, 1 = sherlock@v1" in llama.stderr
    assert 'lora_model = "lora-id"' in llama.stderr


def test_json_lists_each_adapter_with_its_rank(registry: AdapterRegistry) -> None:
    shown = json.loads(run("adapters", "serve-args", "--json").stdout)
    assert shown["format"] == "vllm" and shown["base"] == "smollm2-135m"
    assert shown["base_repository"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert [(a["name"], a["rank"]) for a in shown["adapters"]] == [
        ("hong-gildong@exp", 12),
        ("sherlock@v1", 8),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "tgi"), "--format 'tgi' is not an engine"),
        (("--character", "nobody"), "nobody"),
        (("--base", "qwen2.5-coder-0.5b"), "no finished adapters on base"),
    ],
)
def test_bad_serve_args_input_is_one_line(
    registry: AdapterRegistry, args: tuple[str, ...], message: str
) -> None:
    assert message in one_line_error(run("adapters", "serve-args", *args))


def test_adapters_on_two_bases_or_none_at_all(registry: AdapterRegistry) -> None:
    make_served_adapter(registry, "sherlock", "big", base="qwen2.5-coder-0.5b")
    error = one_line_error(run("adapters", "serve-args"))
    assert "2 base models (qwen2.5-coder-0.5b, smollm2-135m)" in error and "--base" in error
    big = shlex.split(run("adapters", "serve-args", "--base", "qwen2.5-coder-0.5b").stdout)
    assert big[-1] == f"sherlock@big={peft(registry, 'sherlock', 'big')}"
    for name in ("v1", "big", "half"):
        registry.delete("sherlock", name)
    registry.delete("hong-gildong", "exp")
    assert "no finished adapters to serve" in one_line_error(run("adapters", "serve-args"))


def test_an_adapter_without_its_peft_folder_cannot_go_to_vllm(
    registry: AdapterRegistry,
) -> None:
    make_adapter(registry, "sherlock", "gguf-only", ready=True)
    error = one_line_error(run("adapters", "serve-args", "--character", "sherlock"))
    assert "sherlock@gguf-only has no adapter_config.json" in error
    # llama-server needs only the GGUF.
    assert run("adapters", "serve-args", "--format", "llama-server").exit_code == 0


def test_vllm_ranks_and_awkward_paths(tmp_path: Path) -> None:
    assert [vllm_max_rank(r) for r in (1, 4, 8, 9, 64, 300)] == [1, 8, 8, 16, 64, 320]
    with pytest.raises(AdapterError, match="smaller --rank"):
        vllm_max_rank(600)
    registry = AdapterRegistry(tmp_path / "a=b,c")
    make_served_adapter(registry, "holmes", "v1")
    args = serve_args(registry.list(), "vllm").args
    # vLLM splits name=path at '=' (and reads JSON when there is a ','): JSON it is.
    assert json.loads(args[-1]) == {"name": "holmes@v1", "path": peft(registry, "holmes", "v1")}


def test_export_writes_a_folder_a_server_loads(registry: AdapterRegistry, tmp_path: Path) -> None:
    out = tmp_path / "export" / "sherlock-v1"
    result = run("adapters", "export", "sherlock", "v1", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "adapter_config.json",
        "adapter_model.safetensors",
    ]
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert config["r"] == 8 and config["peft_type"] == "LORA"
    source = registry.folder("sherlock", "v1") / "peft" / "adapter_model.safetensors"
    assert (out / "adapter_model.safetensors").read_bytes() == source.read_bytes()
    gguf = tmp_path / "gguf"
    gguf.mkdir()  # an empty folder is fine
    assert run("adapters", "export", "sherlock", "v1", str(gguf), "--format", "gguf").exit_code == 0
    assert [p.name for p in gguf.iterdir()] == ["adapter.gguf"]
    assert not [p for p in tmp_path.rglob("*") if ".export-" in p.name]  # nothing left over


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("sherlock", "v1", "{out}", "--format", "bin"), "--format 'bin' is unknown"),
        (("sherlock", "nope", "{out}"), "no adapter 'nope'"),
        (("sherlock", "half", "{out}"), "did not finish training"),
        (("nobody", "v1", "{out}"), "nobody"),
        (("sherlock", "v1", "{full}"), "is not an empty folder"),
    ],
)
def test_bad_export_input_is_one_line(
    registry: AdapterRegistry, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("mine")
    filled = [a.replace("{out}", str(tmp_path / "out")).replace("{full}", str(full)) for a in args]
    assert message in one_line_error(run("adapters", "export", *filled))
    assert not (tmp_path / "out").exists() and (full / "x").read_text() == "mine"
