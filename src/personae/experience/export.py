"""Experiences out: the OpenAI/TRL chat format, and Character-LLM's own shape.

Chat format (``{"messages": [...]}``, what TRL's SFT trainer and OpenAI fine-tuning read): the
system message is the meta prompt (who to be, and the scene); the other people's lines are
``user`` messages (prefixed "Name: " when more than one person speaks to the character); the
character's turns are ``assistant`` messages, its thoughts written as ``*…*`` — the markup
personae's chats use for what is not said aloud. Consecutive turns of one side are one
message, the conversation opens with a user message (the scene's background, when the
character speaks first) and ends with the character.

Character-LLM format: ``{"prompt", "output"}``, the meta prompt and the whole interaction as
text with ``Name (speaking)`` / ``Name (thinking)`` tags, plus the scene for reference.
"""

from __future__ import annotations

from typing import Any, Literal

from personae.experience.interaction import Interaction, Turn, render_interaction
from personae.experience.prompts import meta_prompt
from personae.text import Language

FORMATS = ("openai", "character-llm")
# A protective scene's candidate turned away for one of these is the wrong answer of a DPO pair
# whose right answer is the experience kept for the scene (see :func:`preference_pairs`).
PAIR_REASONS = ("anachronism", "assistant_speak", "ai_disclosure", "refusal")
MAX_REJECTED_REPLIES = 3
_HEADER = {"en": "The interactions are as follows:", "ko": "주고받은 말은 다음과 같다:"}
Format = Literal["openai", "character-llm"]


def interaction_of(row: dict[str, Any]) -> Interaction:
    """The :class:`Interaction` of an ``experiences.jsonl`` row."""
    return Interaction(
        str(row.get("background", "")), tuple(Turn.from_dict(t) for t in row.get("turns", ()))
    )


def _assistant_text(turn: Turn) -> str:
    if turn.action != "thinking":
        return turn.text
    return "\n".join(
        f"*{line.strip().strip('*')}*" for line in turn.text.split("\n") if line.strip()
    )


def chat_messages(row: dict[str, Any], name: str, language: Language) -> list[dict[str, str]]:
    """One experience as chat messages (see the module docstring)."""
    interaction = interaction_of(row)
    scene = dict(row.get("scene", {}))
    scene["background"] = interaction.background or scene.get("background", "")
    voices = {t.speaker for t in interaction.other_turns}
    named = len(voices) > 1
    messages: list[dict[str, str]] = [
        {"role": "system", "content": meta_prompt(name, scene, language)}
    ]
    for turn in interaction.turns:
        role = "assistant" if turn.character else "user"
        text = _assistant_text(turn) if turn.character else turn.text
        if not turn.character and named:
            text = f"{turn.speaker}: {text}"
        if messages[-1]["role"] == role:
            messages[-1]["content"] += "\n\n" + text
        else:
            messages.append({"role": role, "content": text})
    if len(messages) > 1 and messages[1]["role"] == "assistant":
        opening = f"({scene['background']})" if scene["background"] else "…"
        messages.insert(1, {"role": "user", "content": opening})
    while messages[-1]["role"] == "user":
        messages.pop()
    return messages


def rejected_reply(turn: Turn | None, reason: str) -> list[dict[str, str]]:
    """A turned-away candidate's offending turn (see :func:`.gates.offending_turn`), as a kept
    row records it (``rejected_replies``); empty when there is none."""
    return [{"reason": reason, "text": _assistant_text(turn)}] if turn is not None else []


def preference_pairs(row: dict[str, Any], name: str, language: Language) -> list[dict[str, Any]]:
    """DPO pairs of a kept experience: its scene up to the character's first reply as the
    prompt, that reply as chosen, and each recorded turned-away reply as rejected."""
    messages = chat_messages(row, name, language)
    first = next((i for i, m in enumerate(messages) if m["role"] == "assistant"), None)
    if first is None:
        return []
    chosen = messages[first]["content"]
    return [
        {
            "prompt": messages[:first],
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": str(r.get("text", ""))}],
        }
        for r in row.get("rejected_replies", ())
        if str(r.get("text", "")).strip() and str(r.get("text", "")).strip() != chosen.strip()
    ]


def export_row(row: dict[str, Any], name: str, language: Language, fmt: Format) -> dict[str, Any]:
    """One ``experiences.jsonl`` row in ``fmt``."""
    scene = row.get("scene", {})
    if fmt == "openai":
        return {"messages": chat_messages(row, name, language)}
    header = _HEADER[language]
    scene_full = {**scene, "background": row.get("background") or scene.get("background", "")}
    return {
        "character": name,
        "scene_id": scene.get("id", ""),
        "protective": bool(scene.get("protective")),
        "prompt": f"{meta_prompt(name, scene_full, language)}\n\n{header}\n\n",
        "output": render_interaction(interaction_of(row), language),
    }


__all__ = [
    "FORMATS",
    "MAX_REJECTED_REPLIES",
    "PAIR_REASONS",
    "chat_messages",
    "export_row",
    "interaction_of",
    "preference_pairs",
    "rejected_reply",
]
