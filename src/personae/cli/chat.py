"""`personae chat` (the streaming REPL) and `personae ask` (one reply, for scripts)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from typing import Any

import click

from personae.agent import Agent, Chat, ReplyStream, Turn
from personae.agent.best_of_n import ChosenReplyStream
from personae.backends import Backend
from personae.cli.common import (
    adapter_option,
    backend_options,
    err_console,
    generation_params,
    make_backend,
    make_memory,
    memory_options,
    open_db,
    out_console,
    print_error,
    reply_strategy,
    settings_from,
    strategy_options,
    user_errors,
    with_strategy,
)
from personae.errors import EmptyReply, InvalidInput, PersonaeError
from personae.settings.reply import ReplyStrategy
from personae.store import CharacterRepository, ChatRepository, Database, check_user_id
from personae.store.lorebooks import played_character

HELP = """\
/help               this list
/regenerate  (/r)   another reply instead of the last one; after best-of-n or auto, the
                    candidates not chosen come first, at once (swipes), then new ones
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


def _terminal() -> bool:
    """Whether stderr is a terminal (where a "choosing…" note is worth a line)."""
    return err_console.is_terminal


def choosing_note(strategy: ReplyStrategy) -> str | None:
    """What a terminal shows while a strategy that chooses works (nothing is streamed until
    the verifiers have chosen); None for ``single``, which streams at once."""
    if strategy.name == "single":
        return None
    if strategy.candidates > 1:
        return f"(choosing among {strategy.candidates} candidates…)"
    return "(writing a reply and checking it…)"


def _described(strategy: ReplyStrategy) -> str:
    """``best-of-n, 4 candidates``: the strategy in a few words."""
    parts: list[str] = [strategy.name]
    if strategy.candidates > 1:
        parts.append(f"{strategy.candidates} candidates")
    if strategy.name in ("refine", "auto"):
        parts.append(f"{strategy.rounds} round{'s' if strategy.rounds != 1 else ''}")
    return ", ".join(parts)


def _pending_swipes(chat: Chat) -> tuple[int, int]:
    """``(k, m)`` when /regenerate will show kept candidate ``k`` of the ``m`` that the last
    turn kept (best-of-n, auto), else ``(0, 0)``."""
    pending = chat.pending_swipes()
    if not pending:
        return 0, 0
    return pending[0].rank + 1, pending[0].rank + len(pending)


def _regenerate(chat: Chat) -> None:
    k, m = _pending_swipes(chat)
    if not k:
        _stream(chat, chat.regenerate(), note=choosing_note(chat.agent.strategy))
        return
    then = "/regenerate shows the next" if k < m else "/regenerate makes new ones"
    _stream(chat, chat.regenerate(), after=f"(swipe {k} of {m}, kept from this turn; {then})")


def _stream(
    chat: Chat, pieces: Iterator[str], *, note: str | None = None, after: str | None = None
) -> None:
    """Print a reply as it streams. A failure (the backend's, or an empty reply) is raised on,
    after ending the line, for the REPL to report. ``note``: a dim line first, in a terminal;
    ``after``: a dim line once the reply is whole."""
    name = chat.character_name
    if note and _terminal():
        err_console.print(f"[dim]{note}[/]")
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
    if after:
        err_console.print(f"[dim]{after}[/]")
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
        _regenerate(chat)
    elif command == "edit":
        text = arg.strip() or (_read_line("new text> ") or "")
        _stream(chat, chat.edit_last(text), note=choosing_note(chat.agent.strategy))
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
@strategy_options
@backend_options
@adapter_option
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
    settings = with_strategy(settings, reply_strategy(flags, settings.reply))
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
    backend = make_backend(settings, character=character_id, adapter=flags.get("adapter"))
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
                strategy=settings.reply,
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
            strategy=settings.reply,
        )

    if chat_id is None and not new_chat:
        latest = chats.latest(character_id, user_id=user)
        chat_id = latest.id if latest else None
    chat = make_chat(chat_id)
    interactive = sys.stdin.isatty()
    if interactive:
        how = "" if settings.reply.name == "single" else f" ({_described(settings.reply)})"
        err_console.print(
            f"[dim]chat {chat.id} with {chat.character_name} on {backend.model}{how}"
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
                _stream(chat, chat.send(line), note=choosing_note(settings.reply))
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
@strategy_options
@backend_options
@adapter_option
@user_errors
def ask_command(
    character: str, text: str, as_json: bool, user_name: str | None, **flags: Any
) -> None:
    """One reply from CHARACTER to TEXT ('-' reads stdin). Nothing is stored.

    With --json, one JSON object: the reply, the strategy, every candidate of the round the
    reply was chosen from (best first, with each verifier's score and reason), the timings
    (ms: first token, first text shown, chosen, whole reply) and the token usage.
    """
    if text == "-":
        text = sys.stdin.read()
    if not text.strip():
        raise InvalidInput("the message is empty")
    db = open_db()
    stored = CharacterRepository(db).find(character)
    settings = settings_from(flags)
    settings = with_strategy(settings, reply_strategy(flags, settings.reply))
    if user_name:
        settings = settings.with_overrides(user_name=user_name)
    params = generation_params(flags, model=settings.model)  # a bad --sampling fails before loading
    backend = make_backend(settings, character=stored.id, adapter=flags.get("adapter"))
    agent = Agent(
        played_character(db, stored, user_id=settings.user_id),  # with its attached lorebooks
        backend,
        user_name=settings.user_name,
        params=params,
        n_ctx=flags.get("n_ctx"),
        # A one-off reply is checked as a chat's is: not a replay of the greeting, no echo, ...
        guard=settings.reply_guard,
        strategy=settings.reply,
    )
    reply = agent.reply([Turn("user", text)])
    if not as_json:
        note = choosing_note(settings.reply)
        if note and _terminal():
            err_console.print(f"[dim]{note}[/]")
        for piece in reply:
            sys.stdout.write(piece)
            sys.stdout.flush()
        if not reply.text:
            raise EmptyReply()
        sys.stdout.write("\n")
        return
    if not reply.read():
        raise EmptyReply()
    sys.stdout.write(json.dumps(_ask_result(stored.id, backend, reply), ensure_ascii=False) + "\n")


def _ask_result(
    character: str, backend: Backend, reply: ReplyStream | ChosenReplyStream
) -> dict[str, Any]:
    """What ``ask --json`` prints about a finished reply."""
    usage = reply.usage
    chosen = reply if isinstance(reply, ChosenReplyStream) else None
    strategy = chosen.strategy if chosen else ReplyStrategy()
    return {
        "character": character,
        "backend": backend.name,
        "model": backend.model,
        "reply": reply.text,
        "finish_reason": reply.finish_reason,
        "strategy": {
            "name": strategy.name,
            "n": strategy.n,
            "rounds": strategy.rounds,
            "time_budget_s": strategy.time_budget_s,
            "token_budget": strategy.token_budget,
        },
        # Best first; for refine, the round the reply was chosen from.
        "candidates": [r.as_dict() for r in chosen.ranked] if chosen else [],
        "rounds": len(chosen.rounds) if chosen else 1,
        "attempts": [a.outcome for a in reply.attempts],  # the tries, guard retries included
        "usage": {
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "completion_tokens": usage.completion_tokens if usage else None,
            "cached_tokens": usage.cached_tokens if usage else None,
        },
        "ttft_ms": reply.ttft_ms,
        "shown_ms": reply.shown_ms,
        "chosen_ms": chosen.chosen_ms if chosen else None,
        "duration_ms": reply.duration_ms,
    }
