"""Reply strategies in the server (issue 15): which strategy a reply is made with, and how many
generation slots it takes.

Where a reply's strategy comes from, the first that applies:

1. the request's extension field ``personae`` (``/v1/chat/completions``, and the body of
   ``POST /api/chats/{id}/regenerate``)::

       "personae": {"strategy": "best-of-n", "n": 4, "rounds": 1, "time_budget_s": 20}

   The fields it gives replace those of the strategy the character would get otherwise (only
   ``n``: the configured strategy with that many candidates). Plain OpenAI clients send no such
   field and get the configured one.
2. the character's own table in ``config.toml``, keyed by its id (what ``/v1/models`` lists;
   any case; a request whose model names the character by its display name instead gets
   ``[reply]``), over ``[reply]``::

       [server.reply.sherlock]
       strategy = "best-of-n"
       n = 4

   Why under ``[server]`` and not ``[reply.characters.sherlock]``: the ``[reply]`` table is read
   strictly for every command (an unknown key is an error, so a ``characters`` table there would
   stop ``personae chat``), and choosing per character is the server's concern: the CLI names
   its strategy with flags. A table is checked with the rest of ``config.toml`` (its id when
   the server starts): a bad one is a :class:`~personae.errors.ConfigError` naming it and the
   key.
3. ``[reply]`` (:attr:`personae.config.Settings.reply`), as in the CLI.

Slots: a best-of-N (or auto) reply decodes its candidates together, one llama.cpp slot each, so
it holds ``n`` of the server's ``parallel`` slots while it runs (see :mod:`.admission`; a
continuation is always single and holds one). A request may not ask for more candidates than
there are slots (a 400 that says so); a configured strategy may (the operator's choice): its
reply then holds every slot, and the embedded backend gets enough llama.cpp slots for its
candidates anyway (:func:`backend_slots`), so they still decode together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from personae.errors import ConfigError, PersonaeError
from personae.server.errors import APIError
from personae.settings.reply import MAX_N, MAX_ROUNDS, STRATEGIES, ReplyStrategy
from personae.settings.server import ServerSection
from personae.store import check_id

# The request's extension field, and the table of per-character strategies under [server].
FIELD = "personae"
TABLE = "reply"
_NAMES = {"strategy": "name"}  # the settings' key → ReplyStrategy's field


class StrategyRequest(BaseModel):
    """The ``personae`` extension field of a request: how to make this reply (issue 15).
    Every field is optional; those given replace the configured strategy's."""

    model_config = ConfigDict(strict=True, extra="forbid")

    strategy: str | None = Field(
        default=None,
        max_length=32,
        description="How the reply is made.",
        json_schema_extra={"enum": list(STRATEGIES)},
    )
    n: int | None = Field(
        default=None,
        description=f"Candidates a reply (best-of-n, auto): 1 to {MAX_N}, and at most the "
        "server's parallel slots.",
    )
    rounds: int | None = Field(
        default=None, description=f"Rewrites of a failing reply (refine, auto): 0 to {MAX_ROUNDS}."
    )
    time_budget_s: float | None = Field(
        default=None, description="Seconds before the candidates are judged as they are."
    )
    token_budget: int | None = Field(
        default=None, description="Tokens generated over every candidate and round."
    )

    def fields(self) -> dict[str, Any]:
        """The fields given, by their settings' names."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


def merged(base: ReplyStrategy, fields: Mapping[str, Any]) -> ReplyStrategy:
    """``base`` with ``fields`` (settings' names: ``strategy``, ``n`` …) replacing its own;
    raises :class:`~personae.errors.InvalidInput` naming the bad field."""
    values = {_NAMES.get(k, k): v for k, v in fields.items()}
    if isinstance(values.get("name"), str):
        values["name"] = values["name"].strip().lower()
    return replace(base, **values)


@dataclass(frozen=True)
class Strategies:
    """The server's strategies: ``default`` (``[reply]``) and each character's own."""

    default: ReplyStrategy = field(default_factory=ReplyStrategy)
    characters: Mapping[str, ReplyStrategy] = field(default_factory=dict)  # casefolded ids

    @classmethod
    def from_settings(cls, default: ReplyStrategy, server: ServerSection) -> Strategies:
        """From ``[reply]`` and the ``[server.reply.<id>]`` tables (typed and checked with the
        rest of the file); a key that is not a character id is a :class:`ConfigError`."""
        characters: dict[str, ReplyStrategy] = {}
        for key, table in server.reply.items():
            where = f"[server.{TABLE}.{key}]"
            try:
                check_id(key)
            except PersonaeError as exc:
                raise ConfigError(f"{where}: not a character id ({exc})", param=where) from None
            characters[key.casefold()] = table.over(default)  # ranges were checked on reading
        return cls(default, characters)

    def for_character(self, character_id: str | None) -> ReplyStrategy:
        """The configured strategy for the character whose id is ``character_id``."""
        if character_id:
            own = self.characters.get(character_id.casefold())
            if own is not None:
                return own
        return self.default

    def for_request(
        self, character_id: str | None, asked: StrategyRequest | None, slots: int
    ) -> ReplyStrategy:
        """The strategy a request gets: the configured one, with the request's fields over it.
        A bad field, or more candidates than ``slots``, is a 400 naming it
        (``personae.n`` …)."""
        configured = self.for_character(character_id)
        if asked is None:
            return configured
        fields = asked.fields()
        if not fields:
            return configured
        try:
            strategy = merged(configured, fields)
        except PersonaeError as exc:
            param = exc.param or "strategy"
            raise APIError(
                f"invalid value for '{FIELD}.{param}': {exc}",
                param=f"{FIELD}.{param}",
                code="invalid_value",
            ) from None
        check_slots(strategy.candidates, slots, f"{FIELD}.n")
        return strategy

    def largest(self) -> int:
        """The most candidates any configured strategy decodes at once."""
        return max(s.candidates for s in (self.default, *self.characters.values()))


def check_slots(candidates: int, slots: int, param: str) -> None:
    """A 400 when a request asks for more candidates at once than the server has slots."""
    if candidates > slots:
        raise APIError(
            f"{param} = {candidates} asks for more candidates than this server decodes at once "
            f"({slots} parallel slot{'s' if slots != 1 else ''}): ask for at most {slots}, or "
            "start the server with a larger --parallel",
            param=param,
            code="invalid_value",
        )


def slots_for(strategy: ReplyStrategy | None, slots: int, *, continuing: bool = False) -> int:
    """How many of ``slots`` a reply made with ``strategy`` holds while it runs (admission's
    weight): its candidates, at most all; a continuation is single."""
    if strategy is None or continuing:
        return 1
    return max(1, min(strategy.candidates, slots))


def backend_slots(parallel: int, strategies: Strategies) -> int:
    """The embedded backend's ``n_parallel``: a slot for each reply the server lets generate,
    and at least as many as the largest configured strategy's candidates (so they decode
    together even when they outnumber ``parallel``)."""
    return max(parallel, strategies.largest())


def ranked_choices(stream: Any, n: int) -> list[str]:
    """The texts of the first ``n`` choices of a chosen reply: the shown one, then the others
    best first (each text once; fewer when fewer candidates were distinct)."""
    texts = [stream.text]
    texts.extend(stream.alternatives)
    return texts[:n]


def candidates_detail(stream: Any) -> list[dict[str, Any]]:
    """Every candidate of a chosen reply, best first, with its verifiers' scores and reasons:
    the response's ``personae.candidates`` (a field OpenAI clients ignore)."""
    return [r.as_dict() for r in getattr(stream, "ranked", [])]


__all__ = [
    "FIELD",
    "Strategies",
    "StrategyRequest",
    "backend_slots",
    "candidates_detail",
    "check_slots",
    "merged",
    "ranked_choices",
    "slots_for",
]
