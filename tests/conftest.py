"""Every test gets its own data directory, so nothing touches a real user's state."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def personae_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "personae-home"
    home.mkdir()
    monkeypatch.setenv("PERSONAE_HOME", str(home))
    for var in ("PERSONAE_BACKEND", "PERSONAE_MODEL", "PERSONAE_BASE_URL", "PERSONAE_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return home
