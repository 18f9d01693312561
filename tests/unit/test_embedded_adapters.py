"""LoRA adapters in the embedded backend against the fake llama.cpp: loaded at scale 0, chosen
per request with every adapter's scale, one slot per adapter choice, and no prompt cache reused
by a request with other adapters than the slot's last one."""

from __future__ import annotations

from pathlib import Path

import pytest

from personae.backends import GenerationParams, Message, collect
from personae.backends.embedded import EmbeddedBackend
from personae.backends.embedded_adapters import AdapterChoice
from personae.errors import AdapterError
from tests.support.fake_llama import FakeLlamaServer, embedded, gguf_file, reply

HI = [Message("user", "Hello there")]
PARAMS = GenerationParams(max_tokens=8)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "model": gguf_file(tmp_path / "tiny.gguf"),
        "holmes": gguf_file(tmp_path / "holmes.gguf"),
        "watson": gguf_file(tmp_path / "watson.gguf"),
    }


def backend_with(
    files: dict[str, Path], turns: int, **options: object
) -> tuple[EmbeddedBackend, FakeLlamaServer]:
    fake = FakeLlamaServer(script=[reply("ok") for _ in range(turns)])
    adapters = {"holmes": files["holmes"], "watson": files["watson"]}
    backend, fake = embedded(files["model"], fake, adapters=adapters, **options)
    return backend, fake


def test_adapters_load_at_scale_zero_and_the_ram_prompt_cache_is_off(
    files: dict[str, Path],
) -> None:
    backend, fake = backend_with(files, 0)
    loaded = [(a.path, a.scale) for a in fake.params.lora_adapters]
    assert loaded == [(str(files["holmes"]), 0.0), (str(files["watson"]), 0.0)]
    assert fake.params.cache_ram_mib == 0
    assert backend.adapter_names == ("holmes", "watson")


def test_no_adapters_sends_no_lora_field(files: dict[str, Path]) -> None:
    fake = FakeLlamaServer(script=[reply("ok")])
    backend, fake = embedded(files["model"], fake)
    collect(backend.stream(HI, PARAMS))
    assert "lora" not in fake.requests[0] and "id_slot" not in fake.requests[0]
    assert fake.params.lora_adapters == []


def test_each_request_names_every_adapters_scale(files: dict[str, Path]) -> None:
    backend, fake = backend_with(files, 3, n_parallel=3)
    collect(backend.stream(HI, PARAMS))
    collect(backend.with_adapters("watson").stream(HI, PARAMS))
    collect(backend.with_adapters(AdapterChoice("holmes", 0.5)).stream(HI, PARAMS))
    lora = [r["lora"] for r in fake.requests]
    assert lora[0] == [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 0.0}]
    assert lora[1] == [{"id": 0, "scale": 0.0}, {"id": 1, "scale": 1.0}]
    assert lora[2] == [{"id": 0, "scale": 0.5}, {"id": 1, "scale": 0.0}]


def test_the_default_adapter_option(files: dict[str, Path]) -> None:
    backend, fake = backend_with(files, 1, adapter="holmes")
    collect(backend.stream(HI, PARAMS))
    assert fake.requests[0]["lora"] == [{"id": 0, "scale": 1.0}, {"id": 1, "scale": 0.0}]


def test_with_enough_slots_each_adapter_keeps_its_own_slot_and_cache(
    files: dict[str, Path],
) -> None:
    backend, fake = backend_with(files, 6, n_parallel=3)
    holmes, watson = backend.with_adapters("holmes"), backend.with_adapters("watson")
    for view in (holmes, watson, backend, holmes, watson, backend):
        collect(view.stream(HI, PARAMS))
    slots = [r["id_slot"] for r in fake.requests]
    assert slots[:3] == slots[3:] and len(set(slots)) == 3
    assert all(r["cache_prompt"] for r in fake.requests)
    assert holmes.model.endswith("@holmes") and backend.model == "tiny"


def test_one_slot_never_reuses_its_cache_across_adapters(files: dict[str, Path]) -> None:
    backend, fake = backend_with(files, 5, n_parallel=1)
    holmes, watson = backend.with_adapters("holmes"), backend.with_adapters("watson")
    for view in (holmes, holmes, watson, backend, backend):
        collect(view.stream(HI, PARAMS))
    assert [r["id_slot"] for r in fake.requests] == [0] * 5
    assert [r["cache_prompt"] for r in fake.requests] == [True, True, False, False, True]


def test_logprobs_go_through_the_same_rule(files: dict[str, Path]) -> None:
    fake = FakeLlamaServer(script=[reply("ok")])
    backend, fake = embedded(
        files["model"], fake, adapters={"holmes": files["holmes"]}, n_parallel=1
    )
    backend.with_adapters("holmes").next_token_logprobs(HI, top=3)
    assert fake.requests[0]["lora"] == [{"id": 0, "scale": 1.0}]


def test_an_adapter_that_is_not_loaded(files: dict[str, Path]) -> None:
    backend, _ = backend_with(files, 0)
    with pytest.raises(AdapterError, match="'moriarty' is not loaded"):
        backend.with_adapters("moriarty")
    with pytest.raises(AdapterError, match="'moriarty' is not loaded"):
        backend_with(files, 0, adapter="moriarty")


def test_an_adapter_file_that_is_missing_or_not_gguf(
    files: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    for path, said in (
        (tmp_path / "gone.gguf", "cannot be read"),
        (tmp_path / "notes.txt", "not a GGUF"),
    ):
        with pytest.raises(AdapterError, match=said):
            embedded(files["model"], FakeLlamaServer(), adapters={"x": path})
