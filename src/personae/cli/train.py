"""`personae train`: a LoRA adapter for a character, from its experiences, its own lines or its
user's choices; `personae adapters …`: list, show, activate and delete them."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from personae.cli.common import err_console, open_db, out_console, settings_from, user_errors
from personae.errors import InvalidInput

if TYPE_CHECKING:
    from personae.training.run import Progress


def character_id(reference: str) -> str:
    """The library id of CHARACTER (an id or a name)."""
    from personae.store import CharacterRepository

    return CharacterRepository(open_db()).find(reference).id


class _Bar:
    """The run's progress: step M/N, the latest loss, tokens/s and an ETA, on stderr."""

    def __init__(self, bars: Any) -> None:
        self.bars = bars
        self.task: Any = None

    def on_start(self, total_steps: int, done_steps: int) -> None:
        self.task = self.bars.add_task(
            "training", total=total_steps, completed=done_steps, loss="", rate=""
        )

    def on_step(self, step: int, total: int, loss: float | None, tokens_per_second: float) -> None:
        shown = f"loss {loss:.3f}" if loss is not None else ""
        self.bars.update(
            self.task,
            completed=step,
            total=total,
            loss=shown,
            rate=f"{tokens_per_second:.0f} tok/s",
        )

    def on_note(self, text: str) -> None:
        self.bars.console.print(f"[dim]{text}[/]", markup=True)


@contextmanager
def _progress(quiet: bool, console: Any = None) -> Iterator[Progress | None]:
    if quiet:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[loss]}"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console or err_console, transient=False) as bars:
        yield _Bar(bars)


def _summary(manifest: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "character",
        "name",
        "method",
        "steps",
        "train_loss",
        "held_out_loss_before",
        "held_out_loss_after",
        "tokens_seen",
        "tokens_per_second",
        "train_seconds",
    )
    out = {k: manifest.get(k) for k in keys}
    out["base"] = manifest.get("base", {}).get("name")
    out["data"] = manifest.get("data", {})
    return out


@click.command("train")
@click.argument("character")
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Chat records (.jsonl), a folder of them, or an experience directory; repeatable.",
)
@click.option(
    "--from-lines",
    is_flag=True,
    help="SFT rows from CHARACTER's own lines in the library (card from-text, card add-lines), "
    "each with the line it answers.",
)
@click.option(
    "--from-chats",
    is_flag=True,
    help="DPO pairs from this character's chats: the reply kept vs the ones swiped away or edited.",
)
@click.option("--base", "base", help="Base model (default: the configured chat model).")
@click.option("--method", type=click.Choice(["sft", "dpo"]), default="sft", show_default=True)
@click.option("--name", "name", help="Adapter name (default: METHOD-DATE-TIME).")
@click.option("--rank", type=int, default=8, show_default=True, help="LoRA rank.")
@click.option("--epochs", type=float, default=2.0, show_default=True)
@click.option("--lr", type=float, default=None, help="Learning rate [sft 2e-4, dpo 5e-5].")
@click.option("--max-steps", type=int, default=None, help="Stop after N optimizer steps.")
@click.option("--max-length", type=int, default=1024, show_default=True, help="Tokens a row.")
@click.option("--grad-accum", type=int, default=4, show_default=True)
@click.option("--save-steps", type=int, default=20, show_default=True, help="Checkpoint every N.")
@click.option("--beta", type=float, default=0.1, show_default=True, help="DPO's beta.")
@click.option("--resume", is_flag=True, help="Continue the unfinished run (--name, else latest).")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--activate", is_flag=True, help="Make the new adapter the character's own.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's summary as JSON.")
@user_errors
def train_command(
    character: str,
    data: tuple[Path, ...],
    from_lines: bool,
    from_chats: bool,
    base: str | None,
    method: str,
    name: str | None,
    resume: bool,
    activate: bool,
    as_json: bool,
    **numbers: Any,
) -> None:
    """Train a LoRA adapter for CHARACTER (SFT on chat records, or DPO on preference pairs).

    The adapter, converted for the embedded runtime, goes under the data directory with a
    manifest; `personae adapters activate CHARACTER NAME` makes chats use it.
    """
    from personae.training.adapters import AdapterRegistry, check_name
    from personae.training.data import load_records
    from personae.training.options import TrainOptions
    from personae.training.run import train_adapter

    if from_chats and method != "dpo":
        raise InvalidInput("--from-chats makes preference pairs: use it with --method dpo")
    if from_lines and method != "sft":
        raise InvalidInput("--from-lines makes chat records: use it with --method sft")
    if not data and not from_chats and not from_lines:
        raise InvalidInput(
            "nothing to train on: give --data FILE|DIR, --from-lines, or --from-chats (DPO)"
        )
    options = TrainOptions(
        method=method,  # type: ignore[arg-type]
        rank=numbers["rank"],
        epochs=numbers["epochs"],
        lr=numbers["lr"],
        max_steps=numbers["max_steps"],
        max_length=numbers["max_length"],
        grad_accum=numbers["grad_accum"],
        save_steps=numbers["save_steps"],
        beta=numbers["beta"],
        device=numbers["device"],
    ).check()
    owner = character_id(character)
    registry = AdapterRegistry()
    if name is None and resume:
        unfinished = registry.latest_unfinished(owner)
        if unfinished is None:
            raise InvalidInput(f"nothing to resume: {owner} has no unfinished training run")
        name = unfinished.name
    name = check_name(name or f"{method}-{time.strftime('%Y%m%d-%H%M%S')}")
    records = load_records(list(data), options.method) if data else []
    sources = [str(p) for p in data]
    if from_lines:
        from personae.store import CharacterRepository
        from personae.training.lines import records_from_library

        db = open_db()
        lines = records_from_library(db, owner, CharacterRepository(db).get(owner).character)
        if not lines:
            raise InvalidInput(
                f"{owner} has no lines answering someone in the library: index some with "
                "`personae card from-text BOOK --character NAME` or `personae card add-lines`"
            )
        records += lines
        sources.append(f"lines:{owner}")
    if from_chats:
        from personae.training.pairs import pairs_from_chats

        pairs = pairs_from_chats(open_db(), owner)
        if not pairs:
            raise InvalidInput(
                f"no preference pairs in {owner}'s chats yet: they come from replies you "
                "regenerated or edited (/regen, /edit) and then kept"
            )
        records += pairs
        sources.append(f"chats:{owner}")
    base_name = base or settings_from({}).model
    with _progress(as_json) as progress:
        result = train_adapter(
            registry,
            owner,
            name,
            records,
            base_name,
            options,
            sources=sources,
            resume=resume,
            progress=progress,
        )
    if activate:
        registry.activate(owner, name)
    manifest = result.manifest
    if as_json:
        out_console.print(json.dumps(_summary(manifest), ensure_ascii=False), markup=False)
        return
    before, after = manifest["held_out_loss_before"], manifest["held_out_loss_after"]
    out_console.print(
        f"{result.adapter.label}: {manifest['steps']} steps, held-out loss {before:.3f} -> "
        f"{after:.3f}, {manifest['tokens_per_second']} tok/s; "
        + ("active" if activate else f"use it with `personae adapters activate {owner} {name}`"),
        markup=False,
    )
