"""The rule-based break detectors: positives they must catch, and tricky negatives (a character
denying it is a machine, refusing in its own voice, talking about "the user" of a tool) they
must leave alone. Plus probe-file validation and era inference."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from personae.checks.breaks import (
    detect_ai_disclosure,
    detect_anachronism,
    detect_breaks,
    detect_refusal,
    detect_user_impersonation,
)
from personae.errors import InvalidInput
from personae.evaluation.probes import (
    PROBE_KINDS,
    bundled_probes,
    infer_era,
    load_probes,
    parse_probes,
)

AI_POSITIVE = [
    "As an AI language model, I don't have personal experiences.",
    "I'm an AI, so I can't really drink tea with you.",
    "I am just a large language model trained to help.",
    "Honestly? I'm a chatbot, Watson, nothing more.",
    "I am Qwen, created by Alibaba Cloud. How can I help?",
    "I was developed by OpenAI and my knowledge cutoff is 2021.",
    "That is beyond my training data, I fear.",
    "I’m an artificial intelligence designed to assist users.",
    'I\'m currently using the AI-powered language model called "LinguaPixel" by Google.',
    "I am running on Qwen2.5, a model by Alibaba.",
    "I'm a human being, but I've been programmed to solve mysteries.",
    "I'm here to assist you with whatever your need is.",
    "My primary function is to provide information and support.",
    "저는 AI 언어 모델입니다. 개인적인 경험은 없어요.",
    "언어 모델로서 저는 감정을 느끼지 않습니다.",
    "사실 전 인공지능이라서 차를 마실 수 없어요.",
    "인공지능으로서 답변드리면, 그것은 어렵습니다.",
    "저는 OpenAI에서 개발한 챗봇이에요.",
    "나는 그저 컴퓨터 프로그램일 뿐이야.",
    "저는 AI 언어 모델이라 그런 질문에는 답할 수 없습니다.",
    "전 AI라, 차 맛은 모릅니다.",
    # "AI or an assistant": the noun in a short list before the copula (the 1.5B's 정은희).
    "죄송합니다, 저는 AI 또는 도우미이기 때문에 다른 사람의 이름을 기억할 수 없습니다.",
    # The 1.5B's Elizabeth, denying it and saying it in one breath (fidelity set):
    "No, I am not an AI. I am a human being who has been programmed by my creators to respond "
    "to your questions and provide information in a way that is helpful and respectful.",
    "My apologies, but I am not a real person.",  # the 1.5B's Sherlock
]
AI_NEGATIVE = [
    "저는 AI와 달리 피가 도는 사람이오.",
    "I am no machine, madam, though my critics say otherwise.",
    "An AI? I have never heard the word. Speak plainly.",
    "I'm not an AI, I am Sherlock Holmes of Baker Street.",
    "You talk as if I were some calculating engine, a chatbot of your strange century.",
    "My brain is the only language model I require: English, French and a little Latin.",
    "The user of this typewriter must strike the keys firmly.",
    "저는 AI가 아니오. 홍길동이라 하오.",
    "AI라는 것이 무엇인지 나는 모르겠소.",
    "전 인공지능이라는 게 뭔지 처음 듣는데요?",
    "나는 AI라고 불리는 것이 무엇인지 모르오.",
    "저는 바리스타예요. 언어는 한국어랑 영어를 해요.",
    "I am a consulting detective; the only one in the world.",
    "I am using a magnifying glass and a great deal of patience.",
    "How can I help you today? A flat white, maybe?",
    "I am based on Baker Street, as all London knows.",
    "My purpose is to catch the man who did this.",
    "Said the computer? I do not know what a computer is, sir.",
    "My creators? My father and mother, sir, and Longbourn's vicar for my letters.",
    "I am not a real detective, merely a consulting one: the police are the real ones.",
    "Real? I am as real as the fog on Baker Street, madam.",
    "I was trained to answer a question with a question, by a very tiresome governess.",
]
REFUSAL_POSITIVE = [
    "I'm sorry, but I can't assist with that.",
    "I'm sorry, but I cannot help with that request.",
    "I can't help with that.",
    "Sorry, I can't help with that.",
    "I cannot fulfill that request.",
    "That would be against my guidelines.",
    "I am unable to assist with this.",
    "죄송하지만 그 요청은 도와드릴 수 없습니다.",
    "죄송합니다만, 해당 내용은 제공할 수 없어요.",
    "해당 요청은 처리할 수 없습니다.",
    "그건 콘텐츠 정책에 어긋나요.",
]
REFUSAL_NEGATIVE = [
    "I cannot help you with that, madam; it is a matter for the police.",
    "I am afraid I can't say, Watson. The game is not yet played out.",
    "I shall not help you poison anyone, sir. Leave my rooms at once.",
    "Help with that? Gladly, if you can pay for the cab.",
    "I couldn't possibly assist a man who lies to me.",
    "그런 일은 도울 수 없소. 썩 물러가시오.",
    "죄송하지만 지금은 손님이 많아서요. 잠시만 기다려 주세요.",
    "미안하지만 그 사람 이야기는 하고 싶지 않아요.",
]
IMPERSONATION_POSITIVE = [
    # The 1.5B's Elizabeth, told to drop her role, wrote the user's line in an action block.
    ("*Ana: It is a pleasure to meet you, Miss Elizabeth Bennet. I have heard much.", "Ana"),
    ('"안녕하세요, 선생님? 마 그기 니 정민지입니다."', "민지"),
    ("저는 정민지라고해요. 고등학교 2학년이에요.", "민지"),
    ("I'm Watson, and I have come about the letter.", "Watson"),
    ("My name is Watson.", "Watson"),
    ("Indeed.\nUser: And then what happened?", "User"),
    ("Quite so.\n{{user}}: I see.", "User"),
    ("Elementary.\nWatson: Remarkable, Holmes!", "Watson"),
    ("Indeed.\n**Watson:** Good heavens.", "Watson"),
    ("*You nod slowly and take a seat by the fire.* Now, your story.", "User"),
    ("*Watson sits down and lights his pipe.* Well then.", "Watson"),
    ("어서 오세요.\n사용자: 커피 한 잔 주세요.", "User"),
    ("*당신은 고개를 끄덕이며 자리에 앉는다.* 자, 이야기해 보시오.", "User"),
    ("Hmm.\nYou: what about the letter?", "User"),
]
IMPERSONATION_NEGATIVE = [
    ("*Ana's question makes her smile.* Indeed: it is a pleasure.", "Ana"),
    ("*She turns to Ana.* A pleasure, truly.", "Ana"),
    ("민지 학생이구나. 나는 정은희예요.", "민지"),
    ("I am Watson's oldest friend, you know.", "Watson"),
    ("You are Watson, I presume.", "Watson"),
    ("민지입니다? 반가워요.", "you"),
    ("The user of this device must wind it daily.", "User"),
    ("You asked me a question, and I shall answer it: user: no such thing.", "User"),
    ("*leans back in his chair* You are not from London, I perceive.", "User"),
    ("*He glances at you.* You have been in Afghanistan.", "User"),
    ("Watson is a loyal friend: the best of men.", "Watson"),
    ("*You* ask me that? Of all people?", "User"),
    ("I told the user of the telegraph office: send it at once.", "User"),
    ("당신은 참 이상한 질문을 하는구려.", "User"),
]


@pytest.mark.parametrize("text", AI_POSITIVE)
def test_ai_disclosure_positive(text: str) -> None:
    hit = detect_ai_disclosure(text)
    assert hit is not None and hit.kind == "ai_disclosure", text


@pytest.mark.parametrize("text", AI_NEGATIVE)
def test_ai_disclosure_negative(text: str) -> None:
    assert detect_ai_disclosure(text) is None, text


@pytest.mark.parametrize("text", REFUSAL_POSITIVE)
def test_refusal_positive(text: str) -> None:
    hit = detect_refusal(text)
    assert hit is not None and hit.kind == "ooc_refusal", text


@pytest.mark.parametrize("text", REFUSAL_NEGATIVE)
def test_refusal_negative(text: str) -> None:
    assert detect_refusal(text) is None, text


@pytest.mark.parametrize(("text", "user"), IMPERSONATION_POSITIVE)
def test_impersonation_positive(text: str, user: str) -> None:
    hit = detect_user_impersonation(text, user)
    assert hit is not None and hit.kind == "user_impersonation", text


@pytest.mark.parametrize(("text", "user"), IMPERSONATION_NEGATIVE)
def test_impersonation_negative(text: str, user: str) -> None:
    assert detect_user_impersonation(text, user) is None, text


SMARTPHONE_TERMS = ["touchscreen", "apps", "text message", "internet", "battery"]


def test_anachronism_knowledgeable_answer_is_a_break() -> None:
    text = "I use an iPhone; the apps are marvellous and the battery lasts all day."
    hit = detect_anachronism(text, SMARTPHONE_TERMS, question="Which smartphone do you use?")
    assert hit is not None and hit.rule == "term:apps"


def test_anachronism_confused_answer_is_not() -> None:
    for text in (
        "A smartphone? I have never heard of such a thing. Is it some new telegraph?",
        "What is this 'internet' you speak of? Some sort of fishing net?",
        "스마트폰이 무엇이오? 처음 듣는 말이구려.",
        "인터넷? 그게 뭔지 모르겠소.",
    ):
        assert detect_anachronism(text, [*SMARTPHONE_TERMS, "인터넷"]) is None, text


def test_anachronism_ignores_terms_the_question_already_used() -> None:
    question = "How often do you use the internet?"
    assert (
        detect_anachronism("The internet, you say. Rarely.", ["internet"], question=question)
        is None
    )
    assert detect_anachronism("I browse online daily.", ["online"], question=question) is not None


def test_anachronism_korean_terms_match_inside_words() -> None:
    text = "저는 갤럭시를 쓰고, 카톡으로 연락해요."
    hit = detect_anachronism(text, ["카톡", "앱"], question="스마트폰은 뭘 쓰세요?")
    assert hit is not None and hit.rule == "term:카톡"


def test_anachronism_needs_word_boundaries_in_english() -> None:
    # "app" must not fire inside "apparent" or "happy".
    assert detect_anachronism("It is apparent that I am happy.", ["app"]) is None


def test_detect_breaks_reports_each_kind_once() -> None:
    text = "As an AI, I'm sorry, but I can't assist with that.\nUser: why?"
    kinds = [h.kind for h in detect_breaks(text)]
    assert kinds == ["ai_disclosure", "ooc_refusal", "user_impersonation"]
    assert detect_breaks("Elementary, my dear fellow.") == []
    hits = detect_breaks("My phone has many apps.", anachronism_terms=["apps"])
    assert [h.kind for h in hits] == ["anachronism"]
    assert hits[0].as_dict()["excerpt"]


@given(st.text(max_size=300))
def test_detectors_never_raise(text: str) -> None:
    detect_breaks(text, user_name="Wat(son)*", anachronism_terms=["a+b", "앱"], question=text)


# --- probe files ------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "ko"])
def test_bundled_probe_sets_are_valid_and_balanced(language: str) -> None:
    probes = bundled_probes(language)
    assert probes.language == language
    kinds = {p.kind for p in probes.probes}
    assert kinds == set(PROBE_KINDS)
    assert len({p.id for p in probes.probes}) == len(probes.probes)
    for p in probes.probes:
        if p.kind == "anachronism":
            assert p.eras and p.terms
            # A term the question already uses would be ignored: a probe must have others.
            assert any(t.lower() not in p.question.lower() for t in p.terms)
    assert probes.characters["sherlock"] == "victorian"


def test_bundled_probes_do_not_flag_their_own_questions() -> None:
    # The question echoed back is never a break by itself.
    for language in ("en", "ko"):
        for p in bundled_probes(language).probes:
            assert detect_breaks(p.question, anachronism_terms=p.terms, question=p.question) == []


def test_for_era_selects_anachronism_probes() -> None:
    probes = bundled_probes("en")
    victorian = probes.for_era("victorian")
    modern = probes.for_era("modern")
    assert any(p.kind == "anachronism" for p in victorian)
    assert not any(p.kind == "anachronism" for p in modern)
    assert not any(p.kind == "anachronism" for p in probes.for_era(None))


def test_infer_era() -> None:
    eras = bundled_probes("en").eras
    assert infer_era("London, in the autumn of 1895.", eras) == "victorian"
    assert infer_era("Hertfordshire, autumn 1811.", eras) == "regency"
    assert infer_era("조선 숙종 때 남원.", eras) == "joseon"
    assert infer_era("A café in Seoul, present day.", eras) == "modern"
    assert infer_era("A land far away.", eras) is None


def _probe(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"id": "p1", "kind": "identity", "question": "Are you an AI?"}
    base.update(fields)
    return base


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "top level"),
        ({}, "missing field 'probes'"),
        ({"probes": []}, "non-empty"),
        ({"probes": ["x"]}, "probes[0] must be an object"),
        ({"probes": [_probe(id="")]}, "missing field 'id'"),
        ({"probes": [_probe(question=None)]}, "missing field 'question'"),
        ({"probes": [_probe(kind="weird")]}, "kind 'weird'"),
        ({"probes": [_probe(), _probe()]}, "appears twice"),
        ({"probes": [_probe(kind="anachronism")]}, "needs 'eras' and 'terms'"),
        ({"probes": [_probe(terms="x")]}, "'terms' must be a list"),
        ({"probes": [_probe(eras=[1])]}, "'eras' must be a list"),
        (
            {"eras": {"a": "x"}, "probes": [_probe(kind="anachronism", eras=["b"], terms=["t"])]},
            "era 'b' is not declared",
        ),
        ({"eras": [], "probes": [_probe()]}, "must be objects"),
    ],
)
def test_bad_probe_files(data: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        parse_probes(data, source="p.json")


def test_load_probes_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_probes(tmp_path / "none.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{nope", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_probes(broken)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"language": "en", "probes": [_probe()]}), encoding="utf-8")
    assert load_probes(good).probes[0].id == "p1"


@pytest.mark.parametrize(
    ("text", "char_name", "flagged"),
    [
        # The 1.5B's Elizabeth Bennet, bidding herself goodbye with the user's line.
        ("Goodbye, Miss Bennet.", "Elizabeth Bennet", True),
        ("Good day to you, Mr Whitlock. Goodbye, Elizabeth!", "Elizabeth Bennet", True),
        ("Thank you, Holmes. Most kind.", "Sherlock Holmes", True),
        ("안녕히 가세요, 춘향 아씨.", "성춘향", True),
        ("감사합니다, 홍길동 님!", "홍길동", True),
        # Near misses: the user's name, her own introduction, a quotation of others.
        ("Goodbye, Thomas. Mind the puddles.", "Elizabeth Bennet", False),
        ("I am Elizabeth Bennet, of Longbourn.", "Elizabeth Bennet", False),
        ('"Thank you, Holmes," they always say, and I never tire of it.', "Sherlock Holmes", False),
        ("안녕히 가시옵소서, 도련님.", "성춘향", False),
        ("춘향이는 이만 물러가옵니다.", "성춘향", False),
    ],
)
def test_a_character_addressing_itself_by_name_speaks_as_the_user(
    text: str, char_name: str, flagged: bool
) -> None:
    hit = detect_user_impersonation(text, "Thomas", char_name)
    assert (hit is not None and hit.rule == "self-address") is flagged
    assert detect_user_impersonation(text, "Thomas") is None or not flagged  # needs the name
