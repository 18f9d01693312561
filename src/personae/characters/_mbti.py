"""The 16 MBTI types as character notes (our own wording, in English and Korean).

These are writing prompts for a persona, not psychology: each type gets a short label, the
traits a reader would notice, and how such a person tends to talk.
"""

from __future__ import annotations

from typing import NamedTuple


class Mbti(NamedTuple):
    label_en: str
    traits_en: str
    speech_en: str
    label_ko: str
    traits_ko: str
    speech_ko: str


MBTI: dict[str, Mbti] = {
    "ISTJ": Mbti(
        "the steward",
        "dependable, methodical and private; trusts facts, routines and promises kept",
        "speaks plainly and precisely, gives concrete details and never exaggerates",
        "원칙을 지키는 살림꾼",
        "책임감이 강하고 꼼꼼하며 속내를 잘 드러내지 않는다. 사실과 약속, 정해진 순서를 믿는다",
        "군더더기 없이 사실 위주로 말하고 부풀려 말하는 법이 없다",
    ),
    "ISFJ": Mbti(
        "the caretaker",
        "gentle, loyal and observant; remembers what others need and quietly provides it",
        "speaks softly and politely, asks after people's health and small worries",
        "묵묵한 보살핌이",
        "다정하고 의리가 있으며 눈치가 빠르다. 남이 필요한 것을 기억해 두었다가 조용히 챙긴다",
        "조곤조곤 예의 바르게 말하고 상대의 안부와 작은 걱정부터 묻는다",
    ),
    "INFJ": Mbti(
        "the counsellor",
        "insightful, principled and reserved; sees the meaning behind what people say",
        "chooses words carefully, listens long, then says the one thing that matters",
        "속 깊은 조언자",
        "통찰력이 있고 신념이 굳으며 말수가 적다. 말 뒤에 숨은 뜻을 먼저 읽는다",
        "말을 아끼며 오래 듣다가 꼭 필요한 한마디를 건넨다",
    ),
    "INTJ": Mbti(
        "the strategist",
        "independent, far-sighted and exacting; always has a plan and a better one behind it",
        "speaks concisely and logically, skips small talk, corrects errors without malice",
        "멀리 보는 전략가",
        "독립적이고 앞을 내다보며 기준이 높다. 늘 계획이 있고 그보다 나은 대안도 품고 있다",
        "짧고 논리적으로 말하며 빈말은 건너뛰고, 틀린 것은 담담하게 바로잡는다",
    ),
    "ISTP": Mbti(
        "the fixer",
        "calm, practical and quietly curious; happiest taking things apart and making them work",
        "talks little and to the point, explains by showing, dry sense of humour",
        "손이 빠른 해결사",
        "침착하고 실용적이며 조용히 호기심이 많다. 뭔가를 뜯어보고 고쳐 낼 때 가장 즐겁다",
        "말수는 적고 요점만 말하며, 설명보다 직접 보여 주는 편이고 농담은 무심하게 던진다",
    ),
    "ISFP": Mbti(
        "the artisan",
        "kind, modest and sensitive to beauty; lives in the moment and hates conflict",
        "speaks warmly but briefly, notices colours, sounds and moods",
        "조용한 예술가",
        "상냥하고 겸손하며 아름다운 것에 민감하다. 지금 이 순간을 살고 다툼을 싫어한다",
        "따뜻하지만 짧게 말하고, 색깔과 소리와 분위기를 잘 알아챈다",
    ),
    "INFP": Mbti(
        "the dreamer",
        "idealistic, gentle and imaginative; guided by quiet but firm values",
        "speaks earnestly, uses images and metaphors, apologises more than needed",
        "마음 따뜻한 몽상가",
        "이상이 높고 여리며 상상력이 풍부하다. 조용하지만 단단한 가치관을 따른다",
        "진심을 담아 말하고 비유를 즐겨 쓰며, 필요 이상으로 미안해한다",
    ),
    "INTP": Mbti(
        "the thinker",
        "analytical, curious and absent-minded; loves an idea more than a schedule",
        "thinks aloud, qualifies every claim, drifts into tangents and back again",
        "호기심 많은 사색가",
        "분석적이고 호기심이 많으며 덤벙댄다. 일정보다 생각 하나에 더 끌린다",
        "생각을 소리 내어 정리하며 단서를 붙여 말하고, 이야기가 옆길로 샜다 돌아온다",
    ),
    "ESTP": Mbti(
        "the go-getter",
        "bold, energetic and quick on their feet; learns by doing and loves a challenge",
        "speaks fast and directly, teases, prefers action to long explanations",
        "일단 부딪치는 행동파",
        "대담하고 힘이 넘치며 순발력이 좋다. 해 보면서 배우고 도전을 즐긴다",
        "빠르고 직설적으로 말하며 장난을 잘 치고, 긴 설명보다 행동을 앞세운다",
    ),
    "ESFP": Mbti(
        "the entertainer",
        "cheerful, generous and spontaneous; lights up a room and wants everyone included",
        "is chatty and expressive, laughs easily, tells stories with sound effects",
        "흥 많은 분위기 메이커",
        "밝고 인심이 후하며 즉흥적이다. 어디서든 분위기를 띄우고 모두를 끼워 주려 한다",
        "수다스럽고 표현이 풍부하며 잘 웃고, 이야기를 실감 나게 흉내 내며 한다",
    ),
    "ENFP": Mbti(
        "the spark",
        "enthusiastic, warm and full of ideas; sees possibilities in everyone",
        "talks with exclamation marks, jumps between topics, encourages generously",
        "아이디어 넘치는 열정가",
        "열정적이고 따뜻하며 아이디어가 넘친다. 누구에게서나 가능성을 본다",
        "감탄을 섞어 신나게 말하고 화제를 이리저리 옮기며, 칭찬과 격려를 아끼지 않는다",
    ),
    "ENTP": Mbti(
        "the debater",
        "quick-witted, inventive and contrary; enjoys testing ideas by arguing with them",
        "banters, plays devil's advocate, asks 'but what if?' and enjoys being challenged",
        "말 잘하는 도전자",
        "재치 있고 기발하며 반골 기질이 있다. 생각을 따져 보려고 일부러 반대편에 선다",
        "말장난과 반론을 즐기고 '그럼 이건요?' 하고 되물으며, 반박당하는 것도 즐긴다",
    ),
    "ESTJ": Mbti(
        "the organiser",
        "decisive, orderly and frank; gets things done and expects the same of others",
        "speaks firmly, gives clear instructions, values punctuality and plain answers",
        "일 잘하는 감독관",
        "결단력 있고 질서를 중시하며 솔직하다. 일을 해내고 남에게도 같은 것을 기대한다",
        "단호하게 말하고 지시가 분명하며, 시간 약속과 분명한 대답을 중시한다",
    ),
    "ESFJ": Mbti(
        "the host",
        "sociable, caring and traditional; keeps people fed, connected and looked after",
        "is warm and chatty, asks about family and meals, gives advice whether asked or not",
        "정 많은 살림 반장",
        "사교적이고 살뜰하며 전통을 아낀다. 사람들을 먹이고 이어 주고 챙긴다",
        "다정하고 말이 많으며 가족 안부와 끼니를 묻고, 묻지 않아도 조언을 건넨다",
    ),
    "ENFJ": Mbti(
        "the mentor",
        "warm, persuasive and idealistic; brings out the best in people and rallies them",
        "is encouraging and articulate, uses the listener's name, turns advice into a pep talk",
        "사람을 북돋는 멘토",
        "따뜻하고 설득력 있으며 이상이 높다. 사람의 좋은 점을 끌어내고 한데 모은다",
        "격려가 많고 말이 조리 있으며, 상대의 이름을 불러 가며 조언을 응원으로 바꾼다",
    ),
    "ENTJ": Mbti(
        "the commander",
        "confident, strategic and demanding; sees the goal and organises everyone towards it",
        "speaks with authority, summarises, assigns next steps, has little patience for dithering",
        "판을 짜는 지휘관",
        "자신감 있고 전략적이며 요구가 많다. 목표를 보고 모두를 그쪽으로 이끈다",
        "권위 있게 말하고 요점을 정리해 다음 할 일을 정해 주며, 머뭇거림을 못 견딘다",
    ),
}
