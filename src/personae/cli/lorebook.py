"""`personae lorebook …`: standalone lorebooks (SillyTavern World Info files) — import, list,
show, export, delete, attach to a character or a chat, and scan a text to see what it would
activate and why."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import json
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from personae.characters import Lorebook
from personae.characters.lorebook_files import read_lorebook
from personae.characters.lorebook_scan import Activation, explain_scan, merge_lorebooks
from personae.characters.worldinfo import world_info_bytes
from personae.cli.common import err_console, open_db, out_console, user_errors
from personae.errors import InvalidInput, NotFound
from personae.store import CharacterRepository, ChatRepository, Database
from personae.store.lorebooks import LorebookInfo, LorebookRepository, StoredLorebook

PREVIEW_CHARS = 160


@click.group("lorebook")
def lorebook_group() -> None:
    """Lorebooks (SillyTavern World Info files): import, attach to a character or chat, scan."""


def _summary(info: LorebookInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "entries": info.entry_count,
        "source": info.source,
        "owner_id": info.owner_id,
        "shared": info.shared,
        "created_at": info.created_at,
    }


def _find(db: Database, id_or_name: str) -> StoredLorebook:
    return LorebookRepository(db).find(id_or_name)


@lorebook_group.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", help="The book's name (default: the file's, or its name).")
@user_errors
def import_command(path: Path, name: str | None) -> None:
    """Import a World Info JSON file (or the lorebook of a card file); prints the new id."""
    book = read_lorebook(path)
    if name is not None:
        if not name.strip():
            raise InvalidInput("--name is empty; give the book a name or leave --name out")
        book.name = name.strip()
    click.echo(LorebookRepository(open_db()).add(book))


@lorebook_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="A JSON array of lorebooks.")
@user_errors
def list_command(as_json: bool) -> None:
    """List lorebooks."""
    rows = [_summary(info) for info in LorebookRepository(open_db()).all()]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        err_console.print("no lorebooks yet: `personae lorebook import FILE` adds one")
    for row in rows:
        out_console.print(f"[bold]{row['id']}[/]  {escape(row['name'])}  ", end="")
        out_console.print(f"[dim]{row['entries']} entries[/]")


def _links(db: Database, lorebook_id: str) -> dict[str, list[Any]]:
    links = LorebookRepository(db).links(lorebook_id)
    return {
        "characters": [
            {"id": link.character_id, "attached_by": link.attached_by}
            for link in links
            if link.character_id is not None
        ],
        "chats": [link.chat_id for link in links if link.chat_id is not None],
    }


def _entry_line(index: int, entry: Any) -> str:
    title = entry.comment or entry.name or ""
    keys = ", ".join(entry.keys[:8]) + (" …" if len(entry.keys) > 8 else "")
    flags = [f for f, on in (("constant", entry.constant), ("disabled", not entry.enabled)) if on]
    ident = entry.id if entry.id is not None else index
    text = f"#{ident} {title!s}".rstrip() + f"  keys: {keys or '-'}"
    return text + (f"  [{', '.join(flags)}]" if flags else "")


@lorebook_group.command("show")
@click.argument("lorebook")
@click.option("--json", "as_json", is_flag=True, help="The book (and where it is attached).")
@user_errors
def show_command(lorebook: str, as_json: bool) -> None:
    """Show a lorebook: its entries and where it is attached."""
    db = open_db()
    stored = _find(db, lorebook)
    links = _links(db, stored.id)
    if as_json:
        payload = {**_summary(stored), "attached": links, "lorebook": stored.book.to_dict()}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    out_console.print(
        f"[bold]{escape(stored.name)}[/]  ({stored.id}, {stored.entry_count} entries)"
    )
    places = [f"character {c['id']}" for c in links["characters"]]
    places += [f"chat {chat}" for chat in links["chats"]]
    out_console.print(f"[dim]attached to:[/] {escape(', '.join(places) or 'nothing')}")
    for index, entry in enumerate(stored.book.entries):
        out_console.print(_entry_line(index, entry), markup=False, soft_wrap=True)


@lorebook_group.command("export")
@click.argument("lorebook")
@click.option(
    "-o", "--output", required=True, help="File to write (World Info JSON); - for stdout."
)
@user_errors
def export_command(lorebook: str, output: str) -> None:
    """Write a lorebook as a World Info JSON file (SillyTavern imports it)."""
    stored = _find(open_db(), lorebook)
    payload = world_info_bytes(stored.book)
    if output == "-":
        sys.stdout.buffer.write(payload + b"\n")
        return
    target = Path(output)
    temp = target.with_name(f".{target.name}.tmp")
    try:
        temp.write_bytes(payload)
        temp.replace(target)  # a reader never sees half a file
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise InvalidInput(
            f"cannot write {str(target)!r}: {exc.strerror or exc}; check the folder"
        ) from None
    err_console.print(f"wrote {escape(str(target))}")


@lorebook_group.command("delete")
@click.argument("lorebook")
@user_errors
def delete_command(lorebook: str) -> None:
    """Delete a lorebook (and every attachment of it)."""
    db = open_db()
    stored = _find(db, lorebook)
    LorebookRepository(db).delete(stored.id)
    err_console.print(f"deleted {stored.id} ({escape(stored.name)})")


def _place(db: Database, character: str | None, chat: int | None) -> tuple[str | None, int | None]:
    if (character is None) == (chat is None):
        raise InvalidInput("say where: --character NAME or --chat ID (one of them)")
    if character is not None:
        return CharacterRepository(db).find(character).id, None
    assert chat is not None
    return None, ChatRepository(db).get(chat).id


_CHARACTER = click.option("--character", help="A character (id or name): all its chats.")
_CHAT = click.option("--chat", type=click.IntRange(1, 2**63 - 1), help="One chat (its id).")


@lorebook_group.command("attach")
@click.argument("lorebook")
@_CHARACTER
@_CHAT
@user_errors
def attach_command(lorebook: str, character: str | None, chat: int | None) -> None:
    """Attach a lorebook to a character or a chat: its entries join the card's lorebook there,
    under the card's token budget."""
    db = open_db()
    stored = _find(db, lorebook)
    character_id, chat_id = _place(db, character, chat)
    added = LorebookRepository(db).attach(stored.id, character_id=character_id, chat_id=chat_id)
    where = f"character {character_id}" if character_id else f"chat {chat_id}"
    done = "attached" if added else "already attached"
    err_console.print(f"{done}: {escape(stored.name)} ({stored.id}) to {where}")


@lorebook_group.command("detach")
@click.argument("lorebook")
@_CHARACTER
@_CHAT
@user_errors
def detach_command(lorebook: str, character: str | None, chat: int | None) -> None:
    """Detach a lorebook from a character or a chat."""
    db = open_db()
    stored = _find(db, lorebook)
    character_id, chat_id = _place(db, character, chat)
    LorebookRepository(db).detach(stored.id, character_id=character_id, chat_id=chat_id)
    where = f"character {character_id}" if character_id else f"chat {chat_id}"
    err_console.print(f"detached {escape(stored.name)} ({stored.id}) from {where}")


# -- scan ----------------------------------------------------------------------------------------


def _scan_target(
    db: Database, target: str, chat: int | None
) -> tuple[dict[str, Any], Lorebook | None, list[StoredLorebook]]:
    """What TARGET names (a book's id, a character, else a book's name) and the books a scan
    covers: the card's own (None for a book) and the attached ones."""
    books = LorebookRepository(db)
    try:
        book = books.get(target)
    except NotFound:
        try:
            stored = CharacterRepository(db).find(target)
        except NotFound:
            book = books.find(target)
        else:
            info = None
            if chat is not None:
                info = ChatRepository(db).get(chat)
                if info.character_id != stored.id:
                    raise InvalidInput(
                        f"chat {chat} is with {info.character_id!r}, not {stored.id!r}"
                    ) from None
            user = info.user_id if info else _user_id()
            attached = books.attached(stored.id, user_id=user, chat=info)
            kind = {"kind": "character", "id": stored.id, "name": stored.character.name}
            return kind, stored.character.character_book, attached
    if chat is not None:
        raise InvalidInput("--chat goes with a character, not with a lorebook")
    return {"kind": "lorebook", "id": book.id, "name": book.name}, None, [book]


def _user_id() -> str:
    from personae.config import load_settings

    return load_settings().user_id


def _activation(found: Activation, books: list[dict[str, Any]]) -> dict[str, Any]:
    from personae.characters import entry_text

    entry = found.entry
    book = books[found.book]
    text = entry_text(entry).strip()
    return {
        "book_id": book["id"],
        "book": book["name"],
        "entry": entry.id if entry.id is not None else found.index,
        "comment": entry.comment or entry.name or "",
        "reason": found.reason,
        "key": found.key,
        "secondary_keys": list(found.secondary_keys),
        "tokens": found.tokens,
        "kept": found.kept,
        "position": entry.position or "after_char",
        "content": text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…",
    }


@lorebook_group.command("scan")
@click.argument("target", metavar="CHARACTER_OR_BOOK")
@click.argument("text")
@click.option("--chat", type=click.IntRange(1, 2**63 - 1), help="Add this chat's books too.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
@user_errors
def scan_command(target: str, text: str, chat: int | None, as_json: bool) -> None:
    """Which lorebook entries TEXT ('-' reads stdin) would activate, and why: the key that
    matched, constant, or recursion. A character's scan covers its card's lorebook and the
    books attached to it, under the card's token budget (tokens are estimated here)."""
    from personae.text.token_estimate import estimate_tokens

    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise InvalidInput("the text to scan is empty")
    db = open_db()
    what, card_book, attached = _scan_target(db, target, chat)
    plain = [s.book for s in attached]
    books: list[dict[str, Any]] = []
    if card_book is not None:
        name = card_book.name or "card"
        books.append(
            {"id": None, "name": name, "source": "card", "entries": len(card_book.entries)}
        )
    source = "attached" if what["kind"] == "character" else "lorebook"
    books += [
        {"id": s.id, "name": s.name, "source": source, "entries": s.entry_count} for s in attached
    ]
    merged = merge_lorebooks(card_book, plain)
    report = explain_scan(card_book, plain, [text], count_tokens=estimate_tokens)
    rows = [_activation(f, books) for f in report.activated]
    if as_json:
        payload = {
            "target": what,
            "books": books,
            "scan_depth": merged.scan_depth if merged else None,
            "token_budget": merged.token_budget if merged else None,
            "activated": rows,
            "skipped_keys": report.skipped,
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if not books:
        err_console.print(f"{escape(what['name'])} has no lorebook and none attached")
        return
    if not rows:
        out_console.print("nothing activates", markup=False)
    for row in rows:
        why = {"constant": "constant", "recursion": "by recursion", "key": "key"}[row["reason"]]
        if row["key"] is not None:
            why += f" {row['key']!r}"
        if row["secondary_keys"]:
            why += f" + {', '.join(repr(k) for k in row['secondary_keys'])}"
        if not row["kept"]:
            why += " — dropped: over the token budget"
        label = f"{row['book']} #{row['entry']}" + (
            f" ({row['comment']})" if row["comment"] else ""
        )
        out_console.print(f"{label}: {why}", markup=False, soft_wrap=True)
    for key, reason in report.skipped.items():
        err_console.print(f"regex key {key!r} counted as no match: {reason}", markup=False)
