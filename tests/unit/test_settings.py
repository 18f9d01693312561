"""The typed settings tree (``personae.settings``): every table of ``config.toml`` is a model,
checked once when the file is read, and a bad value anywhere is one line naming the key."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from personae.config import load_settings
from personae.errors import ConfigError
from personae.settings import (
    MemorySection,
    PrivacySection,
    ReplyStrategy,
    ReplyTable,
    ServerSection,
    Settings,
)

# (the file's text, the message after "<path>: ") — for every table: a wrong type, a value out
# of range, and an unknown key.
BAD_FILES = [
    # the top level
    ("model = 5", "model must be text, not 5"),
    ("backend = []", "backend must be text, not []"),
    ("user_name = true", "user_name must be text, not True"),
    ('user_id = "a b"', "user_id: invalid user id 'a b': use 1-128 letters"),
    ('reply_guard = "no"', "reply_guard must be true or false, not 'no'"),
    ('modle = "x"', "unknown setting 'modle': use backend, model, user_name, user_id"),
    # [backend_options]: a table; its keys are the backend's (checked when it is built)
    ("backend_options = 3", "[backend_options] must be a table"),
    # [reply]
    ("reply = 3", "[reply] must be a table"),
    ('[reply]\nn = "4"', "[reply] n must be a whole number from 1 to 8, not '4'"),
    ("[reply]\nn = 9", "[reply] n must be a whole number from 1 to 8, not 9"),
    ("[reply]\nrounds = 4", "[reply] rounds must be a whole number from 0 to 3, not 4"),
    ("[reply]\ntime_budget_s = 601", "[reply] time_budget_s must be a number of seconds"),
    ("[reply]\ntoken_budget = 0", "[reply] token_budget must be a whole number from 1 to 65536"),
    ('[reply]\nstrategy = "best"', "[reply] strategy must be one of 'single', 'best-of-n'"),
    ("[reply]\nbudget = 1", "[reply] has no setting 'budget': use strategy, n, rounds"),
    # [memory]
    ("memory = 3", "[memory] must be a table"),
    ('[memory]\nlines_k = "3"', "[memory] lines_k must be a whole number >= 0, not '3'"),
    ("[memory]\nquery_tokens = 4", "[memory] query_tokens must be a whole number >= 8, not 4"),
    ("[memory]\ndecay = 1.5", "[memory] decay must be a number in (0, 1], not 1.5"),
    ("[memory]\ndecay = nan", "[memory] decay must be a number in (0, 1], not nan"),
    ("[memory]\nrecall_tokens = -1", "[memory] recall_tokens must be a whole number >= 0"),
    ('[memory]\nkinds = ["dreams"]', "[memory] kinds has an unknown memory 'dreams'"),
    ('[memory]\nfacts = "llm"', "[memory] facts must be 'rules' or 'model', not 'llm'"),
    ("[memory]\ntop_k = 5", "[memory] has no setting 'top_k': use kinds, lines_k"),
    ("[memory.weights]\nrecency = -1", "[memory.weights] recency must be a number >= 0, not -1"),
    ("[memory.weights]\nage = 1", "[memory.weights] has no setting 'age'"),
    ("[memory]\nsummary_keep = 0.9", "[memory] summary_keep (0.9) must not be more than"),
    # [privacy]
    ('privacy = "off"', "[privacy] must be a table"),
    ("[privacy]\nredaction = false", "[privacy] redaction must be one of 'mask', 'redact'"),
    ('[privacy]\ntypes = ["SHOE"]', "[privacy] types: unknown PII type 'SHOE'"),
    ("[privacy]\ntypes = 3", "[privacy] types must be a list of PII types"),
    ('[privacy]\ntranscripts = "yes"', "[privacy] transcripts must be 'keep' or 'redact'"),
    ('[privacy]\nmode = "mask"', "[privacy] has no setting 'mode': use redaction, types or"),
    # [server]
    ('server = "fast"', "[server] must be a table"),
    ('[server]\nparallel = "4"', "[server] parallel must be a whole number from 1 to 64, not '4'"),
    ("[server]\nparallel = 65", "[server] parallel must be a whole number from 1 to 64, not 65"),
    ("[server]\nmax_queue = -1", "[server] max_queue must be a whole number from 0 to 10,000"),
    ("[server]\nmax_queue_per_user = 0", "[server] max_queue_per_user must be a whole number"),
    ('[server]\ncors_origins = "*"', "[server] cors_origins must be a list of origins"),
    ('[server]\ncors_origins = ["a/b"]', "[server] cors_origins: 'a/b' is not an origin"),
    ('[server]\nallowed_hosts = ["a b"]', "[server] allowed_hosts: 'a b' is not a host name"),
    ("[server]\nslots = 4", "[server] has no setting 'slots': use parallel, max_queue"),
    ("[server]\nreply = 3", "[server] reply must be a table of tables, one per character id"),
    ("[server.reply]\nholmes = 4", "[server.reply.holmes] must be a table"),
    ("[server.reply.holmes]\nn = 9", "[server.reply.holmes] n must be a whole number from 1 to 8"),
    ('[server.reply.holmes]\nn = "2"', "[server.reply.holmes] n must be a whole number"),
    ("[server.reply.holmes]\ncolour = 1", "[server.reply.holmes] has no setting 'colour'"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_a_bad_value_anywhere_is_one_line_naming_the_file_and_the_key(
    personae_home: Path, text: str, message: str
) -> None:
    path = personae_home / "config.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    line = str(caught.value)
    assert line.startswith(f"{path}: {message}"), line
    assert "\n" not in line and "pydantic" not in line and "Input should" not in line


def test_the_error_names_the_key_as_its_param(personae_home: Path) -> None:
    (personae_home / "config.toml").write_text("[server.reply.holmes]\nn = 9\n")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.param == "server.reply.holmes.n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[server]\nslots = 4\n[memory]\nlines_k = "x"', "[memory] lines_k"),  # file order
        ("[memory]\nlines_k = -1\ndecay = 2", "[memory] lines_k"),
    ],
)
def test_the_first_bad_key_is_named(personae_home: Path, text: str, message: str) -> None:
    (personae_home / "config.toml").write_text(text + "\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings()


def test_every_command_checks_every_table_at_start(personae_home: Path) -> None:
    from tests.unit.test_cli import one_line_error, run

    (personae_home / "config.toml").write_text("[server]\nparallel = 0\n")
    err = one_line_error(run("card", "list"))
    assert err == (
        f"error: {personae_home / 'config.toml'}: [server] parallel must be a whole number "
        "from 1 to 64, not 0"
    )


def test_the_tree_is_typed(personae_home: Path) -> None:
    (personae_home / "config.toml").write_text(
        "reply_guard = false\n"
        '[reply]\nstrategy = "Best-of-N"\nn = 3\n'
        '[privacy]\nredaction = " Partial "\ntypes = "email,PHONE"\n'
        "[server]\nparallel = 3\nmax_queue_per_user = 4\n"
        'cors_origins = ["HTTP://Example.COM", "*"]\nallowed_hosts = ["MyBox.lan"]\n'
        '[server.reply.holmes]\nstrategy = "refine"\n'
    )
    s = load_settings()
    assert s.reply_guard is False and s.reply == ReplyStrategy("best-of-n", n=3)
    assert isinstance(s.server, ServerSection) and isinstance(s.privacy, PrivacySection)
    assert (s.server.parallel, s.server.max_queue, s.server.max_queue_per_user) == (3, 64, 4)
    assert s.server.cors_origins == ("http://example.com", "*")
    assert s.server.allowed_hosts == ("mybox.lan",)
    assert s.server.reply == {"holmes": ReplyTable(strategy="refine")}
    assert s.server.reply["holmes"].over(s.reply) == ReplyStrategy("refine", n=3)
    assert (s.privacy.redaction, s.privacy.types) == ("partial", frozenset({"EMAIL", "PHONE"}))
    with pytest.raises(Exception, match="frozen"):
        s.server.parallel = 5  # type: ignore[misc]


def test_keywords_are_checked_like_the_file() -> None:
    with pytest.raises(ConfigError, match=re.escape("[memory] lines_k must be a whole number")):
        Settings(memory={"lines_k": -1})
    with pytest.raises(ConfigError, match="^user_id: invalid user id"):
        Settings().with_overrides(user_id="a b")
    assert Settings(memory={"lines_k": 3}).memory == MemorySection(lines_k=3)
    assert Settings().with_overrides(model="m", n_ctx=512).backend_options == {"n_ctx": 512}


def test_a_section_read_alone_names_its_table() -> None:
    with pytest.raises(ConfigError, match=re.escape("[server] parallel must be")):
        ServerSection.parse({"parallel": 0})
    section = ServerSection.parse({"parallel": 2})
    with pytest.raises(ConfigError, match="^parallel must be a whole number from 1 to 64"):
        section.with_values({"parallel": 0})  # an argument, not the file's key
    assert section.with_values({"max_queue": 3}).parallel == 2


def test_precedence_environment_over_file_over_defaults(
    personae_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert load_settings() == Settings()
    (personae_home / "config.toml").write_text(
        'model = "from-file"\nuser_id = "ana"\n[backend_options]\nn_ctx = 1024\n'
    )
    s = load_settings()
    assert (s.model, s.user_id, s.backend_options) == ("from-file", "ana", {"n_ctx": 1024})
    monkeypatch.setenv("PERSONAE_MODEL", "from-env")
    monkeypatch.setenv("PERSONAE_USER_ID", "bob")
    monkeypatch.setenv("PERSONAE_CTX", "2048")
    s = load_settings()
    assert (s.model, s.user_id, s.backend_options) == ("from-env", "bob", {"n_ctx": 2048})
    s = s.with_overrides(model="from-flag", n_ctx=4096)  # what a command's flags do
    assert (s.model, s.backend_options["n_ctx"]) == ("from-flag", 4096)


def test_settings_import_nothing_above_them() -> None:
    """``personae.config``/``environment``/``settings`` sit below the store, the agent, memory,
    the server and the CLI: reading the settings imports none of them (no config<->store
    circle), and the server does not import the CLI."""
    code = (
        "import sys\n"
        "from personae.config import load_settings\n"
        "import personae.environment\n"
        "load_settings()\n"
        "above = ('agent', 'store', 'memory', 'server', 'cli', 'backends', 'evaluation')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[:2][-1] in above\n"
        "             and m.startswith('personae.'))\n"
        "assert not bad, bad\n"
        "import personae.server.app, personae.server.backend_pool\n"
        "cli = sorted(m for m in sys.modules if m.startswith('personae.cli'))\n"
        "assert not cli, cli\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
