"""Reply strategies from the command line (issue 15): `ask --json` with best-of-n lists every
candidate ranked with its scores; --strategy/--n/--rounds/--time-budget/--token-budget and the
[reply] table fail in one line; ask runs the reply guards as a chat does; the embedded backend
gets a slot per candidate; the chat REPL shows kept candidates on /regenerate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from personae.characters.bundled import bundled_characters
from personae.cli import chat as chat_cli
from personae.cli.common import reply_strategy, with_strategy
from personae.config import Settings, load_settings
from personae.errors import InvalidInput
from personae.settings.reply import ReplyStrategy
from tests.unit.test_cli import CliBackend, one_line_error, run, scripted  # noqa: F401

GOOD = "The game is afoot: a letter came this morning from Lestrade, about a stolen ring."
ALSO_GOOD = "Sit down. Lestrade writes of a ring stolen in Kent; the case has some promise."
AI = "As an AI language model, I cannot help with that request, but I can try another."
GREETING = bundled_characters()["sherlock"].first_mes
QUESTION = "Anything new this evening, Mr Holmes?"
SCRIPTED = ("--backend", "cli-scripted")


@pytest.fixture
def by_seed(
    scripted: type[CliBackend],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> dict[int, Any]:
    """Replies by the request's seed: best-of-N asks for its candidates on threads, in no
    fixed order, with seeds seed, seed + 1, …"""
    seeds: dict[int, Any] = {}
    original = CliBackend.__init__

    def init(self: CliBackend, *args: Any, **kw: Any) -> None:
        original(self, *args, **kw)
        self.by_seed = seeds

    monkeypatch.setattr(CliBackend, "__init__", init)
    return seeds


def ask_json(*args: str) -> dict[str, Any]:
    result = run("ask", "sherlock", QUESTION, *SCRIPTED, "--json", *args)
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def test_ask_json_best_of_n_lists_every_candidate_ranked_with_scores(
    by_seed: dict[int, Any],
) -> None:
    by_seed.update({7: AI, 8: GOOD, 9: GREETING, 10: ALSO_GOOD})
    payload = ask_json("--strategy", "best-of-n", "--n", "4", "--seed", "7")
    assert len(CliBackend.seen) == 4
    assert payload["strategy"] == {
        "name": "best-of-n",
        "n": 4,
        "rounds": 1,
        "time_budget_s": None,
        "token_budget": None,
    }
    candidates = payload["candidates"]
    assert len(candidates) == 4 and payload["rounds"] == 1
    assert payload["reply"] == candidates[0]["text"] and payload["reply"] in (GOOD, ALSO_GOOD)
    # Those passing every gate first, then by total.
    assert [c["passed"] for c in candidates] == [True, True, False, False]
    for group in (candidates[:2], candidates[2:]):
        assert group[0]["total"] >= group[1]["total"]
    assert {c["text"] for c in candidates[:2]} == {GOOD, ALSO_GOOD}
    assert {c["index"] for c in candidates} == {0, 1, 2, 3}
    for c in candidates:
        assert c["scores"] and {"verifier", "value", "passed", "reason"} <= set(c["scores"][0])
        assert all(s["reason"] and 0 <= s["value"] <= 1 for s in c["scores"])
    fidelity = {c["text"][:20]: _score(c, "fidelity") for c in candidates[2:]}
    assert all(not s["passed"] for s in fidelity.values()), fidelity
    # Timings: first token, first text shown (after the choice), chosen, whole reply.
    for key in ("ttft_ms", "shown_ms", "chosen_ms", "duration_ms"):
        assert isinstance(payload[key], float) and payload[key] >= 0, key
    assert payload["ttft_ms"] <= payload["chosen_ms"] <= payload["duration_ms"]
    assert payload["usage"]["completion_tokens"] > 0


def _score(candidate: dict[str, Any], verifier: str) -> dict[str, Any]:
    return next(s for s in candidate["scores"] if s["verifier"] == verifier)


def test_ask_json_single_says_so_and_lists_no_candidates(scripted: type[CliBackend]) -> None:  # noqa: F811
    scripted.script.append(GOOD)
    payload = ask_json()
    assert payload["strategy"]["name"] == "single" and payload["candidates"] == []
    assert payload["reply"] == GOOD and payload["chosen_ms"] is None
    assert payload["attempts"] == ["shown"]


def test_ask_text_prints_the_reply_alone_and_says_it_is_choosing_only_in_a_terminal(
    by_seed: dict[int, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    by_seed.update({7: AI, 8: GOOD})
    args = ("ask", "sherlock", QUESTION, *SCRIPTED, "--strategy", "best-of-n", "--n", "2")
    result = run(*args, "--seed", "7")
    assert result.exit_code == 0 and result.stdout == GOOD + "\n"
    assert "choosing" not in result.stderr  # not a terminal
    monkeypatch.setattr(chat_cli, "_terminal", lambda: True)
    result = run(*args, "--seed", "7")
    assert result.stdout == GOOD + "\n"
    assert "(choosing among 2 candidates…)" in result.stderr


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (("--strategy", "best-of-three"), "--strategy 'best-of-three' is unknown: use one of"),
        (("--strategy", ""), "--strategy '' is unknown"),
        (("--strategy", "auto", "--n", "0"), "--n must be a whole number from 1 to 8, not '0'"),
        (("--strategy", "best-of-n", "--n", "9"), "--n must be a whole number from 1 to 8"),
        (("--strategy", "best-of-n", "--n", "four"), "not 'four'"),
        (("--strategy", "best-of-n", "--n", "2.5"), "--n must be a whole number"),
        (("--strategy", "refine", "--rounds", "4"), "--rounds must be a whole number from 0 to 3"),
        (("--strategy", "auto", "--time-budget", "0"), "--time-budget must be a number of seconds"),
        (("--strategy", "auto", "--time-budget", "soon"), "not 'soon'"),
        (("--strategy", "auto", "--time-budget", "nan"), "--time-budget must be"),
        (("--strategy", "auto", "--time-budget", "601"), "at most 600"),
        (("--strategy", "auto", "--token-budget", "-5"), "--token-budget must be a whole number"),
    ],
)
@pytest.mark.parametrize("command", ["ask", "chat"])
def test_a_bad_strategy_flag_is_one_line_and_nothing_is_generated(
    scripted: type[CliBackend],  # noqa: F811
    command: str,
    flags: tuple[str, ...],
    needle: str,
) -> None:
    args = ("ask", "sherlock", "hi") if command == "ask" else ("chat", "sherlock", "--no-memory")
    result = run(*args, *SCRIPTED, *flags, stdin="hi\n")
    assert result.exit_code == 1
    err = one_line_error(result)
    assert needle in err, err
    assert CliBackend.seen == [] and result.stdout == ""


def test_a_flag_the_strategy_does_not_use_is_said_on_stderr(scripted: type[CliBackend]) -> None:  # noqa: F811
    scripted.script.append(GOOD)
    result = run("ask", "sherlock", QUESTION, *SCRIPTED, "--n", "3")
    assert result.exit_code == 0 and result.stdout == GOOD + "\n"
    assert "--n has no effect with the single strategy" in result.stderr


def test_flags_override_the_reply_table(personae_home: Path) -> None:
    (personae_home / "config.toml").write_text(
        '[reply]\nstrategy = "refine"\nrounds = 2\ntime_budget_s = 30\n', encoding="utf-8"
    )
    configured = load_settings().reply
    assert configured == ReplyStrategy("refine", rounds=2, time_budget_s=30)
    flags = {"strategy": "Best_Of_N", "n": " 6 ", "time_budget": "2.5"}
    assert reply_strategy(flags, configured) == ReplyStrategy(
        "best-of-n", n=6, rounds=2, time_budget_s=2.5
    )
    assert reply_strategy({}, configured) == configured
    with pytest.raises(InvalidInput, match="--token-budget") as caught:
        reply_strategy({"token_budget": "0"}, configured)
    assert caught.value.param == "token_budget"


def test_the_reply_table_sets_the_strategy_of_ask(
    by_seed: dict[int, Any], personae_home: Path
) -> None:
    (personae_home / "config.toml").write_text(
        '[reply]\nstrategy = "best-of-n"\nn = 2\n', encoding="utf-8"
    )
    by_seed.update({7: AI, 8: GOOD})
    payload = ask_json("--seed", "7")
    assert payload["strategy"]["name"] == "best-of-n" and payload["strategy"]["n"] == 2
    assert payload["reply"] == GOOD and len(payload["candidates"]) == 2
    # A flag wins over the table.
    CliBackend.script.append(ALSO_GOOD)
    payload = ask_json("--strategy", "single")
    assert payload["strategy"]["name"] == "single" and payload["reply"] == ALSO_GOOD


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ("reply = 3", "[reply] must be a table"),
        (
            '[reply]\nstrategy = "best-of-3"',
            "[reply] strategy must be one of 'single', 'best-of-n', 'refine' or 'auto', "
            "not 'best-of-3'",
        ),
        ("[reply]\nstrategy = 4", "[reply] strategy must be one of"),
        ("[reply]\nn = 0", "[reply] n must be a whole number from 1 to 8, not 0"),
        ('[reply]\nn = "4"', "[reply] n must be a whole number from 1 to 8, not '4'"),
        ("[reply]\nrounds = 1.5", "[reply] rounds must be a whole number from 0 to 3"),
        ("[reply]\ntime_budget_s = -1", "[reply] time_budget_s must be a number of seconds"),
        ("[reply]\ntoken_budget = true", "[reply] token_budget must be a whole number"),
        ("[reply]\nbudget = 10", "[reply] has no setting 'budget': use strategy, n, rounds"),
    ],
)
@pytest.mark.parametrize("command", [("ask", "sherlock", "hi", *SCRIPTED), ("card", "list")])
def test_a_bad_reply_table_is_one_line_naming_the_file_and_the_key(
    personae_home: Path, table: str, needle: str, command: tuple[str, ...]
) -> None:
    config = personae_home / "config.toml"
    config.write_text(table + "\n", encoding="utf-8")
    err = one_line_error(run(*command))
    assert err.startswith(f"error: {config}: ") and needle in err, err
    assert CliBackend.seen == []


def test_ask_runs_the_reply_guards_as_a_chat_does(
    scripted: type[CliBackend],  # noqa: F811
    personae_home: Path,
) -> None:
    # The model replays the greeting: the guard throws that try away and asks again.
    scripted.script.extend([GREETING, GOOD])
    result = run("ask", "sherlock", QUESTION, *SCRIPTED)
    assert result.exit_code == 0 and result.stdout == GOOD + "\n"
    assert len(CliBackend.seen) == 2
    scripted.script.extend([GREETING, GOOD])
    assert ask_json()["attempts"] == ["retry", "shown"]
    # reply_guard = false: the reply is shown unchecked, as before.
    (personae_home / "config.toml").write_text("reply_guard = false\n", encoding="utf-8")
    scripted.script.clear()
    scripted.script.extend([GREETING, GOOD])
    payload = ask_json()
    assert payload["attempts"] == ["shown"] and "Mrs Hudson" in payload["reply"]


def embedded(**options: Any) -> Settings:
    return Settings(backend="embedded", backend_options=options)


@pytest.mark.parametrize(
    ("settings", "strategy", "slots"),
    [
        (embedded(), ReplyStrategy("best-of-n", n=4), 4),
        (embedded(), ReplyStrategy("auto", n=3), 3),
        (embedded(n_parallel=2), ReplyStrategy("best-of-n", n=4), 4),
        (embedded(n_parallel="2"), ReplyStrategy("best-of-n", n=4), 4),  # from the environment
        (embedded(n_parallel=8), ReplyStrategy("best-of-n", n=4), 8),  # more is kept
        (embedded(), ReplyStrategy("single"), None),
        (embedded(), ReplyStrategy("refine", n=4), None),  # one candidate a round
        (embedded(), ReplyStrategy("best-of-n", n=1), None),
        (embedded(n_parallel="x"), ReplyStrategy("best-of-n"), "x"),  # the backend reports it
        (embedded(n_parallel=0), ReplyStrategy("best-of-n"), 0),
        (Settings(backend="openai"), ReplyStrategy("best-of-n", n=4), None),
    ],
)
def test_the_embedded_backend_gets_a_slot_per_candidate(
    settings: Settings, strategy: ReplyStrategy, slots: Any
) -> None:
    made = with_strategy(settings, strategy)
    assert made.reply == strategy
    assert made.backend_options.get("n_parallel") == slots
    assert settings.backend_options.get("n_parallel") != 4 or slots == 4  # not changed in place


def test_ask_builds_the_embedded_backend_with_n_parallel(
    by_seed: dict[int, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Settings] = []

    def make_backend(settings: Settings, **_: Any) -> CliBackend:
        built.append(settings)
        return CliBackend()

    monkeypatch.setattr(chat_cli, "make_backend", make_backend)
    by_seed.update({7: GOOD, 8: AI, 9: AI, 10: AI})
    result = run("ask", "sherlock", QUESTION, "--strategy", "best-of-n", "--n", "4", "--seed", "7")
    assert result.exit_code == 0 and result.stdout == GOOD + "\n"
    [settings] = built
    assert settings.backend == "embedded" and settings.backend_options["n_parallel"] == 4


def test_chat_regenerate_shows_the_kept_candidate_at_once(
    by_seed: dict[int, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chat_cli, "_terminal", lambda: True)
    by_seed.update({7: GOOD, 8: ALSO_GOOD})
    flags = ("--strategy", "best-of-n", "--n", "2", "--seed", "7", "--no-memory")
    lines = f"{QUESTION}\n/regenerate\n/help\n"
    result = run("chat", "sherlock", *SCRIPTED, *flags, stdin=lines)
    assert result.exit_code == 0, result.output
    assert len(CliBackend.seen) == 2  # the regenerated reply was kept, not generated
    assert GOOD in result.stdout and ALSO_GOOD in result.stdout
    assert "(choosing among 2 candidates…)" in result.stderr
    assert "(swipe 1 of 1, kept from this turn; /regenerate makes new ones)" in result.stderr
    assert "swipes" in result.stderr  # /help says what /regenerate does with them
