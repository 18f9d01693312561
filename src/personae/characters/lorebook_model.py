"""A character book's data: :class:`Lorebook` and its :class:`LoreEntry` s, faithful to the card
spec (what the entries do is :mod:`.lorebook`; reading World Info files, :mod:`.worldinfo`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Position = Literal["before_char", "after_char"]

_ENTRY_OPTIONAL: tuple[str, ...] = (
    *("case_sensitive", "constant", "selective", "priority", "position"),
    *("name", "comment", "id"),
)
_BOOK_OPTIONAL = ("name", "description", "scan_depth", "token_budget", "recursive_scanning")


def drop_none(dumped: dict[str, Any], optional: tuple[str, ...]) -> dict[str, Any]:
    # Optional spec fields are omitted rather than written as null: strict readers reject null
    # where the spec says "string if present", and absence means the same thing.
    for key in optional:
        if dumped.get(key, 0) is None:
            del dumped[key]
    return dumped


class LoreEntry(BaseModel):
    """One lorebook (world info) entry."""

    model_config = ConfigDict(extra="allow")

    keys: list[str] = Field(default_factory=list)
    content: str = ""
    enabled: bool = True
    insertion_order: int = 100
    case_sensitive: bool | None = None
    use_regex: bool = False  # kept as written; only a /pattern/ key is a regex (see _keys)
    constant: bool | None = None
    selective: bool | None = None
    secondary_keys: list[str] = Field(default_factory=list)
    priority: int | None = None
    position: Position | None = None
    name: str | None = None
    comment: str | None = None
    id: int | str | None = None
    extensions: dict[str, Any] = Field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The entry as card JSON (optional fields that are unset are omitted)."""
        return drop_none(self.model_dump(), _ENTRY_OPTIONAL)

    def label(self, index: int) -> str:
        """How messages refer to this entry: its index plus name/comment when it has one."""
        title = self.name or self.comment
        return f"lorebook entry #{index}" + (f" ({title!r})" if title else "")


class Lorebook(BaseModel):
    """A character book: entries plus book-wide scan settings."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    description: str | None = None
    scan_depth: int | None = None
    token_budget: int | None = None
    recursive_scanning: bool | None = None
    extensions: dict[str, Any] = Field(default_factory=dict)
    entries: list[LoreEntry] = Field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The book as card JSON."""
        dumped = drop_none(self.model_dump(exclude={"entries"}), _BOOK_OPTIONAL)
        dumped["entries"] = [entry.to_dict() for entry in self.entries]
        return dumped


__all__ = ["LoreEntry", "Lorebook", "Position", "drop_none"]
