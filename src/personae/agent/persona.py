"""Letting the model flesh out a template persona (``personae card new --role … --expand``).

The template card stays the source of truth; the model only adds a short background paragraph,
which is appended to the description (and recorded in the card's extensions) so the user can
see and edit exactly what the model contributed.
"""

from __future__ import annotations

from personae.agent.prompt import card_language
from personae.backends.base import Backend, GenerationParams, Message, collect
from personae.characters import Character
from personae.errors import BackendError

_ASK = {
    "en": (
        "Here is a character sheet:\n\n{sheet}\n\nWrite one paragraph (4-6 sentences) of concrete "
        "background for this person: where they live, a habit, something they care about, a "
        "memory they like to tell. Stay consistent with the sheet. Write only the paragraph."
    ),
    "ko": (
        "다음은 인물 설정입니다.\n\n{sheet}\n\n이 인물의 구체적인 배경을 한 문단(4~6문장)으로 "
        "쓰세요: 사는 곳, 습관, 아끼는 것, 즐겨 하는 옛이야기. 설정과 어긋나지 않게, 문단만 쓰세요."
    ),
}


def expand_persona(
    character: Character, backend: Backend, params: GenerationParams | None = None
) -> Character:
    language = card_language(character)
    sheet = "\n".join(
        part for part in (character.name, character.description, character.personality) if part
    )
    prompt = _ASK[language].replace("{sheet}", sheet)
    params = params or GenerationParams(temperature=0.7, max_tokens=300)
    text, _ = collect(backend.stream([Message("user", prompt)], params))
    text = text.strip()
    if not text:
        raise BackendError("the model returned nothing to add; try again or drop --expand")
    extensions = dict(character.extensions)
    personae_ext = dict(extensions.get("personae") or {})
    personae_ext["expanded_background"] = text
    extensions["personae"] = personae_ext
    return character.model_copy(
        update={
            "description": f"{character.description.rstrip()}\n\n{text}",
            "extensions": extensions,
        }
    )
