"""Characters in the store: the card kept losslessly as JSON, plus its avatar image."""

from __future__ import annotations

import json
import re
import sqlite3
import time
import unicodedata
from dataclasses import dataclass

from personae.characters import Character
from personae.errors import InvalidInput, NotFound
from personae.store.database import Database

_SLUG_MAX = 48


def slugify(name: str) -> str:
    """A readable id: lower-case ASCII words joined by '-', Hangul and other letters kept."""
    text = unicodedata.normalize("NFKC", name).strip().lower()
    text = re.sub(r"[^\w]+", "-", text, flags=re.UNICODE).strip("-_")
    return text[:_SLUG_MAX].strip("-") or "character"


_ID_RE = re.compile(r"^[\w][\w-]{0,63}$", re.UNICODE)


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
    ) -> str:
        """Store a character and return its new id (a unique slug of its name)."""
        base = check_id(character_id) if character_id else slugify(character.name)
        now = time.time()
        card_json = json.dumps(character.to_card_dict(), ensure_ascii=False)
        with self.db.transaction() as conn:
            new_id = base
            suffix = 2
            while conn.execute("SELECT 1 FROM characters WHERE id = ?", (new_id,)).fetchone():
                if character_id:
                    raise InvalidInput(f"a character with id {new_id!r} already exists")
                new_id = f"{base}-{suffix}"
                suffix += 1
            conn.execute(
                "INSERT INTO characters (id, name, card_json, image, source, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (new_id, character.name, card_json, image, source, now, now),
            )
        return new_id

    def update(self, character_id: str, character: Character) -> None:
        card_json = json.dumps(character.to_card_dict(), ensure_ascii=False)
        with self.db.transaction() as conn:
            cur = conn.execute(
                "UPDATE characters SET name = ?, card_json = ?, updated_at = ? WHERE id = ?",
                (character.name, card_json, time.time(), check_id(character_id)),
            )
            if cur.rowcount == 0:
                raise self._not_found(character_id)

    def get(self, character_id: str) -> StoredCharacter:
        row = self.db.conn.execute(
            "SELECT * FROM characters WHERE id = ?", (check_id(character_id),)
        ).fetchone()
        if row is None:
            raise self._not_found(character_id)
        return self._row(row)

    def find(self, id_or_name: str) -> StoredCharacter:
        """By id (any case), else by name (any case), else by a unique id prefix."""
        conn = self.db.conn
        prefix = id_or_name.lower().replace("%", r"\%").replace("_", r"\_") + "%"
        for sql, arg in (
            ("SELECT * FROM characters WHERE id = ?", id_or_name),
            ("SELECT * FROM characters WHERE lower(id) = lower(?)", id_or_name),
            ("SELECT * FROM characters WHERE lower(name) = lower(?)", id_or_name),
            ("SELECT * FROM characters WHERE lower(id) LIKE ? ESCAPE '\\'", prefix),
        ):
            rows = conn.execute(sql, (arg,)).fetchall()
            if len(rows) == 1:
                return self._row(rows[0])
            if len(rows) > 1:
                ids = ", ".join(r["id"] for r in rows)
                raise InvalidInput(f"{id_or_name!r} matches several characters ({ids}); use an id")
        raise self._not_found(id_or_name)

    def all(self) -> list[StoredCharacter]:
        rows = self.db.conn.execute("SELECT * FROM characters ORDER BY name, id").fetchall()
        return [self._row(r) for r in rows]

    def ids(self) -> set[str]:
        return {r[0] for r in self.db.conn.execute("SELECT id FROM characters")}

    def delete(self, character_id: str) -> None:
        with self.db.transaction() as conn:
            cur = conn.execute("DELETE FROM characters WHERE id = ?", (check_id(character_id),))
            if cur.rowcount == 0:
                raise self._not_found(character_id)

    @staticmethod
    def _row(row: sqlite3.Row) -> StoredCharacter:
        return StoredCharacter(
            id=row["id"],
            character=Character.from_card_dict(json.loads(row["card_json"])),
            image=row["image"],
            source=row["source"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )

    @staticmethod
    def _not_found(character_id: str) -> NotFound:
        return NotFound(
            f"no character {character_id!r}: see `personae card list`, or add one with "
            "`personae card import PATH`",
            param="character",
        )
