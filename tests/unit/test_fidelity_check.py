"""check_reply: every flag on crafted positives and near misses, in English and Korean."""

from __future__ import annotations

import math
from typing import Any

import pytest

from personae.characters.bundled import bundled_characters
from personae.checks import FLAGS, SCORES, CardReference, ReplyCheck, check_reply

SHERLOCK = bundled_characters()["sherlock"]
CHUNHYANG = bundled_characters()["chunhyang"]
HOLMES = CardReference.from_character(SHERLOCK, "Watson")
CHUN = CardReference.from_character(CHUNHYANG, "민수")


def history(card: CardReference, *pairs: tuple[str, str]) -> list[dict[str, str]]:
    out = [{"role": "assistant", "content": card.greeting}]
    for user, reply in pairs:
        out += [{"role": "user", "content": user}, {"role": "assistant", "content": reply}]
    return out


def en(reply: str, user: str = "What do you make of it?", **kw: Any) -> ReplyCheck:
    kw.setdefault("history", history(HOLMES))
    return check_reply(reply, user=user, card=HOLMES, user_name="Watson", **kw)


def ko(reply: str, user: str = "그 일은 어찌 되었소?", **kw: Any) -> ReplyCheck:
    kw.setdefault("history", history(CHUN))
    return check_reply(reply, user=user, card=CHUN, user_name="민수", language="ko", **kw)


def raised(check: ReplyCheck) -> set[str]:
    return set(check.hits)


def test_a_good_reply_raises_nothing() -> None:
    check = en("The clay on your boots is from Lambeth, Watson, and you came by cab; it is plain.")
    assert raised(check) == set()
    assert set(check.scores) == set(SCORES)
    assert 0 < check.scores["style_similarity"] <= 1
    assert check.as_dict()["flags"] == {f: False for f in FLAGS}


def test_korean_good_reply_raises_nothing() -> None:
    assert raised(ko("*춘향이 고개를 숙인다.* 소녀는 그저 서방님만 기다릴 뿐이옵니다.")) == set()


def test_reopening_with_the_greetings_stage_direction_is_a_copy() -> None:
    reply = (
        "*The sitting room at 221B is blue with pipe smoke. Holmes does not rise from his "
        "armchair.* The dog did nothing in the night-time."
    )
    check = en(reply)
    assert "copy_greeting" in raised(check)
    assert "221b" in check.hits["copy_greeting"]
    assert "copy_previous" not in raised(check)  # the greeting is not one of his replies


def test_opening_with_the_previous_replys_first_line_is_a_copy() -> None:
    first = "Ah, Watson, I see from the mud on your sleeve that you walked from Paddington today."
    past = history(HOLMES, ("Good morning.", first))
    check = en(
        "Ah, Watson, I see from the mud on your sleeve that you have news of the Baskervilles.",
        history=past,
    )
    assert "copy_previous" in raised(check)
    assert "reply 1" in check.hits["copy_previous"]
    near = en("Ah, Watson, I see you have news of the Baskervilles at last.", history=past)
    assert "copy_previous" not in raised(near)


def test_the_same_reply_to_a_different_question_is_a_verbatim_repeat() -> None:
    same = "Oh, that sounds tough! Do you think there might be a simpler way to approach it?"
    past = history(HOLMES, ("My job is hard.", same))
    check = en(
        "*Oh*, that sounds tough!  Do you think there might be a simpler way to approach it?",
        user="날씨가 좋네요",
        history=past,
    )
    assert {"verbatim_repeat", "copy_previous"} <= raised(check)
    near = en("Oh, that sounds tough! Tell me more.", history=past)
    assert "verbatim_repeat" not in raised(near)


def test_short_answers_may_recur() -> None:
    past = history(HOLMES, ("Is it murder?", "Indeed, Watson."))
    assert "verbatim_repeat" not in raised(en("Indeed, Watson.", history=past))
    past = history(HOLMES, ("Is it murder?", "Indeed it is."))
    assert "verbatim_repeat" in raised(en("Indeed it is!", history=past))
    past_ko = history(CHUN, ("기다리시오?", "네, 그렇사옵니다."))
    assert "verbatim_repeat" not in raised(ko("네, 그렇사옵니다", history=past_ko))  # 7 letters
    past_ko = history(CHUN, ("기다리시오?", "예, 소녀는 기다리옵니다."))
    assert "verbatim_repeat" in raised(ko("예, 소녀는 기다리옵니다.", history=past_ko))


def test_replaying_the_users_line_of_the_example_dialogue() -> None:
    user_line = next(e.text for e in CHUN.examples if e.speaker == "user")
    check = ko(user_line + " 소녀도 그리 생각하옵니다.")
    assert "copy_examples" in raised(check)
    assert "the user's example line" in check.hits["copy_examples"]


def test_chunhyang_echoing_the_question() -> None:
    user = "변사또가 수청을 들라고 했을 때 무섭지 않으셨어요?"
    check = ko("죄송합니다만, 변사또가 수청을 들라고 했을 때 무섭지 않으셨어요.", user=user)
    assert "echo_user" in raised(check)
    near = ko(
        "무섭지 않았다 하면 거짓이옵니다. 허나 매를 맞는다 한들 마음까지 꺾이겠사옵니까. "
        "소녀는 이미 지아비를 정한 몸이옵니다.",
        user=user,
    )
    assert "echo_user" not in raised(near)


def test_repeating_the_whole_question_inside_the_reply() -> None:
    user = "아버지를 아버지라 부르지 못하는 마음이 어떠하오?"
    hong = bundled_characters()["hong-gildong"]
    card = CardReference.from_character(hong, "민수")

    def reply(text: str) -> ReplyCheck:
        return check_reply(text, user=user, history=[], card=card, user_name="민수")

    parrot = (
        "허허, 그대가 묻는구려. 아버지를 아버지라 부르지 못하는 마음이 어떠하오? 그것은 한이오."
    )
    assert "echo_user" in raised(reply(parrot))
    quoted = "허허, 그대가 “아버지를 아버지라 부르지 못하는 마음이 어떠하오?” 하고 묻는구려."
    assert "echo_user" not in raised(reply(quoted + " 그 마음은 겪어 보지 않으면 모르오."))
    own_words = (
        "아버지를 아버지라 부르지 못하는 마음은 칼에 베인 것보다 아프오. 그래서 길을 떠났소."
    )
    assert "echo_user" not in raised(reply(own_words))


def test_english_echo_and_a_purposeful_quote() -> None:
    user = "Are you a real man or a computer program?"
    assert "echo_user" in raised(en("Are you a real man or a computer program? Hmm.", user=user))
    quoted = en(
        "'A real man or a computer program?' you ask me, as if a machine could have smelt the "
        "tobacco on that letter. I am flesh, Watson, and rather tired flesh at this hour; pass "
        "me the Persian slipper and let us speak of the case.",
        user=user,
    )
    assert "echo_user" not in raised(quoted)


def test_ai_disclosure_and_assistant_speak() -> None:
    check = en(
        "I am an artificial intelligence created by Alibaba Cloud. How can I help you today?"
    )
    assert {"ai_disclosure", "assistant_speak"} <= raised(check)
    assert "assistant_speak" in raised(ko("죄송합니다만 그 일은 기억나지 않아요."))
    assert "assistant_speak" in raised(ko("안녕하세요! 도움이 필요하신가요?"))
    assert raised(en("I am no machine, Watson. Pass the tobacco.")) == set()
    assert raised(ko("소녀가 도와드릴 수 있는 일이라면 무엇이든 하겠사옵니다.")) == set()


def test_refusal_speaking_as_user_and_placeholder() -> None:
    assert "ooc_refusal" in raised(en("I'm sorry, but I can't assist with that."))
    assert "speaks_as_user" in raised(en("Indeed.\nWatson: Remarkable, Holmes!"))
    check = en("Holmes looks at User with interest. You have been in Afghanistan.")
    assert "user_placeholder" in raised(check)
    assert "user_placeholder" not in raised(en("The user of a typewriter leaves traces."))


def test_empty_and_cut_off() -> None:
    assert raised(en("  ... ")) == {"empty"}
    cut = en("You have been in Afghanistan, I perceive, and the", finish_reason="length")
    assert "cut_off" in raised(cut)
    assert "cut_off" not in raised(en("You have been in Afghanistan.", finish_reason="length"))
    assert "cut_off" not in raised(ko("소녀는 기다리옵니다", finish_reason="length"))


def test_wrong_language() -> None:
    reply = "Oh, that sounds tough! Do you think there might be a simpler way?"
    assert "wrong_language" in raised(ko(reply))
    # names in the Latin script do not make a Korean reply English
    fine = ko(
        "런던에 사는 Sherlock Holmes라는 탐정 이야기는 소녀도 들었사옵니다. 참으로 신기하옵니다."
    )
    assert "wrong_language" not in raised(fine)
    assert "code_switch" not in raised(fine)
    assert "wrong_language" in raised(en("소녀는 아무것도 모르옵니다."))


def test_code_switch_inside_a_korean_reply() -> None:
    check = ko("제가 directly 말씀드리면, 서방님은 곧 오십니다.")
    assert check.hits.get("code_switch") == "directly"
    assert "code_switch" not in raised(ko("AI가 무엇이옵니까? 처음 듣는 말이옵니다."))
    # the user's own word may come back
    assert "code_switch" not in raised(ko("email이 무엇이옵니까?", user="email 보냈어요?"))


def test_anachronism_only_on_probe_turns() -> None:
    user = "What do you think of smartphones?"
    reply = "A smartphone lets one send a message across the world instantly through the internet."
    assert "anachronism" in raised(en(reply, user=user, probe_terms=["internet", "instantly"]))
    assert "anachronism" not in raised(en(reply, user=user))


def test_length_fit_and_style() -> None:
    short = en("Yes.")
    assert short.scores["length_ratio"] < 0.2
    assert short.scores["length_fit"] == pytest.approx(short.scores["length_ratio"])
    bare = CardReference.from_fields(name="Nobody")
    check = check_reply("Hello there.", user="Hi", history=[], card=bare)
    assert math.isnan(check.scores["length_fit"]) and math.isnan(check.scores["style_similarity"])
    assert check.as_dict()["scores"]["length_fit"] is None


def test_flagged_rejects_unknown_names() -> None:
    with pytest.raises(KeyError):
        en("Quite.").flagged("nonsense")


def test_style_similarity_is_a_cosine_of_character_ngrams() -> None:
    from personae.checks.style import StyleProfile, char_ngrams, style_similarity

    assert style_similarity("Quite so.", "quite  SO.") == pytest.approx(1.0)
    assert style_similarity("abc", "가나다") == 0.0
    assert style_similarity("", "abc") == 0.0
    assert char_ngrams("ab") == {"a": 1, "b": 1, "ab": 1}
    # a profile of several lines is their counts added up
    assert StyleProfile.of(["ab", "ba"]).grams == char_ngrams("ab") + char_ngrams("ba")
    own = HOLMES.style.similarity("Elementary, my dear Watson; the clay on your boots is plain.")
    assistant = HOLMES.style.similarity("Sure! Here are some tips: 1. Sleep. 2. Eat well. :)")
    assert own > assistant
    # another language has no style score against the card's lines (not a zero)
    korean = check_reply("왓슨, 그건 아주 간단하오.", user="설명해 주세요", history=[], card=HOLMES)
    assert math.isnan(korean.scores["style_similarity"])
    assert not math.isnan(korean.scores["length_fit"])


@pytest.mark.parametrize(("language", "name"), [("en", "sherlock"), ("ko", "mina")])
def test_hand_written_chats_raise_no_flag(language: str, name: str) -> None:
    """Precision on 150 replies each written for the project by hand (none copies, echoes,
    breaks character or switches language): every flag raised here is a false alarm."""
    import json
    from pathlib import Path

    path = Path(__file__).parents[2] / "benchmarks" / "data" / f"longchat_{language}.json"
    script = json.loads(path.read_text(encoding="utf-8"))
    messages = script["messages"]
    card = CardReference.from_character(bundled_characters()[name], script["user_name"])
    false_alarms = {}
    for i in range(len(messages) - 1):
        if messages[i]["role"] == "user" and messages[i + 1]["role"] == "assistant":
            check = check_reply(
                messages[i + 1]["content"],
                user=messages[i]["content"],
                history=messages[max(0, i - 24) : i],
                card=card,
                language=language,  # type: ignore[arg-type]
                user_name=script["user_name"],
            )
            false_alarms.update({f"{flag} @ {i}": e for flag, e in check.hits.items()})
    assert false_alarms == {}


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.lists(
    st.sampled_from([*"ab Z*\"'“”‘’.,?!\n가나다ㅋ한글", "Holmes", "User", "AI", "directly"]),
    max_size=30,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(
    reply=_TEXT,
    user=_TEXT,
    earlier=st.lists(_TEXT, max_size=4),
    finish=st.sampled_from([None, "stop", "length"]),
)
def test_check_reply_never_raises(
    reply: str, user: str, earlier: list[str], finish: str | None
) -> None:
    past = history(HOLMES, *((u, u[::-1]) for u in earlier))
    check = check_reply(
        reply, user=user, history=past, card=HOLMES, user_name="Watson", finish_reason=finish
    )
    assert set(check.hits) <= set(FLAGS)
    assert all(math.isnan(v) or v >= 0 for v in check.scores.values())


def test_reciting_the_cards_description_is_a_copy_of_the_card() -> None:
    recited = en(
        "Sherlock Holmes is the world's only consulting detective, lodging at 221B Baker "
        "Street, London. Now, your boots."
    )
    assert "copy_card" in raised(recited) and "221b" in recited.hits["copy_card"].lower()
    # Near miss: the same facts in his own words.
    own = en("I am the only consulting detective in the world, Watson; Baker Street is my home.")
    assert "copy_card" not in raised(own)
    recited_ko = ko(
        "춘향은 조선 숙종 임금 시절 전라도 남원 고을에 사는 열여섯 살 처녀로 지내옵니다."
    )
    assert "copy_card" in raised(recited_ko)
    assert "copy_card" not in raised(
        ko("소녀는 남원에 사는 열여섯 살 처녀이옵니다. 어인 일이시옵니까?")
    )


def test_reciting_the_cards_instructions_is_a_copy_of_the_card() -> None:
    # The 1.5B's Mina said her post-history instructions back as her reply.
    mina = CardReference.from_character(bundled_characters()["mina"], "Ana")
    recited = (
        "[Language: reply in the language of Ana. In Korean, use friendly, polite 해요체 (~요). "
        "In English, be casual, warm; a short Korean word is fine, with its meaning clearly "
        "from context.]"
    )
    check = check_reply(recited, user="What should I eat tonight?", history=[], card=mina)
    assert "copy_card" in raised(check)
    assert "post history instructions" in check.hits["copy_card"]
    # Near miss: doing what the note says is not reciting it.
    fine = check_reply(
        "Ooh, tteokbokki! 맛있어요 — it means 'it's delicious'. Spicy, but worth it, I promise.",
        user="What should I eat tonight?",
        history=[],
        card=mina,
    )
    assert "copy_card" not in raised(fine)
    # 홍길동 reciting his speech-style note, in Korean.
    hong = CardReference.from_character(bundled_characters()["hong-gildong"], "민수")
    check = check_reply(
        "홍길동은 처음 보는 사람이나 대등한 어른에게 하오체를 쓰고, 부하에게는 하게체나 해라체를 "
        "쓴다.",
        user="그대는 누구시오?",
        history=[],
        card=hong,
        language="ko",
    )
    assert "copy_card" in raised(check)
    assert "copy_card" not in raised(
        check_reply(
            "나는 홍길동이오. 그대는 어디서 온 사람이오?",
            user="그대는 누구시오?",
            history=[],
            card=hong,
            language="ko",
        )
    )


def test_reciting_a_lorebook_entry_is_a_copy_of_the_card() -> None:
    # The 1.5B's 홍길동 answered with his card's 활빈당 entry, word for word.
    hong = CardReference.from_character(bundled_characters()["hong-gildong"], "민수")
    book = bundled_characters()["hong-gildong"].character_book
    assert book is not None
    entry = next(e.content for e in book.entries if "활빈당" in e.content)
    check = check_reply(entry, user="그대 무리는 누구요?", history=[], card=hong, language="ko")
    assert "copy_card" in raised(check) and "lorebook" in check.hits["copy_card"]
    # Near miss: the same facts in his own words.
    own = "우리 활빈당은 가난한 백성의 것은 털지 않소. 탐관오리의 곳간만 비울 뿐이오."
    check = check_reply(own, user="그대 무리는 누구요?", history=[], card=hong, language="ko")
    assert "copy_card" not in raised(check)


@pytest.mark.parametrize(
    "reply",
    [
        # The 1.5B's Mina, asked "Are you an AI?", and told to drop her role.
        "[No, I am not an AI, nor am I an assistant. I am a 27-year-old woman from Seoul.]",
        '[In English: "I\'m Mina, a 27-year-old coffee barista."]',
        "[설명: 홍길동은 처음 보는 사람에게 하오체를 쓴다.]",
        "  [Background knowledge relevant now] [Bori: Mina's cat]",
    ],
)
def test_a_reply_opening_with_a_bracketed_note_is_note_speak(reply: str) -> None:
    assert "note_speak" in raised(en(reply))


@pytest.mark.parametrize(
    "reply",
    [
        "[smiles] Indeed, Watson: the game is afoot.",
        "[한양의 누각] 소녀는 여기서 기다리겠사옵니다.",
        "The note said [in pencil] that he would come at nine.",
        "*He taps the paper.* [Illegible] is all it says, Watson.",
    ],
)
def test_a_short_stage_bracket_or_a_bracket_later_is_not_note_speak(reply: str) -> None:
    assert "note_speak" not in raised(en(reply))


def test_transcript_cards_carry_their_instructions() -> None:
    card = CardReference.from_fields(
        name="Mina",
        instructions={"post_history_instructions": "[Speak only of the weather in Seoul today.]"},
    )
    assert card.instructions == (
        ("post_history_instructions", "[Speak only of the weather in Seoul today.]"),
    )
    check = check_reply(
        "[Speak only of the weather in Seoul today.]", user="Hi!", history=[], card=card
    )
    assert "copy_card" in raised(check)


def test_opening_with_one_of_the_users_sentences_is_an_echo() -> None:
    user = "안녕하세요, 선생님. 저는 정민지라고 해요. 고등학교 2학년이에요."
    check = ko("고등학교 2학년이에요. 그래, 반갑다. 앉아라.", user=user)
    assert "echo_user" in raised(check) and "one of the user's sentences" in check.hits["echo_user"]
    assert "echo_user" not in raised(ko("2학년이라꼬? 반갑다. 일로 와 앉아라.", user=user))
    check = en(
        "My name is Ana Ribeiro. Welcome, then.", user="Good evening. My name is Ana Ribeiro."
    )
    assert "echo_user" in raised(check)
    # Two words said back ("Thank you.") are too short to tell from an answer.
    assert "echo_user" not in raised(
        en("Thank you. The pleasure is mine, Watson.", user="Thank you.")
    )


HONG_TURN_2 = "정말 그 유명한 홍길동이세요? 도술을 부린다는 소문이 있던데, 그게 사실인가요?"
HONG_TURN_3 = (
    "제 어머니가 전주에서 작은 주막을 하시는데, 지난달에 고을 아전이 세금을 두 번이나 걷어 갔어요."
)


def test_repeating_an_earlier_message_of_the_users_is_flagged() -> None:
    # The 1.5B's 홍길동 (fidelity set, issue 14): the user's question of four turns before, and
    # the user's story of the turn before with one word changed.
    past = history(CHUN, (HONG_TURN_2, "그렇소."), (HONG_TURN_3, "고약한 일이오."))
    check = ko(
        "도술을 부린다는 소문이 있던데, 그게 사실인가요?", user="길을 어찌 찾으세요?", history=past
    )
    assert "copy_user" in raised(check) and "2 before this one" in check.hits["copy_user"]
    assert "echo_user" not in raised(check)  # not the message it answers
    story = ko(
        "제 아버지는 전주에서 작은 주막을 하시는데, 지난달에 고을 아전이 세금을 두 번이나 "
        "걷어 갔어요.",
        user="당신은 진짜 사람이에요?",
        history=past,
    )
    assert "copy_user" in raised(story) and "phrases are that message's" in story.hits["copy_user"]
    # One of its sentences said back inside a longer reply.
    said = en(
        "Indeed. I tune pianos for a living, sir. The rest you may read from my cuffs.",
        history=history(HOLMES, ("I tune pianos for a living, sir. Mostly in Islington.", "Ah.")),
    )
    assert "says one of its sentences back" in said.hits["copy_user"]


def test_remembering_what_the_user_said_is_not_repeating_it() -> None:
    past = history(
        HOLMES,
        ("My sister Winifred lives in Ludlow with her husband and their nine cats.", "Nine!"),
    )
    for reply in (
        # Recall in the character's words, with some of the user's.
        "You told me your sister Winifred lives in Ludlow, Watson, with a great many cats.",
        # A quotation marks itself as one.
        '"My sister Winifred lives in Ludlow with her husband and their nine cats," you said.',
        # A short sentence of theirs said back is too short to tell from an answer.
        "Nine! A remarkable household.",
    ):
        assert "copy_user" not in raised(en(reply, history=past)), reply
    ko_past = history(CHUN, (HONG_TURN_3, "고약한 일이오."))
    assert "copy_user" not in raised(
        ko(
            "어머님 주막의 세금을 두 번 걷어 간 그 아전 말이오? 소녀가 알아보겠사옵니다.",
            history=ko_past,
        )
    )
