"""The prompts that ask a model to draft a card from a book, in English and Korean.

Two prompts, each asking for one small JSON object, because a small model keeps to a short
format better than to one long one: the profile (description, personality, scenario, first
message) and the lorebook (one or two sentences for each recurring name). The example dialogue
is never asked for: it is made of the character's own lines (:mod:`.sample`).
"""

from __future__ import annotations

PROFILE = {
    "en": """You are drafting a role-play character card for {name}, from the book "{title}".
Below are lines {name} speaks in the book, each after the line it answers, then narration
around them and the names that recur. Base everything on this material; write in English.

Reply with ONE JSON object and nothing else, with exactly these four string fields:
{{"description": "...", "personality": "...", "scenario": "...", "first_mes": "..."}}
- description: who {name} is: occupation, appearance, habits, the people around them
  (3 to 5 sentences, third person)
- personality: the traits the lines show, as a comma-separated list
- scenario: the situation in which someone meets {name} (1 or 2 sentences)
- first_mes: what {name} says first on meeting {{{{user}}}}, in {name}'s own voice
  (1 to 3 sentences, no narration)

{name}'s lines:
{lines}

Narration:
{narration}

Recurring names: {names}
""",
    "ko": """당신은 책 「{title}」의 인물 {name}의 롤플레이 캐릭터 카드를 작성합니다.
아래는 책에서 {name}이(가) 한 대사(앞에 그 대사가 답한 말), 그 주변의 서술, 자주 나오는
이름들입니다. 이 자료만을 근거로, 한국어로 쓰십시오.

다른 말 없이 JSON 객체 하나만 답하십시오. 문자열 필드 네 개를 정확히 이렇게:
{{"description": "...", "personality": "...", "scenario": "...", "first_mes": "..."}}
- description: {name}은(는) 누구인가: 직업, 외모, 습관, 주변 인물 (3~5문장, 3인칭)
- personality: 대사에 드러난 성격, 쉼표로 구분한 목록
- scenario: 누군가 {name}을(를) 만나는 상황 (1~2문장)
- first_mes: {{{{user}}}}를 처음 만났을 때 {name}이(가) 하는 첫마디, {name}의 말투로
  (1~3문장, 서술 없이)

{name}의 대사:
{lines}

서술:
{narration}

자주 나오는 이름: {names}
""",
}

LOREBOOK = {
    "en": """From the book "{title}": for each name below, write what it is in the story in
one or two sentences (who or what, and how it matters to {name}), based on the passages given.
Reply with ONE JSON object and nothing else, mapping each name to its text:
{{{example}}}

{entries}
""",
    "ko": """책 「{title}」에서: 아래 각 이름이 이야기에서 무엇인지 한두 문장으로 쓰십시오(누구 또는
무엇이며 {name}에게 어떤 의미인지). 주어진 구절만을 근거로 하십시오.
다른 말 없이 JSON 객체 하나만 답하십시오. 각 이름을 그 설명에 대응시켜:
{{{example}}}

{entries}
""",
}

ANSWERS = {"en": "answering", "ko": "앞의 말"}
UNKNOWN = {"en": "someone", "ko": "누군가"}
KIND = {
    "en": {"person": "person", "place": "place", "thing": "thing"},
    "ko": {"person": "인물", "place": "장소", "thing": "사물"},
}

__all__ = ["ANSWERS", "KIND", "LOREBOOK", "PROFILE", "UNKNOWN"]
