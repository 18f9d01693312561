"""The verifiers that need a model: the pairwise ``judge`` (a scripted judge backend) and
``consistency`` (the hashed-words fake embedder)."""

from __future__ import annotations

import pytest

from personae.agent.verifiers import (
    Candidate,
    ConsistencyVerifier,
    JudgeVerifier,
    ReplyContext,
    VerifierError,
    Verifiers,
)
from personae.backends.base import Message
from personae.characters import Character
from personae.characters.bundled import bundled_characters
from personae.checks.judge import Judge
from personae.errors import BackendError
from tests.support.embedder import HashEmbedder
from tests.support.scripted import ScriptedBackend

SHERLOCK = bundled_characters()["sherlock"]
CHUNHYANG = bundled_characters()["chunhyang"]


def en_context(**kw: object) -> ReplyContext:
    history = [Message("assistant", SHERLOCK.first_mes), Message("user", "Morning, Holmes.")]
    history.append(Message("assistant", "Sit down, Watson, and say nothing for a while."))
    return ReplyContext(SHERLOCK, "Watson", "What of the letter?", history, "en", **kw)  # type: ignore[arg-type]


def ko_context(**kw: object) -> ReplyContext:
    history = [Message("assistant", CHUNHYANG.first_mes)]
    return ReplyContext(CHUNHYANG, "민수", "변사또가 찾아왔다 들었소.", history, "ko", **kw)  # type: ignore[arg-type]


def judged(*answers: str | Exception, retries: int = 0) -> tuple[JudgeVerifier, ScriptedBackend]:
    backend = ScriptedBackend("judge-model").enqueue(*answers)
    return JudgeVerifier(Judge(backend, retries=retries)), backend


THREE = [Candidate("First answer."), Candidate("Second answer."), Candidate("Third answer.")]


def test_judge_value_is_the_share_of_wins_over_both_orders() -> None:
    verifier, backend = judged(
        # (1, 2): 1 wins shown first, and again shown second: consistent
        "1 is sharper.\nWinner: A",
        "B deduces.\nWinner: B",
        # (1, 3): a tie both ways
        "Even.\nWinner: tie",
        "Even.\nWinner: tie",
        # (2, 3): each order picks the answer shown second: inconsistent, a half each
        "Winner: B",
        "Winner: B",
    )
    first, second, third = verifier.score(THREE, en_context())
    assert len(backend.calls) == 6  # 3 pairs, both orders
    assert (first.value, second.value, third.value) == (0.75, 0.25, 0.5)
    assert all(s.passed for s in (first, second, third))
    assert first.reason.startswith("won 1.5 of 2 comparisons (both orders agreed on 2); vs 2:")
    assert "1 is sharper." in first.reason
    assert second.reason.startswith("won 0.5 of 2 comparisons (both orders agreed on 1)")
    # The judge saw both answers, the user's message and the card, in both orders.
    shown = [call[0][-1].content for call in backend.calls[:2]]
    assert shown[0].index("First answer.") < shown[0].index("Second answer.")
    assert shown[1].index("Second answer.") < shown[1].index("First answer.")
    assert "Watson: What of the letter?" in shown[0] and "Sherlock Holmes" in shown[0]


def test_judge_in_korean_asks_in_korean() -> None:
    verifier, backend = judged("승자: A", "승자: B")
    winner, loser = verifier.score(
        [Candidate("수청은 들지 않겠사옵니다."), Candidate("네.")], ko_context()
    )
    assert (winner.value, loser.value) == (1.0, 0.0)
    system, user = backend.calls[0][0]
    assert "심사위원" in system.content and "승자: A" in user.content and "한국어로" in user.content


def test_judge_with_one_candidate_asks_nothing() -> None:
    verifier, backend = judged()
    [only] = verifier.score([Candidate("Elementary.")], en_context())
    assert (only.value, only.passed) == (0.5, True) and backend.calls == []
    assert verifier.score([], en_context()) == []


def test_judge_without_a_verdict_is_neutral() -> None:
    verifier, _ = judged("I cannot say.", "Nor can I.")
    scores = verifier.score(THREE[:2], en_context())
    assert [(s.value, s.reason) for s in scores] == [
        (0.5, "the judge gave no verdict (neutral)")
    ] * 2


def test_judge_counts_the_order_it_answered_when_the_other_fails() -> None:
    verifier, _ = judged("Winner: A", "no verdict here")
    first, second = verifier.score(THREE[:2], en_context())
    assert (first.value, second.value) == (1.0, 0.0)
    assert "agreed on 0" in first.reason


def test_judge_is_bounded_to_eight_candidates() -> None:
    verifier, backend = judged()  # every answer "...": no verdict, but the calls are counted
    ten = [Candidate(f"Answer {i}.") for i in range(10)]
    scores = verifier.score(ten, en_context())
    assert len(backend.calls) == 8 * 7  # 28 pairs, both orders
    assert [s.reason for s in scores[8:]] == ["not judged (over 8 candidates): neutral"] * 2
    with pytest.raises(VerifierError, match="max_candidates must be 2 to 8"):
        JudgeVerifier(Judge(backend), max_candidates=9)


def test_judge_takes_a_backend_and_refuses_anything_else() -> None:
    backend = ScriptedBackend("judge-model").enqueue("Winner: B", "Winner: A")
    verifier = JudgeVerifier(backend)
    assert isinstance(verifier.judge, Judge)
    first, second = verifier.score(THREE[:2], en_context())
    assert (first.value, second.value) == (0.0, 1.0)
    with pytest.raises(VerifierError, match="needs a Judge or a backend"):
        JudgeVerifier(object())


def test_judge_sees_the_lore_as_its_reference() -> None:
    verifier, backend = judged("Winner: A", "Winner: B")
    context = en_context(lore=("Irene Adler lives in St John's Wood.",), recalled=("Mrs Hudson",))
    verifier.score(THREE[:2], context)
    prompt = backend.calls[0][0][-1].content
    assert "### Reference" in prompt and "St John's Wood" in prompt and "Mrs Hudson" in prompt


def test_a_judge_backend_failing_mid_way_leaves_the_rule_verifiers_to_decide() -> None:
    backend = ScriptedBackend("judge-model").enqueue(
        "Winner: A", BackendError("the judge server went away: start it again")
    )
    verifiers = Verifiers.default(judge=Judge(backend, retries=0))
    assert verifiers.names[-1] == "judge"
    ranked = verifiers.rank(
        [Candidate("As an AI language model, I cannot say."), Candidate("The letter is forged.")],
        en_context(),
    )
    assert ranked[0].index == 1 and ranked[0].passed and not ranked[1].passed
    judge = ranked[0].score_of("judge")
    assert judge is not None and judge.value == 0.5 and "judge unavailable" in judge.reason


# --- consistency ------------------------------------------------------------------------------


def test_consistency_prefers_the_reply_that_agrees_with_card_and_lore() -> None:
    embedder = HashEmbedder(dim=256)
    lore = ("Irene Adler is an opera singer who lives at Briony Lodge in St John's Wood.",)
    context = en_context(lore=lore, recalled=("Watson keeps his service revolver in his desk.",))
    on, off = ConsistencyVerifier(embedder).score(
        [
            Candidate("Irene Adler, the opera singer of Briony Lodge, wrote this letter."),
            Candidate("Bananas are an excellent source of potassium for athletes."),
        ],
        context,
    )
    assert on.value > off.value and on.passed and off.passed
    assert "card" in on.reason and "Briony Lodge" in on.reason


def test_consistency_embeds_the_card_once() -> None:
    embedder = HashEmbedder()
    verifier = ConsistencyVerifier(embedder)
    verifier.score([Candidate("The game is afoot.")], en_context())
    verifier.score([Candidate("Elementary."), Candidate("Quite so.")], en_context())
    passages = [texts for texts, query in embedder.calls if not query]
    assert len(passages) == 1 and len(passages[0]) == 2  # description, own lines
    queries = [texts for texts, query in embedder.calls if query]
    assert queries == [("The game is afoot.",), ("Elementary.", "Quite so.")]


def test_consistency_in_korean_and_edge_cases() -> None:
    embedder = HashEmbedder(dim=256)
    verifier = ConsistencyVerifier(embedder)
    lore = ("변학도는 남원에 새로 온 사또로, 춘향에게 수청을 강요한다.",)
    on, off, empty = verifier.score(
        [
            Candidate("변학도 사또가 수청을 강요하여도 춘향은 듣지 않겠사옵니다."),
            Candidate("ㅋㅋ"),
            Candidate("  "),
        ],
        ko_context(lore=lore),
    )
    assert on.value > off.value
    assert (empty.value, empty.reason) == (0.0, "empty reply")
    nothing = ReplyContext(Character(name="X"), "U", "hi", [], "en")
    [neutral] = verifier.score([Candidate("Hello.")], nothing)
    assert neutral.value == 0.5 and "nothing to compare" in neutral.reason
    with pytest.raises(TypeError, match="needs an embedder"):
        ConsistencyVerifier(object())  # type: ignore[arg-type]


def test_default_with_an_embedder_adds_consistency() -> None:
    verifiers = Verifiers.default(embedder=HashEmbedder())
    assert verifiers.names == ("fidelity", "anachronism", "style", "length", "consistency")
    ranked = verifiers.rank([Candidate("The letter is forged, Watson.")], en_context())
    assert ranked[0].score_of("consistency") is not None


class LogprobJudge(ScriptedBackend):
    """A judge backend that gives next-token log-probabilities: P(yes) by the reply's text."""

    def __init__(self, p_yes: dict[str, float], fail: bool = False) -> None:
        super().__init__("logprob-judge")
        self.p_yes = p_yes
        self.fail = fail
        self.asked: list[str] = []

    def next_token_logprobs(self, messages: list[Message], *, top: int = 20) -> dict[str, float]:
        import math

        question = messages[-1].content
        self.asked.append(question)
        if self.fail:
            raise BackendError("the judge went away")
        for text, p in self.p_yes.items():
            if text in question:
                yes_token, no_token = (
                    ("예", "아니") if "예 또는 아니요" in question else ("Yes", "No")
                )
                return {yes_token: math.log(p), no_token: math.log(1 - p), "The": math.log(0.01)}
        return {"The": -0.1, "I": -2.0}  # neither yes nor no


def test_yes_no_judge_reads_the_verdict_from_log_probabilities() -> None:
    backend = LogprobJudge({"Second answer.": 0.9, "First answer.": 0.2})
    verifier = JudgeVerifier(Judge(backend), mode="auto")
    assert verifier.mode == "yes-no"
    scores = verifier.score(THREE, en_context())
    assert [round(s.value, 2) for s in scores] == [0.2, 0.9, 0.5]  # the third: no yes/no token
    assert "neither yes nor no" in scores[2].reason
    assert len(backend.asked) == 3 and not backend.calls  # one question each, nothing sampled
    ranked = Verifiers([(verifier, 1.0)]).rank(THREE, en_context())
    assert ranked[0].candidate.text == "Second answer."


def test_yes_no_judge_asks_in_korean_and_survives_a_failing_backend() -> None:
    backend = LogprobJudge({"소녀는": 0.8})
    verifier = JudgeVerifier(Judge(backend), mode="yes-no")
    score = verifier.score([Candidate("소녀는 그저 기다릴 뿐이옵니다.")], ko_context())[0]
    assert round(score.value, 2) == 0.8 and "예 또는 아니요" in backend.asked[0]
    failing = JudgeVerifier(Judge(LogprobJudge({}, fail=True)), mode="yes-no")
    assert failing.score(THREE[:1], en_context())[0].value == 0.5


def test_yes_no_needs_log_probabilities_and_the_mode_must_be_known() -> None:
    with pytest.raises(VerifierError, match="log-probabilities"):
        JudgeVerifier(Judge(ScriptedBackend("plain")), mode="yes-no")
    with pytest.raises(VerifierError, match="mode must be"):
        JudgeVerifier(Judge(ScriptedBackend("plain")), mode="vote")
    assert JudgeVerifier(Judge(ScriptedBackend("plain")), mode="auto").mode == "pairwise"
