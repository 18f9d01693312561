"""`personae keys create|list|revoke`: the API keys `personae serve` accepts.

No keys: the server is open (fine on 127.0.0.1 for yourself). One key or more: every API request
needs one, and each key's user sees only their own chats, memories and private characters.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import click

from personae.cli.common import err_console, open_db, user_errors
from personae.store.keys import ApiKey, KeyRepository


@click.group("keys")
def keys_group() -> None:
    """API keys for `personae serve` (stored hashed; each belongs to one user)."""


@keys_group.command("create")
@click.option("--user", "user_id", required=True, help="The user the key acts for.")
@click.option("--label", default="", help="A note to tell keys apart in `keys list`.")
@user_errors
def create_command(user_id: str, label: str) -> None:
    """Make a key and print it on its own line (it is shown only this once)."""
    record, key = KeyRepository(open_db()).create(user_id, label)
    click.echo(key)
    err_console.print(
        f"[dim]{record.id} for user {record.user_id!r}: keep it somewhere safe; only its hash "
        "is stored. The server now requires a key on every API route.[/]"
    )


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp else "never"


@keys_group.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@click.option("--json", "as_json", is_flag=True)
@user_errors
def list_command(include_revoked: bool, as_json: bool) -> None:
    """The keys (their ids and users, never the keys themselves)."""
    keys: list[ApiKey] = KeyRepository(open_db()).all(include_revoked=include_revoked)
    if as_json:
        click.echo(json.dumps([asdict(k) for k in keys], ensure_ascii=False))
        return
    if not keys:
        err_console.print("[dim]No keys: the server is open to anyone who can reach it.[/]")
        return
    for k in keys:
        state = (
            f"revoked {_when(k.revoked_at)}" if k.revoked_at else f"used {_when(k.last_used_at)}"
        )
        label = f"  {k.label}" if k.label else ""
        click.echo(f"{k.id}  {k.user_id:<20} created {_when(k.created_at)}  {state}{label}")


@keys_group.command("revoke")
@click.argument("key_id")
@user_errors
def revoke_command(key_id: str) -> None:
    """Revoke a key by its id (from `keys list`); the server refuses it from the next request."""
    record = KeyRepository(open_db()).revoke(key_id)
    err_console.print(f"Revoked {record.id} (user {record.user_id!r}).")
    if not KeyRepository(open_db()).any_active():
        err_console.print("[yellow]No active keys are left: the server is open again.[/]")
