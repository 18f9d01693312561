"""Every test gets its own data directory, so nothing touches a real user's state."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def personae_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    # Outside tmp_path, so tests that inspect their tmp_path see only their own files.
    home = tmp_path_factory.mktemp("personae-home")
    monkeypatch.setenv("PERSONAE_HOME", str(home))
    for var in (
        "PERSONAE_BACKEND",
        "PERSONAE_MODEL",
        "PERSONAE_BASE_URL",
        "PERSONAE_API_KEY",
        "PERSONAE_MODELS_DIR",
        "PERSONAE_CTX",
        "PERSONAE_THREADS",
        "PERSONAE_USER",
        "PERSONAE_USER_ID",
    ):
        monkeypatch.delenv(var, raising=False)
    return home
