"""What every command checks when it starts (each PERSONAE_* variable, config.toml's [memory] and
[privacy] tables), and output that is wrapped only on a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.environment import VARIABLES, check_environment, env_value
from personae.errors import ConfigError
from personae.store import ChatRepository, Database
from tests.support.cli import run_cli
from tests.unit.test_cli import CliBackend, one_line_error, run, scripted  # noqa: F401

# One bad value for every variable personae reads, and a word its error must contain.
BAD_ENV = [
    ("PERSONAE_HOME", "   ", "folder"),
    ("PERSONAE_MODELS_DIR", "\t", "folder"),
    ("PERSONAE_BACKEND", "nope", "embedded, "),  # other tests register more backends
    ("PERSONAE_MODEL", "two\nlines", "model name"),
    ("PERSONAE_BASE_URL", "localhost:11434", "http(s) URL"),
    ("PERSONAE_DATABASE_URL", "mysql://db/x", "postgresql://user@host"),
    ("PERSONAE_DATABASE_URL", "sqlite:///", "postgresql://user@host"),
    ("PERSONAE_API_KEY", "sk-abc def", "ASCII"),
    ("PERSONAE_JUDGE_API_KEY", "sk-ключ", "ASCII"),
    ("PERSONAE_API_KEY_B", "sk\nabc", "ASCII"),
    ("PERSONAE_CTX", "abc", "256 to 131072"),
    ("PERSONAE_CTX", "100", "256 to 131072"),
    ("PERSONAE_THREADS", "1.5", "CPU threads"),
    ("PERSONAE_THREADS", "0", "CPU threads"),
    ("PERSONAE_USER", "x" * 65, "1-64 characters"),
    ("PERSONAE_USER_ID", "a b", "user id"),
    ("PERSONAE_DATA_DIR", "<file>", "folder"),
    ("PERSONAE_MALLOC_TUNING", "maybe", "on or off"),
]


def test_every_variable_is_covered() -> None:
    assert {name for name, _, _ in BAD_ENV} == set(VARIABLES)


@pytest.mark.parametrize(("name", "value", "allowed"), BAD_ENV)
@pytest.mark.parametrize("command", [("ask", "sherlock", "hi"), ("card", "list")])
def test_a_bad_environment_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    name: str,
    value: str,
    allowed: str,
    command: tuple[str, ...],
) -> None:
    if value == "<file>":
        (tmp_path / "f").write_text("", encoding="utf-8")
        value = str(tmp_path / "f")
    monkeypatch.setenv(name, value)
    err = one_line_error(run(*command))
    assert err.startswith(f"error: {name}") and allowed in err
    if "KEY" in name:
        assert value not in err and "(hidden)" in err  # a secret is never echoed


def test_the_command_itself_reports_a_bad_context_in_one_line(personae_home: Path) -> None:
    # The case, through the real entry point: once a 31-line traceback.
    for env in ({"PERSONAE_CTX": "abc"}, {"PERSONAE_MALLOC_TUNING": "sometimes"}):
        done = run_cli("ask", "sherlock", "hi", home=personae_home, env=env, timeout=60)
        name = next(iter(env))
        assert done.returncode == 1 and done.stdout == "", done.stderr
        assert done.stderr.startswith(f"error: {name}=") and done.stderr.count("\n") == 1


def test_good_and_empty_values_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONAE_BACKEND", "cli-scripted")
    monkeypatch.setenv("PERSONAE_CTX", " 2048 ")
    monkeypatch.setenv("PERSONAE_THREADS", "")  # empty counts as unset
    monkeypatch.setenv("PERSONAE_USER", "Watson")
    monkeypatch.setenv("PERSONAE_MALLOC_TUNING", "Off")
    CliBackend.script.append("Elementary.")
    result = run("ask", "sherlock", "Who?", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reply"] == "Elementary."
    assert env_value("PERSONAE_CTX") == 2048 and env_value("PERSONAE_THREADS") is None
    assert env_value("PERSONAE_MALLOC_TUNING") is False
    check_environment()


def test_the_library_reads_the_same_checked_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from personae.config import load_settings

    monkeypatch.setenv("PERSONAE_CTX", "4096")
    assert load_settings().backend_options["n_ctx"] == 4096
    monkeypatch.setenv("PERSONAE_CTX", "4k")
    with pytest.raises(ConfigError, match="PERSONAE_CTX='4k'"):
        load_settings()


BAD_CONFIG = [
    ('[memory]\nlines_k = "abc"\n', "[memory] lines_k"),
    ('[memory]\nkinds = ["dreams"]\n', "[memory] kinds"),
    ("[memory]\nnope = 1\n", "[memory] has no setting 'nope'"),
    ('[privacy]\nredaction = "shred"\n', "[privacy] redaction"),
    ('[privacy]\ntypes = ["SHOE_SIZE"]\n', "[privacy] types"),
]
COMMANDS = [
    ("ask", "sherlock", "hi", "--backend", "cli-scripted"),
    ("memory", "show"),
    ("card", "list"),
    ("chats", "list"),
    ("models", "list"),
]


@pytest.mark.parametrize(("text", "key"), BAD_CONFIG)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_config_value_stops_every_command(
    personae_home: Path, text: str, key: str, command: tuple[str, ...]
) -> None:
    config = personae_home / "config.toml"
    config.write_text(text, encoding="utf-8")
    err = one_line_error(run(*command))
    assert str(config) in err and key in err


def test_a_good_config_is_accepted(personae_home: Path) -> None:
    (personae_home / "config.toml").write_text(
        '[memory]\nlines_k = 3\n[privacy]\nredaction = "off"\n', encoding="utf-8"
    )
    assert run("card", "list").exit_code == 0


# --- wrapping --------------------------------------------------------------------------------
LONG = " ".join(f"word{i}" for i in range(60))  # ~420 characters: several terminal lines
# The reply is another long line: one that repeated the user's would be an echo, which the
# reply guard does not show.
REPLY = " ".join(f"reply{i}" for i in range(60))


def test_piped_output_is_not_wrapped(personae_home: Path) -> None:
    # CliRunner's output is not a terminal, like a pipe or a file.
    CliBackend.script.append(REPLY)
    first = run("chat", "sherlock", "--backend", "cli-scripted", "--no-memory", stdin=LONG + "\n")
    assert first.exit_code == 0, first.output
    # Resuming shows the recent messages through the console (greeting, the user's line, reply).
    again = run("chat", "sherlock", "--backend", "cli-scripted", "--no-memory", stdin="")
    [chat] = ChatRepository(Database(personae_home / "personae.db")).all()
    messages = ChatRepository(Database(personae_home / "personae.db")).messages(chat.id)
    assert [m.content for m in messages[1:]] == [LONG, REPLY]
    for result in (first, again):
        lines = result.stdout.splitlines()
        assert sum(line.endswith((": " + LONG, ": " + REPLY)) for line in lines) == 2, lines
        assert all(m.content in result.stdout for m in messages), lines  # unbroken


def test_a_terminal_still_wraps() -> None:
    import io

    from personae.cli.common import WrapOnTerminal

    screen = io.StringIO()
    WrapOnTerminal(file=screen, force_terminal=True, width=80).print(LONG)
    assert len(screen.getvalue().splitlines()) > 1
    piped = io.StringIO()
    WrapOnTerminal(file=piped, width=80).print(LONG, "[bold]and more[/]")
    assert piped.getvalue() == LONG + " and more\n"
