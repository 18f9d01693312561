"""`personae memory …`: see, add, edit, forget, export and wipe what characters remember.

Every command acts as one user (``--user-id``, default from ``config.toml``'s ``user_id`` or
``$PERSONAE_USER_ID``, else ``local``) and never shows or touches another user's memories.
"""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import json
import sys
from pathlib import Path
from typing import Any

import click

from personae.cli.common import err_console, open_db, out_console, user_errors
from personae.errors import InvalidInput
from personae.memory.bank import Draft, MemoryBank
from personae.store import (
    KINDS,
    CharacterRepository,
    ChatRepository,
    Database,
    MemoryItem,
    check_user_id,
)

USER_KINDS = tuple(k for k in KINDS if k != "line")  # lines are the character's, not the user's
_TITLES = {
    "fact": "Profile (what characters know about you)",
    "episode": "Episodes (what you told them)",
    "reflection": "Reflections (what they concluded)",
    "note": "Notes (what you asked them to remember)",
    "line": "Lines (the character's own words)",
}


def _user(user_id: str | None) -> str:
    if user_id:
        return check_user_id(user_id)
    from personae.config import load_settings

    return check_user_id(load_settings().user_id)


def _bank(db: Database, *, embed: bool = True) -> MemoryBank:
    from personae.config import load_settings
    from personae.memory.from_settings import redaction_policy

    policy = redaction_policy(load_settings().privacy)
    return MemoryBank(
        db,
        embedder="default" if embed else None,
        policy=policy,
        notice=lambda text: err_console.print(f"[dim]{text}[/]"),
    )


def _own(db: Database, memory_id: int, user: str) -> MemoryItem:
    item = MemoryBank(db, embedder=None).repo.get(memory_id)
    if item.user_id != user:
        # Another user's memory (or a character's line) is "not found" for this user.
        raise InvalidInput(
            f"memory {memory_id} is not one of {user}'s (lines are edited with their card)"
        )
    return item


user_option = click.option("--user-id", "user_id", help="Act as this user (default: local).")


@click.group("memory")
def memory_group() -> None:
    """What characters remember about you: profile facts, episodes, reflections, notes and the
    rolling summaries of your chats. PII is redacted before anything is stored."""


@memory_group.command("show")
@click.argument("character", required=False)
@click.option("--chat", "chat_id", type=int, help="Also this chat's notes and running summary.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS), help="Only these.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@user_option
@user_errors
def show_command(
    character: str | None,
    chat_id: int | None,
    kinds: tuple[str, ...],
    as_json: bool,
    user_id: str | None,
) -> None:
    """Show your memories (with CHARACTER: what that character may recall)."""
    user = _user(user_id)
    db = open_db()
    character_id = CharacterRepository(db).find(character).id if character else None
    summary = None
    if chat_id is not None:
        info = ChatRepository(db).get(chat_id)
        if info.user_id != user:
            raise InvalidInput(f"chat {chat_id} is not {user}'s")
        character_id = character_id or info.character_id
        summary = MemoryBank(db, embedder=None).repo.summary(chat_id)
    bank = MemoryBank(db, embedder=None)
    wanted = list(kinds) or list(USER_KINDS)
    if character_id is None:
        items = [
            i
            for i in bank.repo.partition(user, None, wanted)
            + [
                i
                for c in CharacterRepository(db).all()
                for i in bank.repo.partition(user, c.id, wanted)
            ]
            if i.chat_id is None or i.chat_id == chat_id
        ]
    else:
        items = bank.items(user_id=user, character_id=character_id, chat_id=chat_id, kinds=wanted)
    if as_json:
        data: dict[str, Any] = {"user": user, "memories": [i.public() for i in items]}
        if summary is not None:
            data["summary"] = {"text": summary.text, "through_message": summary.through_message_id}
        out_console.print_json(json.dumps(data, ensure_ascii=False))
        return
    if not items and summary is None:
        out_console.print("no memories yet")
        return
    for kind in KINDS:
        group = [i for i in items if i.kind == kind]
        if not group:
            continue
        out_console.print(f"[bold]{_TITLES[kind]}[/]")
        for i in group:
            where = i.character_id or "all characters"
            extra = f" chat {i.chat_id}" if i.chat_id else ""
            out_console.print(f"  [dim]#{i.id} {where}{extra}[/] ", end="")
            out_console.print(i.text, markup=False)
    if summary is not None:
        out_console.print(f"[bold]Summary of chat {chat_id}[/]")
        out_console.print(f"  {summary.text}", markup=False)


@memory_group.command("add")
@click.argument("character")
@click.argument("text")
@click.option(
    "--scope",
    type=click.Choice(["character", "user", "chat"]),
    default="character",
    show_default=True,
    help="character: in your chats with CHARACTER; user: with every character; chat: one chat.",
)
@click.option("--chat", "chat_id", type=int, help="The chat, with --scope chat.")
@user_option
@user_errors
def add_command(
    character: str, text: str, scope: str, chat_id: int | None, user_id: str | None
) -> None:
    """Ask CHARACTER to remember TEXT (a note, found when relevant)."""
    user = _user(user_id)
    db = open_db()
    character_id = CharacterRepository(db).find(character).id
    if scope == "chat":
        if chat_id is None:
            raise InvalidInput("--scope chat needs --chat ID")
        info = ChatRepository(db).get(chat_id)
        if info.user_id != user or info.character_id != character_id:
            raise InvalidInput(f"chat {chat_id} is not {user}'s chat with {character_id}")
    elif chat_id is not None:
        raise InvalidInput("--chat goes with --scope chat")
    draft = Draft(
        "note",
        text,
        user,
        None if scope == "user" else character_id,
        chat_id if scope == "chat" else None,
        importance=7.0,
        source="user",
    )
    [item] = _bank(db).remember([draft])
    out_console.print(f"remembered #{item.id}: ", end="")
    out_console.print(item.text, markup=False)


@memory_group.command("edit")
@click.argument("memory_id", type=int)
@click.argument("text")
@user_option
@user_errors
def edit_command(memory_id: int, text: str, user_id: str | None) -> None:
    """Replace what memory MEMORY_ID says."""
    user = _user(user_id)
    db = open_db()
    _own(db, memory_id, user)
    item = _bank(db).edit(memory_id, text)
    out_console.print(f"#{item.id} now says: ", end="")
    out_console.print(item.text, markup=False)


@memory_group.command("forget")
@click.argument("memory_ids", type=int, nargs=-1, required=True)
@user_option
@user_errors
def forget_command(memory_ids: tuple[int, ...], user_id: str | None) -> None:
    """Delete memories for good."""
    user = _user(user_id)
    db = open_db()
    for memory_id in memory_ids:
        _own(db, memory_id, user)
    removed = _bank(db, embed=False).forget(list(memory_ids))
    out_console.print(f"forgot {removed} memor{'y' if removed == 1 else 'ies'}")


def _scope_args(
    db: Database, user: str, character: str | None, chat_id: int | None
) -> dict[str, Any]:
    args: dict[str, Any] = {"user_id": user}
    if character:
        args["character_id"] = CharacterRepository(db).find(character).id
    if chat_id is not None:
        info = ChatRepository(db).get(chat_id)
        if info.user_id != user:
            raise InvalidInput(f"chat {chat_id} is not {user}'s")
        args["chat_id"] = chat_id
    return args


@memory_group.command("export")
@click.option("--character", help="Only memories with this character.")
@click.option("--chat", "chat_id", type=int, help="Only this chat's memories and summary.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path))
@user_option
@user_errors
def export_command(
    character: str | None, chat_id: int | None, out_file: Path | None, user_id: str | None
) -> None:
    """Write your memories (and chat summaries) as JSON, to --out or stdout."""
    user = _user(user_id)
    db = open_db()
    args = _scope_args(db, user, character, chat_id)
    repo = MemoryBank(db, embedder=None).repo
    where = ["user_id = ?"]
    values: list[Any] = [user]
    for column in ("character_id", "chat_id"):
        if column in args:
            where.append(f"{column} = ?")
            values.append(args[column])
    ids = [
        r[0]
        for r in db.conn.execute(
            f"SELECT id FROM memories WHERE {' AND '.join(where)} ORDER BY id", values
        )
    ]
    items = repo.many(ids)
    chats = (
        [ChatRepository(db).get(chat_id)]
        if chat_id is not None
        else ChatRepository(db).all(args.get("character_id"), user_id=user)
    )
    summaries = [s for s in (repo.summary(c.id) for c in chats) if s is not None]
    data = {
        "user": user,
        "memories": [items[i].public() for i in ids],
        "summaries": [
            {"chat": s.chat_id, "text": s.text, "through_message": s.through_message_id}
            for s in summaries
        ],
    }
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if out_file is None:
        sys.stdout.write(text)
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"cannot write {out_file}: {exc.strerror or exc}") from None
    err_console.print(f"wrote {len(data['memories'])} memories to {out_file}")


@memory_group.command("wipe")
@click.option("--character", help="Only memories with this character.")
@click.option("--chat", "chat_id", type=int, help="Only this chat's memories and summary.")
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice([k for k in KINDS if k != "line"])
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@user_option
@user_errors
def wipe_command(
    character: str | None,
    chat_id: int | None,
    kinds: tuple[str, ...],
    yes: bool,
    user_id: str | None,
) -> None:
    """Delete your memories: all of them, or with one character, or of one chat."""
    user = _user(user_id)
    db = open_db()
    args = _scope_args(db, user, character, chat_id)
    what = (
        " ".join(f"{k.replace('_id', '')} {v}" for k, v in args.items() if k != "user_id")
        or "every character"
    )
    if not yes and not click.confirm(f"delete {user}'s memories ({what}) for good?"):
        raise InvalidInput("nothing deleted")
    removed = _bank(db, embed=False).wipe(
        kinds=list(kinds) or [k for k in KINDS if k != "line"], **args
    )
    out_console.print(f"deleted {removed} memories")
