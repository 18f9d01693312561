"""Bootstrap means: the same data and seed always give the same interval."""

from __future__ import annotations

import math
import random

import pytest

from personae.errors import InvalidInput
from personae.metrics.stats import Estimate, bootstrap_mean


def sample(n: int = 200, seed: int = 3) -> list[float]:
    rng = random.Random(seed)
    return [rng.random() for _ in range(n)]


def test_deterministic_for_a_seed() -> None:
    values = sample()
    assert bootstrap_mean(values, seed=7) == bootstrap_mean(values, seed=7)
    assert bootstrap_mean(values, seed=7) != bootstrap_mean(values, seed=8)


def test_interval_contains_the_mean() -> None:
    for seed in range(5):
        values = sample(50, seed)
        est = bootstrap_mean(values, seed=seed)
        assert est.mean == pytest.approx(sum(values) / len(values))
        assert est.low <= est.mean <= est.high
        assert est.low < est.high
        assert est.n == 50 and est.confidence == 0.95


def test_skewed_data_interval_contains_the_mean() -> None:
    est = bootstrap_mean([0.0] * 99 + [1.0])
    assert est.low <= est.mean == 0.01 <= est.high


def test_wider_confidence_gives_a_wider_interval() -> None:
    values = sample()
    narrow = bootstrap_mean(values, confidence=0.5)
    wide = bootstrap_mean(values, confidence=0.99)
    assert wide.low < narrow.low and narrow.high < wide.high


def test_chunking_does_not_change_the_result_shape() -> None:
    # More than 2,000,000 / n resamples are drawn in several chunks.
    values = sample(5000)
    est = bootstrap_mean(values, resamples=1000)
    assert est.low < est.mean < est.high
    assert est.high - est.low < 0.05


def test_empty_gives_nan() -> None:
    est = bootstrap_mean([])
    assert est.n == 0
    assert all(math.isnan(x) for x in (est.mean, est.low, est.high))
    assert est.format() == "–"


def test_single_value_is_a_zero_width_interval() -> None:
    assert bootstrap_mean([0.25]) == Estimate(0.25, 0.25, 0.25, 1, 0.95)


def test_constant_values() -> None:
    est = bootstrap_mean([0.5] * 10)
    assert (est.mean, est.low, est.high) == (0.5, 0.5, 0.5)


def test_format_and_as_dict() -> None:
    est = Estimate(0.412, 0.398, 0.427, 10)
    assert est.format(scale=100) == "41.20 [39.80, 42.70]"
    assert est.format(digits=3) == "0.412 [0.398, 0.427]"
    assert est.as_dict() == {"mean": 0.412, "low": 0.398, "high": 0.427, "n": 10}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"confidence": 0.0}, "confidence must be between 0 and 1"),
        ({"confidence": 1.0}, "confidence must be between 0 and 1"),
        ({"confidence": 95}, "confidence must be between 0 and 1"),
        ({"confidence": math.nan}, "confidence must be between 0 and 1"),
        ({"resamples": 0}, "resamples must be at least 1"),
        ({"values": [0.1, math.nan]}, "NaN or infinite"),
        ({"values": [0.1, math.inf]}, "NaN or infinite"),
        ({"values": [[0.1, 0.2], [0.3, 0.4]]}, "flat sequence"),
        ({"values": ["a", "b"]}, "takes numbers"),
    ],
)
def test_bad_input(kwargs: dict[str, object], message: str) -> None:
    values = kwargs.pop("values", [0.1, 0.2, 0.3])
    with pytest.raises(InvalidInput, match=message):
        bootstrap_mean(values, **kwargs)  # type: ignore[arg-type]
