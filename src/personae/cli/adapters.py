"""`personae adapters list|show|activate|delete|serve-args|export`: a character's trained LoRA
adapters, and how a GPU server (vLLM, SGLang, llama-server) serves them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from personae.cli.common import err_console, out_console, user_errors
from personae.cli.train import character_id

if TYPE_CHECKING:
    from personae.training.adapters import AdapterInfo


@click.group("adapters")
def adapters_group() -> None:
    """A character's trained LoRA adapters: list, show, activate, delete, and serve them from a
    GPU server (serve-args, export)."""


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


@adapters_group.command("serve-args")
@click.option("--character", help="Only this character's adapters (default: every character's).")
@click.option(
    "--format",
    "engine",
    default="vllm",
    show_default=True,
    metavar="vllm|sglang|llama-server",
    help="The engine the arguments are for.",
)
@click.option("--base", help="Only adapters trained on this base model (a server loads one).")
@click.option("--json", "as_json", is_flag=True, help="Arguments, adapters and notes as JSON.")
@user_errors
def serve_args_command(character: str | None, engine: str, base: str | None, as_json: bool) -> None:
    """Print the engine arguments that serve every finished adapter (of --character), each
    under its name `character@adapter`: the name a request (and personae's openai backend)
    asks for. Notes on the base model to load go to stderr."""
    from personae.training.adapters import AdapterRegistry
    from personae.training.serving import adapters_to_serve, check_engine, serve_args

    chosen = check_engine(engine)
    owner = character_id(character) if character else None
    found = serve_args(adapters_to_serve(AdapterRegistry(), owner, base), chosen)
    if as_json:
        out_console.print(json.dumps(found.as_json(), ensure_ascii=False), markup=False)
        return
    out_console.print(found.command_line, markup=False, soft_wrap=True)
    for note in found.notes:
        err_console.print(f"# {note}", markup=False, soft_wrap=True)


@adapters_group.command("export")
@click.argument("character")
@click.argument("name")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    default="peft",
    show_default=True,
    metavar="peft|gguf",
    help="peft: adapter_config.json + adapter_model.safetensors (vLLM, SGLang, PEFT); "
    "gguf: adapter.gguf (llama.cpp).",
)
@user_errors
def export_command(character: str, name: str, folder: Path, fmt: str) -> None:
    """Copy adapter NAME of CHARACTER into FOLDER (new or empty) as a server loads it."""
    from personae.errors import InvalidInput
    from personae.training.adapters import AdapterRegistry
    from personae.training.serving import EXPORT_FORMATS, export_adapter

    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"--format {fmt!r} is unknown: use peft or gguf", param="format")
    info = AdapterRegistry().usable(character_id(character), name)
    written = export_adapter(info, folder, "gguf" if fmt == "gguf" else "peft")
    out_console.print(
        f"exported {info.label} ({fmt}) to {folder}: {', '.join(p.name for p in written)}",
        markup=False,
    )
