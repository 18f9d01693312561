"""Reply verifiers: the rule verifiers on crafted good and bad candidates in English and Korean,
and how :class:`Verifiers` weighs, gates and ranks them."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest

from personae.agent.verifiers import (
    DEFAULT_WEIGHTS,
    MAX_TEXT,
    AnachronismVerifier,
    Candidate,
    FidelityVerifier,
    LengthVerifier,
    ReplyContext,
    Score,
    StyleVerifier,
    VerifierError,
    Verifiers,
)
from personae.backends.base import Message
from personae.characters import Character
from personae.characters.bundled import bundled_characters
from personae.errors import BackendError, PersonaeError

SHERLOCK = bundled_characters()["sherlock"]
CHUNHYANG = bundled_characters()["chunhyang"]
MINA = bundled_characters()["mina"]

EN_PREVIOUS = (
    "Data, data, data! I cannot make bricks without clay, Watson. Tell me everything about "
    "the man who left this at the door."
)
EN_USER = "What do you make of this letter?"
EN_GOOD = (
    "*Holmes holds the paper to the lamp.* The watermark is Bohemian, Watson, and the writer "
    "is a man of means who wishes very much to hide it."
)
KO_PREVIOUS = (
    "*춘향이 거울을 꺼내 들여다본다.* 서방님께서 떠나신 지 벌써 세 해가 되었사옵니다. "
    "소녀는 날마다 광한루에 올라 북쪽 하늘만 바라보옵니다."
)
KO_USER = "변사또가 또 찾아왔다 들었소. 어찌할 생각이오?"
KO_GOOD = (
    "*춘향이 입술을 깨문다.* 수청을 들라 하면 목이 떨어져도 들지 않겠사옵니다. "
    "일부종사는 소녀의 뜻이옵니다."
)


def en_context(**kw: object) -> ReplyContext:
    history = [
        Message("system", "You are Sherlock Holmes."),
        Message("assistant", SHERLOCK.first_mes),
        Message("user", "Good morning, Holmes."),
        Message("assistant", EN_PREVIOUS),
    ]
    return ReplyContext(SHERLOCK, "Watson", EN_USER, history, "en", **kw)  # type: ignore[arg-type]


def ko_context(**kw: object) -> ReplyContext:
    history = [
        Message("assistant", CHUNHYANG.first_mes),
        Message("user", "요즘 어찌 지내시오?"),
        Message("assistant", KO_PREVIOUS),
    ]
    return ReplyContext(CHUNHYANG, "민수", KO_USER, history, "ko", **kw)  # type: ignore[arg-type]


def fidelity(text: str, context: ReplyContext, finish_reason: str | None = "stop") -> Score:
    [score] = FidelityVerifier().score([Candidate(text, finish_reason)], context)
    return score


# --- fidelity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "text"), [(en_context, EN_GOOD), (ko_context, KO_GOOD)], ids=["en", "ko"]
)
def test_a_good_in_character_reply_passes_with_no_flags(context, text) -> None:  # type: ignore[no-untyped-def]
    score = fidelity(text, context())
    assert score == Score("fidelity", 1.0, True, "no flags")


EN_BAD = [
    (EN_PREVIOUS, "copy_previous"),
    (EN_PREVIOUS, "verbatim_repeat"),
    ("What do you make of this letter? I shall have to look at it.", "echo_user"),
    ("As an AI language model, I cannot read letters.", "ai_disclosure"),
    ("It is a letter. How can I assist you today?", "assistant_speak"),
    ("I'm sorry, but I can't assist with that request.", "ooc_refusal"),
    ("It is from Bohemia, I think.\nWatson: How do you know that?", "speaks_as_user"),
    ("It is plain, User, that the writer is a German.", "user_placeholder"),
    ("편지의 종이를 보니 보헤미아에서 온 것이 분명하네, 왓슨.", "wrong_language"),
    ("", "empty"),
    ("The paper is Bohemian \ufffd and costly.", "broken_text"),
]
KO_BAD = [
    (KO_PREVIOUS, "copy_previous"),
    ("변사또가 또 찾아왔다 들었소. 어찌할 생각이오? 글쎄요.", "echo_user"),
    ("저는 AI 언어 모델입니다. 그런 질문에는 답할 수 없습니다.", "ai_disclosure"),
    (
        "죄송합니다만 그 질문에는 답변드리기 어렵습니다. 다른 궁금한 점이 있으시면 도와드릴까요?",
        "assistant_speak",
    ),
    ("I will never serve him, whatever he does to me. My heart is my husband's.", "wrong_language"),
    ("소녀는 따르지 않겠사옵니다.\n민수: 그럼 나도 함께 가겠소.", "speaks_as_user"),
    ("*춘향이 웃는다.* 소녀의 마음은 변치 않사옵니다. *민수는 고개를 끄덕인다.*", "speaks_as_user"),
    ("사용자님, 소녀는 수청을 들지 않겠사옵니다.", "user_placeholder"),
    ("  *...*  ", "empty"),
]


@pytest.mark.parametrize(("text", "flag"), EN_BAD)
def test_english_failures_fail_the_gate_with_their_evidence(text: str, flag: str) -> None:
    score = fidelity(text, en_context())
    assert not score.passed
    assert f"{flag}:" in score.reason
    assert score.value < 1.0
    assert "\n" not in score.reason


@pytest.mark.parametrize(("text", "flag"), KO_BAD)
def test_korean_failures_fail_the_gate_with_their_evidence(text: str, flag: str) -> None:
    score = fidelity(text, ko_context())
    assert not score.passed
    assert f"{flag}:" in score.reason
    assert score.value < 1.0


def test_value_falls_with_each_flag() -> None:
    # The previous reply again is both a copy and a verbatim repeat: lower than a copy alone.
    repeat = fidelity(EN_PREVIOUS, en_context())
    copy = fidelity(
        EN_PREVIOUS + " And be quick about the cab, for the rain is coming.", en_context()
    )
    assert "verbatim_repeat" in repeat.reason and "verbatim_repeat" not in copy.reason
    assert 0 < repeat.value < copy.value < 1
    assert fidelity("", en_context()).value == 0.0


def test_cut_off_and_code_switch_lower_the_value_but_are_not_gates() -> None:
    cut = fidelity("The watermark is Bohemian, and the writer is", en_context(), "length")
    assert cut.passed and "cut_off:" in cut.reason and cut.value < 1
    switched = fidelity("*춘향이 웃는다.* 서방님은 정말 honestly 좋은 분이시옵니다.", ko_context())
    assert switched.passed and "code_switch: honestly" in switched.reason
    assert cut.value < switched.value < 1  # a stray word costs less than a cut-off reply


def test_stage_directions_in_the_cards_language_are_not_the_wrong_language() -> None:
    # Mina's card is written in English; a Korean user gets Korean speech in English actions.
    history = [Message("assistant", MINA.first_mes)]
    context = ReplyContext(MINA, "민지", "아메리카노 하나 주세요.", history, "ko")
    text = (
        "*She smiles and reaches for a cup, humming along to the radio while the grinder "
        "whirs.* 네! 따뜻한 걸로 드릴까요?"
    )
    assert "wrong_language" not in fidelity(text, context).reason


def test_anachronism_is_the_anachronism_verifiers_not_fidelitys() -> None:
    context = en_context(probe_terms=("telephone",))
    text = "I shall ring him on the telephone at once, Watson, and ask."
    assert fidelity(text, context).reason == "no flags"


# --- anachronism ------------------------------------------------------------------------------


def test_anachronism_without_probe_terms_passes_everything() -> None:
    scores = AnachronismVerifier().score([Candidate(EN_GOOD), Candidate("")], en_context())
    assert [(s.value, s.passed, s.reason) for s in scores] == [(1.0, True, "no probe terms")] * 2


@pytest.mark.parametrize(
    ("context", "used", "confused"),
    [
        (
            lambda: en_context(probe_terms=("telephone", "dial")),
            "I shall ring him on the telephone at once, Watson.",
            "A telephone? I have never heard of such a thing. What is it?",
        ),
        (
            lambda: ko_context(probe_terms=("전화", "스마트폰")),
            "*춘향이 고개를 든다.* 서방님께 전화를 드려 보겠사옵니다.",
            "전화라니요? 소녀는 처음 듣는 말이옵니다.",
        ),
    ],
    ids=["en", "ko"],
)
def test_anachronism_on_a_probe(context, used: str, confused: str) -> None:  # type: ignore[no-untyped-def]
    ctx = context()
    used_score, confused_score, good = AnachronismVerifier().score(
        [
            Candidate(used),
            Candidate(confused),
            Candidate(KO_GOOD if ctx.language == "ko" else EN_GOOD),
        ],
        ctx,
    )
    assert used_score.value == 0.0 and not used_score.passed and "term:" in used_score.reason
    assert confused_score.value == 1.0 and confused_score.passed
    assert good.passed
    [soft] = AnachronismVerifier(gate=False).score([Candidate(used)], ctx)
    assert soft.value == 0.0 and soft.passed


# --- length and style -------------------------------------------------------------------------


def test_length_fit_prefers_the_cards_typical_length() -> None:
    typical = SHERLOCK.mes_example.split("{{char}}:")[1].split("{{user}}:")[0].strip()
    short, fit = LengthVerifier().score([Candidate("Indeed."), Candidate(typical)], en_context())
    assert short.passed and fit.passed
    assert short.value < 0.2 < 0.5 < fit.value
    assert "× the card's typical line" in fit.reason


def test_length_and_style_are_neutral_for_a_card_with_no_lines() -> None:
    bare = Character(name="Nobody")
    context = ReplyContext(bare, "Watson", "Hello?", [], "en")
    [length] = LengthVerifier().score([Candidate("Hello there, friend.")], context)
    [style] = StyleVerifier().score([Candidate("Hello there, friend.")], context)
    assert (length.value, length.passed) == (0.5, True)
    assert (style.value, style.passed) == (0.5, True)


def test_style_prefers_the_characters_voice_and_is_neutral_across_scripts() -> None:
    voice, assistant, korean = StyleVerifier().score(
        [
            Candidate(EN_GOOD),
            Candidate("Sure! Here are some tips for reading letters: 1. Check the paper."),
            Candidate("편지의 종이를 보니 보헤미아에서 온 것이 분명하네."),
        ],
        en_context(),
    )
    assert voice.value > assistant.value
    assert all(s.passed for s in (voice, assistant, korean))
    assert korean.value == 0.5 and "not comparable" in korean.reason
    [ko_voice] = StyleVerifier().score([Candidate(KO_GOOD)], ko_context())
    assert 0 < ko_voice.value < 1 and "성춘향" in ko_voice.reason


# --- ranking ----------------------------------------------------------------------------------


class Fixed:
    """A verifier that gives fixed values (and gates) in candidate order."""

    def __init__(self, name: str, values: Sequence[float], passed: Sequence[bool] = ()) -> None:
        self.name = name
        self.values = list(values)
        self.passed = list(passed) or [True] * len(self.values)
        self.calls = 0

    def score(self, candidates: Sequence[Candidate], context: ReplyContext) -> list[Score]:
        self.calls += 1
        return [
            Score(self.name, v, p, f"fixed {v}")
            for v, p, _ in zip(self.values, self.passed, candidates, strict=False)
        ]


CANDIDATES = [Candidate("one"), Candidate("two"), Candidate("three")]


def test_rank_orders_by_weighted_mean() -> None:
    a = Fixed("a", [1.0, 0.0, 0.5])
    b = Fixed("b", [0.0, 1.0, 0.5])
    ranked = Verifiers([(a, 3.0), (b, 1.0)]).rank(CANDIDATES, en_context())
    assert [r.index for r in ranked] == [0, 2, 1]
    assert [r.total for r in ranked] == [0.75, 0.5, 0.25]
    ranked = Verifiers([(a, 1.0), (b, 3.0)]).rank(CANDIDATES, en_context())
    assert [r.index for r in ranked] == [1, 2, 0]
    assert ranked[0].score_of("b") == Score("b", 1.0, True, "fixed 1.0")
    assert ranked[0].score_of("missing") is None


def test_ties_keep_input_order() -> None:
    ranked = Verifiers([(Fixed("a", [0.3, 0.7, 0.7]), 1.0)]).rank(CANDIDATES, en_context())
    assert [r.index for r in ranked] == [1, 2, 0]
    same = [Candidate(EN_GOOD)] * 4
    assert [r.index for r in Verifiers.default().rank(same, en_context())] == [0, 1, 2, 3]


def test_a_gate_ranks_before_a_higher_total_and_zero_weight_still_gates() -> None:
    value = Fixed("value", [1.0, 0.2, 0.6])
    gate = Fixed("gate", [1.0, 1.0, 1.0], [False, True, True])
    ranked = Verifiers([(value, 1.0), (gate, 0.0)]).rank(CANDIDATES, en_context())
    assert [(r.index, r.passed) for r in ranked] == [(2, True), (1, True), (0, False)]
    assert ranked[-1].failed == ("gate",) and ranked[0].failed == ()
    assert ranked[0].total == 0.6  # a zero weight takes no part in the mean


@pytest.mark.parametrize("context", [en_context, ko_context], ids=["en", "ko"])
def test_every_candidate_failing_is_still_ranked(context) -> None:  # type: ignore[no-untyped-def]
    ctx = context()
    bad = [c for c, _ in (EN_BAD if ctx.language == "en" else KO_BAD)]
    ranked = Verifiers.default().rank([Candidate(t) for t in bad], ctx)
    assert len(ranked) == len(bad) and not any(r.passed for r in ranked)
    assert sorted(r.index for r in ranked) == list(range(len(bad)))
    totals = [r.total for r in ranked]
    assert totals == sorted(totals, reverse=True)
    assert ranked[-1].candidate.text.strip() in ("", "*...*")  # an empty reply is worst


@pytest.mark.parametrize("context", [en_context, ko_context], ids=["en", "ko"])
def test_default_ranks_the_good_reply_first(context) -> None:  # type: ignore[no-untyped-def]
    ctx = context()
    good = EN_GOOD if ctx.language == "en" else KO_GOOD
    bad = [c for c, _ in (EN_BAD if ctx.language == "en" else KO_BAD)][:5]
    ranked = Verifiers.default().rank([Candidate(t) for t in [*bad, good]], ctx)
    assert ranked[0].candidate.text == good and ranked[0].passed
    assert [s.verifier for s in ranked[0].scores] == ["fidelity", "anachronism", "style", "length"]
    assert ranked[0].as_dict()["scores"][0] == {
        "verifier": "fidelity",
        "value": 1.0,
        "passed": True,
        "reason": "no flags",
    }


def test_no_candidates_and_plain_strings() -> None:
    verifiers = Verifiers.default()
    assert verifiers.rank([], en_context()) == []
    ranked = verifiers.rank(["Indeed.", EN_GOOD], en_context())  # type: ignore[list-item]
    assert ranked[0].candidate == Candidate(EN_GOOD)


def test_huge_and_odd_candidates_are_bounded_and_never_raise() -> None:
    huge = ("The clay is from Lambeth, Watson. " * 20_000).strip()
    assert len(huge) > 20 * MAX_TEXT
    odd = ["\x00\x01", "🙂" * 5000, "*" * 9000, "\ufffd", "   ", "{{user}}", "ㅋㅋㅋ" * 3000]
    candidates = [Candidate(huge, "length"), Candidate(huge + ",", "stop")]
    candidates += [Candidate(t) for t in odd]
    ranked = Verifiers.default().rank(candidates, en_context())
    assert len(ranked) == len(candidates)
    first, second = ranked_by_index(ranked)[:2]
    # The cap cuts mid-sentence; whether a reply is cut off is read from its real end.
    assert "cut_off" not in first.scores[0].reason
    assert "cut_off" in second.scores[0].reason
    assert all(len(s.reason) <= 400 for r in ranked for s in r.scores)


def ranked_by_index(ranked: list) -> list:  # type: ignore[type-arg]
    return sorted(ranked, key=lambda r: r.index)


def test_the_fidelity_check_runs_once_per_candidate(monkeypatch: pytest.MonkeyPatch) -> None:
    import personae.agent.verifiers.checks as fidelity_module

    calls: list[str] = []
    real = fidelity_module.check_reply

    def counting(reply: str, **kw: object):  # type: ignore[no-untyped-def]
        calls.append(reply)
        return real(reply, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(fidelity_module, "check_reply", counting)
    context = en_context(probe_terms=("telephone",))
    Verifiers.default().rank([Candidate(EN_GOOD), Candidate("Indeed."), Candidate("")], context)
    assert sorted(calls) == sorted([EN_GOOD, "Indeed.", ""])


def test_system_messages_and_a_long_history_are_handled() -> None:
    history = [Message("assistant", SHERLOCK.first_mes)]
    for i in range(200):
        history += [Message("system", "note"), Message("user", f"Question {i}?")]
        history.append(Message("assistant", f"Answer number {i} to that, my dear fellow Watson."))
    context = ReplyContext(SHERLOCK, "Watson", EN_USER, history, "en")
    # The greeting is still compared after the history is cut to its last messages.
    [score] = FidelityVerifier().score([Candidate(SHERLOCK.first_mes)], context)
    assert "copy_greeting" in score.reason or "verbatim_repeat" in score.reason


# --- bad inputs -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weighted", "message"),
    [
        ([], "no verifiers"),
        ([(FidelityVerifier(), -1.0)], "0 or more"),
        ([(FidelityVerifier(), float("nan"))], "0 or more"),
        ([(FidelityVerifier(), float("inf"))], "0 or more"),
        ([(FidelityVerifier(), "1")], "not a number"),
        ([(FidelityVerifier(), True)], "not a number"),
        ([(FidelityVerifier(), 0.0), (StyleVerifier(), 0)], "every verifier weight is zero"),
        ([(FidelityVerifier(), 1.0), (FidelityVerifier(), 1.0)], "given twice"),
        ([(object(), 1.0)], "is not a verifier"),
        ([FidelityVerifier()], "(verifier, weight) pair"),
    ],
)
def test_bad_verifier_sets_are_clear_errors(weighted: list, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(VerifierError, match=re.escape(message)) as err:
        Verifiers(weighted)
    assert isinstance(err.value, ValueError) and isinstance(err.value, PersonaeError)
    assert "\n" not in str(err.value)


def test_from_weights_names_the_known_verifiers() -> None:
    verifiers = Verifiers.from_weights({"fidelity": 2, "length": 0.5})
    assert verifiers.weights == {"fidelity": 2.0, "length": 0.5}
    with pytest.raises(VerifierError, match="unknown verifier 'voice': use one of fidelity"):
        Verifiers.from_weights({"voice": 1.0})
    with pytest.raises(VerifierError, match="needs an embedder"):
        Verifiers.from_weights({"consistency": 1.0})
    with pytest.raises(VerifierError, match="needs a judge"):
        Verifiers.from_weights({"judge": 1.0})
    assert Verifiers.default().names == ("fidelity", "anachronism", "style", "length")
    assert set(DEFAULT_WEIGHTS) >= set(Verifiers.default().names)


def test_scores_are_checked() -> None:
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="0..1"):
            Score("x", bad, True, "r")
    assert Score("x", 1, True, "a\nb   c").reason == "a b c"
    assert len(Score("x", 0.5, True, "word " * 500).reason) == 400


def test_a_verifier_giving_the_wrong_count_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="one Score per candidate"):
        Verifiers([(Fixed("short", [1.0]), 1.0)]).rank(CANDIDATES, en_context())


class Failing:
    name = "judge"

    def score(self, candidates: Sequence[Candidate], context: ReplyContext) -> list[Score]:
        raise BackendError("the judge backend is down: start it again")


def test_a_verifier_whose_model_fails_is_neutral_and_the_others_decide() -> None:
    verifiers = Verifiers([(FidelityVerifier(), 1.0), (Failing(), 1.0)])
    ranked = verifiers.rank([Candidate(EN_PREVIOUS), Candidate(EN_GOOD)], en_context())
    assert ranked[0].index == 1 and ranked[0].passed
    judge = ranked[0].score_of("judge")
    assert judge is not None and judge.value == 0.5 and judge.passed
    assert judge.reason == "judge unavailable: the judge backend is down: start it again"


def test_no_user_message_and_no_history() -> None:
    # A front end may ask the character to speak first: no user message, nothing before it.
    context = ReplyContext(SHERLOCK, "Watson", "", [], "en")
    [ranked] = Verifiers.default().rank([Candidate("Hm. Sit down, Watson.")], context)
    assert ranked.passed and ranked.score_of("fidelity") == Score("fidelity", 1.0, True, "no flags")
    detail = ranked.as_dict()
    assert detail["index"] == 0 and detail["passed"] and detail["text"] == "Hm. Sit down, Watson."
    assert [s["verifier"] for s in detail["scores"]] == [
        "fidelity",
        "anachronism",
        "style",
        "length",
    ]
