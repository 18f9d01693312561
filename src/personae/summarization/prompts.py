"""Summarization prompts (English and Korean).

What worked in the Korean dialogue-summarization competition and on DialogSum: keep the
speaker tags exactly as written, reuse the dialogue's own words for the facts, write one or two
sentences in the third person. Demonstrations go in as earlier user/assistant turns, so chat
models see them as finished examples of the task rather than text to continue.
"""

from __future__ import annotations

from collections.abc import Sequence

from personae.backends import Message

SYSTEM = {
    "en": (
        "You write short summaries of dialogues. A summary tells in the third person what "
        "happened or was decided; it never repeats the dialogue line by line."
    ),
    "ko": (
        "당신은 대화를 짧게 요약합니다. 요약은 무슨 일이 있었는지 또는 무엇을 정했는지 3인칭으로 "
        "전하며, 대화를 한 줄씩 옮겨 적지 않습니다."
    ),
}
LENGTH = {
    "en": {1: "one sentence", 2: "one or two sentences"},
    "ko": {1: "한 문장으로", 2: "한두 문장으로"},
}
USER = {
    "en": (
        "<dialogue>\n{dialogue}\n</dialogue>\n\n"
        "Summarize the dialogue above in {length}, at most {words} words. Call the speakers "
        "exactly {speakers}. Reuse the dialogue's own words for the key facts. Write only the "
        "summary."
    ),
    "ko": (
        "<dialogue>\n{dialogue}\n</dialogue>\n\n"
        "위 대화를 {length} 요약하세요(최대 {words}단어). 화자는 정확히 {speakers}(이)라고 "
        "부르세요. 핵심 내용은 대화에 나온 표현을 그대로 쓰세요. 요약만 쓰세요."
    ),
}


# For summaries that stand in for a chat's old messages: what must survive is what a speaker said
# about themselves, which a plot summary drops first (the long-chat benchmark recalled 0/20
# planted facts from summaries written without this).
KEEP_PERSONAL_FACTS = {
    "en": (
        "Above all, keep every fact a speaker states about themselves (name, age, work, family, "
        "pets, home town, dates, likes and dislikes), with names and numbers exactly as said."
    ),
    "ko": (
        "무엇보다 화자가 자기 자신에 대해 말한 사실(이름, 나이, 직업, 가족, 반려동물, 고향, 날짜, "
        "좋아하고 싫어하는 것)은 이름과 숫자를 그대로 살려 모두 남기세요."
    ),
}


def length_phrase(language: str, max_sentences: int) -> str:
    table = LENGTH[language]
    if max_sentences in table:
        return table[max_sentences]
    return (
        f"at most {max_sentences} sentences" if language == "en" else f"{max_sentences}문장 이내로"
    )


def build_messages(
    dialogue: str,
    *,
    language: str,
    max_words: int,
    max_sentences: int,
    speakers: Sequence[str] = (),
    demos: Sequence[tuple[str, Sequence[str], str]] = (),
    focus: str = "",
) -> list[Message]:
    """System instructions, each demonstration ``(dialogue, speakers, summary)`` as a
    user/assistant pair, then the dialogue to summarize; ``focus``: an extra instruction
    appended to the request (e.g. :data:`KEEP_PERSONAL_FACTS`)."""
    lang = language if language in SYSTEM else "en"
    length = length_phrase(lang, max_sentences)

    def ask(text: str, names: Sequence[str]) -> str:
        fallback = "the names used" if lang == "en" else "대화의 이름"
        joined = ", ".join(names) if names else fallback
        request = USER[lang].format(dialogue=text, length=length, words=max_words, speakers=joined)
        return f"{request} {focus.strip()}" if focus.strip() else request

    messages = [Message("system", SYSTEM[lang])]
    for demo_dialogue, demo_speakers, demo_summary in demos:
        messages.append(Message("user", ask(demo_dialogue, demo_speakers)))
        messages.append(Message("assistant", demo_summary))
    messages.append(Message("user", ask(dialogue, speakers)))
    return messages
