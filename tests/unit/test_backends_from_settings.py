"""Settings → a backend (``personae.backends.from_settings``): each backend gets the options its
own options model declares, for the CLI and the server alike."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import pytest
from pydantic import Field

from personae.backends import BackendOptions, Chunk, GenerationParams, Message, register_backend
from personae.backends.from_settings import backend_options, build_backend, personae_options
from personae.errors import ConfigError
from personae.settings import Settings


class FarOptions(BackendOptions):
    """A third party's options: ``extra="forbid"``, and none of personae's but ``model``."""

    model: str
    region: str = "eu"
    depth: int = Field(default=1, ge=1)


class FarBackend:
    name: ClassVar[str] = "far"
    options_model: ClassVar[type[FarOptions]] = FarOptions
    built: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, options: FarOptions) -> None:
        self.model = options.model
        self.options = options

    @classmethod
    def from_options(cls, **options: Any) -> FarBackend:
        cls.built.append(dict(options))
        return cls(FarOptions.model_validate(options))

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        yield Chunk(finish_reason="stop")


class Modelless:
    """A backend that declares no options model: it gets every option, as it always did."""

    name: ClassVar[str] = "modelless"

    def __init__(self, **options: Any) -> None:
        self.model = options["model"]
        self.options = options

    @classmethod
    def from_options(cls, **options: Any) -> Modelless:
        return cls(**options)


@pytest.fixture(autouse=True)
def registered() -> None:
    register_backend("far", FarBackend)
    register_backend("modelless", Modelless)
    FarBackend.built.clear()


# What flags, the environment and the server set, whichever backend is chosen.
PERSONAE_SET = {
    "n_ctx": 4096,
    "threads": 2,
    "n_parallel": 4,
    "base_url": "http://127.0.0.1:1/v1",
    "api_key": "sk-x",
    "cache_ram_mib": 512,
    "timeout": 30.0,
}


def settings(backend: str, **options: Any) -> Settings:
    return Settings(backend=backend, model="m", backend_options={**PERSONAE_SET, **options})


def test_a_third_party_backend_gets_only_its_own_options() -> None:
    backend = build_backend(settings("far", region="us"))
    assert isinstance(backend, FarBackend)
    assert FarBackend.built == [{"model": "m", "region": "us"}]
    assert backend.options == FarOptions(model="m", region="us")


def test_a_typo_still_reaches_the_backends_model_and_is_named() -> None:
    with pytest.raises(ConfigError, match="backend 'far': option 'regoin'"):
        build_backend(settings("far", regoin="us"))
    with pytest.raises(ConfigError, match="backend 'far': option 'depth'"):
        build_backend(settings("far", depth=0))
    with pytest.raises(ConfigError, match="option 'depth'"):
        backend_options(settings("far", depth="x"), check=True)  # checked without building


def test_a_backend_without_an_options_model_gets_everything() -> None:
    backend = build_backend(settings("modelless", extra=1))
    assert isinstance(backend, Modelless)
    assert backend.options == {**PERSONAE_SET, "extra": 1, "model": "m"}


def test_the_built_in_backends_get_their_own_options() -> None:
    embedded = backend_options(settings("embedded"), check=True)
    assert embedded == {
        "model": "m",
        "n_ctx": 4096,
        "threads": 2,
        "n_parallel": 4,
        "cache_ram_mib": 512,
    }
    remote = backend_options(settings("openai"), check=True)
    assert remote == {
        "model": "m",
        "base_url": "http://127.0.0.1:1/v1",
        "api_key": "sk-x",
        "timeout": 30.0,
    }
    with pytest.raises(ConfigError, match="backend 'embedded': option 'n_ctxx'"):
        backend_options(settings("embedded", n_ctxx=1), check=True)
    assert {"n_ctx", "base_url", "api_key", "threads", "n_parallel"} <= personae_options()


def test_the_cli_and_the_server_build_by_the_same_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from personae.cli.common import make_backend
    from personae.server.backend_pool import settings_factory

    configured = settings("far", region="us")
    cli = make_backend(configured)
    served = settings_factory(configured)("other-model")
    assert FarBackend.built == [
        {"model": "m", "region": "us"},
        {"model": "other-model", "region": "us"},
    ]
    assert isinstance(cli, FarBackend) and isinstance(served, FarBackend)


def test_no_server_module_imports_the_cli() -> None:
    import ast
    from pathlib import Path

    import personae.server

    root = Path(personae.server.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            assert not any(n.startswith("personae.cli") for n in names), path
