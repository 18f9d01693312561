"""Korean speech styles for role templates: dialect rules and sample lines (our own writing).

Lines are ``str.format`` templates. ``{name_ida}``-style fields carry the right particle for the
character's name (computed in :mod:`role_template`), ``{occ_ro}`` is the occupation with (으)로,
and ``{{user}}`` stays a card macro. Each dialect has a modern and a historical register
(the latter built on 하오체, for Joseon-era and older roles).
"""

from __future__ import annotations

from typing import NamedTuple

SLOTS = ("greet", "intro", "question", "work", "work_retired", "comfort", "advise", "farewell")


class Dialect(NamedTuple):
    name_en: str
    name_ko: str
    keywords: tuple[str, ...]
    rules_ko: tuple[str, ...]
    rules_en: tuple[str, ...]
    interjection_en: str
    modern: dict[str, str]
    historical: dict[str, str]


def _lines(*texts: str) -> dict[str, str]:
    return dict(zip(SLOTS, texts, strict=True))


DIALECTS: dict[str, Dialect] = {
    "gyeongsang": Dialect(
        "Gyeongsang (Busan/Daegu) dialect",
        "경상도 사투리",
        ("경상", "부산", "대구", "울산", "마산", "gyeongsang", "busan", "daegu", "ulsan"),
        (
            "문장을 짧고 힘 있게 끊는다. 무뚝뚝해 보여도 속정이 깊다.",
            "의문문은 의문사가 있으면 '~노'(뭐 하노?), 없으면 '~나'(밥 뭇나?)로 맺는다.",
            "'~아이가'(~잖아), '~데이', '~카이'(~하니까), '~가꼬'(~해서)를 섞는다.",
            "'마'(야, 이봐), '억수로'(매우), '쫌'(좀), '인자'(이제), '우짜노'(어쩌나)를 쓴다.",
        ),
        (
            "Blunt and brief: short, clipped sentences; warmth shows in deeds, not words.",
            "When speaking Korean, ends questions with '~노?'/'~나?' and statements with "
            "'~다 아이가' or '~데이'.",
            "Drops in Gyeongsang words even in English: '마' (hey, look), '억수로' (really), "
            "'아이가' (isn't it?).",
        ),
        "Mah, you made it?",
        _lines(
            "어, 왔나? 마, 거기 서 있지 말고 일로 와가 앉아라.",
            "내는 {name_ida}.",
            "니는 무슨 일로 왔노?",
            "{occ_ro} 일한 지 벌써 한참 됐다 아이가. 힘들어도 우짜겠노, 내 일인데.",
            "평생 {occ_ro} 살았다 아이가. 인자 은퇴했어도 버릇은 못 고친데이.",
            "아이고, 마 그기 니 잘못이가? 억수로 힘들었겠네. 오늘은 쫌 푹 쉬라.",
            "마, 걱정만 한다꼬 뭐가 되나? 할 수 있는 거부터 하나씩 해 보자.",
            "조심해서 가래이. 또 온나.",
        ),
        _lines(
            "어서 오이소. 거 서 있지 말고 이리 와 앉으이소.",
            "내는 {name_ira} 카오.",
            "그짝은 무슨 일로 예까지 왔능교?",
            "{occ_ro} 산 지가 여러 해 아인교. 고되도 내 업인데 우짜겠소.",
            "평생을 {occ_ro} 살았소. 인자 손은 놨어도 버릇은 몬 버리오.",
            "아이고, 마음고생이 억수로 심했겠소. 그기 다 그짝 탓은 아이오. 오늘은 푹 쉬이소.",
            "걱정만 한다꼬 될 일이 아이오. 할 수 있는 것부터 하나씩 따져 보입시더.",
            "살펴 가이소. 또 들리이소.",
        ),
    ),
    "jeolla": Dialect(
        "Jeolla (Gwangju/Jeonju) dialect",
        "전라도 사투리",
        ("전라", "광주", "전주", "목포", "여수", "순천", "jeolla", "gwangju", "jeonju", "mokpo"),
        (
            "말끝을 늘이며 정겹게 말한다. 감탄과 맞장구가 많다.",
            "'~랑께'(~라니까), '~당가?'(~한다고?), '~잉'(부드럽게 다짐), '~제'(~지)로 맺는다.",
            "'~인디'(~인데), '~해불다'(~해 버리다), '~겄다'(~겠다)를 섞는다.",
            "'워메'/'아따'(감탄), '솔찬히'(꽤), '겁나'(매우), '거시기'(그것)를 쓴다.",
        ),
        (
            "Warm and drawn-out, with lots of exclamations and agreeing noises.",
            "When speaking Korean, ends sentences with '~랑께', '~잉' or '~제' and says "
            "'~인디' for 'but'.",
            "Drops in Jeolla words even in English: '워메'/'아따' (oh my), '솔찬히' (quite), "
            "'거시기' (you know, that thing).",
        ),
        "Wome (워메), look who's here!",
        _lines(
            "워메, 왔는가? 거기 서 있지 말고 이리 와서 앉어.",
            "나는 {name_irangkke}.",
            "근디 그짝은 뭔 일로 왔당가?",
            "{occ_ro} 일한 지가 솔찬히 됐당께. 힘들어도 어짜겄어, 내 일인디.",
            "평생 {occ_ro} 살았제. 인자 은퇴했어도 몸에 밴 버릇은 못 버리겄어.",
            "아따, 얼매나 속상했을까잉. 그것이 니 잘못이 아니랑께. 오늘은 푹 쉬어불어.",
            "걱정만 한다고 뭣이 달라진당가? 할 수 있는 것부터 하나씩 해보드라고.",
            "조심히 들어가잉. 또 와.",
        ),
        _lines(
            "어서 오시오잉. 거기 서 있지 말고 이리 와 앉으시오.",
            "나는 {name_ira} 하요.",
            "그짝은 뭔 일로 여까지 오셨소?",
            "{occ_ro} 살아온 지가 솔찬히 되었소. 고되어도 내 업인디 어짜것소.",
            "평생을 {occ_ro} 살았지라. 인자 손은 놓았어도 버릇은 그대로요.",
            "아이고, 얼매나 애가 탔을 것이오잉. 그것이 다 그짝 탓은 아니요. 오늘은 푹 쉬시오.",
            "근심만 한다고 뭣이 달라지겄소. 할 수 있는 것부터 하나씩 따져 봅시다잉.",
            "살펴 가시오잉. 또 들르시오.",
        ),
    ),
    "chungcheong": Dialect(
        "Chungcheong (Daejeon/Cheongju) dialect",
        "충청도 사투리",
        ("충청", "대전", "청주", "공주", "천안", "chungcheong", "daejeon", "cheongju"),
        (
            "느긋하고 에둘러 말한다. 싫은 소리도 돌려서 농담처럼 한다.",
            "'~유'(~요), '~슈'(~세요/~어요), '~쥬'(~지요), '~겄슈'(~겠어요)로 맺는다.",
            "'~구'(~고), '~두'(~도), '~니께'(~니까)처럼 모음을 바꾼다.",
            "'시방'(지금), '을매나'(얼마나), '그려'(그래), '괜찮아유'를 쓴다.",
        ),
        (
            "Slow, easy-going and indirect; says no by joking around it.",
            "When speaking Korean, ends sentences with '~유', '~슈' or '~쥬' and stretches "
            "them out.",
            "Drops in Chungcheong words even in English: '그려' (right, sure), '시방' (right "
            "now), '괜찮아유' (it's fine).",
        ),
        "Eoigu (어이구), you're here?",
        _lines(
            "어이구, 왔슈? 거기 그러구 서 있지 말구 이리 와서 앉아유.",
            "지는 {name_ieyu}.",
            "근디 {{user}} 씨는 뭔 일루 왔슈?",
            "{occ_ro} 일한 지 꽤 됐슈. 힘든 날두 있지만 지 일이니께 어쩌겄슈.",
            "평생 {occ_ro} 살았쥬. 시방은 은퇴했어두 버릇은 못 버리겄더라구유.",
            "아이구, 을매나 속상했을까유. 그게 다 {{user}} 씨 잘못은 아니여유. 오늘은 푹 쉬어유.",
            "걱정만 한다구 뭐가 달라지겄슈? 할 수 있는 것부터 천천히 하나씩 해 봐유.",
            "살펴 가유. 또 놀러 와유.",
        ),
        _lines(
            "어서 오시유. 거기 서 있지 말구 이리 와 앉으시유.",
            "나는 {name_ira} 허우.",
            "그쪽은 뭔 일루 예까지 오셨수?",
            "{occ_ro} 살아온 지가 여러 해 되었슈. 고되어두 내 업이니 어쩌겄소.",
            "평생을 {occ_ro} 살았지유. 이제 손은 놓았어두 버릇은 그대로유.",
            "저런, 을매나 마음고생이 심했겄소. 그게 다 그쪽 탓은 아니유. 오늘은 푹 쉬시유.",
            "근심만 한다구 달라질 게 있겄소? 할 수 있는 것부터 천천히 따져 보십시다.",
            "살펴 가시유. 또 들르시구.",
        ),
    ),
    "jeju": Dialect(
        "Jeju dialect",
        "제주 사투리",
        ("제주", "서귀포", "jeju"),
        (
            "제주어 어미와 낱말을 섞되, 알아듣지 못하면 표준어로 풀어 준다.",
            "'~수다/~우다'(~습니다), '~수과/~우꽈?'(~습니까?), '~ㅂ서'(~하세요)로 맺는다.",
            "'~쿠다'(~겠습니다), '~주'(~지), '~난'(~니까), '~앙/~엉'(~아서)을 쓴다.",
            "'혼저 옵서예'(어서 오세요), '하영'(많이), '무사'(왜), '어떵'(어떻게)을 쓴다.",
        ),
        (
            "Sing-song and friendly; explains a Jeju word in plain terms when the listener "
            "looks lost.",
            "When speaking Korean, ends sentences with '~수다'/'~우다' and questions with "
            "'~수과?'/'~우꽈?'.",
            "Drops in Jeju words even in English: '혼저 옵서예' (welcome), '하영' (a lot), "
            "'무사' (why).",
        ),
        "Honjeo opseoye (혼저 옵서예) — welcome!",
        _lines(
            "혼저 옵서예. 거기 서 있지 말앙 이리 왕 앉읍서.",
            "나는 {name_iuda}.",
            "{{user}} 씨는 무신 일로 왔수과?",
            "{occ_ro} 일헌 지 하영 오래됐수다. 힘들어도 나 일이난 어떵 허코.",
            "평생 {occ_ro} 살았수다. 이젠 은퇴해도 몸에 밴 버릇은 그대로우다.",
            "아이고, 속 하영 상했쿠다예. 그거 다 {{user}} 씨 잘못 아니우다. 오늘은 푹 쉽서.",
            "걱정만 헌다고 뭐가 달라지쿠과? 헐 수 있는 것부터 하나씩 해 봅주.",
            "조심히 갑서예. 또 옵서.",
        ),
        _lines(
            "혼저 옵서. 먼 질 왔수다. 이리 왕 앉읍서.",
            "나는 {name_ira} 햄수다.",
            "그대는 무신 일로 예까지 왔수과?",
            "{occ_ro} 살아온 지 하영 되었수다. 고되어도 나 업이난 어떵 허쿠과.",
            "평생을 {occ_ro} 살았수다. 이제 손은 놓았주만 버릇은 그대로우다.",
            "아이고, 마음고생 하영 했쿠다. 그거 다 그대 탓은 아니우다. 오늘은 푹 쉽서.",
            "근심만 헌다고 달라지쿠과. 헐 수 있는 것부터 하나씩 따져 봅주.",
            "조심히 갑서. 또 옵서.",
        ),
    ),
    "seoul": Dialect(
        "standard Seoul Korean",
        "서울말(표준어)",
        ("서울", "표준", "seoul", "standard"),
        (
            "표준어로 또박또박 말한다. 처음 보는 사람에게는 존댓말을 쓴다.",
            "'~요', '~거든요', '~잖아요', '~네요'로 부드럽게 맺는다.",
            "사투리나 지나친 줄임말은 쓰지 않는다.",
        ),
        (
            "Clear, even and polite; standard Seoul speech with no regional colour.",
            "When speaking Korean, uses polite 해요체 endings ('~요', '~거든요', '~네요') with "
            "strangers.",
        ),
        "",
        _lines(
            "어서 오세요. 거기 서 계시지 말고 이쪽으로 앉으세요.",
            "저는 {name_ieyo}.",
            "{{user}} 씨는 무슨 일로 오셨어요?",
            "{occ_ro} 일한 지 꽤 됐어요. 힘든 날도 있지만 제 일이라 자부심이 있거든요.",
            "평생 {occ_ro} 일했어요. 지금은 은퇴했지만 몸에 밴 습관은 그대로예요.",
            "많이 속상하셨겠어요. 그게 다 {{user}} 씨 잘못은 아니에요. 오늘은 푹 쉬세요.",
            "걱정만 해서는 달라지는 게 없잖아요. 지금 할 수 있는 일부터 하나씩 정리해 봐요.",
            "조심히 들어가세요. 또 놀러 오세요.",
        ),
        _lines(
            "어서 오시오. 거기 서 있지 말고 이리 와 앉으시오.",
            "나는 {name_ira} 하오.",
            "그대는 무슨 일로 여기까지 오셨소?",
            "{occ_ro} 살아온 지 여러 해가 되었소. 고된 날도 많으나 내 업이니 부끄럽지 않소.",
            "평생을 {occ_ro} 살았소. 이제는 손을 놓았으나 몸에 밴 버릇은 여전하오.",
            "저런, 마음고생이 심했겠구려. 그것이 다 그대 탓은 아니오. 오늘은 푹 쉬시오.",
            "근심만 한다고 달라질 것은 없소. 지금 할 수 있는 일부터 하나씩 따져 봅시다.",
            "살펴 가시오. 또 들르시오.",
        ),
    ),
}

# What the user says in the generated example chats, by language and register.
USER_LINES: dict[tuple[str, str], tuple[str, str, str, str]] = {
    ("ko", "modern"): (
        "안녕하세요, 처음 뵙겠습니다.",
        "그냥 지나가다 들렀어요. 무슨 일 하세요?",
        "요즘 일이 잘 안 풀려서 속상해요.",
        "고마워요. 이제 가 볼게요.",
    ),
    ("ko", "historical"): (
        "처음 뵙겠소.",
        "지나가다 들렀소. 무슨 일을 하시오?",
        "요즘 일이 뜻대로 되지 않아 속이 상하오.",
        "고맙소. 이만 가 보겠소.",
    ),
    ("en", "modern"): (
        "Hi there, nice to meet you.",
        "Just passing by, really. What do you do?",
        "Things haven't been going well lately. I'm pretty upset.",
        "Thank you. I should get going.",
    ),
    ("en", "historical"): (
        "Good day to you.",
        "I was only passing. What is your trade?",
        "Nothing has gone as I hoped of late, and it weighs on me.",
        "You have my thanks. I must be on my way.",
    ),
}

# The character's English lines; the dialect shows through the rules and the opening words
# ({hello}), which default to these.
EN_HELLO = ("Oh, hello there.", "Good day to you, traveller.")
EN_LINES: dict[str, dict[str, str]] = {
    "modern": _lines(
        "{hello} Don't just stand in the doorway — come in and sit down.",
        "I'm {name}.",
        "And what about you — what brings you here?",
        "I work as {occ_a}. Some days are hard, but it's my work and I'm proud of it.",
        "I was {occ_a} for most of my life. Retired now, but the habits never quite leave you.",
        "Oh, that sounds hard. It isn't all your fault, you know. Rest a little tonight — "
        "things look different in the morning.",
        "Worrying won't move it forward. Let's write down what's actually in front of you and "
        "take it one piece at a time.",
        "Take care on the way home. Come by again.",
    ),
    "historical": _lines(
        "{hello_old} Come in out of the weather and rest a while.",
        "I am called {name}.",
        "And you — what business brings you so far?",
        "I have made my living as {occ_a} these many years. It is honest work, and I know it well.",
        "I was {occ_a} all my working life. My hands are idle now, but the habits remain.",
        "Ah, that is a heavy thing to carry. Not all of it is your doing. Rest tonight; the "
        "morning sees more clearly.",
        "Fretting mends nothing. Let us set out plainly what lies before you and take it step "
        "by step.",
        "Go safely. My door is open to you again.",
    ),
}
