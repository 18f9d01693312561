"""The metric registry: ``@register_metric("name")`` on a factory, ``get_metric("name")`` to use it.

A metric scores one prediction against one or more references and returns named numbers in
0–1. Third-party metrics register the same way the built-in ones do (or through the
``personae.metrics`` entry point group).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from importlib.metadata import entry_points
from typing import Any, Protocol

from personae.errors import InvalidInput


class Metric(Protocol):
    """Scores ``prediction`` against ``references``: ``{"rouge1": 0.41, ...}`` (each in 0–1)."""

    name: str

    def __call__(self, prediction: str, references: Sequence[str]) -> dict[str, float]: ...


MetricFactory = Callable[..., Metric]
_METRICS: dict[str, MetricFactory] = {}
_loaded_entry_points = False


def register_metric(name: str) -> Callable[[MetricFactory], MetricFactory]:
    """Class or function decorator: ``@register_metric("rouge")``."""

    def decorate(factory: MetricFactory) -> MetricFactory:
        _METRICS[name] = factory
        return factory

    return decorate


def _load_entry_points() -> None:
    global _loaded_entry_points
    if _loaded_entry_points:
        return
    _loaded_entry_points = True
    for ep in entry_points(group="personae.metrics"):
        if ep.name not in _METRICS:
            _METRICS[ep.name] = ep.load()


def metric_names() -> list[str]:
    import personae.evaluation.metrics.rouge  # noqa: F401  (registers the built-ins)

    _load_entry_points()
    return sorted(_METRICS)


def get_metric(name: str, **options: Any) -> Metric:
    """Build the metric called ``name`` with ``options`` (e.g. ``tokenizer="kiwi"``)."""
    names = metric_names()
    if name not in _METRICS:
        raise InvalidInput(f"unknown metric {name!r}; choose one of: {', '.join(names)}")
    try:
        return _METRICS[name](**options)
    except TypeError as exc:
        raise InvalidInput(f"bad options for metric {name!r}: {exc}") from exc
