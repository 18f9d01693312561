"""`personae db migrate|check|copy`: the store's schema, its health, and moving a library.

The store is the configured one (``PERSONAE_DATABASE_URL``, ``[store] url``, else the data
directory's SQLite file) unless ``--url`` names another: a path, ``sqlite:///path`` or
``postgresql://user@host:port/database``.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from personae.cli.common import err_console, user_errors
from personae.errors import InvalidInput
from personae.store.database import Database, describe

_URL_HELP = "The store: a path, sqlite:///path or postgresql://… (default: the configured one)."


def _location(url: str | None) -> str:
    from personae.config import database_location
    from personae.settings.urls import check_store_url

    if url is None:
        return str(database_location())
    text = url.strip()
    if "://" not in text:
        return text  # a path
    try:
        return check_store_url(text)
    except ValueError as exc:
        raise InvalidInput(f"--url: {exc}", param="url") from None


@click.group("db")
def db_group() -> None:
    """The store: bring its schema up to date, check it, copy a library to another."""


@db_group.command("migrate")
@click.option("--url", help=_URL_HELP)
@click.option("--dry-run", is_flag=True, help="Only list the migrations that would run.")
@user_errors
def migrate_command(url: str | None, dry_run: bool) -> None:
    """Apply the schema migrations this version has and the store lacks (processes opening a
    store do so anyway; this does it ahead of a deploy, and says what ran)."""
    location = _location(url)
    with Database(location, migrate=False) as db:
        if dry_run:
            pending = db.pending_migrations()
            click.echo("\n".join(pending) if pending else "nothing to apply")
            return
        applied = db.migrate()
        version = db.schema_version()
        vectors = db.enable_vector_search() if db.is_postgres else None
    for name in applied:
        click.echo(name)
    searched = (
        ""
        if vectors is None
        else "; memory search in the database "
        + ("(words and pgvector)" if vectors else "(words; pgvector not available)")
    )
    err_console.print(
        f"[dim]{describe(location)}: schema at version {version}"
        f"{'' if applied else ' (nothing to apply)'}{searched}[/]",
        markup=True,
    )


@db_group.command("check")
@click.option("--url", help=_URL_HELP)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def check_command(url: str | None, as_json: bool) -> None:
    """Check the store: schema version, integrity, rows pointing nowhere, replies left
    incomplete. Exits 1 when anything is an error."""
    from personae.store.check import check_store

    location = _location(url)
    with Database(location, migrate=False) as db:
        findings = check_store(db)
    if as_json:
        click.echo(json.dumps([asdict(f) for f in findings], ensure_ascii=False))
    else:
        for f in findings:
            click.echo(f"{f.level:<5}  {f.message}")
    if any(f.level == "error" for f in findings):
        raise SystemExit(1)


@db_group.command("copy")
@click.option("--from", "source", required=True, help="The store to copy from.")
@click.option("--to", "target", required=True, help="An empty store to copy into.")
@click.option("--json", "as_json", is_flag=True, help="Print the verification as JSON.")
@user_errors
def copy_command(source: str, target: str, as_json: bool) -> None:
    """Copy a whole library (characters, chats, messages, memories, keys, lorebooks) into an
    empty store, in one transaction, then verify every table by row count and SHA-256."""
    from personae.store.copy import copy_library

    src, dst = _location(source), _location(target)
    if src == dst:
        raise InvalidInput("--from and --to are the same store", param="to")
    with Database(src, migrate=False) as a, Database(dst) as b:
        if a.pending_migrations():
            raise InvalidInput(
                f"{describe(src)} has pending migrations: run `personae db migrate --url …` on "
                "it first",
                param="from",
            )
        report = copy_library(
            a, b, progress=lambda table, n: err_console.print(f"[dim]{table}: {n} rows[/]")
        )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "seconds": round(report.seconds, 2),
                    "tables": [{**asdict(t), "ok": t.ok} for t in report.tables],
                },
                ensure_ascii=False,
            )
        )
        return
    for t in report.tables:
        click.echo(f"{t.table:<16} {t.target_rows:>9} rows  sha256 {t.target_sha256[:16]}  ok")
    err_console.print(
        f"copied {report.rows} rows from {describe(src)} to {describe(dst)} in "
        f"{report.seconds:.1f} s; every table verified",
        markup=False,
    )
