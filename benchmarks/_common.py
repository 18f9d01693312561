"""Shared helpers for benchmark scripts: percentiles, a table, the JSON result file, and the
embedded actor/judge pair the role-play benchmarks load."""

from __future__ import annotations

import json
import platform
import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personae.backends import Backend
    from personae.checks.judge import Judge

RESULTS = Path(__file__).resolve().parent / "results"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "mean": statistics.fmean(values) if values else float("nan"),
        "p50": percentile(values, 0.5),
        "p95": percentile(values, 0.95),
        "max": max(values) if values else float("nan"),
    }


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(tuple("-" * w for w in widths)), *map(line, rows)])


def write_result(name: str, command: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "command": command,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpu_count": __import__("os").cpu_count()},
        **data,
    }
    path = RESULTS / f"{name}.json"
    from personae.evaluation.report import strict_json

    text = json.dumps(strict_json(payload), indent=2, ensure_ascii=False, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def embedded_actor_and_judge(
    model: str, judge_model: str | None, *, ctx: int, judge_max_tokens: int
) -> tuple[Backend, Judge | None]:
    """Pull and load the actor on the embedded runtime, and a judge when ``judge_model`` is
    given (sharing the actor's runtime when it is the same model)."""
    from personae.backends import get_backend
    from personae.checks.judge import DEFAULT_PARAMS, Judge
    from personae.cli.common import ensure_pulled

    ensure_pulled(model)
    actor = get_backend("embedded", model=model, n_ctx=ctx)
    if not judge_model:
        return actor, None
    ensure_pulled(judge_model)
    backend = (
        actor if judge_model == model else get_backend("embedded", model=judge_model, n_ctx=ctx)
    )
    params = DEFAULT_PARAMS.model_copy(update={"max_tokens": judge_max_tokens})
    return actor, Judge(backend, params=params)
