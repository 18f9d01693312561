"""Playing the fidelity set on the scripted backend: the transcript records, the replay cache
(an interrupted run resumes without asking the model again), and the files written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

from personae.backends import register_backend
from personae.cli import cli, eval_fidelity_play
from personae.errors import BackendError
from personae.evaluation.fidelity.transcripts import CARD_FIELDS
from personae.evaluation.tasks.fidelity_play import (
    RECORD_KEYS,
    ReplayCache,
    _reply_stats,
    _Request,
    play_conversation,
    play_set,
)
from personae.evaluation.tasks.fidelity_set import Conversation, ScriptedTurn
from personae.evaluation.tasks.fidelity_transcripts import read_records, transcript_paths
from personae.memory.bank import MemoryBank
from personae.store import Database
from tests.support.embedder import HashEmbedder
from tests.support.scripted import ScriptedBackend

TURNS = (
    ScriptedTurn("My name is Ana.", "en", "name"),
    ScriptedTurn("Are you an AI?", "en", "ai"),
    ScriptedTurn("Do you use a smartphone?", "en", "modern_tech", terms=("app", "wifi")),
)
SHERLOCK = Conversation("sherlock-en", "en", "Ana", TURNS, character="sherlock")
KEEPER = Conversation(
    "keeper-ko",
    "ko",
    "민지",
    (ScriptedTurn("안녕하세요, 저는 민지예요.", "ko", "name"),),
    role="retired lighthouse keeper, INFP",
    role_language="ko",
)
REPLIES = ("Ana, then. Sit down.", "I am Sherlock Holmes.", "A what, madam?")


def bank(db: Database) -> MemoryBank:
    return MemoryBank(db, embedder=HashEmbedder())


def cached(tmp_path: Path, *replies: Any) -> tuple[ScriptedBackend, ReplayCache]:
    inner = ScriptedBackend().enqueue(*replies)
    return inner, ReplayCache(inner, tmp_path / "cache" / "scripted.jsonl")


def reply_calls(inner: ScriptedBackend) -> list[str]:
    """The user messages the character's replies were asked for (memory's calls left out)."""
    return [m[-1].content for m, _ in inner.calls if m[-1].role == "user"]


def test_records_follow_the_transcript_format(tmp_path: Path) -> None:
    inner, backend = cached(tmp_path, *REPLIES)
    played = play_conversation(SHERLOCK, backend, make_bank=bank)
    records = played.records
    assert [tuple(r) for r in records] == [RECORD_KEYS] * 3
    first, second, third = records
    assert [r["turn"] for r in records] == [1, 2, 3]
    assert [r["reply"] for r in records] == list(REPLIES)
    assert first["conversation"] == "sherlock-en" and first["character"] == "sherlock"
    assert first["model"] == "scripted" and first["user_name"] == "Ana"
    assert first["user"] == "My name is Ana." and first["finish_reason"] == "stop"
    # History: everything before this user message, the greeting first.
    assert [m["role"] for m in first["history"]] == ["assistant"]
    assert first["history"][0]["content"].startswith("*The sitting room at 221B")
    assert second["history"][1:] == [
        {"role": "user", "content": "My name is Ana."},
        {"role": "assistant", "content": REPLIES[0]},
    ]
    assert first["card"]["name"] == "Sherlock Holmes"
    assert set(first["card"]) == set(CARD_FIELDS)
    assert "{{user}}" not in first["card"]["mes_example"] and "Ana:" in first["card"]["mes_example"]
    assert (first["probe"], first["probe_terms"]) == ("name", None)
    assert (third["probe"], third["probe_terms"]) == ("modern_tech", ["app", "wifi"])
    assert all(isinstance(r["ttft_ms"], float) for r in records)
    assert all(r["prompt_tokens_processed"] == 10 for r in records)  # the scripted usage
    assert reply_calls(inner) == [t.user for t in TURNS]
    json.dumps(records)  # plain JSON


def test_records_read_back_with_the_scorers_reader(tmp_path: Path) -> None:
    transcripts = pytest.importorskip("personae.evaluation.fidelity.transcripts")
    _, backend = cached(tmp_path, *REPLIES)
    for record in play_conversation(SHERLOCK, backend, make_bank=bank).records:
        row = transcripts.parse_record(record)
        assert row.reply == record["reply"]


def test_a_rerun_is_answered_from_the_cache_with_the_first_runs_numbers(tmp_path: Path) -> None:
    _, backend = cached(tmp_path, *REPLIES)
    first = play_conversation(SHERLOCK, backend, make_bank=bank)
    # Another process, another machine: a fresh backend that would answer differently.
    inner, again = cached(tmp_path, "Something else entirely.")
    second = play_conversation(SHERLOCK, again, make_bank=bank)
    assert inner.calls == [] and second.misses == 0 and second.hits == first.misses
    assert second.records == first.records
    assert second.model_s == first.model_s > 0


def test_an_interrupted_run_resumes_at_the_turn_it_stopped(tmp_path: Path) -> None:
    _, backend = cached(tmp_path, REPLIES[0], BackendError("the model went away"))
    with pytest.raises(BackendError):
        play_conversation(SHERLOCK, backend, make_bank=bank)
    inner, again = cached(tmp_path, "(warm-up)", *REPLIES[1:])
    played = play_conversation(SHERLOCK, again, make_bank=bank)
    assert [r["reply"] for r in played.records] == list(REPLIES)
    # Turn 1 came from the cache; the model first processes that prompt again (one token, to
    # warm its prompt cache as an unbroken run would have), then answers turns 2 and 3.
    assert reply_calls(inner) == ["My name is Ana.", "Are you an AI?", "Do you use a smartphone?"]
    assert inner.calls[0][1].max_tokens == 1


def test_a_changed_prompt_is_played_afresh(tmp_path: Path) -> None:
    _, backend = cached(tmp_path, *REPLIES)
    play_conversation(SHERLOCK, backend, make_bank=bank)
    renamed = Conversation("sherlock-en", "en", "Watson", TURNS, character="sherlock")
    inner, again = cached(tmp_path, "New.", "Replies.", "Here.")
    played = play_conversation(renamed, again, make_bank=bank)
    assert [r["reply"] for r in played.records] == ["New.", "Replies.", "Here."]


def test_an_empty_reply_is_recorded_and_the_chat_goes_on(tmp_path: Path) -> None:
    _, backend = cached(tmp_path, "", "", REPLIES[1], REPLIES[2])
    records = play_conversation(SHERLOCK, backend, make_bank=bank).records
    assert (records[0]["reply"], records[0]["finish_reason"]) == ("", "empty")
    assert [r["reply"] for r in records[1:]] == list(REPLIES[1:])
    # The empty reply is not part of what the user saw.
    assert [m["role"] for m in records[1]["history"]] == ["assistant", "user"]


def test_a_turn_too_long_for_the_context_is_an_error_record_and_the_chat_goes_on(
    tmp_path: Path,
) -> None:
    inner = ScriptedBackend(n_ctx=1200).enqueue(*REPLIES)
    backend = ReplayCache(inner, tmp_path / "cache.jsonl")
    long = ScriptedTurn("word " * 1000, "en", "long_emotional")
    conversation = Conversation(
        "sherlock-en", "en", "Ana", (TURNS[0], long, TURNS[2]), character="sherlock"
    )
    played = play_conversation(conversation, backend, make_bank=bank)
    second = played.records[1]
    assert (second["reply"], second["finish_reason"], second["ttft_ms"]) == ("", "error", None)
    assert [r["reply"] for r in played.records] == [REPLIES[0], "", REPLIES[1]]
    assert len(played.errors) == 1 and played.errors[0].startswith("turn 2: ")


def test_a_reply_cut_at_the_users_line_replays_cut_at_the_same_place(tmp_path: Path) -> None:
    _, backend = cached(tmp_path, "Quite so.\nAna: and then I", *REPLIES[1:])
    first = play_conversation(SHERLOCK, backend, make_bank=bank).records
    assert first[0]["reply"] == "Quite so."
    inner, again = cached(tmp_path)
    assert play_conversation(SHERLOCK, again, make_bank=bank).records == first
    assert inner.calls == []


def test_reply_cost_counts_every_try_and_is_unknown_when_a_try_had_no_usage() -> None:
    def asked(text: str, usage: dict[str, int] | None) -> _Request:
        return _Request(
            "reply", False, {"text": text, "usage": usage, "ttft_ms": 5.0, "duration_ms": 40.0}
        )

    full = {"prompt_tokens": 900, "cached_tokens": 600}
    retry = {"prompt_tokens": 900, "cached_tokens": 899}
    assert _reply_stats([asked("Hello", full)]) == {"ttft_ms": 5.0, "prompt_tokens_processed": 300}
    # An empty first try, then the retry: the user waited through both.
    both = _reply_stats([asked("", full), asked("Hello", retry)])
    assert both == {"ttft_ms": 45.0, "prompt_tokens_processed": 301}
    # A first try cut at the user's line has no usage: its prefill is unknown, not zero.
    cut = _reply_stats([asked("Ana:", None), asked("Hello", retry)])
    assert cut == {"ttft_ms": 45.0, "prompt_tokens_processed": None}


def test_a_role_template_conversation_plays_the_built_card(tmp_path: Path) -> None:
    _, backend = cached(tmp_path, "어서 오이소.")
    [record] = play_conversation(KEEPER, backend, make_bank=bank).records
    assert record["character"] != "sherlock" and record["reply"] == "어서 오이소."
    built = KEEPER.role_character()
    assert built is not None and record["card"]["name"] == built.name
    assert (
        "민지:" in record["card"]["mes_example"] and "{{user}}" not in record["card"]["mes_example"]
    )
    assert record["language"] == "ko" and record["user_name"] == "민지"


def test_play_set_writes_transcripts_and_markdown_and_keeps_other_conversations(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    _, backend = cached(tmp_path, *REPLIES, "어서 오이소.")
    played = play_set([SHERLOCK, KEEPER], backend, out, make_bank=bank, label="before")
    assert [p.conversation.id for p in played] == ["sherlock-en", "keeper-ko"]
    jsonl, markdown = transcript_paths(out, "scripted", "before")
    assert jsonl.name == "transcripts_scripted_before.jsonl"
    assert [(r["conversation"], r["turn"]) for r in read_records(jsonl)] == [
        ("keeper-ko", 1),
        ("sherlock-en", 1),
        ("sherlock-en", 2),
        ("sherlock-en", 3),
    ]
    text = markdown.read_text(encoding="utf-8")
    assert "## sherlock-en: Sherlock Holmes" in text and "> A what, madam?" in text
    assert "probe: modern_tech" in text
    # Playing one conversation again replaces its records only.
    _, again = cached(tmp_path)
    play_set([SHERLOCK], again, out, make_bank=bank, label="before")
    assert len(read_records(jsonl)) == 4


class PlayBackend(ScriptedBackend):
    """What the CLI builds: every instance shares one script."""

    name: ClassVar[str] = "fidelity-play-scripted"
    script: ClassVar[list[Any]] = []

    def __init__(self, model: str = "scripted", **kw: Any) -> None:
        super().__init__(model, **kw)
        self.queue = PlayBackend.script


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(cli, ["eval", "fidelity", "play", *args], catch_exceptions=False)


@pytest.fixture
def play_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    register_backend(PlayBackend.name, PlayBackend)
    PlayBackend.script.clear()
    monkeypatch.setattr(eval_fidelity_play, "_bank", bank)


def test_cli_plays_one_characters_conversation(play_cli: None, tmp_path: Path) -> None:
    PlayBackend.script.extend(f"Reply {n}." for n in range(1, 14))
    args = ("--backend", PlayBackend.name, "--model", "actor", "--out", str(tmp_path))
    result = run_cli("--character", "elizabeth", *args, "--label", "before")
    assert result.exit_code == 0, result.output
    records = read_records(tmp_path / "transcripts_actor_before.jsonl")
    assert [r["reply"] for r in records] == [f"Reply {n}." for n in range(1, 14)]
    assert {r["conversation"] for r in records} == {"elizabeth-en"}
    assert (tmp_path / "cache" / "actor.jsonl").exists()
    assert "score them: personae eval fidelity score" in result.stderr
    # Again: every reply comes from the cache.
    again = run_cli("--character", "elizabeth", *args, "--label", "before")
    assert "(13 answered from the cache)" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--character", "moriarty"), "no conversation in the set plays 'moriarty'"),
        (("--set", "absent.json"), "no such conversation file or folder"),
    ],
)
def test_cli_bad_input_is_one_line(play_cli: None, args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args, "--backend", PlayBackend.name)
    assert result.exit_code != 0
    err = result.stderr.strip()
    assert err.startswith("error:") and "\n" not in err and message in err, err


def test_cli_bad_set_file_is_one_line(play_cli: None, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"id": "x", "character": "sherlock", "language": "en"}', encoding="utf-8")
    result = run_cli("--set", str(bad), "--backend", PlayBackend.name)
    err = result.stderr.strip()
    assert result.exit_code != 0 and "\n" not in err
    assert str(bad) in err and '"turns" must be a non-empty list' in err
