"""Which lorebook entries a turn's prompt should include.

Semantics (Character Card V2/V3, with the choices the spec leaves open made explicit):

* Only ``enabled`` entries take part. ``constant`` entries (and ``@@activate``) always activate;
  ``@@dont_activate`` never does.
* A primary key found in the last ``scan_depth`` messages activates an entry. ``scan_depth``
  comes from the book (or a SillyTavern per-entry ``extensions.scan_depth`` / ``@@scan_depth``),
  default :data:`DEFAULT_SCAN_DEPTH` = 2, the same as SillyTavern's default; 0 scans nothing.
* Keys follow SillyTavern (see :mod:`personae.characters._keys`): a key is a regular
  expression only when written ``/pattern/flags``, whatever ``use_regex`` says; other keys are
  plain text, case-insensitive and whole-word unless the entry says otherwise (its
  ``case_sensitive``, else ``extensions.case_sensitive``; ``extensions.match_whole_words``),
  or the book does (the same two names in the book's ``extensions``). Whole words use
  script-aware boundaries, so Korean/CJK keys still match with particles attached.
* Regex keys run under a time budget per scan (:data:`~personae.characters._keys.SCAN_BUDGET_S`
  in all, :data:`~personae.characters._keys.KEY_TIMEOUT_S` per key); a key that runs out
  counts as no match and is reported in :attr:`LoreScan.skipped`. A scan reads at most the
  last :data:`MAX_SCAN_CHARS` characters of its messages.
* ``selective`` entries with ``secondary_keys`` also need a secondary match (SillyTavern's
  ``extensions.selectiveLogic`` 1-3 — NOT ALL, NOT ANY, AND ALL — is honoured).
* With ``recursive_scanning`` the content of activated entries is scanned for further keys, at
  most ``max_recursion`` rounds (SillyTavern's ``exclude_recursion``/``prevent_recursion`` apply).
* Budget: entries are admitted highest ``priority`` first (unset = 0; ties: constant first,
  then lower ``insertion_order``, then book order); one that does not fit is dropped and
  smaller ones may still use the room. A book ``token_budget`` of 0 means "no budget" because
  card editors write 0 for unset.
* The result is ordered by ``insertion_order`` (stable). Entries are returned as they are, so
  each keeps its ``position``; use :func:`entry_text` for the content without decorators.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from personae.characters._keys import SCAN_BUDGET_S, BadKey, Hay, Key, RegexBudget, compile_key
from personae.characters.lorebook_model import Lorebook, LoreEntry
from personae.errors import InvalidInput, LorebookError

DEFAULT_SCAN_DEPTH = 2
# A scan reads at most this much of the newest text: plenty for any window of chat messages,
# and a bound on what every key of a big book is searched through.
MAX_SCAN_CHARS = 100_000
_AND_ANY, _NOT_ALL, _NOT_ANY, _AND_ALL = 0, 1, 2, 3

log = logging.getLogger(__name__)
# Regex keys already logged as skipped: a card's bad key is reported once, not on every turn.
_REPORTED: set[str] = set()
_MAX_REPORTED = 10_000


def entry_decorators(entry: LoreEntry) -> dict[str, str]:
    """V3 ``@@name value`` decorator lines at the top of the entry's content, by name."""
    return _split(entry.content)[0]


def entry_text(entry: LoreEntry) -> str:
    """The entry's content without its leading ``@@`` decorator lines: what a prompt gets."""
    return _split(entry.content)[1]


def _split(content: str) -> tuple[dict[str, str], str]:
    lines = content.split("\n")
    decorators: dict[str, str] = {}
    index = 0
    while index < len(lines) and lines[index].lstrip().startswith("@@"):
        line = lines[index].strip()
        if not line.startswith("@@@"):  # "@@@" lines are fallbacks for decorators we lack
            name, _, value = line[2:].partition(" ")
            decorators.setdefault(name.strip().lower(), value.strip())
        index += 1
    return decorators, "\n".join(lines[index:])


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _depth(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@dataclass(frozen=True, slots=True)
class _Defaults:
    """The book's matching defaults for entries that leave them unset."""

    case_sensitive: bool
    whole_words: bool

    @classmethod
    def of(cls, book: Lorebook) -> _Defaults:
        ext = book.extensions
        case_sensitive = _flag(ext.get("case_sensitive"))
        whole_words = _flag(ext.get("match_whole_words"))
        return cls(
            case_sensitive=bool(case_sensitive),
            whole_words=True if whole_words is None else whole_words,
        )


@dataclass(frozen=True, slots=True)
class _Plan:
    primary: tuple[Key, ...]
    secondary: tuple[Key, ...]
    logic: int
    always: str | None  # why the entry activates without a key, if it does
    never: bool
    scan_depth: int | None
    exclude_recursion: bool
    prevent_recursion: bool
    text: str


def _keys(entry: LoreEntry, index: int, keys: list[str], defaults: _Defaults) -> tuple[Key, ...]:
    ext = entry.extensions
    case_sensitive = entry.case_sensitive
    if case_sensitive is None:
        case_sensitive = _flag(ext.get("case_sensitive"))
    if case_sensitive is None:
        case_sensitive = defaults.case_sensitive
    whole = _flag(ext.get("match_whole_words"))
    if whole is None:
        whole = defaults.whole_words
    compiled = []
    for key in keys:
        if not key.strip():
            continue  # an empty key would match every message
        try:
            compiled.append(compile_key(key, case_sensitive, whole))
        except BadKey as exc:
            raise LorebookError(f"{entry.label(index)}: {exc}; shorten or remove it") from None
    return tuple(compiled)


def _plan(entry: LoreEntry, index: int, defaults: _Defaults) -> _Plan:
    decorators, text = _split(entry.content)
    ext = entry.extensions
    logic = ext.get("selectiveLogic", _AND_ANY)
    secondary = _keys(entry, index, entry.secondary_keys, defaults) if entry.selective else ()
    always = "constant" if entry.constant else "@@activate" if "activate" in decorators else None
    return _Plan(
        primary=_keys(entry, index, entry.keys, defaults),
        secondary=secondary,
        logic=logic if type(logic) is int and logic in (_NOT_ALL, _NOT_ANY, _AND_ALL) else 0,
        always=always,
        never="dont_activate" in decorators,
        scan_depth=_depth(decorators.get("scan_depth", ext.get("scan_depth"))),
        exclude_recursion=bool(_flag(ext.get("exclude_recursion"))),
        prevent_recursion=bool(_flag(ext.get("prevent_recursion"))),
        text=text,
    )


def validate_lorebook(book: Lorebook) -> None:
    """Check what would otherwise fail mid-chat: over-long keys, a negative scan depth or
    budget. Card readers call this; it raises :class:`LorebookError`. It also compiles every
    key, so a scan finds them cached. A ``/pattern/`` key that does not compile is plain text
    (as in SillyTavern) and never fails a card."""
    if not isinstance(book, Lorebook):
        raise InvalidInput(f"expected a Lorebook, got {type(book).__name__}")
    for name in ("scan_depth", "token_budget"):
        value = getattr(book, name)
        if value is not None and value < 0:
            raise LorebookError(f"lorebook {name} is {value}; use 0 or a positive number")
    defaults = _Defaults.of(book)
    for index, entry in enumerate(book.entries):
        _keys(entry, index, entry.keys, defaults)
        _keys(entry, index, entry.secondary_keys, defaults)


def _matches(plan: _Plan, hays: Sequence[Hay], budget: RegexBudget) -> Key | None:
    """The primary key that activates the entry, or None when it does not activate."""

    def hit(key: Key) -> bool:
        return any(key.hit(hay, budget) for hay in hays)

    primary = next((key for key in plan.primary if hit(key)), None)
    if primary is None or not plan.secondary:
        return primary
    if plan.logic == _AND_ALL:
        passed = all(hit(key) for key in plan.secondary)
    elif plan.logic == _NOT_ALL:
        passed = not all(hit(key) for key in plan.secondary)
    else:
        found = any(hit(key) for key in plan.secondary)
        passed = not found if plan.logic == _NOT_ANY else found
    return primary if passed else None


def _check_args(
    book: object,
    messages: object,
    count_tokens: object,
    budget: object,
    max_recursion: object,
    time_budget: object,
) -> None:
    if not isinstance(book, Lorebook):
        raise InvalidInput(f"expected a Lorebook, got {type(book).__name__}")
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise InvalidInput("recent_messages must be a list of message texts, oldest first")
    if not all(isinstance(message, str) for message in messages):
        raise InvalidInput("recent_messages must contain only strings")
    if not callable(count_tokens):
        raise InvalidInput("count_tokens must be a function from text to a token count")
    for name, value in (("token_budget", budget), ("max_recursion", max_recursion)):
        if value is not None and (not isinstance(value, int) or value < 0):
            raise InvalidInput(f"{name} must be a whole number >= 0, got {value!r}")
    if isinstance(time_budget, bool) or not isinstance(time_budget, int | float) or time_budget < 0:
        raise InvalidInput(f"time_budget must be a number of seconds >= 0, got {time_budget!r}")


@dataclass(frozen=True)
class LoreScan:
    """What one scan of a book found.

    ``entries`` is what :func:`activate_entries` returns. ``reasons`` says, by index into the
    book's entries, why each activated entry did (``"constant"``, ``"@@activate"``, or the key
    that matched, as written), including entries the token budget then dropped. ``skipped``
    lists regex keys that were not run or were stopped, with why (see :class:`RegexBudget`).
    """

    entries: list[LoreEntry]
    reasons: dict[int, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)


def scan_lorebook(
    book: Lorebook,
    recent_messages: Sequence[str],
    *,
    count_tokens: Callable[[str], int],
    token_budget: int | None = None,
    max_recursion: int = 3,
    time_budget: float = SCAN_BUDGET_S,
) -> LoreScan:
    """Scan ``book`` like :func:`activate_entries` and say why each entry activated.

    ``time_budget`` is the seconds all regex keys together may run in this scan.
    """
    _check_args(book, recent_messages, count_tokens, token_budget, max_recursion, time_budget)
    entries = book.entries
    defaults = _Defaults.of(book)
    plans = {i: _plan(entry, i, defaults) for i, entry in enumerate(entries) if entry.enabled}
    book_depth = book.scan_depth if book.scan_depth is not None and book.scan_depth >= 0 else None
    default_depth = DEFAULT_SCAN_DEPTH if book_depth is None else book_depth
    windows: dict[int, Hay] = {}
    budget = RegexBudget(seconds=float(time_budget))

    def window(plan: _Plan) -> Hay:
        depth = default_depth if plan.scan_depth is None else plan.scan_depth
        if depth not in windows:
            recent = recent_messages[max(0, len(recent_messages) - depth) :] if depth else []
            windows[depth] = Hay.of("\n".join(recent)[-MAX_SCAN_CHARS:])
        return windows[depth]

    # Dicts keep insertion order, so every later step is deterministic.
    active: dict[int, str] = {}
    for index, plan in plans.items():
        if plan.never:
            continue
        if plan.always:
            active[index] = plan.always
        elif (key := _matches(plan, [window(plan)], budget)) is not None:
            active[index] = key.source
    fresh = [i for i in active if not plans[i].prevent_recursion]
    rounds = max_recursion if book.recursive_scanning else 0
    for _ in range(rounds):
        if not fresh:
            break
        scanned = "\n".join(plans[i].text for i in active if not plans[i].prevent_recursion)
        recursion = Hay.of(scanned[-MAX_SCAN_CHARS:])
        found: dict[int, str] = {}
        for index, plan in plans.items():
            if index in active or plan.never or plan.exclude_recursion:
                continue
            key = _matches(plan, [window(plan), recursion], budget)
            if key is not None:
                found[index] = key.source
        active.update(found)
        fresh = [i for i in found if not plans[i].prevent_recursion]

    chosen = list(active)
    limit = token_budget
    if limit is None and book.token_budget:
        limit = book.token_budget if book.token_budget > 0 else None
    if limit is not None:
        chosen = _fit(chosen, entries, plans, limit, count_tokens)
    chosen.sort(key=lambda i: (entries[i].insertion_order, i))
    _report(book, budget.skipped)
    return LoreScan([entries[i] for i in chosen], active, dict(budget.skipped))


def _report(book: Lorebook, skipped: dict[str, str]) -> None:
    fresh = {key: why for key, why in skipped.items() if key not in _REPORTED}
    if not fresh:
        return
    if len(_REPORTED) < _MAX_REPORTED:
        _REPORTED.update(fresh)
    log.warning(
        "lorebook %r: regex keys that count as no match: %s",
        book.name or "",
        "; ".join(f"{key[:60]!r} ({why})" for key, why in fresh.items()),
    )


def activate_entries(
    book: Lorebook,
    recent_messages: Sequence[str],
    *,
    count_tokens: Callable[[str], int],
    token_budget: int | None = None,
    max_recursion: int = 3,
    time_budget: float = SCAN_BUDGET_S,
) -> list[LoreEntry]:
    """The entries to insert this turn, ordered by ``insertion_order``.

    ``recent_messages`` run oldest to newest. ``count_tokens`` measures an entry's text for the
    budget, which is ``token_budget`` when given, else the book's (see the module notes).
    ``time_budget`` bounds the seconds regex keys may run; :func:`scan_lorebook` also says
    which keys activated what and which regex keys were skipped.
    """
    return scan_lorebook(
        book,
        recent_messages,
        count_tokens=count_tokens,
        token_budget=token_budget,
        max_recursion=max_recursion,
        time_budget=time_budget,
    ).entries


def _fit(
    chosen: list[int],
    entries: list[LoreEntry],
    plans: dict[int, _Plan],
    limit: int,
    count_tokens: Callable[[str], int],
) -> list[int]:
    def rank(i: int) -> tuple[int, int, int, int]:
        entry = entries[i]
        priority = entry.priority if entry.priority is not None else 0
        return (-priority, 0 if plans[i].always else 1, entry.insertion_order, i)

    kept: set[int] = set()
    used = 0
    for index in sorted(chosen, key=rank):
        cost = max(0, int(count_tokens(plans[index].text)))
        if used + cost <= limit:
            kept.add(index)
            used += cost
    return [i for i in chosen if i in kept]
