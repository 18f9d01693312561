"""Where models live, the cheap ``is_pulled`` check, ``resolve_model`` and ``list_models``."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from personae import config
from personae.errors import ModelError
from personae.models import (
    CATALOGUE,
    DEFAULT_MODEL,
    ModelSpec,
    WheelPart,
    is_pulled,
    list_models,
    model_path,
    resolve_model,
)
from personae.models.store import marker_path, write_marker

DATA = b"GGUF" + b"\x03\x00\x00\x00" + bytes(56)


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> ModelSpec:
    """A catalogue entry for a 64-byte "model", not yet pulled."""
    spec = ModelSpec(
        name="tiny",
        title="Tiny",
        licence="MIT",
        parts=(WheelPart("tiny-pkg", "1.0", "tiny_pkg/m.gguf"),),
        size=len(DATA),
        sha256=hashlib.sha256(DATA).hexdigest(),
        default_ctx=256,
        trained_ctx=512,
        languages=("en",),
    )
    monkeypatch.setitem(CATALOGUE, "tiny", spec)
    return spec


def install(spec: ModelSpec, data: bytes = DATA) -> Path:
    """What a finished pull leaves behind: the file and its marker."""
    path = model_path(spec.name)
    path.write_bytes(data)
    write_marker(spec, path)
    return path


def test_model_path_is_under_the_data_dir(personae_home: Path) -> None:
    assert model_path("smollm2-135m") == personae_home / "models" / "smollm2-135m.gguf"
    assert config.models_dir() == personae_home / "models"
    with pytest.raises(ModelError, match="invalid model name"):
        model_path("../../etc/passwd")


def test_is_pulled_needs_file_size_and_fresh_marker(tiny: ModelSpec) -> None:
    assert not is_pulled(tiny)
    path = model_path("tiny")
    path.write_bytes(DATA)
    assert not is_pulled("tiny"), "no marker: never verified"
    write_marker(tiny, path)
    assert is_pulled("tiny")
    marker = json.loads(marker_path("tiny").read_text())
    assert marker["packages"] == ["tiny-pkg==1.0"] and marker["size"] == len(DATA)

    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert not is_pulled("tiny"), "touched since it was hashed"

    write_marker(tiny, path)
    path.write_bytes(DATA + b"x")
    assert not is_pulled("tiny"), "wrong size"

    install(tiny)
    marker_path("tiny").write_text("{not json")
    assert not is_pulled("tiny")


def test_a_changed_pin_invalidates_the_marker(
    tiny: ModelSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(tiny)
    monkeypatch.setitem(CATALOGUE, "tiny", replace(tiny, sha256="f" * 64))
    assert not is_pulled("tiny")


def test_resolve_catalogue_names(tiny: ModelSpec) -> None:
    with pytest.raises(ModelError) as info:
        resolve_model("tiny")
    assert str(info.value) == "model 'tiny' is not pulled: run `personae models pull tiny`"

    path = install(tiny)
    resolved = resolve_model("tiny")
    assert (resolved.name, resolved.path, resolved.spec) == ("tiny", path, tiny)
    assert resolved.default_ctx == 256

    path.write_bytes(DATA[::-1])
    with pytest.raises(ModelError, match="changed since it was verified: run `personae models"):
        resolve_model("tiny")


def test_resolve_local_gguf_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = tmp_path / "My-Model.Q4.GGUF"
    model.write_bytes(DATA)
    resolved = resolve_model(str(model))
    assert (resolved.name, resolved.path, resolved.spec) == ("My-Model.Q4", model, None)
    assert resolved.default_ctx is None

    monkeypatch.chdir(tmp_path)  # relative paths are resolved against the working directory
    assert resolve_model("My-Model.Q4.GGUF").path == model


def test_resolve_rejects_bad_paths(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"PK\x03\x04 a zip, not a model")
    with pytest.raises(ModelError, match="not a GGUF model"):
        resolve_model(str(fake))

    with pytest.raises(ModelError, match="does not exist: give an existing .gguf file or one of"):
        resolve_model(str(tmp_path / "missing.gguf"))

    folder = tmp_path / "folder.gguf"
    folder.mkdir()
    with pytest.raises(ModelError, match="is a directory"):
        resolve_model(str(folder))

    text = tmp_path / "notes.txt"
    text.write_text("hi")
    with pytest.raises(ModelError, match=r"is not a \.gguf file: .* smollm2-135m"):
        resolve_model(str(text))


def test_resolve_unknown_name_lists_known_names() -> None:
    with pytest.raises(ModelError) as info:
        resolve_model("llama-70b")
    message = str(info.value)
    assert message.startswith("unknown model 'llama-70b': choose one of smollm2-135m, ")
    assert "qwen2.5-coder-1.5b" in message and "\n" not in message


def test_list_models(tiny: ModelSpec) -> None:
    install(tiny)
    rows = {row.name: row for row in list_models()}
    assert list(rows) == [*list(CATALOGUE)]
    assert rows["tiny"].pulled and rows["tiny"].path == model_path("tiny")
    smol = rows["smollm2-135m"]
    assert (smol.pulled, smol.path, smol.size, smol.licence) == (
        False,
        None,
        98_362_432,
        "Apache-2.0",
    )
    assert [name for name, row in rows.items() if row.default] == [DEFAULT_MODEL]
    dumped = json.loads(json.dumps([row.to_dict() for row in rows.values()]))
    assert dumped[-1] == {
        "name": "tiny",
        "title": "Tiny",
        "pulled": True,
        "size": len(DATA),
        "licence": "MIT",
        "path": str(model_path("tiny")),
        "default": False,
    }
