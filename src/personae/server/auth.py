"""API keys on every API route, and who the caller is.

With no active key in the store the server is open, as a personal install on 127.0.0.1 is:
requests act for the configured user (or the ``user`` a stateful request names) and see every
character. Once ``personae keys create`` has made a key, every ``/v1`` and ``/api`` route wants
one — ``Authorization: Bearer KEY`` (what OpenAI clients and SillyTavern send) or ``X-API-Key``
— and the key decides the user: their chats, memories and private characters, nobody else's.
Keys are checked on every request against the store (:mod:`.key_check`), so a new or revoked
key counts at once, even while the server runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from personae.server.errors import APIError
from personae.server.state import get_state


@dataclass(frozen=True)
class Caller:
    """Who a request acts for. ``key_user``: the key's user, or None on an open server."""

    key_user: str | None
    default_user: str

    @property
    def viewer(self) -> str | None:
        """Whose view of the characters to take (None: all of them)."""
        return self.key_user

    def user(self, asked: str | None = None) -> str:
        """The user whose data a request reads or writes. On an open server a request may name
        any user; with keys, only the key's own (naming another is a 403)."""
        if self.key_user is None:
            return asked or self.default_user
        if asked is not None and asked != self.key_user:
            raise APIError(
                f"this API key belongs to the user {self.key_user!r}, so it cannot act for "
                f"{asked!r}: leave 'user' out, or use that user's key",
                status=403,
                code="permission_denied",
                param="user",
            )
        return self.key_user


def presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    for header in ("x-api-key", "api-key"):
        if value := request.headers.get(header, "").strip():
            return value
    return None


async def authenticate(request: Request) -> Caller:
    """The dependency on every API router: checks the key and records the caller."""
    state = get_state(request)
    token = presented_key(request)
    required, user = state.keys.user_for(token)
    if required and user is None:
        if token is None:
            message = (
                "this server needs an API key: send 'Authorization: Bearer KEY' "
                "(make one with `personae keys create --user NAME`)"
            )
        else:
            message = "the API key is not valid (unknown or revoked): see `personae keys list`"
        raise APIError(
            message,
            status=401,
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    caller = Caller(key_user=user, default_user=state.settings.user_id)
    request.state.caller = caller
    return caller


def get_caller(request: Request) -> Caller:
    """The caller :func:`authenticate` recorded for this request."""
    caller: Caller = request.state.caller
    return caller
