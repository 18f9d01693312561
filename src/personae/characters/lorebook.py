"""Which lorebook entries a turn's prompt should include.

Semantics (Character Card V2/V3, with the choices the spec leaves open made explicit):

* Only ``enabled`` entries take part. ``constant`` entries (and ``@@activate``) always activate;
  ``@@dont_activate`` never does.
* A primary key found in the last ``scan_depth`` messages activates an entry. ``scan_depth``
  comes from the book (or a SillyTavern per-entry ``extensions.scan_depth`` / ``@@scan_depth``),
  default :data:`DEFAULT_SCAN_DEPTH` = 2, the same as SillyTavern's default; 0 scans nothing.
* Matching is case-insensitive unless ``case_sensitive``. Plain keys match whole words in
  spaced scripts and substrings in Korean/CJK (see :mod:`personae.characters._keys`).
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

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from personae.characters._keys import BadKey, Hay, Key, compile_key
from personae.characters.card import Lorebook, LoreEntry
from personae.errors import InvalidInput, LorebookError

DEFAULT_SCAN_DEPTH = 2
_AND_ANY, _NOT_ALL, _NOT_ANY, _AND_ALL = 0, 1, 2, 3


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
class _Plan:
    primary: tuple[Key, ...]
    secondary: tuple[Key, ...]
    logic: int
    always: bool
    never: bool
    scan_depth: int | None
    exclude_recursion: bool
    prevent_recursion: bool
    text: str


def _keys(entry: LoreEntry, index: int, keys: list[str]) -> tuple[Key, ...]:
    ext = entry.extensions
    case_sensitive = entry.case_sensitive
    if case_sensitive is None:
        case_sensitive = _flag(ext.get("case_sensitive")) or False
    whole = _flag(ext.get("match_whole_words"))
    compiled = []
    for key in keys:
        if not key.strip():
            continue  # an empty key would match every message
        try:
            compiled.append(compile_key(key, entry.use_regex, case_sensitive, whole))
        except BadKey as exc:
            raise LorebookError(
                f"{entry.label(index)}: {exc}; fix the key or set use_regex to false"
            ) from None
    return tuple(compiled)


def _plan(entry: LoreEntry, index: int) -> _Plan:
    decorators, text = _split(entry.content)
    ext = entry.extensions
    logic = ext.get("selectiveLogic", _AND_ANY)
    secondary = _keys(entry, index, entry.secondary_keys) if entry.selective else ()
    return _Plan(
        primary=_keys(entry, index, entry.keys),
        secondary=secondary,
        logic=logic if type(logic) is int and logic in (_NOT_ALL, _NOT_ANY, _AND_ALL) else 0,
        always=bool(entry.constant) or "activate" in decorators,
        never="dont_activate" in decorators,
        scan_depth=_depth(decorators.get("scan_depth", ext.get("scan_depth"))),
        exclude_recursion=bool(_flag(ext.get("exclude_recursion"))),
        prevent_recursion=bool(_flag(ext.get("prevent_recursion"))),
        text=text,
    )


def validate_lorebook(book: Lorebook) -> None:
    """Check what would otherwise fail mid-chat: regex keys that do not compile, negative
    scan depth or budget. Card readers call this; it raises :class:`LorebookError`."""
    if not isinstance(book, Lorebook):
        raise InvalidInput(f"expected a Lorebook, got {type(book).__name__}")
    for name in ("scan_depth", "token_budget"):
        value = getattr(book, name)
        if value is not None and value < 0:
            raise LorebookError(f"lorebook {name} is {value}; use 0 or a positive number")
    for index, entry in enumerate(book.entries):
        _keys(entry, index, entry.keys)
        _keys(entry, index, entry.secondary_keys)


def _matches(plan: _Plan, hays: Sequence[Hay]) -> bool:
    def hit(key: Key) -> bool:
        return any(key.hit(hay) for hay in hays)

    if not any(hit(key) for key in plan.primary):
        return False
    if not plan.secondary:
        return True
    if plan.logic == _AND_ALL:
        return all(hit(key) for key in plan.secondary)
    if plan.logic == _NOT_ALL:
        return not all(hit(key) for key in plan.secondary)
    found = any(hit(key) for key in plan.secondary)
    return not found if plan.logic == _NOT_ANY else found


def _check_args(
    book: object, messages: object, count_tokens: object, budget: object, max_recursion: object
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


def activate_entries(
    book: Lorebook,
    recent_messages: Sequence[str],
    *,
    count_tokens: Callable[[str], int],
    token_budget: int | None = None,
    max_recursion: int = 3,
) -> list[LoreEntry]:
    """The entries to insert this turn, ordered by ``insertion_order``.

    ``recent_messages`` run oldest to newest. ``count_tokens`` measures an entry's text for the
    budget, which is ``token_budget`` when given, else the book's (see the module notes).
    """
    _check_args(book, recent_messages, count_tokens, token_budget, max_recursion)
    entries = book.entries
    plans = {i: _plan(entry, i) for i, entry in enumerate(entries) if entry.enabled}
    book_depth = book.scan_depth if book.scan_depth is not None and book.scan_depth >= 0 else None
    default_depth = DEFAULT_SCAN_DEPTH if book_depth is None else book_depth
    windows: dict[int, Hay] = {}

    def window(plan: _Plan) -> Hay:
        depth = default_depth if plan.scan_depth is None else plan.scan_depth
        if depth not in windows:
            recent = recent_messages[max(0, len(recent_messages) - depth) :] if depth else []
            windows[depth] = Hay.of("\n".join(recent))
        return windows[depth]

    # Dicts keep insertion order, so every later step is deterministic.
    active: dict[int, None] = {}
    for index, plan in plans.items():
        if not plan.never and (plan.always or _matches(plan, [window(plan)])):
            active[index] = None
    fresh = [i for i in active if not plans[i].prevent_recursion]
    rounds = max_recursion if book.recursive_scanning else 0
    for _ in range(rounds):
        if not fresh:
            break
        scanned = Hay.of("\n".join(plans[i].text for i in active if not plans[i].prevent_recursion))
        found = [
            index
            for index, plan in plans.items()
            if index not in active
            and not (plan.never or plan.exclude_recursion)
            and _matches(plan, [window(plan), scanned])
        ]
        active.update(dict.fromkeys(found))
        fresh = [i for i in found if not plans[i].prevent_recursion]

    chosen = list(active)
    limit = token_budget
    if limit is None and book.token_budget:
        limit = book.token_budget if book.token_budget > 0 else None
    if limit is not None:
        chosen = _fit(chosen, entries, plans, limit, count_tokens)
    chosen.sort(key=lambda i: (entries[i].insertion_order, i))
    return [entries[i] for i in chosen]


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
