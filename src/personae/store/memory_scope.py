"""Which memories a scope sees: the kinds there are, and the WHERE clause of a scope (see
migration ``m003_memory`` for the rules), shared by the repository and the search in the
database (:mod:`.memory_search`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

from personae.errors import InvalidInput

Kind = Literal["line", "episode", "reflection", "fact", "note"]
KINDS: tuple[str, ...] = get_args(Kind)


def check_kinds(kinds: Sequence[str]) -> None:
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise InvalidInput(f"unknown memory kind {bad[0]!r}: use one of {', '.join(KINDS)}")


def scope_where(
    user_id: str | None,
    character_id: str | None,
    chat_id: int | None,
    kinds: Sequence[str],
    *,
    exact: bool,
    nulls: bool = False,
) -> tuple[str, list[Any]]:
    """``(clause, args)`` selecting memories of ``kinds``. ``exact``: exactly this user,
    character and chat (None: any; with ``nulls``, None means NULL); else what a chat of them
    may see: each column NULL or equal."""
    check_kinds(kinds)
    clauses = [f"kind IN ({','.join('?' * len(kinds))})"]
    args: list[Any] = list(kinds)
    for column, value in (("user_id", user_id), ("character_id", character_id)):
        if exact:
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
            elif nulls:
                clauses.append(f"{column} IS NULL")
        else:
            clauses.append(f"({column} IS NULL OR {column} = ?)")
            args.append(value)
    if exact:
        if chat_id is not None:
            clauses.append("chat_id = ?")
            args.append(chat_id)
    else:
        clauses.append("(chat_id IS NULL OR chat_id = ?)")
        args.append(chat_id)
    return " AND ".join(clauses), args


__all__ = ["KINDS", "Kind", "check_kinds", "scope_where"]
