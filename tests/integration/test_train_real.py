"""`train_adapter` for real: a few SFT steps of TRL and PEFT on SmolLM2 (read by transformers
from the catalogue's GGUF), stopped by Ctrl-C and resumed from its checkpoint, converted to a
GGUF adapter, loaded by the embedded runtime, where it moves the next-token log-probabilities
toward what it was trained on. No timing is asserted."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from personae.backends import Message, get_backend
from personae.backends.embedded import EmbeddedBackend
from personae.training.adapters import CHECKPOINTS, AdapterRegistry
from personae.training.data import ChatRecord
from personae.training.options import TrainOptions
from personae.training.run import TrainingInterrupted, train_adapter

pytestmark = pytest.mark.integration
pytest.importorskip("trl")
pytest.importorskip("peft")

SYSTEM = "You are Sherlock Holmes."
REPLY = "Elementary, my dear Watson."
QUESTIONS = [
    "How did you know?",
    "What gave it away?",
    "Can you explain it?",
    "Is it obvious?",
    "How do you do it?",
    "Why did you say that?",
    "Was it the mud on my boots?",
    "Tell me your secret.",
    "어떻게 알았어요?",
    "What do you conclude?",
    "Who did it?",
    "Is it simple?",
]


def records() -> list[ChatRecord]:
    return [
        ChatRecord(
            (
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": q},
                {"role": "assistant", "content": REPLY},
            )
        )
        for q in QUESTIONS
    ]


class StopAt:
    """Progress that presses Ctrl-C once, at step ``at``."""

    def __init__(self, at: int | None) -> None:
        self.at = at
        self.steps: list[int] = []

    def on_start(self, total_steps: int, done_steps: int) -> None:
        self.steps.append(-done_steps)

    def on_step(self, step: int, total: int, loss: float | None, tokens_per_second: float) -> None:
        self.steps.append(step)
        if step == self.at:
            os.kill(os.getpid(), signal.SIGINT)

    def on_note(self, text: str) -> None:
        pass


def test_a_run_stopped_and_resumed_makes_an_adapter_the_runtime_uses(
    real_model: str, tmp_path: Path
) -> None:
    registry = AdapterRegistry(tmp_path / "adapters")
    options = TrainOptions(
        max_steps=6, lr=2e-3, grad_accum=1, max_length=128, save_steps=2, held_out=0.2
    )
    first = StopAt(3)
    with pytest.raises(TrainingInterrupted, match="--resume"):
        train_adapter(registry, "holmes", "t", records(), real_model, options, progress=first)
    assert first.steps[-1] == 3
    half = registry.get("holmes", "t")
    assert not half.ready and (half.path / CHECKPOINTS / "checkpoint-3").is_dir()
    assert registry.active("holmes") is None

    again = StopAt(None)
    result = train_adapter(
        registry, "holmes", "t", records(), real_model, options, resume=True, progress=again
    )
    assert again.steps[0] == -3 and again.steps[1] == 4  # it went on from step 3
    manifest = result.manifest
    assert manifest["steps"] == 6 and result.adapter.ready
    assert not (result.adapter.path / CHECKPOINTS).exists()
    assert manifest["base"]["name"] == real_model and len(manifest["base"]["sha256"]) == 64
    assert manifest["held_out_loss_after"] < manifest["held_out_loss_before"]
    assert json.loads((result.adapter.path / "manifest.json").read_text())["steps"] == 6
    assert manifest["data"]["rows"] == len(QUESTIONS)

    messages = [Message("system", SYSTEM), Message("user", "What makes you so sure?")]
    backend = get_backend(
        "embedded", model=real_model, n_ctx=512, adapters={"holmes": result.adapter.gguf}
    )
    assert isinstance(backend, EmbeddedBackend)
    with backend:
        base = backend.next_token_logprobs(messages, top=20)
        adapted = backend.with_adapters("holmes").next_token_logprobs(messages, top=20)
    # The reply it was trained on starts with "Ele…": now the most likely first token.
    top = max(adapted, key=lambda t: adapted[t])
    assert REPLY.startswith(top.strip()) and top.strip(), (top, adapted)
    assert adapted[top] > base.get(top, -30.0) + 1.0


def test_a_second_run_under_a_finished_name_and_a_bad_resume_are_refused(
    real_model: str, tmp_path: Path
) -> None:
    from personae.errors import InvalidInput

    registry = AdapterRegistry(tmp_path / "adapters")
    options = TrainOptions(max_steps=1, grad_accum=1, max_length=64)
    with pytest.raises(InvalidInput, match="nothing to resume"):
        train_adapter(registry, "holmes", "x", records(), real_model, options, resume=True)
    train_adapter(registry, "holmes", "x", records(), real_model, options)
    with pytest.raises(InvalidInput, match="already has a trained adapter"):
        train_adapter(registry, "holmes", "x", records(), real_model, options)


@pytest.mark.slow
def test_dpo_on_preference_pairs_makes_a_usable_adapter(real_model: str, tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path / "adapters")
    pairs = [
        ChatRecord(
            ({"role": "system", "content": SYSTEM}, {"role": "user", "content": q}),
            chosen=REPLY,
            rejected="As an AI language model, I cannot know that.",
        )
        for q in QUESTIONS
    ]
    options = TrainOptions(method="dpo", max_steps=3, grad_accum=1, max_length=128, lr=1e-3)
    result = train_adapter(registry, "holmes", "prefs", pairs, real_model, options)
    manifest = result.manifest
    assert result.adapter.ready and manifest["method"] == "dpo" and manifest["steps"] == 3
    # DPO's held-out loss starts at log 2 (the adapter starts as the reference) and falls.
    assert abs(manifest["held_out_loss_before"] - 0.6931) < 0.01
    assert manifest["held_out_loss_after"] < manifest["held_out_loss_before"]
    assert result.adapter.gguf.stat().st_size > 0
