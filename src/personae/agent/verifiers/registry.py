"""Verifiers by name, for settings and command lines (``{"fidelity": 1, "style": 0.5}``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from personae.agent.verifiers.base import Verifier, VerifierError

if TYPE_CHECKING:
    from personae.memory.vectors import Embedder

NAMES: tuple[str, ...] = ("fidelity", "anachronism", "style", "length", "consistency", "judge")
"""Every built-in verifier's name."""


def build(name: str, *, embedder: Embedder | None = None, judge: Any | None = None) -> Verifier:
    """The built-in verifier called ``name``; ``consistency`` needs ``embedder``, ``judge`` a
    judge (a :class:`~personae.evaluation.judge.Judge` or any backend)."""
    if name == "fidelity":
        from personae.agent.verifiers.fidelity import FidelityVerifier

        return FidelityVerifier()
    if name == "anachronism":
        from personae.agent.verifiers.anachronism import AnachronismVerifier

        return AnachronismVerifier()
    if name == "style":
        from personae.agent.verifiers.style import StyleVerifier

        return StyleVerifier()
    if name == "length":
        from personae.agent.verifiers.length import LengthVerifier

        return LengthVerifier()
    if name == "consistency":
        if embedder is None:
            raise VerifierError("the consistency verifier needs an embedder (embeddings extra)")
        from personae.agent.verifiers.consistency import ConsistencyVerifier

        return ConsistencyVerifier(embedder)
    if name == "judge":
        if judge is None:
            raise VerifierError("the judge verifier needs a judge model: name one")
        from personae.agent.verifiers.judge import JudgeVerifier

        # One yes/no question per candidate where the judge's backend gives log-probabilities
        # (cheap enough for a chat turn), pairs both ways elsewhere.
        return JudgeVerifier(judge, mode="auto")
    raise VerifierError(f"unknown verifier {name!r}: use one of {', '.join(NAMES)}")
