"""Fixtures shared by the server's unit tests: a scripted backend set and a TestClient over an
app with a fresh store. A test file that needs another shape defines its own fixture of the same
name, which takes precedence."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.server import Backends, make_app


@pytest.fixture
def backends() -> Backends:
    return Backends()


@pytest.fixture
def client(tmp_path: Path, backends: Backends) -> Iterator[TestClient]:
    with TestClient(make_app(tmp_path, backends)) as c:
        yield c
