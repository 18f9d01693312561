"""World Info files — SillyTavern's standalone lorebooks — to and from personae's :class:`Lorebook`.

A World Info file is ``{"entries": {"0": {uid, key[], keysecondary[], comment, content,
constant, selective, order, position, disable, …}, …}}``: entries keyed by uid, with field names
that differ from a card's ``character_book``. The mapping is the one SillyTavern itself uses
when it embeds a world in a card (and reads it back), so a book moves between the two programs
unchanged:

============================  ===========================================================
World Info entry              personae :class:`LoreEntry`
============================  ===========================================================
uid                           id
key / keysecondary            keys / secondary_keys
comment, content              comment, content
constant, selective           constant, selective
order                         insertion_order
disable                       enabled (negated)
position (0-6)                position (0: before_char, else after_char) and
                              ``extensions.position`` (the exact slot)
excludeRecursion, scanDepth,  ``extensions`` under SillyTavern's card names
caseSensitive, … (see         (exclude_recursion, scan_depth, case_sensitive, …), where
:data:`EXTENSION_FIELDS`)     personae's matcher reads them
anything else                 ``extensions["world_info"]``, written back as it was
============================  ===========================================================

Book-level keys other than ``entries`` go to the book's ``extensions["world_info"]`` (personae's
own ``name``, ``description``, ``scan_depth``, ``token_budget`` and ``recursive_scanning`` map to
the book's fields). So World Info → personae → World Info gives back every field; fields a file
lacks come back with SillyTavern's defaults.

Reading is bounded (entry count, content size, key count and length; file size in
:mod:`personae.characters.lorebook_files`) and every problem is a :class:`WorldInfoError` naming
the entry, on one line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from personae.characters import _parse
from personae.characters._keys import MAX_KEY_CHARS
from personae.characters.formats.json_card import encode_json
from personae.characters.lorebook import validate_lorebook
from personae.characters.lorebook_model import Lorebook, LoreEntry
from personae.errors import CardError, LorebookError

# The same caps as a card's embedded book: a book that fits one fits the other.
MAX_ENTRIES = _parse.MAX_ENTRIES
MAX_CONTENT_CHARS = _parse.MAX_TEXT_CHARS
MAX_KEYS_PER_ENTRY = _parse.MAX_KEYS
WORLD_INFO = "world_info"  # the extensions key that keeps fields personae has no place for

# World Info name -> card extension name, as SillyTavern converts between the two.
EXTENSION_FIELDS: tuple[tuple[str, str], ...] = (
    ("position", "position"),
    ("excludeRecursion", "exclude_recursion"),
    ("preventRecursion", "prevent_recursion"),
    ("delayUntilRecursion", "delay_until_recursion"),
    ("displayIndex", "display_index"),
    ("probability", "probability"),
    ("useProbability", "useProbability"),
    ("depth", "depth"),
    ("selectiveLogic", "selectiveLogic"),
    ("group", "group"),
    ("groupOverride", "group_override"),
    ("groupWeight", "group_weight"),
    ("scanDepth", "scan_depth"),
    ("caseSensitive", "case_sensitive"),
    ("matchWholeWords", "match_whole_words"),
    ("useGroupScoring", "use_group_scoring"),
    ("automationId", "automation_id"),
    ("role", "role"),
    ("vectorized", "vectorized"),
    ("sticky", "sticky"),
    ("cooldown", "cooldown"),
    ("delay", "delay"),
)
# SillyTavern's defaults for a new entry (its ``newWorldInfoEntryTemplate``): what an exported
# entry holds for a field the book never set.
_DEFAULTS: dict[str, Any] = {
    "vectorized": False,
    "selectiveLogic": 0,
    "excludeRecursion": False,
    "preventRecursion": False,
    "delayUntilRecursion": 0,
    "probability": 100,
    "useProbability": True,
    "depth": 4,
    "group": "",
    "groupOverride": False,
    "groupWeight": 100,
    "scanDepth": None,
    "caseSensitive": None,
    "matchWholeWords": None,
    "useGroupScoring": None,
    "automationId": "",
    "role": 0,
    "sticky": None,
    "cooldown": None,
    "delay": None,
}
_ENTRY_FIELDS = frozenset(
    {"uid", "key", "keysecondary", "comment", "content", "constant", "selective", "order"}
    | {"disable", *(wi for wi, _ in EXTENSION_FIELDS)}
)
_BOOK_FIELDS = ("name", "description", "scan_depth", "token_budget", "recursive_scanning")


class WorldInfoError(LorebookError):
    """A World Info file could not be read or written."""

    code = "invalid_lorebook"


# -- recognising ---------------------------------------------------------------------------------


def _card_style(entries: list[Any]) -> bool:
    # A card's character_book saved on its own: entries carry `keys`, World Info's carry `key`.
    return any(isinstance(e, dict) and "keys" in e and "key" not in e for e in entries)


# -- World Info -> personae ----------------------------------------------------------------------


def _label(uid: Any, raw: dict[str, Any]) -> str:
    comment = raw.get("comment")
    title = f" ({comment[:40]!r})" if isinstance(comment, str) and comment.strip() else ""
    return f"world info entry {str(uid)[:20]}{title}"


_WHAT: dict[Callable[..., Any], str] = {
    _parse.str_list: "a list of strings",
    _parse.text: "a string",
    _parse.opt_text: "a string",
    _parse.opt_bool: "true or false",
    _parse.opt_int: "a whole number",
    _parse.obj: "an object",
}


def _field(convert: Callable[..., Any], raw: dict[str, Any], name: str, label: str) -> Any:
    """``convert`` (one of the card parser's repairs) applied to ``raw[name]``, with the error
    said in World Info's terms."""
    try:
        if convert is _parse.str_list:
            return convert(raw.get(name), name, split=True)
        return convert(raw.get(name), name)
    except CardError:
        raise WorldInfoError(
            f"{label}: '{name}' must be {_WHAT[convert]}; fix it in the file or re-export it"
        ) from None


def _keys(raw: dict[str, Any], name: str, label: str) -> list[str]:
    keys: list[str] = _field(_parse.str_list, raw, name, label)
    if len(keys) > MAX_KEYS_PER_ENTRY:
        raise WorldInfoError(
            f"{label} has {len(keys)} keys in '{name}'; at most {MAX_KEYS_PER_ENTRY} are allowed"
        )
    for key in keys:
        if len(key) > MAX_KEY_CHARS:
            raise WorldInfoError(
                f"{label} has a key longer than {MAX_KEY_CHARS} characters; shorten it"
            )
    return keys


def _uid(raw: dict[str, Any], fallback: str, index: int) -> int | str:
    for value in (raw.get("uid"), fallback):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().isdecimal():
            return int(value.strip())
    return index


def _position(value: Any, label: str) -> tuple[str, int | None]:
    """personae's position and SillyTavern's exact slot (None: the file gave none)."""
    if value is None:
        return "before_char", None
    if value in ("before_char", "after_char"):
        return str(value), 0 if value == "before_char" else 1
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 6:
        return ("before_char" if value == 0 else "after_char"), value
    raise WorldInfoError(
        f"{label}: 'position' must be a number from 0 to 6; fix it in the file or re-export it"
    )


def _entry(raw: Any, key: str, index: int) -> LoreEntry:
    if not isinstance(raw, dict):
        raise WorldInfoError(f"world info entry {key[:20]} is not an object; fix the file")
    uid = _uid(raw, key, index)
    label = _label(uid, raw)
    content = _field(_parse.text, raw, "content", label)
    if len(content) > MAX_CONTENT_CHARS:
        raise WorldInfoError(
            f"{label} has {len(content):,} characters of content; at most "
            f"{MAX_CONTENT_CHARS:,} are allowed, so split it into several entries"
        )
    position, slot = _position(raw.get("position"), label)
    flags = {name: _field(_parse.opt_bool, raw, name, label) for name in ("constant", "selective")}
    disable = _field(_parse.opt_bool, raw, "disable", label)
    order = _field(_parse.opt_int, raw, "order", label)
    extensions = {card: raw[wi] for wi, card in EXTENSION_FIELDS if wi in raw}
    if slot is not None:
        extensions["position"] = slot
    extra = {k: v for k, v in raw.items() if k not in _ENTRY_FIELDS}
    # personae's own exports carry what World Info has no field for; take it back.
    own = extra.pop("extensions", None)
    if isinstance(own, dict):
        extensions = {**own, **extensions}
    fields: dict[str, Any] = {
        name: extra.pop(name) for name in ("name", "priority", "use_regex") if name in extra
    }
    if "case_sensitive" in extra:
        fields["case_sensitive"] = extra.pop("case_sensitive")
    if extra:
        extensions[WORLD_INFO] = extra
    try:
        return LoreEntry.model_validate(
            {
                **fields,
                "id": uid,
                "keys": _keys(raw, "key", label),
                "secondary_keys": _keys(raw, "keysecondary", label),
                "comment": _field(_parse.text, raw, "comment", label),
                "content": content,
                # SillyTavern's defaults for a field the file leaves out.
                "constant": bool(flags["constant"]),
                "selective": True if flags["selective"] is None else flags["selective"],
                "enabled": not disable,
                "insertion_order": 100 if order is None else order,
                "position": position,
                "extensions": extensions,
            }
        )
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"])
        raise WorldInfoError(f"{label}: '{where}' has the wrong type; fix it in the file") from None


def _entries(raw: Any) -> list[tuple[str, Any]]:
    if isinstance(raw, dict):
        return [(str(key), value) for key, value in raw.items()]
    if isinstance(raw, list):
        return [(str(index), value) for index, value in enumerate(raw)]
    raise WorldInfoError("the world info file's 'entries' must be an object keyed by uid or a list")


def world_info_to_lorebook(obj: Any, *, name: str | None = None) -> Lorebook:
    """A :class:`Lorebook` from decoded World Info JSON (or a bare list of entries, or a card's
    ``character_book`` saved on its own). ``name``: the book's name when the file has none."""
    _parse.check_json_tree(obj)
    if isinstance(obj, list):
        obj = {"entries": obj}
    if not isinstance(obj, dict) or "entries" not in obj or "spec" in obj or "data" in obj:
        raise WorldInfoError(
            "this is not a World Info file: it must be a JSON object with 'entries' "
            "(a SillyTavern world or lorebook export)"
        )
    pairs = _entries(obj["entries"])
    if len(pairs) > MAX_ENTRIES:
        raise WorldInfoError(
            f"the world info file has {len(pairs):,} entries; at most {MAX_ENTRIES:,} are "
            "read, so split it into several books"
        )
    if _card_style([value for _, value in pairs]):
        book = _card_book(obj)
    else:
        book = _world_book(obj, pairs)
    if not book.name and name:
        book.name = name
    validate_lorebook(book)
    return book


def _world_book(obj: dict[str, Any], pairs: list[tuple[str, Any]]) -> Lorebook:
    label = "the world info file"
    settings = {
        "name": _field(_parse.opt_text, obj, "name", label),
        "description": _field(_parse.opt_text, obj, "description", label),
        "scan_depth": _field(_parse.opt_int, obj, "scan_depth", label),
        "token_budget": _field(_parse.opt_int, obj, "token_budget", label),
        "recursive_scanning": _field(_parse.opt_bool, obj, "recursive_scanning", label),
    }
    extensions = dict(_field(_parse.obj, obj, "extensions", label))
    extra = {k: v for k, v in obj.items() if k not in ("entries", "extensions", *_BOOK_FIELDS)}
    if extra:
        extensions[WORLD_INFO] = extra
    entries = [_entry(raw, key, index) for index, (key, raw) in enumerate(pairs)]
    return Lorebook(**settings, extensions=extensions, entries=entries)


def _card_book(obj: dict[str, Any]) -> Lorebook:
    cleaned = _parse._book(obj, "lorebook")
    assert cleaned is not None  # obj is a dict
    for index, entry in enumerate(cleaned["entries"]):
        if len(entry["content"]) > MAX_CONTENT_CHARS:
            raise WorldInfoError(
                f"lorebook entry #{index} has {len(entry['content']):,} characters of content; "
                f"at most {MAX_CONTENT_CHARS:,} are allowed"
            )
    try:
        return Lorebook.model_validate(cleaned)
    except ValidationError as exc:
        where = ".".join(str(part) for part in exc.errors()[0]["loc"])
        raise WorldInfoError(f"lorebook field '{where}' has the wrong type; fix the file") from None


# -- personae -> World Info ----------------------------------------------------------------------


def _slot(entry: LoreEntry) -> int:
    slot = entry.extensions.get("position")
    if isinstance(slot, int) and not isinstance(slot, bool) and 0 <= slot <= 6:
        return slot
    return 0 if entry.position == "before_char" else 1


def _world_entry(entry: LoreEntry, uid: int, index: int) -> dict[str, Any]:
    ext = entry.extensions
    case_sensitive = entry.case_sensitive
    if case_sensitive is None:
        case_sensitive = ext.get("case_sensitive")
    out: dict[str, Any] = {
        "uid": uid,
        "key": list(entry.keys),
        "keysecondary": list(entry.secondary_keys),
        "comment": entry.comment or entry.name or "",
        "content": entry.content,
        "constant": bool(entry.constant),
        "selective": bool(entry.selective),
        "order": entry.insertion_order,
        "disable": not entry.enabled,
    }
    for wi, card in EXTENSION_FIELDS:
        out[wi] = ext[card] if card in ext else _DEFAULTS.get(wi)
    out["position"] = _slot(entry)
    out["caseSensitive"] = case_sensitive
    if "displayIndex" not in out or out["displayIndex"] is None:
        out["displayIndex"] = index
    kept = ext.get(WORLD_INFO)
    if isinstance(kept, dict):
        out.update({k: v for k, v in kept.items() if k not in out})
    out.setdefault("addMemo", bool(out["comment"]))
    # What World Info has no field for travels along, so reading the file back loses nothing.
    mapped = {card for _, card in EXTENSION_FIELDS} | {WORLD_INFO}
    own = {k: v for k, v in ext.items() if k not in mapped}
    if own:
        out["extensions"] = own
    for name in ("name", "priority"):
        value = getattr(entry, name)
        if value is not None and name not in out:
            out[name] = value
    if entry.use_regex:
        out["use_regex"] = True
    if entry.case_sensitive is not None:
        out["case_sensitive"] = entry.case_sensitive
    if entry.model_extra:
        out.update({k: v for k, v in entry.model_extra.items() if k not in out})
    return out


def _uids(book: Lorebook) -> list[int]:
    """Each entry's uid: its id when that is a whole number not used before, else the next
    free one."""
    taken: set[int] = set()
    wanted: list[int | None] = []
    for entry in book.entries:
        ident = entry.id
        if isinstance(ident, str) and ident.strip().isdecimal():
            ident = int(ident.strip())
        if isinstance(ident, int) and ident >= 0 and ident not in taken:
            taken.add(ident)
            wanted.append(ident)
        else:
            wanted.append(None)
    uids: list[int] = []
    free = 0
    for uid in wanted:
        if uid is None:
            while free in taken:
                free += 1
            uid = free
            taken.add(uid)
        uids.append(uid)
    return uids


def lorebook_to_world_info(book: Lorebook) -> dict[str, Any]:
    """The book as a World Info file (entries keyed by uid), which SillyTavern imports."""
    if not isinstance(book, Lorebook):
        raise WorldInfoError(f"expected a Lorebook, got {type(book).__name__}")
    entries = {
        str(uid): _world_entry(entry, uid, index)
        for index, (entry, uid) in enumerate(zip(book.entries, _uids(book), strict=True))
    }
    out: dict[str, Any] = {"entries": entries}
    for name in _BOOK_FIELDS:
        value = getattr(book, name)
        if value is not None:
            out[name] = value
    extensions = {k: v for k, v in book.extensions.items() if k != WORLD_INFO}
    if extensions:
        out["extensions"] = extensions
    kept = book.extensions.get(WORLD_INFO)
    if isinstance(kept, dict):
        out.update({k: v for k, v in kept.items() if k not in out})
    return out


def world_info_bytes(book: Lorebook) -> bytes:
    """The book as a pretty-printed UTF-8 World Info JSON file."""
    return encode_json(lorebook_to_world_info(book), indent=2)
