"""Reply verifiers: score candidate replies of a character, each with a reason, and rank them
with weights (best-of-N and self-refine choose with these).

Rule verifiers (no model, run inside a chat turn): ``fidelity`` (the fidelity flags; a gate),
``anachronism`` (on probes; a gate), ``style`` and ``length``. With a model: ``consistency``
(embedding similarity to the card, memories and lore) and ``judge`` (pairwise tournament).
"""

from personae.agent.verifiers.anachronism import AnachronismVerifier
from personae.agent.verifiers.base import (
    MAX_TEXT,
    Candidate,
    Ranked,
    ReplyContext,
    Score,
    Verifier,
    VerifierError,
)
from personae.agent.verifiers.consistency import ConsistencyVerifier
from personae.agent.verifiers.fidelity import GATES, SEVERITY, FidelityVerifier
from personae.agent.verifiers.judge import JudgeVerifier
from personae.agent.verifiers.length import LengthVerifier
from personae.agent.verifiers.style import StyleVerifier
from personae.agent.verifiers.weighted import DEFAULT_WEIGHTS, NAMES, Verifiers, build

__all__ = [
    "DEFAULT_WEIGHTS",
    "GATES",
    "MAX_TEXT",
    "NAMES",
    "SEVERITY",
    "AnachronismVerifier",
    "Candidate",
    "ConsistencyVerifier",
    "FidelityVerifier",
    "JudgeVerifier",
    "LengthVerifier",
    "Ranked",
    "ReplyContext",
    "Score",
    "StyleVerifier",
    "Verifier",
    "VerifierError",
    "Verifiers",
    "build",
]
