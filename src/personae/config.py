"""Where state lives and how a run is configured.

Precedence, highest first: explicit arguments (CLI flags) > environment (``PERSONAE_*``) >
``config.toml`` in the data directory > built-in defaults. This module is the one place that
lays them over each other: :func:`load_settings` reads the file into the typed tree of
:mod:`personae.settings` (checked once, there) and lays the environment over it; commands lay
their flags over that with :meth:`Settings.with_overrides`. The data directory is
``$PERSONAE_HOME`` when set, else the platform's user-data directory.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import platformdirs

from personae.environment import env_value
from personae.errors import ConfigError
from personae.settings import DEFAULT_BACKEND, DEFAULT_CHAT_MODEL, Settings

__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_CHAT_MODEL",
    "Settings",
    "database_location",
    "database_path",
    "home",
    "load_settings",
    "models_dir",
]


def home() -> Path:
    """The data directory; created on first use."""
    env: Path | None = env_value("PERSONAE_HOME")
    path = env or Path(platformdirs.user_data_dir("personae"))
    try:
        # Owner-only: it holds people's chats and memories (an existing folder is left as is).
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the data directory {path}: {exc.strerror}; "
            "set PERSONAE_HOME to a writable folder"
        ) from exc
    return path


def database_path() -> Path:
    """The data directory's SQLite file, the store when no other is configured."""
    return home() / "personae.db"


def database_location(settings: Settings | None = None) -> str | Path:
    """The store: ``PERSONAE_DATABASE_URL``, else ``[store] url`` (of ``settings``, or of
    ``config.toml``), else :func:`database_path`."""
    env: str | None = env_value("PERSONAE_DATABASE_URL")
    if env:
        return env
    url = (settings or load_settings()).store.url
    return url or database_path()


def models_dir() -> Path:
    """Pulled model files; ``$PERSONAE_MODELS_DIR`` shares one copy between data directories
    (tests and benchmarks use it to avoid pulling a model per data directory)."""
    env: Path | None = env_value("PERSONAE_MODELS_DIR")
    path = env or home() / "models"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the models folder {path}: {exc.strerror}; "
            "set PERSONAE_MODELS_DIR to a writable folder"
        ) from exc
    return path


_ENV_OPTIONS = {
    "PERSONAE_BASE_URL": "base_url",
    "PERSONAE_API_KEY": "api_key",
    "PERSONAE_CTX": "n_ctx",
    "PERSONAE_THREADS": "threads",
}


def load_settings(config_file: Path | None = None) -> Settings:
    """Read ``config.toml`` (if any) and the ``PERSONAE_*`` environment into :class:`Settings`.

    Every table is checked here, once (:mod:`personae.settings`): a bad or unknown key is a
    :class:`ConfigError` naming the file and the key. ``config.toml`` looks like::

        model = "qwen2.5-coder-1.5b"
        backend = "embedded"
        user_name = "Mina"
        reply_guard = true       # false: show the model's replies unchecked (see README)
        [reply]                  # how a reply is made; `personae chat --help` for the flags
        strategy = "best-of-n"   # single (default), best-of-n, refine or auto
        n = 4                    # candidates a turn (best-of-n, auto): 1 to 8
        rounds = 1               # rewrites of a failing reply (refine, auto): 0 to 3
        time_budget_s = 20       # seconds before the candidates are judged as they are
        token_budget = 2048      # tokens generated over every candidate and round
        [backend_options]
        n_ctx = 4096
        [memory]                 # see `personae memory --help`
        kinds = ["lines", "episodic", "summary", "profile"]
        profile_scope = "user"   # or "character"
        [privacy]
        redaction = "mask"       # mask, redact, partial or off
        [server]                 # personae serve; see `personae serve --help`
        parallel = 4             # replies generated at once (the embedded model's slots)
        max_queue = 64           # requests that may wait for a slot; more get a 429
        cors_origins = ["http://localhost:3000"]
    """
    path = config_file or home() / "config.toml"
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML ({exc}); fix or delete it") from exc
    try:
        settings = Settings.parse(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}", param=exc.param) from None
    env_options = {key: env_value(var) for var, key in _ENV_OPTIONS.items()}
    return settings.with_overrides(
        backend=env_value("PERSONAE_BACKEND"),
        model=env_value("PERSONAE_MODEL"),
        user_name=env_value("PERSONAE_USER"),
        user_id=env_value("PERSONAE_USER_ID"),
        **env_options,
    )
