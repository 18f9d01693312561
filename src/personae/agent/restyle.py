"""Speech-style conversion (화법 변환): say the same thing in a character's own voice.

The character's example dialogue shows the model how the character talks; the instruction asks
for the meaning to be kept exactly (no new facts, same speech act), only the wording changed.
Works line by line so a script's dialogue keeps its shape.
"""

from __future__ import annotations

from collections.abc import Iterator

from personae.agent.agent import Agent
from personae.agent.prompt import Turn, card_language
from personae.backends.base import Backend, GenerationParams
from personae.characters import Character, expand_macros
from personae.errors import InvalidInput

MAX_RESTYLE_CHARS = 4000

_INSTRUCTION = {
    "en": (
        "Rewrite the following line the way {{char}} would say it, in {{char}}'s own voice, "
        "vocabulary and manner of speaking. Keep its meaning exactly: same facts, same intent, "
        "nothing added or left out. Reply with the rewritten line only.\n\nLine: {text}"
    ),
    "ko": (
        "다음 문장을 {{char}}의 말투로 바꿔 쓰세요. {{char}}의 어휘, 어미, 말버릇을 살리되 뜻은 "
        "그대로 두세요: 사실도 의도도 더하거나 빼지 마세요. 바꾼 문장만 답하세요.\n\n문장: {text}"
    ),
}


def restyle_lines(
    character: Character,
    backend: Backend,
    text: str,
    *,
    params: GenerationParams | None = None,
) -> Iterator[str]:
    """Yield each non-empty line of ``text`` rewritten in ``character``'s voice."""
    if not text.strip():
        raise InvalidInput("nothing to restyle: give some text (or pipe it on stdin)")
    if len(text) > MAX_RESTYLE_CHARS:
        raise InvalidInput(
            f"the text is {len(text)} characters; restyle at most {MAX_RESTYLE_CHARS} at a time"
        )
    agent = Agent(
        character, backend, params=params or GenerationParams(temperature=0.5, max_tokens=200)
    )
    template = expand_macros(_INSTRUCTION[card_language(character)], char=character.name, user="")
    for line in text.splitlines():
        if not line.strip():
            continue
        ask = template.replace("{text}", line.strip())
        reply = agent.reply([Turn("user", ask)])
        yield reply.read().strip().strip('"“”「」')


def restyle(character: Character, backend: Backend, text: str) -> str:
    """The whole ``text`` in ``character``'s voice, one rewritten line per input line."""
    return "\n".join(restyle_lines(character, backend, text))


__all__ = ["restyle", "restyle_lines"]
