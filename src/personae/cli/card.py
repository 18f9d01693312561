"""`personae card …`: import, export, show, list, new, delete — and `personae restyle`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from personae.characters import character_from_role, read_card, write_card
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
from personae.errors import InvalidInput
from personae.store import CharacterRepository, StoredCharacter


@click.group("card")
def card_group() -> None:
    """Character cards: import/export V1/V2/V3 JSON, PNG and CHARX; create from a role."""


def _summary(stored: StoredCharacter) -> dict[str, Any]:
    c = stored.character
    book = c.character_book
    return {
        "id": stored.id,
        "name": c.name,
        "source": stored.source,
        "tags": list(c.tags),
        "greetings": len(c.greetings()),
        "lorebook_entries": len(book.entries) if book else 0,
        "has_image": stored.image is not None,
    }


@card_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@user_errors
def import_command(path: Path) -> None:
    """Import a card file (JSON, PNG or CHARX); prints the new character's id."""
    loaded = read_card(path)
    new_id = CharacterRepository(open_db()).add(loaded.character, image=loaded.image)
    click.echo(new_id)


@card_group.command("export")
@click.argument("character_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "png", "charx"]),
    default="json",
    show_default=True,
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="File to write."
)
@user_errors
def export_command(character_id: str, fmt: str, output: Path) -> None:
    """Write CHARACTER_ID's card to a file."""
    stored = CharacterRepository(open_db()).get(character_id)
    write_card(stored.character, output, fmt, image=stored.image)
    err_console.print(f"wrote {output}")


@card_group.command("show")
@click.argument("character_id")
@click.option("--json", "as_json", is_flag=True, help="The card as V2/V3 JSON.")
@user_errors
def show_command(character_id: str, as_json: bool) -> None:
    """Show a character (with --json: the whole card)."""
    stored = CharacterRepository(open_db()).get(character_id)
    c = stored.character
    if as_json:
        click.echo(json.dumps(c.to_card_dict(), ensure_ascii=False, indent=2))
        return
    out_console.print(f"[bold]{c.name}[/]  ({stored.id}, {stored.source})")
    for label, text in (
        ("description", c.description),
        ("personality", c.personality),
        ("scenario", c.scenario),
        ("greeting", c.first_mes),
    ):
        if text.strip():
            out_console.print(f"[dim]{label}:[/] ", end="")
            out_console.print(text.strip(), markup=False)
    info = _summary(stored)
    out_console.print(
        f"[dim]{info['greetings']} greeting(s), {info['lorebook_entries']} lorebook entries, "
        f"tags: {', '.join(info['tags']) or '-'}[/]"
    )


@card_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of characters.")
@user_errors
def list_command(as_json: bool) -> None:
    """List characters."""
    rows = [_summary(s) for s in CharacterRepository(open_db()).all()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for row in rows:
        out_console.print(f"[bold]{row['id']:<20}[/] ", end="")
        out_console.print(f"{row['name']}  [dim]{', '.join(row['tags'][:4])}[/]")


@card_group.command("new")
@click.option(
    "--role", required=True, help='e.g. "retired Korean math teacher, ENFJ, Busan dialect"'
)
@click.option("--name", help="The character's name (default: from the template).")
@click.option(
    "--language", type=click.Choice(["en", "ko"]), help="Card language (default: detected)."
)
@click.option(
    "--expand", is_flag=True, help="Let the model enrich the description (needs a model)."
)
@backend_options
@user_errors
def new_command(
    role: str, name: str | None, language: str | None, expand: bool, **flags: Any
) -> None:
    """Create a demographic persona from a role description; prints the new id."""
    character = character_from_role(role, language=language, name=name)  # type: ignore[arg-type]
    if expand:
        from personae.agent.persona import expand_persona

        backend = make_backend(settings_from(flags))
        character = expand_persona(character, backend, generation_params(flags))
    new_id = CharacterRepository(open_db()).add(character, source="role")
    click.echo(new_id)


@card_group.command("delete")
@click.argument("character_id")
@user_errors
def delete_command(character_id: str) -> None:
    """Delete a character and its chats."""
    CharacterRepository(open_db()).delete(character_id)
    err_console.print(f"deleted {character_id}")


@click.command("restyle")
@click.argument("character_id")
@click.argument("text", required=False)
@backend_options
@user_errors
def restyle_command(character_id: str, text: str | None, **flags: Any) -> None:
    """Rewrite TEXT (or stdin, line by line) in CHARACTER_ID's way of speaking (화법 변환)."""
    from personae.agent.restyle import restyle_lines

    if text is None or text == "-":
        if sys.stdin.isatty():
            raise InvalidInput('give the text to restyle, e.g. `personae restyle sherlock "Hi"`')
        text = sys.stdin.read()
    stored = CharacterRepository(open_db()).get(character_id)
    backend = make_backend(settings_from(flags))
    params = generation_params(flags, temperature=0.5, max_tokens=200)
    for line in restyle_lines(stored.character, backend, text, params=params):
        click.echo(line)
