"""The ``[store]`` table: where chats, characters, keys and memories are kept::

    [store]
    url = "postgresql://personae@db.internal:5432/personae"   # several server processes
    # url = "sqlite:///home/mina/personae.db"                 # or another SQLite file

Unset (the default): the SQLite file ``personae.db`` in the data directory. The
``PERSONAE_DATABASE_URL`` variable overrides it. :func:`check_store_url` is the one check of
such a value, for the file and the variable alike.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from personae.settings.base import Section, SettingError
from personae.settings.urls import check_store_url


def _url(value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str):
        raise SettingError(f"must be a string URL, not {value!r}")
    try:
        return check_store_url(value)
    except ValueError as exc:
        raise SettingError(str(exc)) from None


class StoreSection(Section):
    """``[store]``: ``url`` of the store (None: the data directory's SQLite file)."""

    TABLE = "store"

    url: Annotated[str | None, BeforeValidator(_url)] = None


__all__ = ["StoreSection", "check_store_url"]
