"""Evaluation tasks: a registry, so `personae eval` and third parties find them the same way.

A task is a function that runs an evaluation and returns a
:class:`~personae.evaluation.report.Report`.
Register with ``@register_task("name", "one line on what it measures")``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from personae.errors import InvalidInput


@dataclass(frozen=True)
class TaskInfo:
    name: str
    description: str
    run: Callable[..., Any]


_TASKS: dict[str, TaskInfo] = {}


TaskRunner = Callable[..., Any]


def register_task(name: str, description: str) -> Callable[[TaskRunner], TaskRunner]:
    def decorate(run: TaskRunner) -> TaskRunner:
        _TASKS[name] = TaskInfo(name, description, run)
        return run

    return decorate


def _load_builtin() -> None:
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


def task_names() -> list[str]:
    _load_builtin()
    return sorted(_TASKS)


def get_task(name: str) -> TaskInfo:
    names = task_names()
    if name not in _TASKS:
        raise InvalidInput(f"unknown evaluation task {name!r}; choose one of: {', '.join(names)}")
    return _TASKS[name]
