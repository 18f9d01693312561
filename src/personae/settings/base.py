"""What every table of ``config.toml`` is built on: a strict, frozen pydantic model whose bad
values are one line naming the table and the key.

A :class:`Section` refuses unknown keys, never coerces (``reflect = "no"`` is an error, not
True; ``lines_k = 2.5`` is not 2) and rejects NaN. Its errors are :class:`ConfigError` in the
style of every other setting: ``[memory] lines_k must be a whole number >= 0, not -1``. What a
key allows is said once, by its type and constraints (see :func:`allowed`), or by an
``Allowed`` marker where those say it badly; a validator's own message is kept as it is.
"""

from __future__ import annotations

import math
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Self, TypeGuard, Union, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from personae.errors import ConfigError


@dataclass(frozen=True)
class Allowed:
    """Annotated marker: what a key allows, in words, where its type says it badly."""

    text: str


@dataclass(frozen=True)
class Table:
    """Annotated marker: this key is a table of its own (``[backend_options]``), whose keys
    are those of ``of`` (a :class:`Section`) when given."""

    of: type[Section] | None = None


class SettingError(ValueError):
    """Raised by a validator: ``text`` says what is wrong with ``key`` (relative to where the
    validator runs; empty: the table itself)."""

    def __init__(self, text: str, key: str = "") -> None:
        super().__init__(text)
        self.text = text
        self.key = key


class Section(BaseModel):
    """A table of ``config.toml``. ``TABLE`` is its header (``"memory"``; the root's is empty).
    :meth:`parse` reads one, raising :class:`ConfigError` naming the table and the key.

    (No ``__init__`` of its own: pydantic would call it for every nested table, and an error
    raised there would lose the path to the key. The root, never nested, has one.)"""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
    TABLE: ClassVar[str] = ""

    @classmethod
    def parse(cls, data: Any, *, table: str | None = None) -> Self:
        """``data`` (a table read from the file) as this section; ``table``: the header to name
        in an error (default :attr:`TABLE`; "" for keyword arguments and flags)."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise config_error(cls, exc, cls.TABLE if table is None else table) from None

    def given(self) -> dict[str, Any]:
        """The keys set explicitly, with their values (what a table laid over another sets)."""
        return {k: getattr(self, k) for k in self.model_fields_set}

    def with_values(self, values: Mapping[str, Any], *, table: str = "") -> Self:
        """A copy with ``values`` over the keys given so far, checked like the file's; an error
        names ``table`` (default: none, as for keyword arguments and flags)."""
        return self.parse({**self.given(), **values}, table=table)


# -- errors ---------------------------------------------------------------------------------


def config_error(cls: type[BaseModel], exc: ValidationError, table: str) -> ConfigError:
    """The first error of ``exc`` as one line: ``[table] key must be …, not …``."""
    error = exc.errors(include_url=False)[0]
    path, text = _describe(cls, error)
    header, key, _ = _walk(cls, path)
    header = [table, *header] if table else header
    subject = f"[{'.'.join(header)}]" if header else ""
    if key:
        line = f"{subject} {'.'.join(key)}{_joined(text)}".strip()
    elif subject:
        line = f"{subject} {text}"
    else:  # the top level of the file
        line = "unknown " + text[len("has no ") :] if text.startswith("has no ") else text
    return ConfigError(line, param=".".join([*header, *key]) or None)


def _joined(text: str) -> str:
    # "kinds has an unknown memory …", "n must be …"; a message of its own: "types: unknown …".
    return f" {text}" if text.startswith(("must ", "has ", "is ")) else f": {text}"


def _walk(
    cls: type[BaseModel], path: Sequence[str]
) -> tuple[list[str], list[str], FieldInfo | None]:
    """Split a key path into the innermost table holding the key (its header's parts), the
    key within it, and the key's field (None where the path leaves the models)."""
    header: list[str] = []
    model: type[BaseModel] | None = cls
    parts = list(path)
    info: FieldInfo | None = None
    while parts:
        part = parts.pop(0)
        info = model.model_fields.get(part) if model is not None else None
        if info is None:
            return header, [part, *parts], None
        inner = _table_of(info)
        if inner is False:
            return header, [part, *parts], info
        if _is_mapping_of_sections(info):
            if not parts:  # the table of tables itself is a key of its table
                return header, [part], info
            header += [part, parts.pop(0)]
        else:
            header.append(part)
        model = inner
    return header, [], info


def _describe(cls: type[BaseModel], error: ErrorDetails) -> tuple[list[str], str]:
    """The key path of ``error`` (list indexes and wrapper names left out) and what to say."""
    path = [str(p) for p in error["loc"] if isinstance(p, str) and not _is_tag(p)]
    kind = error["type"]
    if kind in ("value_error", "assertion_error"):
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, SettingError):
            return path + [p for p in cause.key.split(".") if p], cause.text
        return path, str(cause) if cause is not None else error["msg"]
    if kind == "extra_forbidden":
        *where, unknown = path
        _, key, info = _walk(cls, where)
        model = _table_of(info) if info is not None and not key else (cls if not where else None)
        known = list(model.model_fields) if isinstance(model, type) else []
        listed = f": use {_listed(known)}" if known else ""
        return where, f"has no setting {unknown!r}{listed}"
    _, key, info = _walk(cls, path)
    if not key and path:  # the path names a table
        return path, "must be a table"
    what = allowed(info) if info is not None else "something else"
    return path, f"must be {what}, not {_shown(error['input'])}"


def _is_tag(part: str) -> bool:
    # pydantic may name a validator wrapper in a location ("function-after[…]"); no key has "["
    return "[" in part


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _table_of(info: FieldInfo) -> type[BaseModel] | None | Literal[False]:
    """The section a key's table holds (None: a free-form table), or False: not a table."""
    for meta in info.metadata:
        if isinstance(meta, Table):
            return meta.of
    annotation = info.annotation
    if _is_section_type(annotation):
        return annotation
    if get_origin(annotation) in (dict, Mapping):
        value = get_args(annotation)[-1]
        if _is_section_type(value):
            return value
    return False


def _is_section_type(annotation: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_mapping_of_sections(info: FieldInfo) -> bool:
    annotation = info.annotation
    return get_origin(annotation) in (dict, Mapping) and _is_section_type(get_args(annotation)[-1])


def allowed(info: FieldInfo) -> str:
    """What a key allows, in words: from an :class:`Allowed` marker, else its type and bounds
    ("a whole number from 1 to 64", "a number in (0, 1]", "'user' or 'character'")."""
    for meta in info.metadata:
        if isinstance(meta, Allowed):
            return meta.text
    annotation = _without_none(info.annotation)
    bounds = {
        name: getattr(meta, name)
        for meta in info.metadata
        for name in ("ge", "gt", "le", "lt")
        if isinstance(meta, annotated_types.BaseMetadata) and hasattr(meta, name)
    }
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "a whole number" + _range(bounds)
    if annotation is float:
        return "a number" + _range(bounds)
    if get_origin(annotation) is Literal:
        choices = [repr(c) for c in get_args(annotation)]
        return " or ".join(choices) if len(choices) == 2 else f"one of {_listed(choices)}"
    if annotation is str:
        return "text"
    if get_origin(annotation) in (list, tuple):
        return "a list"
    return f"a {getattr(annotation, '__name__', 'value')}"


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def _range(bounds: Mapping[str, float]) -> str:
    low, high = bounds.get("ge"), bounds.get("le")
    above, below = bounds.get("gt"), bounds.get("lt")
    if above is not None and high is not None:
        return f" in ({_n(above)}, {_n(high)}]"
    if low is not None and high is not None:
        return f" from {_n(low)} to {_n(high)}"
    if low is not None:
        return f" >= {_n(low)}"
    if above is not None:
        return f" above {_n(above)}"
    if high is not None:
        return f" <= {_n(high)}"
    if below is not None:
        return f" below {_n(below)}"
    return ""


def _n(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def _shown(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
