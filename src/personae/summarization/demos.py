"""A pool of (dialogue, summary) demonstrations and similarity retrieval over it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from personae.errors import InvalidInput
from personae.retrieval.lexical import LexicalIndex
from personae.text.files import read_jsonl
from personae.text.tokenizers import default_tokens


@dataclass(frozen=True)
class Demo:
    id: str
    dialogue: str
    summary: str


class DemoPool:
    """``pool.select(dialogue, k, exclude="dev_3")`` → the ``k`` most similar demonstrations
    (BM25 over dialogue words), skipping ones longer than ``max_words`` so prompts stay short."""

    def __init__(self, demos: list[Demo], *, max_words: int = 200) -> None:
        if not demos:
            raise InvalidInput("the demonstration pool is empty")
        self.demos = demos
        self.max_words = max_words
        self._index = LexicalIndex()
        self._index.add_many((i, default_tokens(d.dialogue)) for i, d in enumerate(demos))
        self._long = {i for i, d in enumerate(demos) if len(d.dialogue.split()) > max_words}

    def __len__(self) -> int:
        return len(self.demos)

    @classmethod
    def from_jsonl(cls, path: str | os.PathLike[str], **kwargs: int) -> DemoPool:
        """Rows with ``dialogue`` and ``summary`` (DialogSum's fields); ``fname`` or ``id``
        names a row."""
        demos = []
        for number, row in read_jsonl(Path(path)):
            try:
                dialogue, summary = str(row["dialogue"]), str(row["summary"])
            except KeyError as exc:
                raise InvalidInput(
                    f"{path}: line {number} has no {exc.args[0]!r} field "
                    "(demonstrations need 'dialogue' and 'summary')"
                ) from None
            demos.append(Demo(str(row.get("fname") or row.get("id") or number), dialogue, summary))
        return cls(demos, **kwargs)

    def select(self, dialogue: str, k: int, *, exclude: str | None = None) -> list[Demo]:
        if k <= 0:
            return []
        skip = set(self._long)
        if exclude is not None:
            skip.update(i for i, d in enumerate(self.demos) if d.id == exclude)
        hits = self._index.search(default_tokens(dialogue), k, exclude=skip)
        chosen = [self.demos[i] for i, _ in hits]
        if len(chosen) < k:  # nothing in common: fall back to the first short demos
            taken = {id(d) for d in chosen}
            for i, demo in enumerate(self.demos):
                if len(chosen) == k:
                    break
                if i not in skip and id(demo) not in taken:
                    chosen.append(demo)
        return chosen
