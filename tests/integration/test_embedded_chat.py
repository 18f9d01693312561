"""End to end on the real embedded runtime (xllamacpp + SmolLM2), real SQLite, real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.agent import Turn
from personae.backends import GenerationParams, Message, collect, get_backend
from personae.errors import ContextOverflow
from personae.store import ChatRepository, Database
from tests.support.cli import run_cli

pytestmark = pytest.mark.integration


def test_three_turn_chat_through_the_cli(real_model: str, personae_home: Path) -> None:
    lines = "Good evening, Mr Holmes.\nWhat do you deduce about me?\n/regenerate\nThank you.\n"
    result = run_cli(
        "chat",
        "sherlock",
        "--model",
        real_model,
        "--max-tokens",
        "40",
        "--seed",
        "3",
        stdin=lines,
        home=personae_home,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Sherlock Holmes: ") >= 4  # greeting + 3 turns (+ regenerate)
    db = Database(personae_home / "personae.db")
    [chat] = ChatRepository(db).all("sherlock")
    messages = ChatRepository(db).messages(chat.id)
    assert [m.role for m in messages] == ["assistant"] + ["user", "assistant"] * 3
    replies = messages[2::2]
    assert all(m.complete and m.model == real_model and m.completion_tokens for m in replies)
    # a second run resumes the same chat and uses the prompt cache-friendly history
    again = run_cli(
        "chat",
        "sherlock",
        "--model",
        real_model,
        "--max-tokens",
        "20",
        stdin="And Moriarty?\n",
        home=personae_home,
    )
    assert again.returncode == 0, again.stderr
    assert len(ChatRepository(db).messages(chat.id)) == len(messages) + 2


def test_ask_json(real_model: str, personae_home: Path) -> None:
    result = run_cli(
        "ask",
        "sherlock",
        "Who are you?",
        "--model",
        real_model,
        "--json",
        "--max-tokens",
        "24",
        home=personae_home,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["character"] == "sherlock" and payload["model"] == real_model
    assert payload["reply"] and payload["usage"]["completion_tokens"] > 0


def test_backend_streams_counts_tokens_and_reuses_cache(real_model: str) -> None:
    backend = get_backend("embedded", model=real_model, n_ctx=2048)
    assert backend.count_tokens("Hello world") >= 2  # type: ignore[attr-defined]
    messages = [Message("system", "You are terse."), Message("user", "Say hi.")]
    params = GenerationParams(max_tokens=8, temperature=0.0)
    text, final = collect(backend.stream(messages, params))
    assert final.finish_reason in ("stop", "length") and final.usage is not None
    _, again = collect(backend.stream(messages, params))
    assert again.usage is not None and again.usage.cached_tokens > 0
    # early close cancels cleanly and the slot is usable again
    stream = backend.stream(messages, GenerationParams(max_tokens=64))
    next(iter(stream))
    stream.close()  # type: ignore[attr-defined]
    text2, _ = collect(backend.stream(messages, params))
    assert text2 == text


def test_context_overflow_is_a_clear_error(real_model: str) -> None:
    backend = get_backend("embedded", model=real_model, n_ctx=256)
    with pytest.raises(ContextOverflow, match="--ctx"):
        collect(backend.stream([Message("user", "word " * 600)], GenerationParams(max_tokens=8)))
    from personae.agent import Agent
    from tests.support.factories import make_character

    agent = Agent(make_character(description="d " * 400), backend)
    with pytest.raises(ContextOverflow):
        agent.reply([Turn("user", "hi")])


def test_cli_errors_are_one_line(personae_home: Path) -> None:
    cases = [
        ("chat", "nobody"),
        ("card", "import", str(personae_home / "missing.png")),
        ("ask", "sherlock", "hi", "--model", "no-such-model"),
        (
            "ask",
            "sherlock",
            "hi",
            "--backend",
            "openai",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--model",
            "x",
        ),
        ("card", "show", "../etc"),
    ]
    for args in cases:
        result = run_cli(*args, home=personae_home)
        assert result.returncode != 0, args
        err = result.stderr.strip()
        assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, (args, err)
