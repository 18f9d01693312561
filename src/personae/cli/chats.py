"""`personae chats list|show|export|delete`."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from personae.cli.common import err_console, open_db, out_console, user_errors
from personae.store import CharacterRepository, ChatRepository, StoredMessage


@click.group("chats")
def chats_group() -> None:
    """Stored chats."""


@chats_group.command("list")
@click.option("--character", help="Only chats with this character.")
@click.option("--json", "as_json", is_flag=True)
@user_errors
def list_command(character: str | None, as_json: bool) -> None:
    """List chats, newest first."""
    db = open_db()
    character_id = CharacterRepository(db).find(character).id if character else None
    chats = ChatRepository(db).all(character_id)
    if as_json:
        click.echo(json.dumps([asdict(c) for c in chats], ensure_ascii=False))
        return
    for c in chats:
        out_console.print(
            f"[bold]{c.id:>5}[/]  {c.character_id:<20} {c.message_count:>4} messages  "
            f"[dim]{c.user_name}[/]"
        )


def _message_dict(m: StoredMessage) -> dict[str, Any]:
    return {k: v for k, v in asdict(m).items() if v is not None}


def _render(chat_id: int, fmt: str, include_hidden: bool) -> str:
    db = open_db()
    repo = ChatRepository(db)
    info = repo.get(chat_id)
    character = CharacterRepository(db).get(info.character_id).character
    messages = repo.messages(chat_id, include_hidden=include_hidden)
    if fmt == "json":
        payload: dict[str, Any] = {"chat": asdict(info), "character": character.name}
        payload["messages"] = [_message_dict(m) for m in messages]
        return json.dumps(payload, ensure_ascii=False, indent=2)
    if fmt == "jsonl":
        return "\n".join(
            json.dumps(
                {"role": m.role, "content": m.content, "status": m.status}, ensure_ascii=False
            )
            for m in messages
        )
    lines = []
    if fmt == "md":
        lines.append(f"# Chat {info.id} with {character.name}\n")
    for m in messages:
        who = character.name if m.role == "assistant" else info.user_name
        note = "" if m.status == "complete" else f" ({m.status})"
        lines.append(
            f"**{who}**{note}: {m.content}\n" if fmt == "md" else f"{who}{note}: {m.content}"
        )
    return "\n".join(lines)


@chats_group.command("show")
@click.argument("chat_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.option("--all", "include_hidden", is_flag=True, help="Include superseded/deleted messages.")
@user_errors
def show_command(chat_id: int, as_json: bool, include_hidden: bool) -> None:
    """Print a chat."""
    click.echo(_render(chat_id, "json" if as_json else "txt", include_hidden))


@chats_group.command("export")
@click.argument("chat_id", type=int)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "jsonl", "md", "txt"]),
    default="json",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File (default: stdout).")
@click.option("--all", "include_hidden", is_flag=True, help="Include superseded/deleted messages.")
@user_errors
def export_command(chat_id: int, fmt: str, output: Path | None, include_hidden: bool) -> None:
    """Export a chat as JSON, JSONL, Markdown or text."""
    text = _render(chat_id, fmt, include_hidden)
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        from personae.errors import InvalidInput

        raise InvalidInput(f"cannot write {output}: {exc.strerror}") from exc
    err_console.print(f"wrote {output}")


@chats_group.command("delete")
@click.argument("chat_id", type=int)
@user_errors
def delete_command(chat_id: int) -> None:
    """Delete a chat and its messages."""
    ChatRepository(open_db()).delete(chat_id)
    err_console.print(f"deleted chat {chat_id}")
