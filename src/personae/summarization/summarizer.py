"""Summarize a dialogue with any backend: zero-shot, few-shot, and consensus (MBR) decoding.

Consensus decoding spends test-time compute: sample ``samples`` candidates and return the one
with the highest mean ROUGE against the others — the candidate the samples agree on, which
is usually better than any single sample. With a prompt cache (the embedded backend) the
dialogue is read once and only the short summaries are generated again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from personae.backends import Backend, GenerationParams, Usage, collect
from personae.errors import InvalidInput
from personae.metrics.rouge import RougeScorer
from personae.summarization.demos import DemoPool
from personae.summarization.dialogue import Dialogue, parse_dialogue, text_language
from personae.summarization.prompts import build_messages

_LABEL = re.compile(r"^\s*(?:\*\*)?(summary|요약)(?:\*\*)?\s*[:：]\s*", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+")


@dataclass(frozen=True)
class SummaryConfig:
    """``shots`` > 0 retrieves demonstrations from a pool; ``samples`` > 1 is consensus."""

    shots: int = 0
    samples: int = 1
    temperature: float = 0.7
    max_words: int = 40
    max_sentences: int = 2
    language: str | None = None  # None: detect from the dialogue
    seed: int = 0
    focus: str = ""  # an extra instruction for every request (see prompts.KEEP_PERSONAL_FACTS)

    def __post_init__(self) -> None:
        if not 0 <= self.shots <= 8:
            raise InvalidInput(f"shots must be between 0 and 8, not {self.shots}")
        if not 1 <= self.samples <= 32:
            raise InvalidInput(f"samples must be between 1 and 32, not {self.samples}")
        if not 5 <= self.max_words <= 400:
            raise InvalidInput(f"max words must be between 5 and 400, not {self.max_words}")
        if not 1 <= self.max_sentences <= 10:
            raise InvalidInput(f"max sentences must be between 1 and 10, not {self.max_sentences}")
        if self.language not in (None, "en", "ko"):
            raise InvalidInput(f"language must be 'en' or 'ko', not {self.language!r}")

    @property
    def strategy(self) -> str:
        prompt = f"few-shot-{self.shots}" if self.shots else "zero-shot"
        return f"{prompt}+consensus-{self.samples}" if self.samples > 1 else prompt


@dataclass(frozen=True)
class Summary:
    text: str
    strategy: str
    candidates: tuple[str, ...] = ()
    agreement: tuple[float, ...] = ()  # each candidate's mean ROUGE against the others
    demos: tuple[str, ...] = ()
    usage: Usage = field(default_factory=Usage)


def clean_summary(text: str, *, max_sentences: int, max_words: int) -> str:
    """Drop a 'Summary:' label and quotes, keep the first paragraph, then whole sentences up to
    the limits (always at least one sentence)."""
    text = _LABEL.sub("", text.strip())
    paragraph = next((p for p in re.split(r"\n\s*\n", text) if p.strip()), "")
    paragraph = " ".join(paragraph.split()).strip().strip('"“”')
    sentences = [s for s in _SENTENCE_END.split(paragraph) if s.strip()]
    kept: list[str] = []
    words = 0
    for sentence in sentences:
        count = len(sentence.split())
        if kept and (len(kept) >= max_sentences or words + count > max_words):
            break
        kept.append(sentence.strip())
        words += count
    return " ".join(kept)


def consensus_choice(candidates: list[str], scorer: RougeScorer) -> tuple[int, list[float]]:
    """Index of the candidate with the highest mean ROUGE-1/2/L F against all the others (ties:
    the earliest), and every candidate's agreement score."""
    n = len(candidates)
    if n == 1:
        return 0, [1.0]
    tokenized = [scorer.tokenize(c) for c in candidates]
    pair = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            scores = scorer._score(tokenized[j], tokenized[i])  # noqa: SLF001
            f = sum(s.fmeasure for s in scores.values()) / len(scores)
            pair[i][j] = pair[j][i] = f  # F-measure is symmetric
    agreement = [sum(row) / (n - 1) for row in pair]
    best = max(range(n), key=lambda i: (agreement[i], -i))
    return best, agreement


def _speakers(text: str) -> list[str]:
    try:
        return parse_dialogue(text).speakers
    except InvalidInput:
        return []


class Summarizer:
    """``Summarizer(backend, SummaryConfig(shots=2), pool).summarize(dialogue)``."""

    def __init__(
        self, backend: Backend, config: SummaryConfig | None = None, pool: DemoPool | None = None
    ) -> None:
        self.backend = backend
        self.config = config or SummaryConfig()
        if self.config.shots and pool is None:
            raise InvalidInput("few-shot summaries need a demonstration pool (--pool FILE)")
        self.pool = pool
        self._scorers: dict[str, RougeScorer] = {}

    def _scorer(self, language: str) -> RougeScorer:
        if language not in self._scorers:
            tokenizer = "default"
            if language == "ko":
                try:
                    import kiwipiepy  # noqa: F401

                    tokenizer = "kiwi"
                except ImportError:
                    tokenizer = "char"
            self._scorers[language] = RougeScorer(
                ("rouge1", "rouge2", "rougeL"), tokenizer=tokenizer
            )
        return self._scorers[language]

    def summarize(self, dialogue: Dialogue | str, *, exclude_demo: str | None = None) -> Summary:
        """``exclude_demo``: a pool id never to use as a demonstration (the item being scored)."""
        if isinstance(dialogue, str):
            dialogue = parse_dialogue(dialogue)
        cfg = self.config
        text = dialogue.text()
        language = cfg.language or text_language(text)
        demos = self.pool.select(text, cfg.shots, exclude=exclude_demo) if self.pool else []
        messages = build_messages(
            text,
            language=language,
            max_words=cfg.max_words,
            max_sentences=cfg.max_sentences,
            speakers=dialogue.speakers,
            demos=[(d.dialogue, _speakers(d.dialogue), d.summary) for d in demos],
            focus=cfg.focus,
        )
        max_tokens = min(512, int(cfg.max_words * (3.0 if language == "ko" else 2.0)) + 16)
        candidates: list[str] = []
        usage = Usage()
        for i in range(cfg.samples):
            params = GenerationParams(
                max_tokens=max_tokens,
                temperature=0.0 if cfg.samples == 1 else cfg.temperature,
                top_k=None if cfg.samples == 1 else 40,
                repeat_penalty=None,
                seed=cfg.seed + i,
                stop=("\n\n",),
            )
            raw, final = collect(self.backend.stream(messages, params))
            if final.usage is not None:
                usage = Usage(
                    usage.prompt_tokens + final.usage.prompt_tokens,
                    usage.completion_tokens + final.usage.completion_tokens,
                    usage.cached_tokens + final.usage.cached_tokens,
                )
            cleaned = clean_summary(raw, max_sentences=cfg.max_sentences, max_words=cfg.max_words)
            candidates.append(cleaned or raw.strip())
        best, agreement = consensus_choice(candidates, self._scorer(language))
        return Summary(
            text=candidates[best],
            strategy=cfg.strategy,
            candidates=tuple(candidates) if cfg.samples > 1 else (),
            agreement=tuple(agreement) if cfg.samples > 1 else (),
            demos=tuple(d.id for d in demos),
            usage=usage,
        )
