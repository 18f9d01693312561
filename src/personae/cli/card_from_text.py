"""`personae card from-text`: a character from a novel or a script — its lines found and
attributed, a card drafted by the model, the lines indexed as `card add-lines` does."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from personae.cli.card import card_group
from personae.cli.common import (
    backend_options,
    err_console,
    generation_params,
    make_backend,
    open_db,
    out_console,
    settings_from,
    user_errors,
)

if TYPE_CHECKING:
    from personae.experience.from_text import DraftedCard, ExtractedLine, Extraction

SHOWN_LINES = 25


def _line_json(line: ExtractedLine) -> dict[str, Any]:
    answers = line.answers
    return {
        "speaker": line.speaker,
        "text": line.text,
        "answers": {"speaker": answers.speaker, "text": answers.text} if answers else None,
        "how": line.how,
        "offset": line.offset,
    }


def _title(file: Path) -> str:
    return " ".join(file.stem.replace("_", " ").replace("-", " ").split()) or file.name


def _show(extraction: Extraction, drafted: DraftedCard, source: str) -> None:
    from rich.table import Table

    name = extraction.character
    mine = extraction.of_character()
    table = Table(title=f"{name}'s lines in {source} (first {SHOWN_LINES})", show_lines=False)
    for column in ("offset", "how", "answers", name):
        table.add_column(column, overflow="fold")
    for line in mine[:SHOWN_LINES]:
        answered = line.answers
        before = f"{answered.speaker or '?'}: {answered.text[:60]}" if answered else ""
        table.add_row(str(line.offset), line.how, before, line.text[:160])
    out_console.print(table)
    counts = extraction.speakers()
    unknown = sum(1 for line in extraction.lines if line.speaker is None)
    listing = ", ".join(f"{s} {n}" for s, n in counts.most_common(15))
    out_console.print(
        f"{len(extraction.lines)} utterances ({extraction.kind}, {extraction.language}); "
        f"{unknown} without a speaker; by speaker: {listing}",
        markup=False,
        soft_wrap=True,
    )
    methods = ", ".join(f"{how} {n}" for how, n in extraction.methods(name).most_common())
    out_console.print(f"{name}: {len(mine)} lines, attributed by {methods}", markup=False)
    c = drafted.character
    out_console.print("\n[bold]drafted card[/]")
    for label, text in (
        ("description", c.description),
        ("personality", c.personality),
        ("scenario", c.scenario),
        ("first message", c.first_mes),
        ("example dialogue", c.mes_example),
    ):
        out_console.print(f"[dim]{label}:[/] ", end="")
        out_console.print(text.strip() or "-", markup=False, soft_wrap=True)
    if c.character_book is not None:
        out_console.print("[dim]lorebook:[/]")
        for entry in c.character_book.entries:
            keys = ", ".join(entry.keys)
            out_console.print(f"  {keys}: {entry.content}", markup=False, soft_wrap=True)
    for field, why in drafted.fallback.items():
        out_console.print(f"[dim](rules filled {field}: {why})[/]")
    out_console.print("dry run: nothing stored", markup=False)


@card_group.command("from-text")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--character", "name", required=True, help="The name the text uses, e.g. Holmes.")
@click.option(
    "--alias",
    "aliases",
    multiple=True,
    help='Another name for the character ("Sherlock Holmes", "my companion"); repeatable.',
)
@click.option(
    "--narrator",
    help='Who "I" is in a first-person book (Watson; the character itself in a memoir).',
)
@click.option("--title", help="The book's title for the card (default: from the file name).")
@click.option("--no-model", is_flag=True, help="Draft the card by rules alone (no model).")
@click.option("--dry-run", is_flag=True, help="Show the lines and the card; store nothing.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: everything as JSON.")
@backend_options
@user_errors
def from_text_command(
    file: Path,
    name: str,
    aliases: tuple[str, ...],
    narrator: str | None,
    title: str | None,
    no_model: bool,
    dry_run: bool,
    as_json: bool,
    **flags: Any,
) -> None:
    """Make a character from a novel, a story or a script FILE (UTF-8): NAME's lines found
    (quoted speech, speakers told from the narration; or `Name: line` turns), a card drafted
    by the model from them, and the lines indexed as examples of its voice (as `card
    add-lines` does). Prints the new id; --dry-run stores nothing."""
    from personae.experience.from_text import (
        character_lines,
        draft_card,
        extract_lines,
        read_book,
    )

    book = read_book(file)
    source = file.name
    extraction = extract_lines(book, name, list(aliases), narrator=narrator)
    mine = character_lines(extraction, source)
    backend = None if no_model else make_backend(settings_from(flags))
    params = generation_params(flags, temperature=0.3, max_tokens=600, seed=17)
    with err_console.status("drafting the card …", spinner="dots") if backend else _nothing():
        drafted = draft_card(
            extraction, book, title=title or _title(file), backend=backend, params=params
        )
    if dry_run:
        if as_json:
            payload = {
                "character": extraction.character,
                "kind": extraction.kind,
                "language": extraction.language,
                "lines": [_line_json(line) for line in extraction.lines],
                "speakers": dict(extraction.speakers().most_common()),
                "card": drafted.character.to_card_dict(),
                "fallback": drafted.fallback,
            }
            click.echo(json.dumps(payload, ensure_ascii=False))
        else:
            _show(extraction, drafted, source)
        return
    new_id, added = _store(drafted, mine, source)
    click.echo(new_id)
    entries = drafted.character.character_book
    err_console.print(
        f"{len(extraction.lines)} utterances in {source}, "
        f"{sum(1 for line in extraction.lines if line.speaker)} attributed; "
        f"{len(mine)} by {extraction.character} ({added} indexed); "
        f"{len(entries.entries) if entries else 0} lorebook entries"
        + (f"; rules filled: {', '.join(drafted.fallback)}" if drafted.fallback else ""),
        markup=False,
        soft_wrap=True,
    )


def _nothing() -> Any:
    import contextlib

    return contextlib.nullcontext()


def _store(drafted: DraftedCard, mine: list[ExtractedLine], source: str) -> tuple[str, int]:
    """Store the card, then index the character's lines for retrieval with the bank
    `card add-lines` uses; returns the new id and how many lines were added."""
    from rich.progress import Progress

    from personae.cli import card as card_cli
    from personae.memory.lines import ScriptLine, import_lines
    from personae.store import CharacterRepository

    db = open_db()
    new_id = CharacterRepository(db).add(drafted.character, source="from-text")
    name = drafted.character.name
    lines = [
        ScriptLine(
            name,
            line.text,
            f"{line.answers.speaker or 'Someone'}: {line.answers.text}" if line.answers else None,
        )
        for line in mine
    ]
    with Progress(console=err_console, transient=True, disable=not err_console.is_terminal) as bar:
        task = bar.add_task("indexing lines", total=len(lines))
        added = import_lines(
            card_cli.memory_bank(db),
            new_id,
            lines,
            source=f"text:{source}",
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    return new_id, added
