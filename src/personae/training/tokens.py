"""Chat records as token ids, with the loss on the character's turns only.

The conversation goes through the base model's own chat template (the one the embedded runtime
applies at reply time, read from the same GGUF), so training sees exactly the text the adapter
will later be asked to continue. The tokens of every ``assistant`` message — its text and the
end-of-turn marker that closes it, so the adapter learns to stop — carry labels; everything else
(system prompt, the other people's lines, the template's headers) is ``-100``. The assistant's
span is found by rendering the conversation up to the reply's header and up to the reply's end
and taking the difference, which needs a template whose renderings of a conversation's prefixes
are prefixes of each other (Qwen's and SmolLM2's are; one that is not is refused, not guessed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from personae.errors import InvalidInput

IGNORE = -100


@dataclass(frozen=True, slots=True)
class TokenizedChat:
    input_ids: list[int]
    labels: list[int]

    @property
    def trained_tokens(self) -> int:
        return sum(1 for label in self.labels if label != IGNORE)


def _ids(tokenizer: Any, messages: Sequence[dict[str, str]], *, open_reply: bool) -> list[int]:
    text = tokenizer.apply_chat_template(
        list(messages), tokenize=False, add_generation_prompt=open_reply
    )
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def tokenize_chat(
    tokenizer: Any, messages: Sequence[dict[str, str]], max_length: int
) -> TokenizedChat:
    """``messages`` as ids and labels (see the module docstring), cut to ``max_length``."""
    ids: list[int] = []
    labels: list[int] = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = _ids(tokenizer, messages[:i], open_reply=True)
        through = _ids(tokenizer, messages[: i + 1], open_reply=False)
        if through[: len(ids)] != ids:
            raise InvalidInput(
                "the base model's chat template renders the start of a conversation "
                "differently once it goes on, so the character's turns cannot be found in "
                "the tokens; train on a Qwen or SmolLM2 base"
            )
        # Where the reply starts: after the header the template opens it with (a token that
        # merges across the boundary goes to the reply).
        start = len(ids)
        while start < min(len(before), len(through)) and before[start] == through[start]:
            start += 1
        labels += [IGNORE] * (start - len(ids)) + through[start:]
        ids = through
    if not ids:
        raise InvalidInput("a record has no assistant message to learn from")
    # Whatever the template adds after the last reply (a trailing newline) is not learnt.
    labels += [IGNORE] * (len(ids) - len(labels))
    return TokenizedChat(ids[:max_length], labels[:max_length])


def tokenize_reply(
    tokenizer: Any, prompt: Sequence[dict[str, str]], reply: str, max_length: int
) -> TokenizedChat:
    """A prompt and one reply (a DPO side) tokenized like :func:`tokenize_chat`."""
    return tokenize_chat(tokenizer, [*prompt, {"role": "assistant", "content": reply}], max_length)


__all__ = ["IGNORE", "TokenizedChat", "tokenize_chat", "tokenize_reply"]
