"""What a client's messages ask for: instructions, history, and whether the reply continues the
last message or is a new one.

Front ends send more than OpenAI's strict user/assistant alternation:

* **No user message** — SillyTavern's empty Send ("let the character speak again"), or any
  request in a chat that holds only the greeting: system messages and the character's
  messages. The character simply speaks next, as on OpenAI's own API.
* **Continue** — the last message is the character's, unfinished, and the client glues the
  reply onto it. SillyTavern (Chat Completion, "Custom (OpenAI-compatible)") sends it in one of
  two shapes: with its "Continue prefill" option, the partial message is simply the last
  message; without it (the default) a system "nudge" follows the partial message and quotes it:
  ``[Continue the following message. Do not include ANY parts of the original message. Use
  capitalization and punctuation as if your reply is a part of the original message: …]``.

Whether a reply continues the last message is decided in this order:

1. ``continue_final_message`` in the body (the name vLLM, TGI and transformers use): ``true``
   continues the last message, which must be the character's; ``false`` never continues.
2. A system message after the character's last message that quotes it (the nudge, in any
   wording that quotes the message): continue. The nudge is left out: the model is given the
   partial message to write on from (prefill), which is what the nudge asks for in words.
3. The very last message is the character's and stops mid-sentence (it ends in a letter or
   digit of a script that closes sentences with punctuation, or in ``, ; : -`` or an opening
   bracket or quote): continue. Any other ending (``. ! ? …``, a closing quote or bracket, an
   ``*action*``, an emoji, Hangul or CJK text) is a finished message: the character speaks
   again, in a new message. SillyTavern sends its empty Send and a prefill Continue in the same
   shape, so the text itself is all there is to tell them apart; its default Continue (with
   the nudge) is recognised exactly.

A continued reply holds only the new text (it may start with the space or line break that joins
it on), as clients that glue it on expect.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from personae.agent import Turn
from personae.backends.base import Role
from personae.server.errors import APIError
from personae.server.schemas import RequestMessage

CONTINUE_FIELD = "continue_final_message"
# A message ending in one of these stopped mid-sentence (letters and digits are checked apart).
_MID_SENTENCE = frozenset(",;:-–—([{«“‘/&+")  # not ASCII quotes: mostly closing ones
# Scripts that end their sentences with punctuation: a last letter of theirs is a cut-off word.
# Hangul and CJK chat messages often end without any, so a last syllable there proves nothing.
_PUNCTUATED_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "GEORGIAN")
# A quoted message at least this long is no coincidence.
_SURELY_QUOTED = 24


@dataclass(frozen=True)
class ClientTurns:
    """A client's messages, read: ``instructions`` (the leading system messages, joined),
    ``history`` (the rest, blank ones and a continue nudge left out) and ``continuing`` (the
    reply continues ``history``'s last message, the character's)."""

    instructions: str
    history: tuple[Turn, ...]
    continuing: bool

    @property
    def new_user_text(self) -> str | None:
        """The user's message that ends the conversation, if one does."""
        last = self.history[-1] if self.history else None
        return last.content if last is not None and last.role == "user" else None


def read_messages(
    messages: Sequence[RequestMessage], *, continue_final: bool | None, split: bool = True
) -> ClientTurns:
    """Read a request's messages (see the module docstring). ``split=False`` keeps the leading
    system messages in the history, in place (a raw model passes them through as they are)."""
    instructions: list[str] = []
    turns: list[Turn] = []
    for message in messages:
        text = message.content
        if not text.strip():
            continue
        system = message.role in ("system", "developer")
        if system and split and not turns:
            instructions.append(text.strip())
            continue
        role: Role = "system" if system else "user" if message.role == "user" else "assistant"
        turns.append(Turn(role, text))
    history, continuing = _continuation(turns, continue_final)
    return ClientTurns("\n\n".join(instructions), tuple(history), continuing)


def _continuation(turns: list[Turn], flag: bool | None) -> tuple[list[Turn], bool]:
    """The history with the message to continue last, and whether to continue it."""
    partial = max((i for i, t in enumerate(turns) if t.role != "system"), default=-1)
    if partial < 0 or turns[partial].role != "assistant":
        if flag:
            raise APIError(
                f"{CONTINUE_FIELD} needs the character's (assistant) message to continue as "
                "the last message",
                param=CONTINUE_FIELD,
            )
        return turns, False
    after = turns[partial + 1 :]
    nudges = [i for i, t in enumerate(after) if _quotes(t.content, turns[partial].content)]
    if flag is False:
        return turns, False
    if flag is None and not nudges and (after or not stops_mid_sentence(turns[partial].content)):
        return turns, False
    # Anything the client put after the partial message (its post-history instructions) goes
    # before it: the partial message must come last for the model to write on from it.
    kept_after = [t for i, t in enumerate(after) if i not in nudges]
    return [*turns[:partial], *kept_after, turns[partial]], True


def _quotes(text: str, partial: str) -> bool:
    """Whether the system message ``text`` is a continue nudge for ``partial``: it quotes it
    (a short message must also say "continue", as it could be quoted by chance)."""
    quoted = " ".join(partial.split())
    text = " ".join(text.split())
    if not quoted or quoted not in text:
        return False
    return len(quoted) >= _SURELY_QUOTED or "continue" in text.casefold()


def stops_mid_sentence(text: str) -> bool:
    """Whether ``text`` ends where no sentence can end (see the module docstring)."""
    stripped = text.rstrip()
    if not stripped:
        return False
    last = stripped[-1]
    if last in _MID_SENTENCE or last.isdigit():
        return True
    if not last.isalpha():
        return False
    name = unicodedata.name(last, "")
    return name.startswith(_PUNCTUATED_SCRIPTS)
