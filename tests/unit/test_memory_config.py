"""The ``[memory]`` and ``[privacy]`` tables of ``config.toml``: typed and checked by
``load_settings`` (``personae.settings``), turned into the memory code's settings by
``personae.memory.from_settings``, every mistake a ConfigError naming the key."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest

from personae.config import load_settings
from personae.errors import ConfigError, InvalidInput
from personae.memory.episodic import Weights
from personae.memory.from_settings import KEYS, memory_settings, redaction_policy
from personae.memory.manager import MEMORY_KINDS, MIN_QUERY_TOKENS, MemorySettings
from personae.privacy import DEFAULT_POLICY, PII_TYPES, RedactionPolicy
from personae.settings import MemorySection, PrivacySection, Settings
from personae.settings.memory import MEMORY_KINDS as SECTION_KINDS
from personae.settings.memory import MIN_QUERY_TOKENS as SECTION_MIN_QUERY_TOKENS
from tests.unit.test_cli import CliBackend, one_line_error, run, scripted  # noqa: F401


def config(home: Path, text: str) -> Path:
    path = home / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- load_settings ------------------------------------------------------------------------------


def test_without_a_config_file_the_tables_are_the_defaults_and_the_user_local() -> None:
    s = load_settings()
    assert (s.memory, s.privacy, s.user_id) == (MemorySection(), PrivacySection(), "local")
    assert not s.memory.model_fields_set and not s.privacy.model_fields_set
    assert memory_settings(s.memory) == MemorySettings()
    assert redaction_policy(s.privacy) == DEFAULT_POLICY


def test_tables_are_read_from_the_data_directory(personae_home: Path) -> None:
    config(
        personae_home,
        'user_id = "ana"\n'
        "[memory]\n"
        'kinds = ["episodic", "profile"]\n'
        'profile_scope = "character"\n'
        "lines_k = 5\n"
        "[memory.weights]\n"
        "recency = 0.5\n"
        "[privacy]\n"
        'redaction = "partial"\n'
        'types = ["EMAIL", "phone"]\n',
    )
    s = load_settings()
    assert s.user_id == "ana"
    assert s.memory.model_fields_set == {"kinds", "profile_scope", "lines_k", "weights"}
    assert (s.memory.kinds, s.memory.profile_scope, s.memory.lines_k) == (
        ("episodic", "profile"),
        "character",
        5,
    )
    assert s.memory.weights.model_fields_set == {"recency"} and s.memory.weights.recency == 0.5
    chosen = memory_settings(s.memory)
    assert (chosen.lines, chosen.episodic, chosen.summary, chosen.profile) == (
        False,
        True,
        False,
        True,
    )
    assert chosen.profile_scope == "character" and chosen.lines_k == 5
    assert chosen.weights == Weights(recency=0.5)
    assert redaction_policy(s.privacy) == RedactionPolicy(
        mode="partial", types=frozenset({"EMAIL", "PHONE"})
    )


def test_config_file_argument(tmp_path: Path) -> None:
    path = config(tmp_path, '[privacy]\nredaction = "off"\n')
    assert load_settings(config_file=path).privacy.redaction == "off"
    assert load_settings().privacy == PrivacySection()  # the data directory's file is not read


@pytest.mark.parametrize(
    "text", ["memory = 3", 'privacy = "off"', "[[memory]]\nlines_k = 1", "memory = [1, 2]"]
)
def test_a_memory_or_privacy_that_is_not_a_table(personae_home: Path, text: str) -> None:
    name = "memory" if "memory" in text else "privacy"
    config(personae_home, text)
    with pytest.raises(ConfigError, match=re.escape(f"[{name}] must be a table")):
        load_settings()


def test_user_id_from_the_environment_wins(
    personae_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config(personae_home, 'user_id = "ana"\n')
    monkeypatch.setenv("PERSONAE_USER_ID", "bob")
    assert load_settings().user_id == "bob"
    monkeypatch.setenv("PERSONAE_USER_ID", "")  # set but empty: as if unset
    assert load_settings().user_id == "ana"


@pytest.mark.parametrize("text", ['user_id = ""', 'user_id = "a b"', 'user_id = "-x"'])
def test_a_bad_user_id_in_the_file_names_the_key(personae_home: Path, text: str) -> None:
    config(personae_home, text)
    with pytest.raises(ConfigError, match=r"config\.toml: user_id: invalid user id"):
        load_settings()


def test_a_bad_user_id_in_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PERSONAE_USER_ID", "not ok!")
    with pytest.raises(ConfigError, match="PERSONAE_USER_ID: invalid user id 'not ok!'"):
        load_settings()


# -- memory_settings ----------------------------------------------------------------------------


def test_memory_defaults() -> None:
    s = memory_settings({})
    assert s == MemorySettings()
    assert all(getattr(s, kind) for kind in MEMORY_KINDS)


def test_every_memory_key() -> None:
    table: dict[str, Any] = {
        "kinds": ["lines", "summary"],
        "weights": {"recency": 2, "importance": 0.5, "relevance": 3.0},
        "lines_k": 1,
        "episodes_k": 2,
        "search_depth": 7,
        "query_tokens": 16,
        "decay": 0.9,
        "reflection_threshold": 40,  # an integer is a fine float
        "summary_trigger": 0.8,
        "summary_keep": 0.3,
        "profile_tokens": 120,
        "recall_tokens": 300,
        "profile_scope": "character",
        "importance": "model",
        "facts": "model",
        "reflect": False,
    }
    assert set(table) == set(KEYS)
    s = memory_settings(table)
    assert s == MemorySettings(
        lines=True,
        episodic=False,
        summary=True,
        profile=False,
        reflect=False,
        lines_k=1,
        episodes_k=2,
        search_depth=7,
        query_tokens=16,
        weights=Weights(recency=2.0, importance=0.5, relevance=3.0),
        decay=0.9,
        reflection_threshold=40.0,
        profile_scope="character",
        importance="model",
        facts="model",
        summary_trigger=0.8,
        summary_keep=0.3,
        profile_tokens=120,
        recall_tokens=300,
    )
    assert isinstance(s.reflection_threshold, float) and isinstance(s.weights.recency, float)


def test_kinds_argument_overrides_the_table() -> None:
    s = memory_settings({"kinds": ["profile"], "lines_k": 9}, kinds=["lines", "episodic"])
    assert (s.lines, s.episodic, s.summary, s.profile, s.lines_k) == (True, True, False, False, 9)
    assert not any(getattr(memory_settings({}, kinds=[]), k) for k in MEMORY_KINDS)
    assert not any(getattr(memory_settings({"kinds": []}), k) for k in MEMORY_KINDS)


def test_a_bad_kinds_argument_is_blamed_on_the_argument_not_the_file() -> None:
    with pytest.raises(InvalidInput, match="unknown memory 'dreams'") as info:
        memory_settings({}, kinds=["dreams"])
    assert not isinstance(info.value, ConfigError) and "[memory]" not in str(info.value)
    with pytest.raises(ConfigError, match=re.escape("[memory] kinds")):  # the file is still read
        memory_settings({"kinds": ["dreams"]}, kinds=["lines"])


def test_a_partial_weights_table_keeps_the_other_weights() -> None:
    assert memory_settings({"weights": {"relevance": 0}}).weights == Weights(relevance=0.0)
    assert memory_settings({"weights": {}}).weights == Weights()


@pytest.mark.parametrize("scope", ["user", "character"])
def test_profile_scope(scope: str) -> None:
    assert memory_settings({"profile_scope": scope}).profile_scope == scope


def test_summary_bounds_may_meet() -> None:
    s = memory_settings({"summary_trigger": 0.6, "summary_keep": 0.6})
    assert (s.summary_trigger, s.summary_keep) == (0.6, 0.6)


BAD_MEMORY: list[tuple[dict[str, Any], str]] = [
    ({"kind": ["lines"]}, "[memory] has no setting 'kind'"),
    ({"lines_k": "3"}, "[memory] lines_k must be a whole number >= 0, not '3'"),
    ({"lines_k": 2.5}, "[memory] lines_k must be a whole number"),
    ({"lines_k": True}, "[memory] lines_k must be a whole number"),
    ({"lines_k": -1}, "[memory] lines_k must be a whole number >= 0, not -1"),
    ({"query_tokens": 4}, "[memory] query_tokens must be a whole number >= 8, not 4"),
    ({"query_tokens": 16.0}, "[memory] query_tokens must be a whole number >= 8"),
    ({"episodes_k": [4]}, "[memory] episodes_k"),
    ({"search_depth": None}, "[memory] search_depth"),
    ({"profile_tokens": -5}, "[memory] profile_tokens"),
    ({"decay": "slow"}, "[memory] decay must be a number in (0, 1]"),
    ({"decay": 0}, "[memory] decay must be a number in (0, 1], not 0"),
    ({"decay": 1.5}, "[memory] decay"),
    ({"decay": float("nan")}, "[memory] decay"),
    ({"reflection_threshold": -1.0}, "[memory] reflection_threshold must be a number >= 0"),
    ({"summary_trigger": 2}, "[memory] summary_trigger must be a number in (0, 1]"),
    ({"summary_keep": 0}, "[memory] summary_keep must be a number in (0, 1]"),
    ({"summary_trigger": 0.4}, "[memory] summary_keep (0.5) must not be more than summary_trigger"),
    ({"summary_keep": 0.9, "summary_trigger": 0.8}, "summary_keep (0.9)"),
    ({"reflect": "no"}, "[memory] reflect must be true or false, not 'no'"),
    ({"reflect": 0}, "[memory] reflect must be true or false"),
    ({"profile_scope": "everyone"}, "[memory] profile_scope must be 'user' or 'character'"),
    ({"profile_scope": 1}, "[memory] profile_scope"),
    ({"importance": "llm"}, "[memory] importance must be 'heuristic' or 'model'"),
    ({"facts": ["rules"]}, "[memory] facts must be 'rules' or 'model'"),
    ({"kinds": "episodic"}, "[memory] kinds must be a list"),
    ({"kinds": 3}, "[memory] kinds must be a list"),
    ({"kinds": ["episodic", "dreams"]}, "[memory] kinds has an unknown memory 'dreams'"),
    ({"kinds": [1]}, "[memory] kinds has an unknown memory 1"),
    ({"weights": 1.0}, "[memory.weights] must be a table"),
    ({"weights": [1, 1, 1]}, "[memory.weights] must be a table"),
    (
        {"weights": {"freshness": 1}},
        "[memory.weights] has no setting 'freshness': use recency, importance or relevance",
    ),
    ({"weights": {"recency": "high"}}, "[memory.weights] recency must be a number >= 0"),
    ({"weights": {"importance": -1}}, "[memory.weights] importance must be a number >= 0"),
    ({"weights": {"relevance": False}}, "[memory.weights] relevance"),
    ({"recall_tokens": -1}, "[memory] recall_tokens must be a whole number >= 0, not -1"),
]


@pytest.mark.parametrize(("table", "message"), BAD_MEMORY)
def test_bad_memory_settings_name_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        memory_settings(table)


def test_bad_memory_settings_from_the_file(personae_home: Path) -> None:
    config(personae_home, "[memory]\ndecay = 2\n")
    with pytest.raises(ConfigError, match=re.escape("[memory] decay")):
        memory_settings(load_settings().memory)


def test_a_chat_with_a_bad_memory_table_is_a_one_line_error(personae_home: Path) -> None:
    config(personae_home, '[memory]\nreflect = "no"\n')
    err = one_line_error(run("chat", "sherlock", "--backend", "cli-scripted", "--new", stdin=""))
    assert "[memory] reflect must be true or false" in err


# -- redaction_policy ---------------------------------------------------------------------------


def test_privacy_defaults() -> None:
    assert redaction_policy({}) == DEFAULT_POLICY
    assert DEFAULT_POLICY.mode == "mask" and DEFAULT_POLICY.types == frozenset(PII_TYPES)


@pytest.mark.parametrize("mode", ["off", "OFF", " off "])
def test_redaction_off_gives_no_policy(mode: str) -> None:
    assert redaction_policy({"redaction": mode}) is None
    assert redaction_policy({"redaction": mode, "types": ["EMAIL"]}) is None


@pytest.mark.parametrize("mode", ["mask", "redact", "partial", "Partial"])
def test_redaction_modes(mode: str) -> None:
    policy = redaction_policy({"redaction": mode})
    assert policy is not None
    assert policy.mode == mode.lower() and policy.types == DEFAULT_POLICY.types


def test_types_limit_what_is_redacted() -> None:
    policy = redaction_policy({"redaction": "partial", "types": ["email", " PHONE "]})
    assert policy == RedactionPolicy(mode="partial", types=frozenset({"EMAIL", "PHONE"}))
    assert redaction_policy({"types": "EMAIL,PHONE"}) == RedactionPolicy(
        types=frozenset({"EMAIL", "PHONE"})
    )


BAD_PRIVACY: list[tuple[dict[str, Any], str]] = [
    ({"mode": "mask"}, "[privacy] has no setting 'mode'"),
    (
        {"redaction": "shred"},
        "[privacy] redaction must be one of 'mask', 'redact', 'partial' or 'off', not 'shred'",
    ),
    ({"redaction": False}, "[privacy] redaction must be one of"),
    ({"redaction": ["mask"]}, "[privacy] redaction"),
    ({"types": ["EMAIL", "SHOE_SIZE"]}, "[privacy] types: unknown PII type 'SHOE_SIZE'"),
    ({"types": []}, "[privacy] types: no PII types given"),
    ({"types": 3}, "[privacy] types must be a list of PII types"),
    ({"types": [1]}, "[privacy] types must be a list of PII types"),
    ({"types": {"EMAIL": True}}, "[privacy] types must be a list"),
    ({"redaction": "off", "types": ["NOPE"]}, "[privacy] types: unknown PII type 'NOPE'"),
]


@pytest.mark.parametrize(("table", "message"), BAD_PRIVACY)
def test_bad_privacy_settings_name_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        redaction_policy(table)


def test_the_readme_settings_block_is_valid_and_shows_the_defaults() -> None:
    import tomllib

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(\[memory\].*?)```", readme, re.S)
    assert block, "README.md lost its [memory] settings block"
    table = tomllib.loads(block.group(1))
    assert set(table["memory"]) == set(KEYS), "README's [memory] block misses a key"
    parsed = Settings.parse(table)
    assert parsed == Settings()  # every value shown is the default
    assert memory_settings(parsed.memory) == MemorySettings()
    assert redaction_policy(parsed.privacy) == DEFAULT_POLICY


def test_the_memory_section_is_the_memory_codes_settings_key_by_key() -> None:
    """``[memory]``'s model (below the memory code) and ``MemorySettings`` (the memory code's)
    have the same keys, kinds, bounds and defaults: the hand validator this replaced drifted."""
    section, code = MemorySection(), MemorySettings()
    flags = set(MEMORY_KINDS)
    assert SECTION_KINDS == MEMORY_KINDS and section.kinds == MEMORY_KINDS
    assert SECTION_MIN_QUERY_TOKENS == MIN_QUERY_TOKENS
    assert set(KEYS) - {"kinds"} == {f.name for f in fields(MemorySettings)} - flags
    for key in set(KEYS) - {"kinds", "weights"}:
        assert getattr(section, key) == getattr(code, key), key
    assert Weights(**section.weights.model_dump()) == code.weights
    assert set(section.weights.model_dump()) == {f.name for f in fields(Weights)}
    for key in ("profile_scope", "importance", "facts"):
        hint = get_type_hints(MemorySettings)[key]
        assert get_args(MemorySection.model_fields[key].annotation) == get_args(hint), key
