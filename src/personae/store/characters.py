"""Characters in the store: the card kept losslessly as JSON, plus its avatar image."""

from __future__ import annotations

import hashlib
import json
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from personae.characters import Character
from personae.errors import InvalidInput, NotFound
from personae.store.database import Database

_SLUG_MAX = 48
_SCOPED_SLUG_MAX = 40  # room for "--" and an owner tag of up to 16 in a 64-character id
_PLAIN_OWNER = re.compile(r"[a-z0-9_-]{1,16}")


def slugify(name: str) -> str:
    """A readable id: lower-case ASCII words joined by '-', Hangul and other letters kept."""
    text = unicodedata.normalize("NFKC", name).strip().lower()
    text = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-_")
    return text[:_SLUG_MAX].strip("-") or "character"


_ID_RE = re.compile(r"^[\w][\w-]{0,63}$", re.UNICODE)


def owner_tag(owner_id: str) -> str:
    """What an owner's characters' ids end in: a short plain user id itself, else a hash of it
    (ids have no room or characters for every user id)."""
    if _PLAIN_OWNER.fullmatch(owner_id):
        return owner_id
    return hashlib.sha256(owner_id.encode()).hexdigest()[:10]


def check_id(character_id: str) -> str:
    """Reject ids that could never have been made by :func:`slugify` (paths, control chars)."""
    if not _ID_RE.match(character_id):
        raise InvalidInput(
            f"{character_id!r} is not a character id; ids look like 'sherlock' "
            "(see `personae card list`)",
            param="character",
        )
    return character_id


@dataclass(frozen=True)
class StoredCharacter:
    id: str
    character: Character
    image: bytes | None
    source: str
    created_at: float
    updated_at: float
    owner_id: str | None = None  # None: added on this machine (bundled, CLI), not by a user
    shared: bool = True  # False: only its owner sees it

    def visible_to(self, user_id: str | None) -> bool:
        """Whether ``user_id`` may see it (None: the operator, who sees everything)."""
        return user_id is None or self.shared or self.owner_id == user_id

    def editable_by(self, user_id: str | None) -> bool:
        """Whether ``user_id`` may change or delete it: its owner, or the operator."""
        return user_id is None or self.owner_id == user_id


def _visible(user_id: str | None) -> tuple[str, tuple[str, ...]]:
    """A WHERE condition (and its arguments) for the characters ``user_id`` may see."""
    if user_id is None:
        return "TRUE", ()
    return "(shared = 1 OR owner_id = ?)", (user_id,)


class CharacterRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        character: Character,
        *,
        image: bytes | None = None,
        source: str = "import",
        character_id: str | None = None,
        owner_id: str | None = None,
        shared: bool = True,
        owner_scoped_id: bool = False,
    ) -> str:
        """Store a character and return its new id (a unique slug of its name).

        ``owner_id``: the user who added it through the server (None: added on this machine);
        ``shared`` False keeps it to its owner. ``owner_scoped_id``: make the id in the owner's
        own space, ``slug--tag`` (see :func:`owner_tag`), so that it depends only on the owner's
        characters: an id that came out ``twin-2`` would tell a user that somebody else has a
        private ``twin``. (:func:`slugify` never makes ``--``, so no name reaches that space.)
        """
        if owner_id is None and not shared:
            raise InvalidInput("a private character needs an owner", param="shared")
        if owner_scoped_id and owner_id is None:
            raise InvalidInput("an owner-scoped id needs an owner", param="owner_id")
        if character_id:
            base = check_id(character_id)
        elif owner_scoped_id and owner_id is not None:
            slug = slugify(character.name)[:_SCOPED_SLUG_MAX].strip("-_") or "character"
            base = f"{slug}--{owner_tag(owner_id)}"
        else:
            base = slugify(character.name)
        now = time.time()
        card_json = json.dumps(character.to_card_dict(), ensure_ascii=False)
        with self.db.transaction() as conn:
            # two uploads of one name at once must not pick the same free id
            self.db.lock_name(conn, f"character-id:{base}")
            new_id = base
            suffix = 2
            while conn.execute("SELECT 1 FROM characters WHERE id = ?", (new_id,)).fetchone():
                if character_id:
                    raise InvalidInput(f"a character with id {new_id!r} already exists")
                new_id = f"{base}-{suffix}"
                suffix += 1
            conn.execute(
                "INSERT INTO characters (id, name, card_json, image, source, created_at, "
                "updated_at, owner_id, shared) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (new_id, character.name, card_json, image, source, now, now, owner_id, shared),
            )
        return new_id

    def update(
        self, character_id: str, character: Character, *, image: bytes | None = None
    ) -> None:
        """Replace the card (and the avatar, when ``image`` is given)."""
        card_json = json.dumps(character.to_card_dict(), ensure_ascii=False)
        sets = "name = ?, card_json = ?, updated_at = ?"
        args: list[str | float | bytes] = [character.name, card_json]
        args.append(time.time())
        if image is not None:
            sets += ", image = ?"
            args.append(image)
        with self.db.transaction() as conn:
            cur = conn.execute(
                f"UPDATE characters SET {sets} WHERE id = ?", (*args, check_id(character_id))
            )
            if cur.rowcount == 0:
                raise self._not_found(character_id)

    def set_shared(self, character_id: str, shared: bool) -> None:
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT owner_id FROM characters WHERE id = ?", (check_id(character_id),)
            ).fetchone()
            if row is None:
                raise self._not_found(character_id)
            if row["owner_id"] is None and not shared:
                raise InvalidInput(
                    f"{character_id!r} was added on the server's machine and has no owner, so "
                    "it stays shared",
                    param="shared",
                )
            conn.execute(
                "UPDATE characters SET shared = ?, updated_at = ? WHERE id = ?",
                (int(shared), time.time(), character_id),
            )

    def get(self, character_id: str, *, visible_to: str | None = None) -> StoredCharacter:
        """By exact id; ``visible_to``: a user id, for whom others' private ones don't exist."""
        where, args = _visible(visible_to)
        row = self.db.conn.execute(
            f"SELECT * FROM characters WHERE id = ? AND {where}", (check_id(character_id), *args)
        ).fetchone()
        if row is None:
            raise self._not_found(character_id)
        return self._row(row)

    def find(self, id_or_name: str, *, visible_to: str | None = None) -> StoredCharacter:
        """By id (any case), else by name (any case), else by a unique id prefix."""
        conn = self.db.conn
        where, extra = _visible(visible_to)
        prefix = id_or_name.lower().replace("%", r"\%").replace("_", r"\_") + "%"
        for sql, arg in (
            ("SELECT * FROM characters WHERE id = ?", id_or_name),
            ("SELECT * FROM characters WHERE lower(id) = lower(?)", id_or_name),
            ("SELECT * FROM characters WHERE lower(name) = lower(?)", id_or_name),
            ("SELECT * FROM characters WHERE lower(id) LIKE ? ESCAPE '\\'", prefix),
        ):
            rows = conn.execute(f"{sql} AND {where}", (arg, *extra)).fetchall()
            if len(rows) == 1:
                return self._row(rows[0])
            if len(rows) > 1:
                ids = ", ".join(r["id"] for r in rows)
                raise InvalidInput(f"{id_or_name!r} matches several characters ({ids}); use an id")
        raise self._not_found(id_or_name)

    def all(self, *, visible_to: str | None = None) -> list[StoredCharacter]:
        where, args = _visible(visible_to)
        rows = self.db.conn.execute(
            f"SELECT * FROM characters WHERE {where} ORDER BY name, id", args
        ).fetchall()
        return [self._row(r) for r in rows]

    def ids(self) -> set[str]:
        return {r[0] for r in self.db.conn.execute("SELECT id FROM characters")}

    def delete(self, character_id: str) -> None:
        with self.db.transaction() as conn:
            cur = conn.execute("DELETE FROM characters WHERE id = ?", (check_id(character_id),))
            if cur.rowcount == 0:
                raise self._not_found(character_id)

    @staticmethod
    def _row(row: Any) -> StoredCharacter:
        return StoredCharacter(
            id=row["id"],
            character=Character.from_card_dict(json.loads(row["card_json"])),
            image=row["image"],
            source=row["source"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            owner_id=row["owner_id"],
            shared=bool(row["shared"]),
        )

    @staticmethod
    def _not_found(character_id: str) -> NotFound:
        return NotFound(
            f"no character {character_id!r}: see `personae card list`, or add one with "
            "`personae card import PATH`",
            param="character",
        )
