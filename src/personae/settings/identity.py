"""Whose chats and memories these are: the one check of a user id, shared by the settings
(``user_id``, ``PERSONAE_USER_ID``), the store and the server."""

from __future__ import annotations

import re

from personae.errors import InvalidInput

LOCAL_USER = "local"  # the one user of a personal install
_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}")


def check_user_id(user_id: str) -> str:
    """A user id is 1–128 of letters, digits and ``_ . @ -``, starting with a letter/digit."""
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        raise InvalidInput(
            f"invalid user id {user_id!r}: use 1-128 letters, digits, '_', '.', '@' or '-'",
            param="user",
        )
    return user_id


__all__ = ["LOCAL_USER", "check_user_id"]
