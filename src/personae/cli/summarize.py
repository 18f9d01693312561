"""`personae summarize`: summarize a dialogue from a file, stdin, or a stored chat."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import json
import sys
from pathlib import Path
from typing import Any

import click

from personae.cli.common import (
    backend_options,
    err_console,
    make_backend,
    open_db,
    out_console,
    settings_from,
    user_errors,
)
from personae.errors import InvalidInput, NotFound
from personae.summarization import (
    DemoPool,
    Dialogue,
    Summarizer,
    SummaryConfig,
    chat_dialogue,
    parse_dialogue,
)

STYLES = ("zero-shot", "few-shot", "consensus")


def _chat_dialogue(chat_id: int) -> Dialogue:
    from personae.store import CharacterRepository, ChatRepository

    db = open_db()
    chats = ChatRepository(db)
    info = chats.get(chat_id)
    name = CharacterRepository(db).get(info.character_id).character.name
    messages = chats.messages(chat_id)
    return chat_dialogue(
        [(m.role, m.content) for m in messages], character=name, user=info.user_name
    )


def _read_source(source: str | None) -> str:
    if source is None or source == "-":
        if sys.stdin.isatty():
            raise InvalidInput("give a dialogue file, '-' for stdin, or --chat ID")
        return sys.stdin.read()
    path = Path(source)
    if not path.is_file():
        raise NotFound(f"no such file: {path}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text ({exc.reason})") from None


@click.command("summarize")
@click.argument("source", required=False)
@click.option("--chat", "chat_id", type=int, help="Summarize this stored chat instead.")
@click.option("--style", default="zero-shot", show_default=True, help=" | ".join(STYLES))
@click.option("--pool", type=click.Path(path_type=Path), help="Demonstrations (JSONL).")
@click.option("--shots", type=click.IntRange(1, 8), default=2, show_default=True)
@click.option("--samples", type=click.IntRange(2, 32), default=5, show_default=True)
@click.option("--max-words", type=click.IntRange(5, 400), default=40, show_default=True)
@click.option("--sentences", type=click.IntRange(1, 10), default=2, show_default=True)
@click.option("--language", default="auto", show_default=True, help="auto | en | ko")
@click.option("--json", "as_json", is_flag=True, help="Print the summary and candidates as JSON.")
@backend_options
@user_errors
def summarize_command(
    source: str | None,
    chat_id: int | None,
    style: str,
    pool: Path | None,
    shots: int,
    samples: int,
    max_words: int,
    sentences: int,
    language: str,
    as_json: bool,
    **flags: Any,
) -> None:
    """Summarize a dialogue: one turn per line, 'Speaker: text' or '#Person1#: text'.

    Styles: zero-shot; few-shot (similar demonstrations retrieved from --pool, a JSONL of
    dialogue/summary rows such as DialogSum); consensus (sample --samples candidates and keep
    the one the others agree with most; uses --pool demonstrations when given)."""
    if style not in STYLES:
        raise InvalidInput(f"unknown style {style!r}; choose one of: {', '.join(STYLES)}")
    if language not in ("auto", "en", "ko"):
        raise InvalidInput(f"language must be auto, en or ko, not {language!r}")
    if chat_id is not None and source is not None:
        raise InvalidInput("give either a dialogue file or --chat, not both")
    if style == "few-shot" and pool is None:
        raise InvalidInput("--style few-shot needs --pool FILE (JSONL with dialogue and summary)")
    dialogue = (
        _chat_dialogue(chat_id) if chat_id is not None else parse_dialogue(_read_source(source))
    )
    demo_pool = DemoPool.from_jsonl(pool) if pool is not None else None
    config = SummaryConfig(
        shots=shots if demo_pool is not None and style != "zero-shot" else 0,
        samples=samples if style == "consensus" else 1,
        max_words=max_words,
        max_sentences=sentences,
        language=None if language == "auto" else language,
        seed=int(flags["seed"]) if flags.get("seed") is not None else 0,
    )
    backend = make_backend(settings_from(flags))
    try:
        summary = Summarizer(backend, config, demo_pool).summarize(dialogue)
    finally:
        close = getattr(backend, "close", None)
        if close is not None:
            close()
    if as_json:
        payload = {
            "summary": summary.text,
            "strategy": summary.strategy,
            "candidates": list(summary.candidates),
            "agreement": list(summary.agreement),
            "demos": list(summary.demos),
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    out_console.print(summary.text, markup=False)
    if summary.candidates:
        err_console.print(f"[dim]chosen from {len(summary.candidates)} candidates[/]")
