"""The two stores every repository test runs against: SQLite (a file in the test's folder) and
PostgreSQL (a fresh database on the server that the test session started; see
:class:`personae.store.local_postgres.LocalPostgres`).

A repository test asks for ``store_location`` (or a ``db`` fixture built on it) and runs once
per store. Without PostgreSQL binaries or psycopg the PostgreSQL runs are skipped, except under
CI (``CI`` set), where that is a failure: the test script installs both.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from personae.store import Database
from personae.store.local_postgres import LocalPostgres

STORES = ["sqlite", "postgresql"]
TEMPLATE = "personae_template"
_names = itertools.count()


class PostgresForTests:
    """The session's server, with a migrated template database each test's copy starts from."""

    def __init__(self) -> None:
        self.server = LocalPostgres(durable=False).start()
        Database(self.server.create_database(TEMPLATE)).close()

    def fresh(self) -> str:
        """A new database with the current schema; returns its URL."""
        name = f"t{os.getpid()}_{next(_names)}"
        return self.server.create_database(name, template=TEMPLATE)

    def stop(self) -> None:
        self.server.stop()


def postgres_or_skip(request: pytest.FixtureRequest) -> PostgresForTests:
    pg: PostgresForTests | Exception = request.getfixturevalue("postgres_server")
    if isinstance(pg, Exception):
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL could not be started: {pg}")
        pytest.skip(f"PostgreSQL could not be started: {pg}")
    return pg


def start_postgres() -> Iterator[PostgresForTests | Exception]:
    try:
        pg = PostgresForTests()
    except Exception as exc:  # noqa: BLE001 (reported by each test that needs it)
        yield exc
        return
    try:
        yield pg
    finally:
        pg.stop()
