"""`personae adapters list|show|activate|delete`: a character's trained LoRA adapters."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from personae.cli.common import out_console, user_errors
from personae.cli.train import character_id

if TYPE_CHECKING:
    from personae.training.adapters import AdapterInfo


@click.group("adapters")
def adapters_group() -> None:
    """A character's trained LoRA adapters: list, show, activate, delete."""


def _row(info: AdapterInfo, active: str | None) -> dict[str, Any]:
    manifest = info.manifest or {}
    return {
        "character": info.character,
        "name": info.name,
        "status": "ready" if info.ready else "unfinished",
        "active": info.name == active,
        "method": info.method,
        "base": info.base,
        "steps": manifest.get("steps"),
        "held_out_loss_before": manifest.get("held_out_loss_before"),
        "held_out_loss_after": manifest.get("held_out_loss_after"),
        "rows": (manifest or info.run or {}).get("data", {}).get("rows"),
        "path": str(info.path),
    }


def _loss(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, int | float) else "-"


@adapters_group.command("list")
@click.argument("character", required=False)
@click.option("--json", "as_json", is_flag=True)
@user_errors
def list_command(character: str | None, as_json: bool) -> None:
    """Every adapter (of CHARACTER): ready or unfinished, and which one is active."""
    from personae.training.adapters import AdapterRegistry

    registry = AdapterRegistry()
    owner = character_id(character) if character else None
    rows = [_row(a, registry.active_name(a.character)) for a in registry.list(owner)]
    if as_json:
        out_console.print(json.dumps(rows, ensure_ascii=False), markup=False)
        return
    if not rows:
        out_console.print("no adapters yet: train one with `personae train CHARACTER --data …`")
        return
    from rich.table import Table

    table = Table()
    for column in ("adapter", "status", "method", "base", "rows", "steps", "held-out loss"):
        table.add_column(column)
    for row in rows:
        label = f"{row['character']}@{row['name']}" + (" *" if row["active"] else "")
        loss = f"{_loss(row['held_out_loss_before'])} -> {_loss(row['held_out_loss_after'])}"
        table.add_row(
            label,
            row["status"],
            row["method"],
            row["base"],
            str(row["rows"] or "-"),
            str(row["steps"] or "-"),
            loss if row["status"] == "ready" else "-",
        )
    out_console.print(table)
    out_console.print("* active: the character's chats use it", markup=False)


@adapters_group.command("show")
@click.argument("character")
@click.argument("name")
@user_errors
def show_command(character: str, name: str) -> None:
    """The adapter's manifest (or, unfinished, what its run was asked to do)."""
    from personae.training.adapters import AdapterRegistry

    info = AdapterRegistry().get(character_id(character), name)
    shown = dict(info.manifest or info.run or {})
    shown.pop("losses", None)
    shown["status"] = "ready" if info.ready else "unfinished"
    shown["path"] = str(info.path)
    out_console.print(json.dumps(shown, ensure_ascii=False, indent=1), markup=False)


@adapters_group.command("activate")
@click.argument("character")
@click.argument("name")
@user_errors
def activate_command(character: str, name: str) -> None:
    """Make NAME the adapter CHARACTER's chats use (`none`: none)."""
    from personae.training.adapters import AdapterRegistry

    owner = character_id(character)
    info = AdapterRegistry().activate(owner, None if name == "none" else name)
    if info is None:
        out_console.print(f"{owner} uses no adapter now", markup=False)
    else:
        out_console.print(f"{info.label} is active (base {info.base})", markup=False)


@adapters_group.command("delete")
@click.argument("character")
@click.argument("name")
@user_errors
def delete_command(character: str, name: str) -> None:
    """Delete adapter NAME of CHARACTER (finished or not)."""
    from personae.training.adapters import AdapterRegistry

    owner = character_id(character)
    AdapterRegistry().delete(owner, name)
    out_console.print(f"deleted {owner}@{name}", markup=False)
