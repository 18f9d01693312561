"""Every test gets its own data directory, so nothing touches a real user's state. Tests marked
``slow`` (minutes each on 2 cores) are skipped unless ``--run-slow`` is given, which keeps the
default suite within about ten minutes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.stores import STORES, PostgresForTests, postgres_or_skip, start_postgres

RUN_SLOW = "--run-slow"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        RUN_SLOW,
        action="store_true",
        help="also run the tests marked slow (skipped by default: minutes each)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption(RUN_SLOW):
        return
    # A skip rather than a deselection, so the summary says what did not run and how to run it.
    skip = pytest.mark.skip(reason=f"slow: run with {RUN_SLOW} (bash scripts/test.sh {RUN_SLOW})")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)


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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresForTests | Exception]:
    """One PostgreSQL server for the session, started on first use (or the failure to start
    one, which each test that needs it reports)."""
    yield from start_postgres()


@pytest.fixture(params=STORES)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a repository test's store is: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "p.db"
    return postgres_or_skip(request).fresh()
