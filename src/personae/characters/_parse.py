"""Turn a decoded card (any spec, any sloppiness) into clean ``data`` for the models.

Real cards are written by many tools and by hand: ``null`` where a string belongs, numbers in
tag lists, a comma-separated string instead of a key list. Those are repaired here, where the
intent is unambiguous; anything else becomes a :class:`CardError` naming the field, so the
models never see a type they would reject with a traceback.

Sizes are capped too: every turn puts the card's text through the prompt builder, so a card
of megabytes would cost seconds of CPU on every request. The caps sit far above real cards
(the largest field of the reference cards is a 5,083-character description; lorebooks run to
hundreds of entries) and each refusal names the field and its cap.
"""

from __future__ import annotations

import math
import re
from typing import Any

from personae.characters._keys import MAX_KEY_CHARS
from personae.errors import CardError

MAX_DEPTH = 100
MAX_TEXT_CHARS = 100_000  # a prompt field, a greeting or a lorebook entry's content
MAX_SHORT_CHARS = 1_000  # a name, creator, version or nickname
MAX_GREETINGS = 200  # alternate_greetings, group_only_greetings (each)
# Lorebooks as World Info files have them too (personae.characters.worldinfo).
MAX_ENTRIES = 5_000  # lorebook entries
MAX_KEYS = 500  # keys (and secondary keys) of one lorebook entry
MAX_CARD_CHARS = 4_000_000  # all the card's text together, extensions included
MAX_CARD_VALUES = 500_000  # all the card's JSON values together
V2_SPECS = {"chara_card_v2": "chara_card_v2", "chara_card_v3": "chara_card_v3"}
_TEXT_FIELDS = (
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
    "creator_notes",
    "system_prompt",
    "post_history_instructions",
    "creator",
    "character_version",
)
_LIST_FIELDS = ("alternate_greetings", "group_only_greetings")
_SHORT_FIELDS = ("name", "creator", "character_version")
_HIDDEN = {"spec"}  # our own field name; a `data.spec` key would collide with it
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _fail(path: str, what: str) -> CardError:
    return CardError(f"card field '{path}' must be {what}; fix it in the card or re-export it")


# A value's place in the card as a linked list (parent, key), spelled out only for a message.
_Where = tuple[Any, str | int] | None


def _spell(where: _Where) -> str:
    parts: list[str | int] = []
    while where is not None:
        where, key = where
        parts.append(key)
    out = ""
    for part in reversed(parts):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out or "(the card itself)"


def check_json_tree(obj: Any) -> None:
    """Reject values JSON cannot hold, text that is not Unicode (lone UTF-16 surrogates, which
    JSON's ``\\ud800`` escapes can make), nesting deep enough to blow the stack later, and
    cards too large as a whole."""
    stack: list[tuple[Any, int, _Where]] = [(obj, 1, None)]
    chars = values = 0
    longest: tuple[int, _Where] = (0, None)  # named when the card is too large
    while stack:
        value, depth, where = stack.pop()
        values += 1
        if depth > MAX_DEPTH:
            raise CardError(f"card JSON is nested deeper than {MAX_DEPTH} levels; it is not a card")
        if isinstance(value, str):
            chars += len(value)
            if len(value) > longest[0]:
                longest = (len(value), where)
            if _LONE_SURROGATE.search(value):
                raise _not_text(_spell(where))
        elif isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise CardError("card JSON has a non-string object key; it is not valid JSON")
                chars += len(key)
                if _LONE_SURROGATE.search(key):
                    raise _not_text(f"a key of {_spell(where)}")
                stack.append((item, depth + 1, (where, key)))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, (where, i)) for i, item in enumerate(value))
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise CardError("card JSON contains NaN or Infinity; replace it with a number")
        elif value is not None and not isinstance(value, int | bool):
            raise CardError(f"card contains a {type(value).__name__}, which JSON cannot hold")
        if chars > MAX_CARD_CHARS or values > MAX_CARD_VALUES:
            size, where = longest
            raise CardError(
                f"the card is too large: over {MAX_CARD_CHARS:,} characters of text or "
                f"{MAX_CARD_VALUES:,} values in all (its longest text, '{_spell(where)}', has "
                f"{size:,}); shorten its text or split its lorebook"
            )


def _not_text(path: str) -> CardError:
    return CardError(
        f"card field '{path}' holds a lone UTF-16 surrogate (like \\ud800), which is not text; "
        "fix it in the card or re-save it as UTF-8 (an emoji cut in half is the usual cause)"
    )


def capped(value: str, path: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``value`` if it is at most ``limit`` characters, else a CardError naming the field."""
    if len(value) > limit:
        raise CardError(
            f"card field '{path}' is {len(value):,} characters long, over the {limit:,} a card "
            "may have there; shorten it (background a reply rarely needs fits a lorebook entry)"
        )
    return value


def _count(items: list[Any], path: str, limit: int, what: str) -> list[Any]:
    if len(items) > limit:
        raise CardError(
            f"card field '{path}' has {len(items):,} {what}, over the {limit:,} allowed"
        )
    return items


def text(value: Any, path: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _fail(path, "a string")


def opt_text(value: Any, path: str) -> str | None:
    return None if value is None else text(value, path)


def str_list(value: Any, path: str, *, split: bool = False) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) and split:
        # Hand-written cards sometimes give "a, b, c" where a list belongs.
        return [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list):
        raise _fail(path, "a list of strings")
    items: list[str] = []
    for item in value:
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise _fail(path, "a list of strings")
        items.append(str(item))
    return items


def opt_bool(value: Any, path: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _fail(path, "true or false")


def opt_int(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise _fail(path, "a whole number")


def obj(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _fail(path, "an object")
    return value


def _position(value: Any) -> str | None:
    if value in ("before_char", "after_char"):
        return str(value)
    # SillyTavern's numeric positions 0/1 mean the same two slots; anything else (its extra
    # depth slots, empty strings) has no V2 meaning and falls back to the default.
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1):
        return ("before_char", "after_char")[value]
    return None


def _keys(value: Any, path: str) -> list[str]:
    keys = _count(str_list(value, path, split=True), path, MAX_KEYS, "keys")
    for i, key in enumerate(keys):
        capped(key, f"{path}[{i}]", MAX_KEY_CHARS)
    return keys


def _entry(raw: Any, path: str) -> dict[str, Any]:
    entry = dict(obj(raw, path))
    entry["keys"] = _keys(entry.get("keys"), f"{path}.keys")
    entry["secondary_keys"] = _keys(entry.get("secondary_keys"), f"{path}.secondary_keys")
    entry["content"] = capped(text(entry.get("content"), f"{path}.content"), f"{path}.content")
    for key, default in (("enabled", True), ("use_regex", False)):
        flag = opt_bool(entry.get(key), f"{path}.{key}")
        entry[key] = default if flag is None else flag
    for key in ("case_sensitive", "constant", "selective"):
        entry[key] = opt_bool(entry.get(key), f"{path}.{key}")
    order = opt_int(entry.get("insertion_order"), f"{path}.insertion_order")
    entry["insertion_order"] = 100 if order is None else order
    entry["priority"] = opt_int(entry.get("priority"), f"{path}.priority")
    entry["position"] = _position(entry.get("position"))
    for key in ("name", "comment"):
        entry[key] = opt_text(entry.get(key), f"{path}.{key}")
    ident = entry.get("id")
    if isinstance(ident, float) and math.isfinite(ident) and ident == int(ident):
        ident = int(ident)
    if ident is not None and (isinstance(ident, bool) or not isinstance(ident, int | str)):
        raise _fail(f"{path}.id", "a number or a string")
    entry["id"] = ident
    entry["extensions"] = obj(entry.get("extensions"), f"{path}.extensions")
    return entry


def _book(raw: Any, path: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    book = dict(obj(raw, path))
    for key in ("name", "description"):
        book[key] = opt_text(book.get(key), f"{path}.{key}")
    for key in ("scan_depth", "token_budget"):
        book[key] = opt_int(book.get(key), f"{path}.{key}")
    book["recursive_scanning"] = opt_bool(
        book.get("recursive_scanning"), f"{path}.recursive_scanning"
    )
    book["extensions"] = obj(book.get("extensions"), f"{path}.extensions")
    entries = book.get("entries")
    if isinstance(entries, dict):
        # SillyTavern world-info exports key entries by uid ("0", "1", ...): keep their order.
        entries = [entries[k] for k in sorted(entries, key=lambda k: (len(k), k))]
    if entries is not None and not isinstance(entries, list):
        raise _fail(f"{path}.entries", "a list of entries")
    _count(entries or [], f"{path}.entries", MAX_ENTRIES, "entries")
    book["entries"] = [_entry(e, f"{path}.entries[{i}]") for i, e in enumerate(entries or [])]
    return book


def _assets(raw: Any, path: str) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise _fail(path, "a list of assets")
    assets = []
    for i, item in enumerate(raw):
        asset = dict(obj(item, f"{path}[{i}]"))
        for key in ("type", "uri", "name", "ext"):
            asset[key] = text(asset.get(key), f"{path}[{i}].{key}")
        assets.append(asset)
    return assets


def _data(raw: dict[str, Any], prefix: str) -> dict[str, Any]:
    data = {k: v for k, v in raw.items() if k not in _HIDDEN}
    for key in _TEXT_FIELDS:
        limit = MAX_SHORT_CHARS if key in _SHORT_FIELDS else MAX_TEXT_CHARS
        data[key] = capped(text(data.get(key), prefix + key), prefix + key, limit)
    for key in _LIST_FIELDS:
        greetings = _count(str_list(data.get(key), prefix + key), prefix + key, MAX_GREETINGS, key)
        for i, greeting in enumerate(greetings):
            capped(greeting, f"{prefix}{key}[{i}]")
        data[key] = greetings
    data["tags"] = str_list(data.get("tags"), prefix + "tags", split=True)
    data["extensions"] = obj(data.get("extensions"), prefix + "extensions")
    data["character_book"] = _book(data.get("character_book"), prefix + "character_book")
    nickname = opt_text(data.get("nickname"), prefix + "nickname")
    data["nickname"] = (
        None if nickname is None else capped(nickname, prefix + "nickname", MAX_SHORT_CHARS)
    )
    notes = data.get("creator_notes_multilingual")
    if notes is not None:
        where = prefix + "creator_notes_multilingual"
        notes = {k: text(v, f"{where}.{k}") for k, v in obj(notes, where).items()}
    data["creator_notes_multilingual"] = notes
    source = data.get("source")
    data["source"] = None if source is None else str_list(source, prefix + "source")
    for key in ("creation_date", "modification_date"):
        data[key] = opt_int(data.get(key), prefix + key)
    data["assets"] = _assets(data.get("assets"), prefix + "assets")
    if not data["name"].strip():
        raise CardError(f"card has no name; set '{prefix}name' to the character's name")
    return data


def normalise_card(card: Any) -> tuple[dict[str, Any], str]:
    """Clean ``data`` and the spec name (``chara_card_v2``/``_v3``) of a decoded card."""
    not_a_card(card)
    if not isinstance(card, dict):
        raise CardError(
            f"a character card must be a JSON object, not {type(card).__name__}; "
            "check that the file is a card"
        )
    check_json_tree(card)
    spec = card.get("spec")
    data = card.get("data")
    known = isinstance(spec, str) and spec in V2_SPECS
    if known or (spec is None and isinstance(data, dict)):
        if not isinstance(data, dict):
            raise _fail("data", "an object holding the character")
        return _data(data, "data."), V2_SPECS.get(str(spec), "chara_card_v2")
    if spec is not None:
        raise CardError(
            f"unsupported card spec {str(spec)[:40]!r}; personae reads chara_card_v2, "
            "chara_card_v3 and V1 cards"
        )
    # V1: the character sits at the top level. SillyTavern's old comment field maps the same
    # way its own V1 → V2 upgrade maps it.
    flat = dict(card)
    if "creatorcomment" in flat and "creator_notes" not in flat:
        flat["creator_notes"] = flat.pop("creatorcomment")
    return _data(flat, ""), "chara_card_v2"


# -- a card, or a World Info file given as one -----------------------------------------------


def is_world_info(obj: Any) -> bool:
    """Whether decoded JSON is a World Info file (or a bare lorebook) rather than a card: an
    object whose ``entries`` sit at the top level, or a list of entries."""
    if isinstance(obj, list):
        return bool(obj) and all(isinstance(item, dict) for item in obj)
    if not isinstance(obj, dict) or any(key in obj for key in ("spec", "data", "first_mes")):
        return False
    return isinstance(obj.get("entries"), dict | list)


def not_a_card(obj: Any) -> None:
    """Raise the error that sends a World Info file given as a card to where it belongs (the
    card readers call this before anything else)."""
    if is_world_info(obj):
        raise CardError(
            "this is a World Info lorebook, not a character card: import it with "
            "`personae lorebook import FILE` (or POST it to /api/lorebooks)"
        )
