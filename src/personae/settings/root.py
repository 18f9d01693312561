"""The whole of ``config.toml`` as one typed tree, checked once when it is read.

Top-level keys, then one table per concern::

    model = "qwen2.5-coder-1.5b"   # a catalogue name, a .gguf path or the server's model id
    backend = "embedded"           # or "openai", or any registered backend
    user_name = "Mina"             # what the character calls you
    user_id = "local"              # whose chats and memories these are
    reply_guard = true             # false: show the model's replies unchecked
    [backend_options]              # the backend's own options (its options model checks them)
    [reply]                        # how a reply is made (personae.settings.reply)
    [memory]                       # personae.settings.memory
    [privacy]                      # personae.settings.privacy
    [server]                       # personae serve (personae.settings.server)

Every key is typed and checked here, unknown ones included, so a bad value is one line naming
the key when any command starts, never an error in the middle of a chat. ``[backend_options]``
is the exception: which options exist depends on the backend, so each backend's own options
model checks them when it is built (:mod:`personae.backends.from_settings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, Field, PlainValidator, ValidationError

from personae.errors import PersonaeError
from personae.settings.base import Section, SettingError, Table, config_error
from personae.settings.identity import LOCAL_USER, check_user_id
from personae.settings.memory import MemorySection
from personae.settings.privacy import PrivacySection
from personae.settings.reply import ReplyStrategy, ReplyTable
from personae.settings.server import ServerSection
from personae.settings.store import StoreSection

DEFAULT_CHAT_MODEL = "qwen2.5-coder-1.5b"
DEFAULT_BACKEND = "embedded"


def _user_id(value: str) -> str:
    try:
        return check_user_id(value)
    except PersonaeError as exc:
        raise SettingError(str(exc)) from None


def _reply(value: Any) -> ReplyStrategy:
    if isinstance(value, ReplyStrategy):
        return value
    if not isinstance(value, Mapping):
        raise SettingError("must be a table")
    return ReplyTable.model_validate(value).over(ReplyStrategy())


class Settings(Section):
    """What a run is configured with. Build one with keywords (a bad value is a
    :class:`~personae.errors.ConfigError` naming it), read one with
    :func:`personae.config.load_settings`, change one with :meth:`with_overrides`."""

    backend: str = DEFAULT_BACKEND
    model: str = DEFAULT_CHAT_MODEL
    user_name: str = "User"
    # Whose chats and memories these are: "local" on a personal install; the server sets one
    # per API key. Nothing one user's chats taught a character is visible to another user.
    user_id: Annotated[str, AfterValidator(_user_id)] = LOCAL_USER
    # Reply guards (personae.agent.guards): replies that copy, echo, break character or answer
    # in the wrong language are generated again or cut before they are shown.
    reply_guard: bool = True
    # Given to the backend as they are, less what its options model does not declare of the
    # options personae sets itself (personae.backends.from_settings).
    backend_options: Annotated[dict[str, Any], Table()] = Field(default_factory=dict)
    # How a reply is made (the [reply] table): single, best-of-n, refine or auto, with budgets.
    reply: Annotated[ReplyStrategy, PlainValidator(_reply), Table(ReplyTable)] = ReplyStrategy()
    memory: MemorySection = MemorySection()
    privacy: PrivacySection = PrivacySection()
    server: ServerSection = ServerSection()
    store: StoreSection = StoreSection()

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise config_error(type(self), exc, "") from None

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes``, checked like the file's values."""
        values = {name: getattr(self, name) for name in type(self).model_fields}
        return self.parse({**values, **changes}, table="")

    def with_overrides(
        self,
        *,
        backend: str | None = None,
        model: str | None = None,
        user_name: str | None = None,
        user_id: str | None = None,
        **options: Any,
    ) -> Settings:
        """A copy with the values given (None: keep), e.g. from flags or the environment;
        ``options`` are backend options, laid over ``[backend_options]``."""
        merged = dict(self.backend_options)
        merged.update({k: v for k, v in options.items() if v is not None})
        return self.replace(
            backend=backend or self.backend,
            model=model or self.model,
            user_name=user_name or self.user_name,
            user_id=user_id or self.user_id,
            backend_options=merged,
        )


__all__ = ["DEFAULT_BACKEND", "DEFAULT_CHAT_MODEL", "Settings"]
