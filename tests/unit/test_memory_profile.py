"""The user profile: rule-based fact extraction (English and Korean, positive and negative),
model-based extraction through the scripted backend, merging, the prompt block and drafts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personae.backends.base import GenerationParams
from personae.errors import BackendError, InvalidInput
from personae.memory.bank import MemoryBank
from personae.memory.profile import (
    HEADINGS,
    IMPORTANCE,
    LABELS,
    MAX_VALUE,
    SINGLE_VALUED,
    Fact,
    ProfileChange,
    extract_facts,
    extract_facts_llm,
    fact_value,
    merge_facts,
    parse_fact_lines,
    profile_block,
    profile_drafts,
)
from personae.store import CharacterRepository, Database
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend

Expected = list[tuple[str, str]]

ENGLISH: list[tuple[str, Expected]] = [
    ("My name is Ana.", [("name", "Ana")]),
    ("my name's ana lopez", [("name", "Ana Lopez")]),
    ("Hi! I'm Ana.", [("name", "Ana")]),
    ("I am Ana, nice to meet you", [("name", "Ana")]),
    ("Call me Ishmael.", [("name", "Ishmael")]),
    ("You can call me Annie", [("name", "Annie")]),
    ("I'm 29.", [("age", "29")]),
    ("I am 29 years old", [("age", "29")]),
    ("I just turned 30 today", [("age", "30")]),
    ("Do you know, I am 41 years of age", [("age", "41")]),
    ("My birthday is March 14.", [("birthday", "March 14")]),
    ("my birthday is on the 14th of March", [("birthday", "14th of March")]),
    ("I was born on June 3, 1995", [("birthday", "June 3, 1995")]),
    ("My birthday falls on the 2nd of May.", [("birthday", "2nd of May")]),
    ("I'm from Whitby.", [("hometown", "Whitby")]),
    ("I grew up in New York City", [("hometown", "New York City")]),
    ("I'm originally from Seoul, Korea", [("hometown", "Seoul, Korea")]),
    ("I live in London.", [("lives_in", "London")]),
    ("I live in a small flat in Leeds", [("lives_in", "Leeds")]),
    ("I just moved to Bath", [("lives_in", "Bath")]),
    ("I work as a nurse.", [("job", "nurse")]),
    (
        "I work as a nurse at St. Mary's Hospital",
        [("job", "nurse"), ("workplace", "St. Mary's Hospital")],
    ),
    ("I'm a nurse", [("job", "nurse")]),
    ("I'm an engineer at Google", [("job", "engineer"), ("workplace", "Google")]),
    ("I work at Google as a designer", [("workplace", "Google"), ("job", "designer")]),
    ("I work at a bakery", [("workplace", "a bakery")]),
    ("I study at Leeds University", [("school", "Leeds University")]),
    ("I'm a student at Oxford", [("job", "student"), ("school", "Oxford")]),
    ("I love coffee", [("likes", "coffee")]),
    ("I really enjoy hiking in the mountains", [("likes", "hiking in the mountains")]),
    ("I adore cats!", [("likes", "cats")]),
    ("My own favourite tea is lapsang souchong.", [("likes", "lapsang souchong")]),
    ("I love my job", [("likes", "their job")]),
    ("I'm a huge fan of jazz", [("likes", "jazz")]),
    ("my favourite food is pizza", [("likes", "pizza")]),
    ("I hate Mondays", [("dislikes", "Mondays")]),
    ("I can't stand cilantro", [("dislikes", "cilantro")]),
    ("I'm allergic to peanuts.", [("allergy", "peanuts")]),
    ("I have a severe shellfish allergy", [("allergy", "shellfish")]),
    ("I'm afraid of spiders", [("fear", "spiders")]),
    ("I'm scared of the dark", [("fear", "the dark")]),
    ("My dog is called Biscuit.", [("pet", "dog Biscuit")]),
    ("my cat's name is Miso", [("pet", "cat Miso")]),
    ("I have a dog named Rex", [("pet", "dog Rex")]),
    ("I have two cats", [("pet", "two cats")]),
    ("My sister is called Harriet.", [("family", "sister Harriet")]),
    ("my mom is Linda", [("family", "mom Linda")]),
    ("My older brother Tom lives in Paris", [("family", "older brother Tom")]),
    ("My wife Sarah is a doctor.", [("partner", "wife Sarah")]),
    ("my boyfriend is called Jin", [("partner", "boyfriend Jin")]),
    ("I play the viola", [("hobby", "playing the viola")]),
    ("my hobby is knitting", [("hobby", "knitting")]),
    ("I'm planning to visit Seoul next month", [("plan", "to visit Seoul next month")]),
    ("I'm vegetarian", [("other", "vegetarian")]),
    ("I'm Ana and I love hiking", [("name", "Ana"), ("likes", "hiking")]),
    ("I love coffee but I hate tea", [("likes", "coffee"), ("dislikes", "tea")]),
    ("*waves* I'm Ana.", [("name", "Ana")]),
    ("Ok I'm Ana lol", [("name", "Ana")]),
    ("My cat is called Mr. Whiskers", [("pet", "cat Mr. Whiskers")]),
    ("I play tennis every weekend", [("hobby", "playing tennis")]),
    ("I collect stamps", [("hobby", "collecting stamps")]),
    ("I'm really into K-pop these days", [("likes", "K-pop")]),
    ("I have a sister who lives in Paris", [("family", "sister")]),
]

ENGLISH_NOTHING = [
    "I'm tired",
    "I'm so tired.",
    "I'm Korean",
    "I'm Going Home",
    "I'm Tired Of This",
    "i'm ana",  # a lower-case "name" after I'm is too often a word
    "I don't like coffee",
    "I do not love tea",
    "Do you like coffee?",
    "I love coffee, don't you?",
    "my friend likes coffee",
    "My sister loves jazz",
    "my sister is a doctor",
    "She is allergic to nuts",
    "If I were a nurse, I'd be happy.",
    "I wish I lived in Paris",
    "I would love to live in Paris",
    "I think I'm allergic to cats",
    'He said "I\'m a nurse"',
    "*I'm a knight of the realm*",
    "I love you",
    "I like it when you smile",
    "I like his titles",
    "I love their music",
    "I love how you talk",
    "I'm not afraid of anything",
    "I have no pets",
    "I'm 5 minutes away",
    "I'm a big believer in luck",
    "call me later",
    "my name is not important",
    "I'm from work",
    "I live with my parents",
    "I used to live in London",
    "Maybe I'm a nurse",
    "my dog is sick",
    "I go to the gym",
    "I enjoy our chats",
    "I play the fool",
    "I'm afraid I can't do that",
    "I live in the moment",
    "I work out every day",
    "my brother is Coming",
    "I'm from the future",
    "Call me Maybe",
    "I'm John's sister",
    "I grew up in the 90s",
    "I'm 100% sure",
    "my birthday is coming up",
    "I'm allergic to you",
    "I love talking to you",
    "my best friend is called Jo",
    "",
    "   ",
]

KOREAN: list[tuple[str, Expected]] = [
    ("제 이름은 아나예요.", [("name", "아나")]),
    ("제 이름은 지훈이에요", [("name", "지훈")]),
    ("내 이름은 수이야", [("name", "수이")]),
    ("이름은 아나야", [("name", "아나")]),
    ("이름이 서윤인데 맨날 늦어요.", []),  # someone just mentioned, not the user
    ("이름은 서진인데, 진짜 싹싹해요.", []),
    ("저는 아나라고 해요", [("name", "아나")]),
    ("저는 지훈이라고 합니다.", [("name", "지훈")]),
    ("아나라고 불러 주세요", [("name", "아나")]),
    ("저는 스물아홉 살이에요", [("age", "29")]),
    ("29살이에요", [("age", "29")]),
    ("올해 서른 살이야", [("age", "30")]),
    ("저는 이십구 세입니다", [("age", "29")]),
    ("생일은 3월 14일이에요", [("birthday", "3월 14일")]),
    ("제 생일은 12월25일이야", [("birthday", "12월 25일")]),
    ("3월 14일에 태어났어요", [("birthday", "3월 14일")]),
    ("부산 출신이에요", [("hometown", "부산")]),
    ("저는 대구에서 자랐어요", [("hometown", "대구")]),
    ("제 고향은 전주예요", [("hometown", "전주")]),
    ("연남동에 살아요", [("lives_in", "연남동")]),
    ("지금은 서울에서 살고 있어요", [("lives_in", "서울")]),
    ("마포구 살아요", [("lives_in", "마포구")]),
    ("간호사로 일해요", [("job", "간호사")]),
    ("병원에서 간호사로 일하고 있어요", [("job", "간호사"), ("workplace", "병원")]),
    ("저는 간호사예요", [("job", "간호사")]),
    ("대학생이야", [("job", "대학생")]),
    ("삼성전자에서 일해요", [("workplace", "삼성전자")]),
    ("제 직업은 요리사입니다", [("job", "요리사")]),
    ("서울대에 다녀요", [("school", "서울대")]),
    ("커피를 좋아해요", [("likes", "커피")]),
    ("저는 매운 음식을 정말 좋아해요", [("likes", "매운 음식")]),
    ("나 커피 좋아해", [("likes", "커피")]),
    ("커피도 좋아해요", [("likes", "커피")]),
    ("고양이 좋아해요", [("likes", "고양이")]),
    ("등산하는 걸 좋아해요", [("likes", "등산하는 것")]),
    ("제일 좋아하는 음식은 김치찌개예요", [("likes", "김치찌개")]),
    ("오이를 싫어해요", [("dislikes", "오이")]),
    ("벌레가 싫어요", [("dislikes", "벌레")]),
    ("땅콩 알레르기가 있어요", [("allergy", "땅콩")]),
    ("저는 복숭아에 알레르기가 있어요", [("allergy", "복숭아")]),
    ("거미가 무서워요", [("fear", "거미")]),
    ("저는 높은 곳이 무서워요", [("fear", "높은 곳")]),
    ("우리 강아지 이름은 초코예요", [("pet", "강아지 초코")]),
    ("초코라는 강아지를 키워요", [("pet", "강아지 초코")]),
    ("고양이 두 마리를 키워요", [("pet", "고양이 두 마리")]),
    ("여동생 이름은 하은이에요", [("family", "여동생 하은")]),
    ("언니가 있어요", [("family", "언니")]),
    ("남편 이름은 민호예요", [("partner", "남편 민호")]),
    ("제 취미는 등산이에요", [("hobby", "등산")]),
    ("다음 달에 서울로 이사할 예정이에요", [("plan", "다음 달에 서울로 이사할 예정")]),
    ("저는 부산에서 자랐고 지금은 서울에 살아요", [("hometown", "부산"), ("lives_in", "서울")]),
    ("커피를 좋아하는데 오이는 싫어해요", [("likes", "커피"), ("dislikes", "오이")]),
    ("ㅋㅋㅋ 커피를 좋아해요~", [("likes", "커피")]),
    ("저는 개발자로 일하고 있고 고양이를 키워요", [("job", "개발자"), ("pet", "고양이")]),
    ("저는 아나입니다. 스물다섯 살이고 서울에 살아요.", [("age", "25"), ("lives_in", "서울")]),
]

KOREAN_NOTHING = [
    "커피를 좋아하지 않아요",
    "커피 안 좋아해요",
    "커피 좋아해요?",
    "커피 좋아하세요",
    "친구는 커피를 좋아해요",
    "제 친구가 커피를 좋아해요",
    "동생이 고양이를 좋아한대요",
    "엄마가 간호사예요",
    "친구는 부산 출신이에요",
    "동생이 서울에 살아요",
    "동생이 간호사로 일해요",
    "간호사라면 좋겠어요",
    "만약 부산에 살면 좋겠다",
    "너를 사랑해",
    "그거 좋아해요",
    "저는 알레르기가 없어요",
    "서울에 살고 싶어요",
    "저는 서울에 살았어요",
    "우리 강아지는 귀여워요",
    "집에서 일해요",
    "저는 아나예요",  # a copula alone does not tell a name from anything else
    "친구랑 서울에 살아요",
    "학교에 다녀요",
    "저희 아빠는 부산에서 자랐어요",
    "우리 엄마는 선생님이에요",
    "간호사가 되고 싶어요",
    "간호사였어요",
    "커피를 좋아했어요",
    "당신을 좋아해요",
    "이 노래 좋아해요",
    "날씨가 좋아요",
]


def pairs(facts: list[Fact]) -> Expected:
    return [(f.label, f.value) for f in facts]


@pytest.mark.parametrize(("text", "expected"), ENGLISH)
def test_english_statements(text: str, expected: Expected) -> None:
    facts = extract_facts(text)
    assert pairs(facts) == expected
    assert all(f.text.startswith(("The user", "About the user")) for f in facts)


@pytest.mark.parametrize("text", ENGLISH_NOTHING)
def test_english_non_statements_give_nothing(text: str) -> None:
    assert extract_facts(text) == []


@pytest.mark.parametrize(("text", "expected"), KOREAN)
def test_korean_statements(text: str, expected: Expected) -> None:
    facts = extract_facts(text)
    assert pairs(facts) == expected
    assert all(f.text.startswith("사용자") for f in facts)


@pytest.mark.parametrize("text", KOREAN_NOTHING)
def test_korean_non_statements_give_nothing(text: str) -> None:
    assert extract_facts(text) == []


def test_sentences_are_written_in_the_message_language() -> None:
    [en] = extract_facts("My name is Ana.")
    [ko] = extract_facts("제 이름은 아나예요.")
    assert en.text == "The user's name is Ana."
    assert ko.text == "사용자의 이름: 아나"
    assert extract_facts("I'm 29")[0].text == "The user is 29 years old."
    assert extract_facts("29살이에요")[0].text == "사용자의 나이: 29살"
    assert extract_facts("My dog is called Biscuit")[0].text == "The user's dog is called Biscuit."
    assert extract_facts("I have a sister")[0].text == "The user has a sister."
    assert extract_facts("I'm an engineer")[0].text == "The user is an engineer."


def test_language_picks_the_rule_set() -> None:
    mixed = "I love coffee. 오이를 싫어해요."
    assert pairs(extract_facts(mixed)) == [("likes", "coffee"), ("dislikes", "오이")]
    assert pairs(extract_facts(mixed, language="en")) == [("likes", "coffee")]
    assert pairs(extract_facts(mixed, language="ko-KR")) == [("dislikes", "오이")]


def test_a_very_long_message_is_read_in_whole_sentences() -> None:
    assert pairs(extract_facts("I love tea. " + "x" * 9000)) == [("likes", "tea")]
    assert extract_facts("I love tea, " * 700) == []  # never "I love t" from a cut word


def test_a_longer_message_and_repeats() -> None:
    text = (
        "Hello! My name is Ana. I'm 29 and I live in Leeds. I love coffee. "
        "Do you like coffee? I love coffee!! My friend Bob hates tea."
    )
    assert pairs(extract_facts(text)) == [
        ("name", "Ana"),
        ("age", "29"),
        ("lives_in", "Leeds"),
        ("likes", "coffee"),
    ]


# -- properties ---------------------------------------------------------------------------------

PHRASES = st.sampled_from(
    [
        "I'm ", "my name is ", "I love ", "I hate ", "I'm allergic to ", "my dog is called ",
        "I have two ", "I work as a ", "I live in ", "call me ", "저는 ", "제 이름은 ", "좋아해요",
        "에 살아요", "이라는 강아지를 키워요", "알레르기가 있어요", "살이에요", ", ", ". ", "? ",
        "\n", "*", '"', "ㅋㅋ", "이에요", "예요",
    ]
)  # fmt: skip


def check_facts(facts: list[Fact]) -> None:
    for fact in facts:
        assert fact.label in LABELS
        assert fact.value.strip() and len(fact.value) <= MAX_VALUE
        assert fact.text.strip() and "\n" not in fact.text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_extract_never_raises_on_arbitrary_text(text: str) -> None:
    check_facts(extract_facts(text))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(PHRASES, st.text(max_size=12)), max_size=12))
def test_extract_never_raises_on_near_statements(parts: list[str]) -> None:
    check_facts(extract_facts("".join(parts)))


@dataclass(frozen=True)
class Item:
    """A stored memory as far as the profile cares (MemoryItem has these attributes)."""

    id: int
    label: str
    text: str
    kind: str = "fact"
    created_at: float = 0.0


def stored(facts: list[Fact], start: int = 1) -> list[Item]:
    return [Item(start + i, f.label, f.text, created_at=start + i) for i, f in enumerate(facts)]


VALUES = st.text(
    st.characters(whitelist_categories=("L", "Nd"), whitelist_characters=" '-."), max_size=40
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(LABELS), VALUES, st.sampled_from(["en", "ko"]))
def test_the_value_is_recovered_from_the_stored_text(label: str, value: str, lang: str) -> None:
    try:
        fact = Fact.of(label, value, language=lang)
    except InvalidInput:
        return  # nothing left after cleaning
    assert fact_value(Item(1, label, fact.text)) == fact.value


@pytest.mark.parametrize(
    ("label", "value"),
    [
        ("family", "little sister Harriet"),
        ("family", "sister"),
        ("family", "two brothers"),
        ("pet", "guinea pig"),
        ("pet", "Biscuit"),
        ("partner", "Sarah"),
        ("age", "late twenties"),
        ("plan", "visit Seoul"),
        ("job", "an engineer"),
        ("age", "29 years old"),
    ],
)
def test_value_round_trip_for_special_shapes(label: str, value: str) -> None:
    for lang in ("en", "ko"):
        fact = Fact.of(label, value, language=lang)
        assert fact_value(Item(1, label, fact.text)) == fact.value
    assert Fact.of("job", "an engineer").value == "engineer"
    assert Fact.of("age", "29 years old").value == "29"


def test_an_edited_text_is_its_own_value() -> None:
    assert fact_value(Item(1, "name", "Goes by Annie these days.")) == "Goes by Annie these days"
    assert fact_value(Item(1, "likes", "Favourite: tea.")) == "tea"


# -- merging ------------------------------------------------------------------------------------


def test_single_valued_labels_replace_when_the_value_differs() -> None:
    old = stored([Fact.of("name", "Ana"), Fact.of("lives_in", "Leeds")])
    change = merge_facts(old, [Fact.of("name", "Annie"), Fact.of("lives_in", "leeds")])
    assert change.add == []
    assert change.replace == [(1, Fact.of("name", "Annie"))]
    assert change.unchanged == 1
    assert not change.empty


def test_single_valued_compares_with_the_newest_and_last_mention_wins() -> None:
    old = stored([Fact.of("name", "Ana"), Fact.of("name", "Annie")])
    assert merge_facts(old, [Fact.of("name", "Annie")]).unchanged == 1
    change = merge_facts(old, [Fact.of("name", "Ana")])
    assert change.replace == [(2, Fact.of("name", "Ana"))]
    change = merge_facts([], [Fact.of("job", "nurse"), Fact.of("job", "doctor")])
    assert change.add == [Fact.of("job", "doctor")]


def test_multi_valued_labels_add_and_dedupe() -> None:
    old = stored([Fact.of("likes", "coffee"), Fact.of("allergy", "peanuts")])
    new = [
        Fact.of("likes", "Coffee."),
        Fact.of("likes", "hiking"),
        Fact.of("likes", "HIKING"),
        Fact.of("allergy", "shellfish"),
        Fact.of("likes", "  coffee "),
    ]
    change = merge_facts(old, new)
    assert pairs(change.add) == [("likes", "hiking"), ("allergy", "shellfish")]
    assert change.replace == [] and change.unchanged == 3


def test_exact_duplicates_change_nothing() -> None:
    facts = extract_facts("My name is Ana. I love coffee. 커피를 좋아해요. I'm 29.")
    change = merge_facts(stored(facts), facts)
    assert change == ProfileChange([], [], len(facts))
    assert change.empty
    # the last of two names in one message is the one that counts
    names = extract_facts("My name is Ana. 제 이름은 아나예요.")
    assert merge_facts(stored(names[1:]), names) == ProfileChange([], [], 1)


def test_a_new_like_removes_the_old_dislike() -> None:
    old = stored([Fact.of("dislikes", "coffee"), Fact.of("dislikes", "tea")])
    change = merge_facts(old, [Fact.of("likes", "Coffee")])
    assert pairs(change.add) == [("likes", "Coffee")]
    assert change.remove == [1]


def test_merge_ignores_other_kinds_and_labels() -> None:
    old = [Item(1, "name", "The user's name is Ana.", kind="note"), Item(2, "mood", "happy")]
    assert merge_facts(old, [Fact.of("name", "Ana")]).add == [Fact.of("name", "Ana")]


# -- the prompt block ---------------------------------------------------------------------------


def profile_items() -> list[Item]:
    facts = [
        Fact.of("likes", "coffee"),  # oldest
        Fact.of("name", "Ana"),
        Fact.of("allergy", "peanuts"),
        Fact.of("lives_in", "Leeds"),
        Fact.of("likes", "hiking"),  # newest
    ]
    return stored(facts)


def test_block_order_single_then_multi_newest_first() -> None:
    block = profile_block(profile_items(), language="en")
    assert block.splitlines() == [
        HEADINGS["en"],
        "- The user's name is Ana.",
        "- The user lives in Leeds.",
        "- The user is allergic to peanuts.",
        "- The user likes hiking.",
        "- The user likes coffee.",
    ]
    assert profile_block(profile_items(), language="ko").startswith(HEADINGS["ko"] + "\n- ")
    assert profile_block([], language="en") == ""


def test_block_shows_only_the_newest_single_valued_fact() -> None:
    items = stored([Fact.of("name", "Ana"), Fact.of("name", "Annie"), Fact.of("likes", "tea")])
    items.append(Item(9, "likes", "The user likes tea.", created_at=0))
    items.append(Item(10, "name", "x", kind="episode"))
    assert profile_block(items, language="en").splitlines()[1:] == [
        "- The user's name is Annie.",
        "- The user likes tea.",
    ]


def test_block_is_cut_to_the_budget_at_whole_lines() -> None:
    backend = ScriptedBackend()
    items = profile_items()
    full = profile_block(items, language="en")
    size = backend.count_tokens(full)
    assert (
        profile_block(items, language="en", limit_tokens=size, count_tokens=backend.count_tokens)
        == full
    )
    cut = profile_block(
        items, language="en", limit_tokens=size - 1, count_tokens=backend.count_tokens
    )
    assert cut.splitlines() == full.splitlines()[:-1]
    assert backend.count_tokens(cut) <= size - 1
    heading_and_one = backend.count_tokens("\n".join(full.splitlines()[:2]))
    assert profile_block(items, language="en", limit_tokens=heading_and_one - 1) == ""
    # The heading says whose facts these are (issue 14): ~20 tokens of the budget.
    default = profile_block(items, language="en", limit_tokens=45)
    assert 1 < len(default.splitlines()) < len(full.splitlines())
    assert profile_block(items, language="en", limit_tokens=0) == ""


# -- drafts and the store -----------------------------------------------------------------------


def test_drafts_carry_kind_label_importance_and_scope() -> None:
    facts = extract_facts("My name is Ana. I love coffee. I'm allergic to peanuts. I'm a nurse.")
    drafts = profile_drafts(facts, user_id="ana", character_id=None)
    assert [(d.kind, d.label, d.importance) for d in drafts] == [
        ("fact", "name", 9.0),
        ("fact", "likes", 5.0),
        ("fact", "allergy", 9.0),
        ("fact", "job", 7.0),
    ]
    assert all(d.user_id == "ana" and d.character_id is None and d.source == "chat" for d in drafts)
    scoped = profile_drafts(facts[:1], user_id="ana", character_id="mina", chat_id=3, source="llm")
    assert (scoped[0].character_id, scoped[0].chat_id, scoped[0].source) == ("mina", 3, "llm")
    assert set(IMPORTANCE) == set(LABELS)


def test_stored_facts_merge_and_show(tmp_path: Path) -> None:
    db = Database(tmp_path / "p.db")
    CharacterRepository(db).add(make_character("Mina"), character_id="mina")
    bank = MemoryBank(db, embedder=None)
    first = extract_facts("제 이름은 아나예요. 커피를 좋아해요. I live in Leeds.")
    bank.remember(profile_drafts(first, user_id="ana", character_id=None))
    items = bank.items(user_id="ana", character_id="mina", kinds=["fact"])
    assert [fact_value(i) for i in items] == ["아나", "커피", "Leeds"]
    change = merge_facts(items, extract_facts("I live in Bath. 커피를 좋아해! 고양이를 좋아해요."))
    assert pairs(change.add) == [("likes", "고양이")]
    assert [(i, f.value) for i, f in change.replace] == [(items[2].id, "Bath")]
    assert change.unchanged == 1
    for memory_id, fact in change.replace:
        bank.edit(memory_id, fact.text)
    bank.remember(profile_drafts(change.add, user_id="ana", character_id="mina"))
    block = profile_block(bank.items(user_id="ana", character_id="mina"), language="ko")
    assert block.splitlines() == [
        HEADINGS["ko"],
        "- 사용자의 이름: 아나",
        "- The user lives in Bath.",
        "- 사용자가 좋아하는 것: 고양이",
        "- 사용자가 좋아하는 것: 커피",
    ]
    assert profile_block(bank.items(user_id="bob", character_id="mina"), language="en") == ""


# -- model-based extraction ---------------------------------------------------------------------

MESSAGE = "I'm Ana, I work as a nurse and my sister Harriet lives in Bath. I love spicy noodles."


def test_llm_extraction_parses_good_output() -> None:
    backend = ScriptedBackend().enqueue(
        "name: Ana\n- job: nurse\n* likes: spicy noodles.\n3. family: sister Harriet"
    )
    facts = extract_facts_llm(backend, MESSAGE, language="en")
    assert pairs(facts) == [
        ("name", "Ana"),
        ("job", "nurse"),
        ("likes", "spicy noodles"),
        ("family", "sister Harriet"),
    ]
    [(messages, params)] = backend.calls
    assert [m.role for m in messages] == ["system", "user"]
    assert "lives_in" in messages[0].content and MESSAGE in messages[1].content
    assert params.temperature == 0.0


def test_llm_extraction_in_korean() -> None:
    backend = ScriptedBackend().enqueue("이름: 아나\nname: 아나\nlikes: 커피")
    facts = extract_facts_llm(backend, "제 이름은 아나예요. 커피 좋아해요", language="ko")
    assert [f.text for f in facts] == ["사용자의 이름: 아나", "사용자가 좋아하는 것: 커피"]
    assert "사용자" in backend.calls[0][0][0].content


@pytest.mark.parametrize(
    "reply",
    [
        "none",
        "None.",
        "",
        "Sure! Here are the facts I found.",
        "I could not find anything.",
        "favourite_colour: blue\nmood: happy\ncolor: red",  # unknown labels
        "name: " + "A" * 61,  # too long
        "name:\nlikes:   \njob: unknown",  # empty values
        "name: Jo\ndislikes: mushrooms",  # the prompt's example, not in the message
        "likes: skydiving in Peru",  # invented
        "{'name': 'Ana'}",
        "\x00\x01 name ::: :::",
    ],
)
def test_llm_extraction_drops_junk(reply: str) -> None:
    backend = ScriptedBackend().enqueue(reply)
    assert extract_facts_llm(backend, MESSAGE, language="en") == []


def test_llm_extraction_keeps_known_labels_among_junk() -> None:
    reply = "mood: great\nLives in: Bath\nhobbies: knitting\n**allergy**: none\nfear:spiders"
    facts = parse_fact_lines(reply, language="en", source="I live in Bath and knit. Spiders!")
    assert pairs(facts) == [("lives_in", "Bath"), ("hobby", "knitting"), ("fear", "spiders")]
    assert parse_fact_lines("name: Ana\nname: ana", language="en") == [Fact.of("name", "Ana")]


def test_llm_extraction_edge_inputs() -> None:
    backend = ScriptedBackend()
    assert extract_facts_llm(backend, "   ", language="en") == [] and backend.calls == []
    backend.enqueue("name: Ana")
    params = GenerationParams(max_tokens=8, temperature=0.5)
    assert pairs(extract_facts_llm(backend, "I'm Ana", language="en", params=params)) == [
        ("name", "Ana")
    ]
    assert backend.calls[0][1] is params
    backend.enqueue(BackendError("the model is not loaded"))
    with pytest.raises(BackendError):
        extract_facts_llm(backend, "I'm Ana", language="en")


# -- bad inputs ---------------------------------------------------------------------------------


def test_bad_inputs_are_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="unknown fact label 'colour'"):
        Fact("colour", "blue", "The user's colour is blue.")
    with pytest.raises(InvalidInput, match="unknown fact label"):
        Fact.of("colour", "blue")
    with pytest.raises(InvalidInput, match="value"):
        Fact("name", "  ", "The user's name is .")
    with pytest.raises(InvalidInput, match="at most 60"):
        Fact("likes", "x" * 61, "The user likes x.")
    with pytest.raises(InvalidInput, match="unknown language 'fr'"):
        extract_facts("Je m'appelle Ana", language="fr")
    with pytest.raises(InvalidInput, match="unknown language"):
        Fact.of("name", "Ana", language="de")
    with pytest.raises(InvalidInput, match="unknown language"):
        extract_facts_llm(ScriptedBackend(), "I'm Ana", language="")
    with pytest.raises(InvalidInput, match="unknown language"):
        profile_block([], language="jp")
    with pytest.raises(InvalidInput, match="string"):
        extract_facts(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="user"):
        profile_drafts([Fact.of("name", "Ana")], user_id="", character_id=None)
    with pytest.raises(InvalidInput, match="character"):
        profile_drafts([Fact.of("name", "Ana")], user_id="ana", character_id=None, chat_id=1)


def test_vocabulary_is_fixed() -> None:
    assert set(SINGLE_VALUED) == {
        "name", "age", "birthday", "hometown", "lives_in", "job", "workplace", "partner", "school"
    }  # fmt: skip
    assert len(LABELS) == len(set(LABELS)) == 18
    assert Fact.of("name", "Ana").single_valued and not Fact.of("likes", "tea").single_valued
