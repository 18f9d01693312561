"""`personae chat` (the streaming REPL) and `personae ask` (one reply, for scripts)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import click

from personae.agent import Agent, Chat, Turn
from personae.cli.common import (
    backend_options,
    err_console,
    generation_params,
    make_backend,
    make_memory,
    memory_options,
    open_db,
    out_console,
    print_error,
    settings_from,
    user_errors,
)
from personae.errors import EmptyReply, InvalidInput, PersonaeError
from personae.store import CharacterRepository, ChatRepository, Database, check_user_id
from personae.store.lorebooks import played_character

HELP = """\
/help               this list
/regenerate  (/r)   a new reply instead of the last one
/edit TEXT          replace your last message with TEXT and get a new reply
/undo               remove your last message and the reply to it
/new                start a new chat with this character
/chats              list this character's chats
/exit        (/q)   leave (Ctrl-D works too)
Ctrl-C while a reply streams stops it; what arrived is kept, marked incomplete.
Fed from a pipe or a file, chat stops at the first error and exits with status 1."""


def _read_line(prompt: str) -> str | None:
    try:
        if sys.stdin.isatty():
            return input(prompt)
        line = sys.stdin.readline()
        return None if line == "" else line.rstrip("\n")
    except EOFError:
        return None


def _stream(chat: Chat, pieces: Iterator[str]) -> None:
    """Print a reply as it streams. A failure (the backend's, or an empty reply) is raised on,
    after ending the line, for the REPL to report."""
    name = chat.character_name
    out_console.print(f"[bold magenta]{name}[/]: ", end="")
    try:
        for piece in pieces:
            sys.stdout.write(piece)
            sys.stdout.flush()
    except KeyboardInterrupt:
        sys.stdout.write("\n")
        err_console.print("[dim](stopped — the partial reply is kept, marked incomplete)[/]")
        return
    except PersonaeError:
        sys.stdout.write("\n")
        raise
    sys.stdout.write("\n")
    if chat.memory_error:
        err_console.print(f"[dim](memory could not be updated: {chat.memory_error})[/]")


def _show_recent(chat: Chat, count: int = 6) -> None:
    messages = chat.messages()
    if len(messages) > count:
        err_console.print(f"[dim]… {len(messages) - count} earlier messages[/]")
    for m in messages[-count:]:
        who = chat.character_name if m.role == "assistant" else chat.info.user_name
        style = "bold magenta" if m.role == "assistant" else "bold cyan"
        mark = "" if m.complete else " [dim](incomplete)[/]"
        out_console.print(f"[{style}]{who}[/]: ", end="")
        out_console.print(m.content, markup=False, end="")
        out_console.print(mark)


def _handle_command(line: str, chat: Chat, db: Database, make_chat: Any) -> Chat | None:
    """Run a slash command; returns the chat to continue with, or None to leave."""
    command, _, arg = line[1:].partition(" ")
    command = command.lower()
    if command in ("exit", "quit", "q"):
        return None
    if command in ("help", "h", "?"):
        err_console.print(HELP, markup=False)
    elif command in ("regenerate", "regen", "r"):
        _stream(chat, chat.regenerate())
    elif command == "edit":
        text = arg.strip() or (_read_line("new text> ") or "")
        _stream(chat, chat.edit_last(text))
    elif command == "undo":
        hidden = chat.undo()
        err_console.print(f"[dim](removed {hidden} message(s))[/]")
    elif command == "new":
        chat = make_chat(None)
        err_console.print(f"[dim](new chat {chat.id})[/]")
        _show_recent(chat)
    elif command == "chats":
        for info in ChatRepository(db).all(chat.info.character_id):
            mark = "*" if info.id == chat.id else " "
            err_console.print(
                f"{mark} {info.id:>5}  {info.message_count:>4} messages", markup=False
            )
    else:
        raise InvalidInput(f"unknown command /{command}: type /help")
    return chat


@click.command("chat")
@click.argument("character", required=False)
@click.option("--chat", "chat_id", type=int, help="Resume this chat id.")
@click.option("--new", "new_chat", is_flag=True, help="Start a new chat instead of resuming.")
@click.option("--user", "user_name", help="Your name in the chat.")
@click.option(
    "--greeting", type=int, default=0, show_default=True, help="Which greeting to open with."
)
@memory_options
@backend_options
@user_errors
def chat_command(
    character: str | None,
    chat_id: int | None,
    new_chat: bool,
    user_name: str | None,
    greeting: int,
    use_memory: bool,
    memories: str | None,
    user_id: str | None,
    **flags: Any,
) -> None:
    """Chat with CHARACTER (an id from `personae card list`, e.g. sherlock).

    Resumes your latest chat with that character unless --new or --chat is given. Fed from a
    pipe or a file (not a terminal), it reads one message or /command a line and stops at the
    first error with exit status 1, so a script can tell that something failed.
    """
    db = open_db()
    chats = ChatRepository(db)
    settings = settings_from(flags)
    user = check_user_id(user_id or settings.user_id)
    if chat_id is not None:
        info = chats.get(chat_id)
        if character and CharacterRepository(db).find(character).id != info.character_id:
            raise InvalidInput(f"chat {chat_id} is not with {character!r}")
        if info.user_id != user:
            raise InvalidInput(f"chat {chat_id} is not {user}'s (see `personae chats list`)")
        character_id = info.character_id
    elif character:
        character_id = CharacterRepository(db).find(character).id
    else:
        raise InvalidInput(
            "name a character, e.g. `personae chat sherlock` (see `personae card list`)"
        )
    if user_name:
        settings = settings.with_overrides(user_name=user_name)
    bank, memory_settings = make_memory(db, settings, use_memory, memories)
    params = generation_params(flags, model=settings.model)
    backend = make_backend(settings)
    n_ctx = flags.get("n_ctx")

    def make_chat(existing: int | None) -> Chat:
        if existing is not None:
            return Chat(
                db,
                existing,
                backend,
                params=params,
                n_ctx=n_ctx,
                memory=bank,
                memory_settings=memory_settings,
                guard=settings.reply_guard,
            )
        return Chat.start(
            db,
            character_id,
            backend,
            user_name=settings.user_name,
            user_id=user,
            greeting=greeting,
            params=params,
            n_ctx=n_ctx,
            memory=bank,
            memory_settings=memory_settings,
            guard=settings.reply_guard,
        )

    if chat_id is None and not new_chat:
        latest = chats.latest(character_id, user_id=user)
        chat_id = latest.id if latest else None
    chat = make_chat(chat_id)
    interactive = sys.stdin.isatty()
    if interactive:
        err_console.print(
            f"[dim]chat {chat.id} with {chat.character_name} on {backend.model}"
            " — /help for commands[/]"
        )
    _show_recent(chat)
    warming = chat.warm_up()  # the card is processed while you read and type
    status = 0
    while True:
        line = _read_line(f"{settings.user_name}> " if interactive else "")
        if line is None:
            break
        if not line.strip():
            continue
        if not interactive:
            out_console.print(f"[bold cyan]{settings.user_name}[/]: ", end="")
            out_console.print(line, markup=False)
        try:
            if line.startswith("/"):
                next_chat = _handle_command(line, chat, db, make_chat)
                if next_chat is None:
                    break
                chat = next_chat
            else:
                _stream(chat, chat.send(line))
        except PersonaeError as exc:
            print_error(str(exc))
            if not interactive:
                # A script's later lines may rely on this one (a /regenerate after a failed
                # reply): stop here, and say so in the exit status.
                status = 1
                break
    if warming is not None and warming.is_alive():
        # Leaving before the warm-up finished: llama.cpp cannot be interrupted mid-prompt, and
        # waiting for it would make exit hang. Everything is committed; leave at once.
        sys.stdout.flush()
        sys.stderr.flush()
        db.close()
        os._exit(status)
    if status:
        sys.exit(status)


@click.command("ask")
@click.argument("character")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of text.")
@click.option("--user", "user_name", help="Your name.")
@backend_options
@user_errors
def ask_command(
    character: str, text: str, as_json: bool, user_name: str | None, **flags: Any
) -> None:
    """One reply from CHARACTER to TEXT ('-' reads stdin). Nothing is stored."""
    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise InvalidInput("the message is empty")
    db = open_db()
    stored = CharacterRepository(db).find(character)
    settings = settings_from(flags)
    if user_name:
        settings = settings.with_overrides(user_name=user_name)
    params = generation_params(flags, model=settings.model)  # a bad --sampling fails before loading
    backend = make_backend(settings)
    agent = Agent(
        played_character(db, stored, user_id=settings.user_id),  # with its attached lorebooks
        backend,
        user_name=settings.user_name,
        params=params,
        n_ctx=flags.get("n_ctx"),
    )
    reply = agent.reply([Turn("user", text)])
    if not as_json:
        for piece in reply:
            sys.stdout.write(piece)
            sys.stdout.flush()
        if not reply.text:
            raise EmptyReply()
        sys.stdout.write("\n")
        return
    if not reply.read():
        raise EmptyReply()
    usage = reply.usage
    result = {
        "character": stored.id,
        "backend": backend.name,
        "model": backend.model,
        "reply": reply.text,
        "finish_reason": reply.finish_reason,
        "usage": {
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "completion_tokens": usage.completion_tokens if usage else None,
            "cached_tokens": usage.cached_tokens if usage else None,
        },
        "ttft_ms": reply.ttft_ms,
        "duration_ms": reply.duration_ms,
    }
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
