from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from personae.backends import backend_names, get_backend, register_backend
from personae.config import database_path, load_settings, models_dir
from personae.errors import ConfigError, InvalidInput, ModelError


def test_home_and_models_dir_follow_env(
    personae_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert database_path().parent == personae_home and personae_home.is_dir()
    assert models_dir() == personae_home / "models"
    monkeypatch.setenv("PERSONAE_MODELS_DIR", str(tmp_path / "shared"))
    assert models_dir() == tmp_path / "shared"


def test_settings_precedence(personae_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (personae_home / "config.toml").write_text(
        'model = "qwen2.5-coder-0.5b"\nuser_name = "민아"\n[backend_options]\nn_ctx = 2048\n',
        encoding="utf-8",
    )
    s = load_settings()
    assert (s.model, s.user_name, s.backend_options["n_ctx"]) == (
        "qwen2.5-coder-0.5b",
        "민아",
        2048,
    )
    monkeypatch.setenv("PERSONAE_MODEL", "smollm2-135m")
    monkeypatch.setenv("PERSONAE_BASE_URL", "http://127.0.0.1:1/v1")
    s = load_settings()
    assert s.model == "smollm2-135m" and s.backend_options["base_url"] == "http://127.0.0.1:1/v1"
    assert s.with_overrides(model="x").model == "x"


@pytest.mark.parametrize(
    "text", ['model = "unterminated', "backend_options = 3", b"\xff\xfe".decode("latin-1")]
)
def test_bad_config_file_is_a_config_error(personae_home: Path, text: str) -> None:
    (personae_home / "config.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="config.toml"):
        load_settings()


def test_unwritable_home_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("PERSONAE_HOME", str(blocker / "home"))
    with pytest.raises(ConfigError, match="PERSONAE_HOME"):
        database_path()


class Dummy:
    name: ClassVar[str] = "dummy"

    def __init__(self, **options: Any) -> None:
        self.model = options.get("model", "m")

    @classmethod
    def from_options(cls, **options: Any) -> Dummy:
        return cls(**options)


def test_registry_lists_and_builds_backends() -> None:
    register_backend("dummy", Dummy)
    assert {"embedded", "openai", "dummy"} <= set(backend_names())
    assert get_backend("dummy", model="x").model == "x"
    with pytest.raises(InvalidInput, match="unknown backend 'nope'"):
        get_backend("nope")


def test_backend_option_errors_are_one_line() -> None:
    with pytest.raises(ConfigError, match="n_ctx"):
        get_backend("embedded", model="smollm2-135m", n_ctx=5)
    with pytest.raises(ConfigError, match="bogus"):
        get_backend("embedded", model="smollm2-135m", bogus=1)
    with pytest.raises(ModelError, match="personae models pull smollm2-135m"):
        get_backend("embedded", model="smollm2-135m")
    with pytest.raises(ModelError):
        get_backend("embedded", model="/no/such/file.gguf")
