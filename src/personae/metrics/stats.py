"""Means with bootstrap confidence intervals, the way every personae report states a number."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from personae.errors import InvalidInput


@dataclass(frozen=True)
class Estimate:
    """A mean over ``n`` items and its percentile-bootstrap confidence interval."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float = 0.95

    def as_dict(self) -> dict[str, float | int]:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n}

    def format(self, scale: float = 1.0, digits: int = 2) -> str:
        """``"41.20 [39.80, 42.70]"`` (``scale=100`` for percentages)."""
        if math.isnan(self.mean):
            return "–"
        m, lo, hi = (x * scale for x in (self.mean, self.low, self.high))
        return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def bootstrap_mean(
    values: Sequence[float],
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Estimate:
    """Mean of ``values`` with a percentile bootstrap interval (fixed ``seed``: the same data
    always gives the same interval). An empty sequence gives NaNs; one value, a zero-width
    interval."""
    if not 0 < confidence < 1:
        raise InvalidInput(f"confidence must be between 0 and 1, not {confidence}")
    if resamples < 1:
        raise InvalidInput(f"resamples must be at least 1, not {resamples}")
    try:
        data = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"bootstrap_mean takes numbers ({exc})") from exc
    if data.ndim != 1:
        raise InvalidInput("bootstrap_mean takes a flat sequence of numbers")
    n = int(data.size)
    if n == 0:
        return Estimate(math.nan, math.nan, math.nan, 0, confidence)
    if not np.all(np.isfinite(data)):
        raise InvalidInput("bootstrap_mean got a NaN or infinite value")
    mean = float(data.mean())
    if n == 1:
        return Estimate(mean, mean, mean, 1, confidence)
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    chunk = max(1, 2_000_000 // n)  # bound memory: at most ~16 MB of indices at a time
    for start in range(0, resamples, chunk):
        stop = min(resamples, start + chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = data[idx].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return Estimate(mean, float(low), float(high), n, confidence)
