"""Every ``PERSONAE_*`` environment variable personae reads: what each allows, and one check.

An environment value is checked like a flag: a bad one is a one-line :class:`ConfigError` that
names the variable and what it allows, never a traceback from wherever the value is first used.
:func:`env_value` reads one variable (parsed); :func:`check_environment` checks all of them, and
the ``personae`` command calls it before any command runs. An empty value counts as unset, so
``PERSONAE_CTX= personae ask …`` falls back to the configured context.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from personae.errors import ConfigError, PersonaeError
from personae.settings.identity import check_user_id
from personae.settings.urls import check_http_url, check_store_url

# The context sizes a backend accepts; the --ctx flag and PERSONAE_CTX share them.
CTX_MIN, CTX_MAX = 256, 131072
THREADS_MIN, THREADS_MAX = 1, 256
USER_NAME_MAX = 64
_BACKEND_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
ON_WORDS = ("1", "true", "yes", "on")
OFF_WORDS = ("0", "false", "no", "off")


@dataclass(frozen=True)
class EnvVar:
    """One variable: ``parse`` turns its text into a value, raising ``ValueError`` (or a
    :class:`PersonaeError`) when the text is not allowed; ``allowed`` says what is."""

    name: str
    allowed: str
    parse: Callable[[str], Any]


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text.strip())  # ValueError for "abc", "4k", "1.5"
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range")
        return value

    return parse


def _one_line(text: str) -> str:
    value = text.strip()
    if not value or not value.isprintable():
        raise ValueError("blank or not one printable line")
    return value


def _user_name(text: str) -> str:
    value = _one_line(text)
    if len(value) > USER_NAME_MAX:
        raise ValueError("too long")
    return value


def _folder(text: str) -> Path:
    path = Path(_one_line(text)).expanduser()
    if path.exists() and not path.is_dir():
        raise ValueError("a file, not a folder")
    return path


def _key(text: str) -> str:
    # The key goes into an HTTP header: a space, a line break or a non-ASCII letter (often a
    # paste error) would fail deep in the HTTP client instead of here.
    if not text.isascii() or not text.isprintable() or any(c.isspace() for c in text):
        raise ValueError("not printable ASCII without spaces")
    return text


def _switch(text: str) -> bool:
    word = text.strip().lower()
    if word not in ON_WORDS + OFF_WORDS:
        raise ValueError("not on or off")
    return word in ON_WORDS


def _backend(text: str) -> str:
    # The shape of a name only: which backends are installed is the registry's to say, and the
    # command checks that at start (personae.cli.common.check_startup).
    name = text.strip()
    if not _BACKEND_NAME.fullmatch(name):
        raise ValueError("not a backend name")
    return name


def _user_id(text: str) -> str:
    return check_user_id(text.strip())


_KEY = "printable ASCII without spaces (the key as the server issued it)"
VARIABLES: dict[str, EnvVar] = {
    v.name: v
    for v in (
        EnvVar("PERSONAE_HOME", "a folder for personae's data", _folder),
        EnvVar("PERSONAE_MODELS_DIR", "a folder for pulled model files", _folder),
        EnvVar(
            "PERSONAE_BACKEND",
            "an installed backend's name (`personae backends` lists them)",
            _backend,
        ),
        EnvVar(
            "PERSONAE_MODEL",
            "a model name on one line: a catalogue name (see `personae models list`), "
            "a .gguf path or the server's model id",
            _one_line,
        ),
        EnvVar(
            "PERSONAE_BASE_URL",
            "an http(s) URL of an OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1",
            check_http_url,
        ),
        EnvVar(
            "PERSONAE_DATABASE_URL",
            "postgresql://user@host:port/database or sqlite:///path/to/personae.db",
            check_store_url,
        ),
        EnvVar("PERSONAE_API_KEY", _KEY, _key),
        EnvVar("PERSONAE_JUDGE_API_KEY", _KEY, _key),
        EnvVar("PERSONAE_API_KEY_B", _KEY, _key),
        EnvVar(
            "PERSONAE_CTX",
            f"a whole number of context tokens from {CTX_MIN} to {CTX_MAX}",
            _whole(CTX_MIN, CTX_MAX),
        ),
        EnvVar(
            "PERSONAE_THREADS",
            f"a whole number of CPU threads from {THREADS_MIN} to {THREADS_MAX}",
            _whole(THREADS_MIN, THREADS_MAX),
        ),
        EnvVar("PERSONAE_USER", f"your name in chats, 1-{USER_NAME_MAX} characters", _user_name),
        EnvVar(
            "PERSONAE_USER_ID",
            "a user id of 1-128 letters, digits, '_', '.', '@' or '-'",
            _user_id,
        ),
        EnvVar("PERSONAE_DATA_DIR", "a folder of reference data", _folder),
        EnvVar("PERSONAE_MALLOC_TUNING", "on or off (1/0, true/false, yes/no)", _switch),
    )
}


def env_value(name: str) -> Any | None:
    """The parsed value of the variable ``name``, or None when it is unset or empty.

    Raises :class:`ConfigError` naming the variable and what it allows when the value is bad.
    """
    var = VARIABLES[name]
    text = os.environ.get(name, "")
    if not text:
        return None
    try:
        return var.parse(text)
    except PersonaeError as exc:  # a check shared with flags, whose message says what is allowed
        raise ConfigError(f"{name}: {exc}") from None
    except ValueError:
        raise ConfigError(
            f"{name}={_shown(name, text)} is not allowed: use {var.allowed}, or unset it"
        ) from None


def check_environment() -> None:
    """Check every ``PERSONAE_*`` variable that is set (see :data:`VARIABLES`)."""
    for name in VARIABLES:
        env_value(name)


def _shown(name: str, text: str) -> str:
    if "KEY" in name or name == "PERSONAE_DATABASE_URL":
        return "(hidden)"  # never echo a secret, even a malformed one
    shown = text if len(text) <= 60 else text[:57] + "..."
    return repr(shown)
