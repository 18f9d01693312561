"""`personae eval fidelity play`: play the fixed conversation set on a model, write transcripts."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
from pathlib import Path
from typing import Any

import click

from personae.cli.common import (
    adapter_option,
    backend_options,
    err_console,
    generation_params,
    make_backend,
    open_db,
    settings_from,
    user_errors,
)
from personae.errors import InvalidInput
from personae.store import Database


def _bank(db: Database) -> Any:
    """The memory bank of a conversation's throwaway library (tests swap the embedder)."""
    from personae.memory.bank import MemoryBank

    return MemoryBank(db)


@click.command("play")
@click.option("--character", help="Only the conversations with this character (or this id).")
@click.option(
    "--set",
    "set_path",
    type=click.Path(path_type=Path),
    help="A conversation file or folder of your own (default: the bundled set).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("eval-results"),
    show_default=True,
    help="Folder for transcripts_<model>.jsonl and replies_<model>.md.",
)
@click.option("--label", help='Keeps this run\'s files apart, e.g. "before" or "after".')
@click.option(
    "--cache",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder of the replay cache (default: OUT/cache); a rerun resumes from it.",
)
@backend_options
@adapter_option
@user_errors
def play_command(
    character: str | None,
    set_path: Path | None,
    out: Path,
    label: str | None,
    cache: Path | None,
    **flags: Any,
) -> None:
    """Play the fidelity conversation set on a model and write the transcripts.

    Each scripted conversation (13 user turns with each bundled character and two role-template
    characters, English and Korean) runs through the real chat with memory on, in a throwaway
    library (your own chats and memories are not touched), with the default sampling and a fixed
    seed (replies up to 160 tokens unless --max-tokens says otherwise). Every model call is
    cached, so an interrupted run continues where it stopped. Score the result with
    `personae eval fidelity score`. Example:

        personae eval fidelity play --model qwen2.5-coder-1.5b --character sherlock
    """
    from personae.evaluation.tasks.fidelity_play import (
        DEFAULT_MAX_TOKENS,
        DEFAULT_SEED,
        ReplayCache,
        play_set,
    )
    from personae.evaluation.tasks.fidelity_set import load_set, select
    from personae.evaluation.tasks.fidelity_transcripts import model_slug, transcript_paths

    conversations = select(load_set(set_path), character)
    settings = settings_from(flags)
    params = generation_params(
        flags, model=settings.model, max_tokens=DEFAULT_MAX_TOKENS, seed=DEFAULT_SEED
    )
    adapter = flags.get("adapter")
    if adapter is not None and character is None:
        raise InvalidInput("--adapter needs --character: an adapter belongs to one character")
    owner = None
    if character is not None:
        from personae.store import CharacterRepository

        owner = CharacterRepository(open_db()).find(character).id
    # With --character, the character's active adapter plays (or --adapter's; none: the base).
    inner = make_backend(settings, character=owner, adapter=adapter)
    backend = ReplayCache(inner, (cache or out / "cache") / f"{model_slug(inner.model)}.jsonl")
    played = play_set(
        conversations,
        backend,
        out,
        params=params,
        n_ctx=flags.get("n_ctx"),
        make_bank=_bank,
        progress=lambda line: err_console.print(line, markup=False, highlight=False),
        label=label,
    )
    jsonl, markdown = transcript_paths(out, inner.model, label)
    replies = sum(len(p.records) for p in played)
    seconds = sum(p.wall_s for p in played)
    err_console.print(
        f"{replies} replies in {seconds:.0f} s ({backend.hits} answered from the cache)",
        markup=False,
    )
    err_console.print(f"transcripts: {jsonl}\nto read: {markdown}", markup=False)
    err_console.print(f"score them: personae eval fidelity score {jsonl}", markup=False)
