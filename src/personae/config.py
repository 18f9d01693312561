"""Where state lives and how a run is configured.

Precedence, highest first: explicit arguments (CLI flags) > environment (``PERSONAE_*``) >
``config.toml`` in the data directory > built-in defaults. The data directory is
``$PERSONAE_HOME`` when set, else the platform's user-data directory.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from personae.environment import env_value
from personae.errors import ConfigError, PersonaeError

if TYPE_CHECKING:
    from personae.agent.strategy import ReplyStrategy

DEFAULT_CHAT_MODEL = "qwen2.5-coder-1.5b"
DEFAULT_BACKEND = "embedded"


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
    return home() / "personae.db"


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


def _default_strategy() -> ReplyStrategy:
    # Imported when first needed, so that importing this module does not import the agent
    # package (heavy: it brings the prompt builder, the guards and the store).
    from personae.agent.strategy import ReplyStrategy

    return ReplyStrategy()


@dataclass(frozen=True)
class Settings:
    """What a chat runs on. ``backend_options`` go to the backend's options model as-is."""

    backend: str = DEFAULT_BACKEND
    model: str = DEFAULT_CHAT_MODEL
    user_name: str = "User"
    backend_options: dict[str, Any] = field(default_factory=dict)
    # Whose chats and memories these are: "local" on a personal install; the server sets one
    # per API key. Nothing one user's chats taught a character is visible to another user.
    user_id: str = "local"
    memory: dict[str, Any] = field(default_factory=dict)  # the [memory] table
    privacy: dict[str, Any] = field(default_factory=dict)  # the [privacy] table
    server: dict[str, Any] = field(default_factory=dict)  # the [server] table (personae serve)
    # Reply guards (personae.agent.guards): replies that copy, echo, break character or answer
    # in the wrong language are generated again or cut before they are shown.
    reply_guard: bool = True
    # How a reply is made (the [reply] table): single, best-of-n, refine or auto, with budgets.
    reply: ReplyStrategy = field(default_factory=_default_strategy)

    def with_overrides(
        self,
        *,
        backend: str | None = None,
        model: str | None = None,
        user_name: str | None = None,
        **options: Any,
    ) -> Settings:
        merged = dict(self.backend_options)
        merged.update({k: v for k, v in options.items() if v is not None})
        return replace(
            self,
            backend=backend or self.backend,
            model=model or self.model,
            user_name=user_name or self.user_name,
            backend_options=merged,
        )


_ENV_OPTIONS = {
    "PERSONAE_BASE_URL": "base_url",
    "PERSONAE_API_KEY": "api_key",
    "PERSONAE_CTX": "n_ctx",
    "PERSONAE_THREADS": "threads",
}


def _user_id(env: str | None, configured: object, path: Path) -> str:
    """``$PERSONAE_USER_ID``, else ``user_id`` from the file, else "local"; checked here so that
    a bad one is an error naming where it was set, not one at the first chat."""
    from personae.settings.identity import check_user_id

    where = "PERSONAE_USER_ID" if env else f"{path}: user_id"
    value = env or ("local" if configured is None else str(configured))
    try:
        return check_user_id(value)
    except PersonaeError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_settings(config_file: Path | None = None) -> Settings:
    """Read ``config.toml`` (if any) and the environment into :class:`Settings`.

    ``config.toml`` looks like::

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
    options = data.get("backend_options", {})
    if not isinstance(options, dict):
        raise ConfigError(f"{path}: [backend_options] must be a table")
    tables: dict[str, dict[str, Any]] = {}
    for name in ("memory", "privacy", "server"):
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{name}] must be a table")
        tables[name] = dict(table)
    settings = Settings(
        backend=str(data.get("backend", DEFAULT_BACKEND)),
        model=str(data.get("model", DEFAULT_CHAT_MODEL)),
        user_name=str(data.get("user_name", "User")),
        backend_options=dict(options),
        user_id=_user_id(env_value("PERSONAE_USER_ID"), data.get("user_id"), path),
        memory=tables["memory"],
        privacy=tables["privacy"],
        server=tables["server"],
        reply_guard=_flag(data.get("reply_guard", True), "reply_guard", path),
        reply=_reply(data.get("reply", {}), path),
    )
    env_options = {key: env_value(var) for var, key in _ENV_OPTIONS.items()}
    return settings.with_overrides(
        backend=env_value("PERSONAE_BACKEND"),
        model=env_value("PERSONAE_MODEL"),
        user_name=env_value("PERSONAE_USER"),
        **env_options,
    )


def _flag(value: Any, key: str, path: Path) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{path}: {key} must be true or false, not {value!r}")
    return value


def _reply(table: Any, path: Path) -> ReplyStrategy:
    """The ``[reply]`` table as a :class:`~personae.agent.strategy.ReplyStrategy`; a bad one is
    one line naming the file and the key."""
    from personae.agent.strategy import ReplyStrategy

    where = "[reply]"
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where} must be a table", param="reply")
    try:
        return ReplyStrategy.from_mapping(table, where=where)
    except PersonaeError as exc:
        key = exc.param or "strategy"
        message = str(exc)
        if message.startswith(where):
            text = message
        elif message.startswith(f"{key} "):  # "n must be a whole number from 1 to 8"
            text = f"{where} {message}, not {table.get(key)!r}"
        else:
            text = f"{where} {key}: {message}"
        raise ConfigError(f"{path}: {text}", param=f"reply.{key}") from None
