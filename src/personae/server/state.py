"""What every route of one app shares; kept on ``app.state.personae``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from personae.backends.base import GenerationParams
from personae.config import Settings
from personae.server.auth import KeyCheck
from personae.server.jobs import Workers
from personae.server.schemas import MAX_BODY_BYTES, MAX_CARD_BYTES
from personae.store import Database

if TYPE_CHECKING:
    from starlette.requests import Request


@dataclass
class ServerState:
    db_path: Path
    settings: Settings
    workers: Workers
    params: GenerationParams  # the server's defaults; a request's own values win
    max_body_bytes: int = MAX_BODY_BYTES  # a chat request, or any other JSON body
    max_card_bytes: int = MAX_CARD_BYTES  # a character card uploaded to /api
    keys: KeyCheck = field(init=False)

    def __post_init__(self) -> None:
        self.keys = KeyCheck(self.db_path)

    def database(self) -> Database:
        """A short-lived connection for a quick read on the caller's thread (close it)."""
        from personae.privacy.settings import transcript_redactor

        # [privacy] transcripts = "redact": an edited message is stored redacted too
        return Database(self.db_path, redact_transcripts=transcript_redactor(self.settings.privacy))


def get_state(request: Request) -> ServerState:
    state: ServerState = request.app.state.personae
    return state
