"""A model's default sampling, and a user's overrides of it (``--sampling KEY=VALUE``).

Every place that makes the parameters of a chat reply (the CLI, the server, the fidelity player)
asks :func:`default_params`, so one model samples the same way wherever it runs. Catalogue models
bring their own defaults (``ModelSpec.sampling``, see :mod:`.catalogue`); any other model (a
``.gguf`` path, a remote server's model) gets :class:`GenerationParams`' defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from personae.backends.base import SAMPLING_FIELDS, GenerationParams
from personae.errors import InvalidInput
from personae.models.catalogue import CATALOGUE, ModelSpec

# A setting written on a command line is short; anything longer is a mistake.
MAX_SAMPLING_TEXT = 1000
# "none" leaves a field to the runtime's own default (not sent), like an unset field.
_UNSET = ("none", "default")


def model_sampling(model: str | None) -> dict[str, Any]:
    """The catalogue's sampling defaults for ``model``; empty for a model outside it."""
    spec = CATALOGUE.get(model) if model else None
    return dict(spec.sampling) if spec is not None else {}


def default_params(model: str | None, **overrides: Any) -> GenerationParams:
    """``model``'s default parameters with ``overrides`` on top (any :class:`GenerationParams`
    field, e.g. ``max_tokens=160, seed=0``). A bad override is an :class:`InvalidInput` naming
    the field and what it allows."""
    values = {**model_sampling(model), **overrides}
    try:
        return GenerationParams(**values)
    except ValidationError as exc:
        raise _invalid(exc) from None


def for_language(params: GenerationParams, model: str | None, language: str) -> GenerationParams:
    """``params`` for a reply in ``language``: a catalogue model's ``sampling_ko`` changes for
    Korean replies, each applied only where ``params`` still holds the model's default (a
    value the user set with ``--sampling`` stays theirs)."""
    spec = CATALOGUE.get(model) if model else None
    if spec is None or language != "ko" or not spec.sampling_ko:
        return params
    defaults = default_params(model)
    changes = {
        key: value
        for key, value in spec.sampling_ko.items()
        if getattr(params, key) == getattr(defaults, key)
    }
    return params.model_copy(update=changes) if changes else params


def parse_sampling(items: str | Iterable[str]) -> dict[str, Any]:
    """``KEY=VALUE`` settings (a string or several, each comma-separated) as checked values.

    Only ``SAMPLING_FIELDS`` are accepted (reply length and seed have their own options); a
    value ``none`` leaves the field to the runtime. An unknown key or a bad value is one
    :class:`InvalidInput` line that names the allowed keys."""
    texts = [items] if isinstance(items, str) else list(items)
    if sum(len(t) for t in texts) > MAX_SAMPLING_TEXT:
        raise InvalidInput(f"--sampling is longer than {MAX_SAMPLING_TEXT} characters")
    values: dict[str, Any] = {}
    for text in texts:
        for item in text.split(","):
            if not item.strip():
                continue
            key, sep, raw = item.partition("=")
            key, raw = key.strip().lower().replace("-", "_"), raw.strip()
            if not sep or not key or not raw:
                raise InvalidInput(
                    f"--sampling {item.strip()!r}: write KEY=VALUE, e.g. dry_multiplier=0.8 "
                    f"(keys: {', '.join(SAMPLING_FIELDS)})",
                    param="sampling",
                )
            if key not in SAMPLING_FIELDS:
                raise InvalidInput(
                    f"--sampling: unknown key {key!r}; choose from {', '.join(SAMPLING_FIELDS)}",
                    param="sampling",
                )
            values[key] = None if raw.lower() in _UNSET else raw
    try:
        checked = GenerationParams(**values)
    except ValidationError as exc:
        raise _invalid(exc, prefix="--sampling") from None
    return {key: getattr(checked, key) for key in values}


def check_catalogue(specs: Iterable[ModelSpec] | None = None) -> None:
    """Raise ``ValueError`` naming the model and the key when a catalogue entry's ``sampling``
    (or ``sampling`` with ``sampling_ko`` on top) is not valid :class:`GenerationParams` or
    holds a field that is not a sampling field. The catalogue is data in this package: a unit
    test runs this over it."""
    for spec in CATALOGUE.values() if specs is None else specs:
        for sampling in (spec.sampling, {**spec.sampling, **spec.sampling_ko}):
            unknown = sorted(set(sampling) - set(SAMPLING_FIELDS))
            if unknown:
                raise ValueError(
                    f"model {spec.name!r}: sampling key(s) {', '.join(unknown)} not allowed; "
                    f"choose from {', '.join(SAMPLING_FIELDS)}"
                )
            try:
                GenerationParams(**sampling)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"model {spec.name!r}: sampling {where}: {first['msg']}") from None


def _invalid(exc: ValidationError, prefix: str = "sampling") -> InvalidInput:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "sampling"
    shown = repr(first.get("input"))
    shown = shown if len(shown) <= 40 else shown[:40] + "…"
    return InvalidInput(
        f"{prefix}: {where}={shown}: {first['msg']} (keys: {', '.join(SAMPLING_FIELDS)})",
        param=where,
    )
