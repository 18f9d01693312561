"""A LoRA made with peft on SmolLM2 (loaded by transformers from the catalogue's own GGUF),
converted to a GGUF adapter and served by the embedded runtime, moves llama.cpp's next-token
log-probabilities as it moves transformers': the converter's layout (names, shapes, alpha, the
q/k row order of llama bases) is right. And adapters that take turns on one runtime give what
each gives alone: no prompt cache is shared between them.

The adapters are random (B not zero, scaled so the top tokens move by about a nat): that tests
every adapted matrix, q and k included, without a training run. The base in llama.cpp is Q4_1
and computes in quantized arithmetic while transformers runs the dequantized weights in float32,
so absolute log-probabilities differ a little (up to ~0.2 nats here); the test compares the
adapter's *effect* (log p with it − log p without) on the base's ten most likely next tokens:
each within 0.45 nats, 0.2 on average. Measured here (xllamacpp 2026.10, transformers 5.25): at
most 0.31, mean 0.13, for effects of 0.08 to 1.16 nats; a wrong alpha or a missing q/k
reordering misses by about the effect itself or more (without the reordering the base's top
tokens leave the adapter's top 20)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from personae.backends import GenerationParams, Message, collect, get_backend
from personae.backends.embedded import EmbeddedBackend
from personae.models import resolve_model
from personae.training import convert_adapter

pytestmark = pytest.mark.integration

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

MODULES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MESSAGES = [Message("user", "What is the capital of France?")]
TOP = 10
MAX_ERROR, MEAN_ERROR, LEAST_EFFECT = 0.45, 0.2, 0.5


def make_adapter(model: Any, folder: Path, seed: int, b_scale: float) -> None:
    """A rank-8 LoRA on every linear layer with random A and B (B times ``b_scale``)."""
    torch.manual_seed(seed)
    config = peft.LoraConfig(r=8, lora_alpha=16, target_modules=MODULES, init_lora_weights=False)
    wrapped = peft.get_peft_model(model, config)
    with torch.no_grad():
        for name, weight in wrapped.named_parameters():
            if "lora_B" in name:
                weight.mul_(b_scale)
    wrapped.save_pretrained(str(folder))


@pytest.fixture(scope="module")
def hf_effects(
    tmp_path_factory: pytest.TempPathFactory, pulled_model: Path
) -> Iterator[tuple[dict[str, Path], dict[str, float], dict[str, float]]]:
    """Two adapters (folders) and, for the first, transformers' base log-probabilities and the
    adapter's effect on the ``TOP`` most likely first tokens of the reply (token text -> nats)."""
    folder = tmp_path_factory.mktemp("lora")
    tokenizer = transformers.AutoTokenizer.from_pretrained(
        str(pulled_model.parent), gguf_file=pulled_model.name
    )
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(pulled_model.parent), gguf_file=pulled_model.name, dtype=torch.float32
    )
    ids = tokenizer.apply_chat_template(
        [m.as_dict() for m in MESSAGES], add_generation_prompt=True, return_tensors="pt"
    )
    if not isinstance(ids, torch.Tensor):  # a BatchEncoding in some versions
        ids = ids["input_ids"]
    adapters = {"holmes": folder / "holmes", "watson": folder / "watson"}
    make_adapter(model, adapters["holmes"], seed=0, b_scale=0.6)
    wrapped = peft.PeftModel.from_pretrained(model, str(adapters["holmes"]))
    with torch.no_grad():
        with wrapped.disable_adapter():
            base = torch.log_softmax(wrapped(ids).logits[0, -1], -1)
        adapted = torch.log_softmax(wrapped(ids).logits[0, -1], -1)
    top = torch.topk(base, TOP).indices.tolist()
    base_lp = {tokenizer.decode([t]): float(base[t]) for t in top}
    effect = {tokenizer.decode([t]): float(adapted[t] - base[t]) for t in top}
    make_adapter(wrapped.unload(), adapters["watson"], seed=1, b_scale=0.6)
    yield adapters, base_lp, effect


@pytest.fixture(scope="module")
def gguf_adapters(
    hf_effects: tuple[dict[str, Path], dict[str, float], dict[str, float]],
    tmp_path_factory: pytest.TempPathFactory,
    pulled_model: Path,
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("gguf")
    return {
        name: convert_adapter(path, pulled_model, folder / f"{name}.gguf")
        for name, path in hf_effects[0].items()
    }


def runtime(model: str, adapters: dict[str, Path], **options: Any) -> EmbeddedBackend:
    backend = get_backend("embedded", model=model, n_ctx=1024, adapters=adapters, **options)
    assert isinstance(backend, EmbeddedBackend)
    return backend


def test_the_adapters_effect_on_logprobs_matches_transformers(
    real_model: str,
    hf_effects: tuple[dict[str, Path], dict[str, float], dict[str, float]],
    gguf_adapters: dict[str, Path],
) -> None:
    _, hf_base, hf_effect = hf_effects
    assert resolve_model(real_model).path.name.endswith(".gguf")
    with runtime(real_model, gguf_adapters) as backend:
        base = backend.next_token_logprobs(MESSAGES, top=20)
        adapted = backend.with_adapters("holmes").next_token_logprobs(MESSAGES, top=20)
    # The same prompt on both sides: the base's own top tokens agree.
    shared = [t for t in hf_effect if t in base and t in adapted]
    assert len(shared) >= TOP - 3, (shared, base)
    assert max(abs(base[t] - hf_base[t]) for t in shared) < 0.5
    assert max(abs(hf_effect[t]) for t in shared) >= LEAST_EFFECT  # the adapter does something
    errors = {t: abs((adapted[t] - base[t]) - hf_effect[t]) for t in shared}
    assert max(errors.values()) <= MAX_ERROR, errors
    assert sum(errors.values()) / len(errors) <= MEAN_ERROR, errors


GREEDY = GenerationParams(max_tokens=24, temperature=0.0, seed=7, repeat_penalty=None)
CHAT = [
    Message("system", "You are Sherlock Holmes, the consulting detective of 221B Baker Street."),
    Message("user", "Who are you, and what do you do all day?"),
]


def replies(backend: EmbeddedBackend, order: list[str | None]) -> list[str]:
    views = {None: backend.with_adapters(), "holmes": backend.with_adapters("holmes")}
    views["watson"] = backend.with_adapters("watson")
    return [collect(views[name].stream(CHAT, GREEDY))[0] for name in order]


@pytest.mark.parametrize("n_parallel", [1, 3])
def test_adapters_taking_turns_give_what_each_gives_alone(
    real_model: str, gguf_adapters: dict[str, Path], n_parallel: int
) -> None:
    order: list[str | None] = ["holmes", "watson", "holmes", None, "watson", None]
    with runtime(real_model, gguf_adapters, n_parallel=n_parallel, threads=1) as backend:
        taking_turns = replies(backend, order)
    alone: dict[str | None, list[str]] = {}
    for name in ("holmes", "watson", None):
        with runtime(real_model, gguf_adapters, n_parallel=n_parallel, threads=1) as backend:
            alone[name] = replies(backend, [name, name])
    assert len({alone["holmes"][0], alone["watson"][0], alone[None][0]}) == 3  # they differ
    seen: dict[str | None, int] = {}
    for name, text in zip(order, taking_turns, strict=True):
        nth = seen.get(name, 0)
        seen[name] = nth + 1
        if n_parallel == 1 and nth:
            # One slot: the turn before was another adapter's, so this prompt was read afresh,
            # like the first one alone.
            nth = 0
        assert text == alone[name][nth], (name, nth, text, alone[name])


def test_llama_servers_own_http_api_applies_an_adapter_by_its_id(
    real_model: str, gguf_adapters: dict[str, Path], tmp_path: Path
) -> None:
    """The embedded runtime is llama.cpp's server, HTTP listener included: the ``openai``
    backend with ``lora_model = "lora-id"`` finds each adapter's id by its path in the real
    ``GET /lora-adapters`` and, through ``/v1/chat/completions``, replies as the runtime replies
    with that adapter."""
    from personae.backends.openai_compat import OpenAICompatBackend

    labelled = {}
    for name, path in gguf_adapters.items():
        labelled[f"{name}@v1"] = tmp_path / f"{name}@v1.gguf"  # a layout personae's rule reads
        labelled[f"{name}@v1"].write_bytes(path.read_bytes())
    with runtime(real_model, labelled, threads=1) as backend:
        remote = OpenAICompatBackend.from_options(
            base_url=f"{backend._server.listening_address}/v1",
            model=real_model,
            api_key=backend._api_key,
            lora_model="lora-id",
        )
        held = remote.list_lora_adapters()
        assert sorted(Path(p).name for p in held.values()) == ["holmes@v1.gguf", "watson@v1.gguf"]
        replies = {}
        for label in (None, "holmes@v1", "watson@v1"):
            view = remote if label is None else remote.with_adapter(label)
            assert view is not None
            replies[label] = collect(view.stream(CHAT, GREEDY))[0]
            local = backend.with_adapters() if label is None else backend.with_adapters(label)
            assert replies[label] == collect(local.stream(CHAT, GREEDY))[0], label
        assert len(set(replies.values())) == 3  # each adapter changes the reply its own way
        assert remote.with_adapter("moriarty@v1") is None
        remote.close()
