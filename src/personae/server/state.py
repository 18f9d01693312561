"""What every route of one app shares; kept on ``app.state.personae``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from personae.backends.base import GenerationParams
from personae.backends.sampling import default_params
from personae.config import Settings
from personae.server.jobs import Workers
from personae.server.key_check import KeyCheck
from personae.server.schemas import MAX_BODY_BYTES, MAX_CARD_BYTES
from personae.store import Database
from personae.store.database import Location

if TYPE_CHECKING:
    from starlette.requests import Request


@dataclass
class ServerState:
    db_location: Location  # the store: a SQLite file or a postgresql:// URL
    settings: Settings
    workers: Workers
    params: GenerationParams  # the default model's defaults; a request's own values win
    max_body_bytes: int = MAX_BODY_BYTES  # a chat request, or any other JSON body
    max_card_bytes: int = MAX_CARD_BYTES  # a character card uploaded to /api
    # The operator's settings over each model's catalogue defaults; None: ``params`` for all.
    sampling: Mapping[str, Any] | None = None
    keys: KeyCheck = field(init=False)

    def __post_init__(self) -> None:
        self.keys = KeyCheck(self.db_location)

    def params_for(self, model: str | None) -> GenerationParams:
        """The defaults for a reply from ``model`` (None: the default model)."""
        if model is None or self.sampling is None or model == self.settings.model:
            return self.params
        return default_params(model, **self.sampling)

    def database(self) -> Database:
        """A short-lived connection for a quick read on the caller's thread (close it)."""
        from personae.settings.privacy import transcript_redactor

        # [privacy] transcripts = "redact": an edited message is stored redacted too
        return Database(
            self.db_location, redact_transcripts=transcript_redactor(self.settings.privacy)
        )


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.personae
    return state
