"""ROUGE: identical to `rouge-score` on English (==, not approx), and useful on Korean."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer  # type: ignore[import-untyped]

from personae.errors import InvalidInput
from personae.metrics import (
    ROUGE_TYPES,
    TOKENIZER_NAMES,
    RougeScorer,
    Score,
    corpus_rouge,
    get_tokenizer,
    reduce_scores,
)

DIALOGSUM = Path("/work/shared/data/dialogsum/dialogsum.dev.jsonl")
TYPES = list(ROUGE_TYPES)

# Words chosen so the Porter stemmer has work to do (plurals, -ing, -ational, -ies, short words it
# must leave alone) next to digits, contractions, DialogSum's speaker tags and odd punctuation.
_WORD_LIST = (
    "the a an cat cats running runs ran generously agreed agreement caresses ponies ties sky "
    "skies dying lying relational conditional hopeful goodness 42 3.14 1,000 x1 don't it's I've "
    "hello, world! #Person1#: #Person2#: ' ve _under_score ALLCAPS MiXeD ssss eeee yyyy e-mail "
    '(parenthesis) [bracket] {brace} "quoted" -- ... ?! ; : / \\ @home $5 50% a&b <tag>'
)
WORDS = _WORD_LIST.split()


def rs_tuple(score: Any) -> tuple[float, float, float]:
    return (score.precision, score.recall, score.fmeasure)


def ours_tuple(score: Score) -> tuple[float, float, float]:
    return (score.precision, score.recall, score.fmeasure)


def assert_identical(ours: dict[str, Score], theirs: dict[str, Any], context: object) -> None:
    assert set(ours) == set(theirs)
    for rouge_type in ours:
        assert ours_tuple(ours[rouge_type]) == rs_tuple(theirs[rouge_type]), (rouge_type, context)


def random_text(rng: random.Random) -> str:
    parts: list[str] = []
    for _ in range(rng.randint(0, 45)):
        r = rng.random()
        if r < 0.55:
            parts.append(rng.choice(WORDS))
        elif r < 0.7:
            parts.append(parts[-1] if parts else "again")  # repeated tokens
        elif r < 0.85:
            alphabet = string.ascii_letters + string.digits
            parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9))))
        elif r < 0.93:
            parts.append("".join(rng.choice(string.printable) for _ in range(rng.randint(1, 5))))
        else:
            parts.append(rng.choice(["\n", "\n\n", " \n ", "\r\n"]))
    if not parts:
        return rng.choice(["", " ", "\n", "!!", "\n\n"])
    return rng.choice([" ", "  ", "\t", ""]).join(parts)


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "stemmed"])
def scorers(request: pytest.FixtureRequest) -> tuple[RougeScorer, rouge_scorer.RougeScorer]:
    stemmer = bool(request.param)
    return RougeScorer(TYPES, stemmer=stemmer), rouge_scorer.RougeScorer(TYPES, use_stemmer=stemmer)


# --- identical to rouge-score ------------------------------------------------------------------


def test_identical_on_random_pairs(scorers: tuple[RougeScorer, rouge_scorer.RougeScorer]) -> None:
    ours, theirs = scorers
    rng = random.Random(1234)
    for _ in range(2500):
        prediction, reference = random_text(rng), random_text(rng)
        # rouge-score's argument order is (target, prediction); ours is (prediction, reference).
        expected = theirs.score(reference, prediction)
        assert_identical(ours.score(prediction, reference), expected, (prediction, reference))


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(string.printable, max_size=8))).map(
        " ".join
    ),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(string.printable, max_size=8))).map(
        " ".join
    ),
    st.booleans(),
)
def test_identical_property(prediction: str, reference: str, stemmer: bool) -> None:
    ours = RougeScorer(TYPES, stemmer=stemmer)
    theirs = rouge_scorer.RougeScorer(TYPES, use_stemmer=stemmer)
    assert_identical(ours.score(prediction, reference), theirs.score(reference, prediction), None)


@pytest.mark.parametrize(
    ("prediction", "reference"),
    [
        ("", ""),
        ("", "the cat sat"),
        ("the cat sat", ""),
        ("!!! ???", "... ,,,"),
        ("\n\n", "a\n\nb"),
        ("the the the the", "the"),
        ("the", "the the the the"),
        ("a b a b a b", "b a b a b a"),
        ("one\ntwo three\nfour", "four\nthree two\none"),
        ("!!!\nthe cat\n???", "the cat\n..."),
        ("Running runs RAN", "run running ran"),
        ("1,000 people paid $5", "1 000 people paid 5 dollars"),
        ("#Person1#: Hi.\n#Person2#: Hello!", "#Person1# greets #Person2#."),
    ],
)
def test_identical_on_edge_cases(
    scorers: tuple[RougeScorer, rouge_scorer.RougeScorer], prediction: str, reference: str
) -> None:
    ours, theirs = scorers
    assert_identical(ours.score(prediction, reference), theirs.score(reference, prediction), None)


def test_multi_reference_max_matches_score_multi(
    scorers: tuple[RougeScorer, rouge_scorer.RougeScorer],
) -> None:
    ours, theirs = scorers
    rng = random.Random(99)
    for _ in range(500):
        prediction = random_text(rng)
        references = [random_text(rng) for _ in range(rng.randint(1, 4))]
        if rng.random() < 0.2:
            references.append(references[0])  # ties go to the first, as np.argmax does
        expected = theirs.score_multi(references, prediction)
        got = ours.score_multi(prediction, references, reduce="max")
        assert_identical(got, expected, (prediction, references))


def test_multi_reference_mean_is_the_mean_of_each() -> None:
    scorer = RougeScorer(TYPES)
    references = ["the cat sat on the mat", "a dog sat", "nothing in common"]
    each = [scorer.score("the cat sat", r) for r in references]
    mean = scorer.score_multi("the cat sat", references, reduce="mean")
    for rouge_type in TYPES:
        assert mean[rouge_type].fmeasure == sum(s[rouge_type].fmeasure for s in each) / 3
        assert mean[rouge_type].recall == sum(s[rouge_type].recall for s in each) / 3
    assert scorer.score_all("the cat sat", references) == each


# --- real pairs: DialogSum dev -----------------------------------------------------------------


def dialogsum_items() -> list[dict[str, str]]:
    if not DIALOGSUM.exists():
        pytest.skip(f"{DIALOGSUM} is not here (reference data beside the project)")
    with DIALOGSUM.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def lead3(dialogue: str) -> str:
    return "\n".join(dialogue.split("\n")[:3])


def test_identical_on_dialogsum(scorers: tuple[RougeScorer, rouge_scorer.RougeScorer]) -> None:
    ours, theirs = scorers
    items = dialogsum_items()
    assert len(items) == 500
    for item in items:
        prediction = lead3(item["dialogue"])
        expected = theirs.score(item["summary"], prediction)
        assert_identical(ours.score(prediction, item["summary"]), expected, item["fname"])


def test_identical_on_dialogsum_multi_reference(
    scorers: tuple[RougeScorer, rouge_scorer.RougeScorer],
) -> None:
    ours, theirs = scorers
    items = dialogsum_items()
    for index, item in enumerate(items[:250]):  # the whole dialogue as a reference is slow for them
        following = items[(index + 1) % len(items)]
        references = [item["summary"], item["dialogue"], following["summary"]]
        prediction = lead3(item["dialogue"])
        expected_each = [theirs.score(r, prediction) for r in references]
        for got, expected in zip(
            ours.score_all(prediction, references), expected_each, strict=True
        ):
            assert_identical(got, expected, item["fname"])
        got_max = ours.score_multi(prediction, references, reduce="max")
        assert_identical(got_max, theirs.score_multi(references, prediction), item["fname"])


# --- Korean and the other tokenizers -----------------------------------------------------------

KOREAN = "철수가 학교에 갔다.\n영희는 도서관에서 책을 읽었어요!"


@pytest.mark.parametrize("tokenizer", TOKENIZER_NAMES)
def test_identical_korean_text_scores_one(tokenizer: str) -> None:
    scores = RougeScorer(TYPES, tokenizer=tokenizer).score(KOREAN, KOREAN)
    for rouge_type in TYPES:
        assert ours_tuple(scores[rouge_type]) == (1.0, 1.0, 1.0), (tokenizer, rouge_type)


def test_rouge_score_throws_korean_away_and_we_do_not() -> None:
    theirs = rouge_scorer.RougeScorer(TYPES).score(KOREAN, KOREAN)
    assert all(rs_tuple(s) == (0.0, 0.0, 0.0) for s in theirs.values())
    prediction = "철수가 학교에 갔다"
    reference = "철수가 도서관에 갔다"
    ours = RougeScorer(TYPES).score(prediction, reference)
    assert ours["rouge1"].fmeasure == pytest.approx(2 / 3)
    assert ours["rougeL"].fmeasure == pytest.approx(2 / 3)


def test_korean_mixed_with_english_keeps_the_english_numbers() -> None:
    """Hangul next to English does not change how the English words are tokenized."""
    assert get_tokenizer("default")("Hello 세계, it's 2024!") == [
        "hello",
        "세계",
        "it",
        "s",
        "2024",
    ]


@pytest.fixture(scope="module")
def kiwi_ready() -> None:
    pytest.importorskip("kiwipiepy")


def test_kiwi_handles_particle_variation(kiwi_ready: None) -> None:
    prediction, reference = "철수는 학교로 갔어요", "철수가 학교에 갔다"
    kiwi = RougeScorer(TYPES, tokenizer="kiwi").score(prediction, reference)
    for other in ("whitespace", "default"):
        plain = RougeScorer(TYPES, tokenizer=other).score(prediction, reference)
        for rouge_type in ("rouge1", "rougeL"):
            assert kiwi[rouge_type].fmeasure > plain[rouge_type].fmeasure, (other, rouge_type)
    tokens = get_tokenizer("kiwi")("철수는 학교로 갔어요.")
    assert "철수" in tokens and "학교" in tokens and "." not in tokens


def test_char_tokenizer() -> None:
    assert get_tokenizer("char")("학교 에 Ab!") == ["학", "교", "에", "a", "b", "!"]
    scores = RougeScorer(["rouge1"], tokenizer="char").score("학교에", "학교로")
    assert scores["rouge1"].fmeasure == pytest.approx(2 / 3)


def test_whitespace_tokenizer_keeps_punctuation() -> None:
    assert get_tokenizer("whitespace")("Hello, World!  안녕.\nBye") == [
        "hello,",
        "world!",
        "안녕.",
        "bye",
    ]
    scores = RougeScorer(["rouge1"], tokenizer="whitespace").score("hello!", "hello")
    assert scores["rouge1"].fmeasure == 0.0
    default = RougeScorer(["rouge1"]).score("hello!", "hello")
    assert default["rouge1"].fmeasure == 1.0


def test_stemmer_leaves_korean_and_short_words_alone() -> None:
    tokens = get_tokenizer("default", stemmer=True)("학교들 running was cats")
    assert tokens == ["학교들", "run", "was", "cat"]


# --- the metric protocol and settings ----------------------------------------------------------


def test_a_scorer_called_returns_f_measures() -> None:
    metric = RougeScorer(["rouge1", "rougeL"], tokenizer="whitespace")
    result = metric("the cat sat", ["the cat sat", "a dog"])
    assert set(result) == {"rouge1", "rougeL"}
    assert result["rouge1"] == pytest.approx((1.0 + 0.0) / 2)


def test_settings_record_the_tokenizer() -> None:
    scorer = RougeScorer(["rouge2"], tokenizer="char", stemmer=True)
    assert scorer.settings == {"types": ["rouge2"], "tokenizer": "char", "stemmer": True}


def test_higher_order_ngrams() -> None:
    scores = RougeScorer(["rouge3"]).score("a b c d", "a b c e")
    theirs = rouge_scorer.RougeScorer(["rouge3"]).score("a b c e", "a b c d")
    assert_identical(scores, theirs, None)


# --- corpus scoring ----------------------------------------------------------------------------


def corpus_case(seed: int, n: int = 60) -> tuple[list[str], list[list[str]]]:
    rng = random.Random(seed)
    predictions = [random_text(rng) for _ in range(n)]
    references = [[random_text(rng) for _ in range(rng.randint(1, 3))] for _ in range(n)]
    return predictions, references


@pytest.mark.parametrize("stemmer", [False, True])
def test_corpus_means_are_mean_over_references_then_items(stemmer: bool) -> None:
    predictions, references = corpus_case(5)
    theirs = rouge_scorer.RougeScorer(TYPES, use_stemmer=stemmer)
    result = corpus_rouge(predictions, references, scorer=RougeScorer(TYPES, stemmer=stemmer))
    assert result.n == len(predictions) == len(result.per_item)
    for rouge_type in TYPES:
        per_item = []
        for prediction, refs in zip(predictions, references, strict=True):
            each = [theirs.score(r, prediction)[rouge_type] for r in refs]
            fields = ("precision", "recall", "fmeasure")
            per_item.append(tuple(sum(getattr(s, f) for s in each) / len(each) for f in fields))
        expected = [sum(col) / len(col) for col in zip(*per_item, strict=True)]
        got = result.means[rouge_type]
        assert ours_tuple(got) == pytest.approx(expected, rel=1e-12, abs=1e-15)
        est = result.fmeasure[rouge_type]
        assert est.mean == got.fmeasure and est.low <= est.mean <= est.high
        assert est.n == len(predictions)
    assert result.settings == {
        "types": TYPES,
        "tokenizer": "default",
        "stemmer": stemmer,
        "reduce": "mean",
    }
    assert set(result.as_dict()) == set(TYPES)
    assert set(result.as_dict()["rouge1"]) == {"precision", "recall", "fmeasure"}


def test_corpus_max_reduce_uses_score_multi() -> None:
    predictions, references = corpus_case(6)
    theirs = rouge_scorer.RougeScorer(TYPES, use_stemmer=True)
    result = corpus_rouge(
        predictions, references, scorer=RougeScorer(TYPES, stemmer=True), reduce="max"
    )
    for got, prediction, refs in zip(result.per_item, predictions, references, strict=True):
        assert_identical(got, theirs.score_multi(refs, prediction), prediction)


def test_corpus_is_deterministic_and_accepts_a_single_string_reference() -> None:
    scorer = RougeScorer(["rouge1"])
    one = corpus_rouge(["the cat", "a dog"], ["the cat sat", "a dog ran"], scorer=scorer, seed=3)
    two = corpus_rouge(
        ["the cat", "a dog"], [["the cat sat"], ["a dog ran"]], scorer=scorer, seed=3
    )
    assert one == two
    assert one.means["rouge1"].precision == 1.0
    assert one.means["rouge1"].recall == pytest.approx(2 / 3)


@pytest.mark.parametrize(
    ("predictions", "references", "kwargs", "message"),
    [
        (["a", "b"], [["a"]], {}, "2 predictions but 1 reference lists"),
        ([], [], {}, "no predictions"),
        (["a", "b"], [["a"], []], {}, "item 2 has no reference"),
        (["a"], [["a"]], {"reduce": "sum"}, "reduce must be 'mean' or 'max'"),
        (["a"], [["a"]], {"confidence": 2.0}, "confidence must be between 0 and 1"),
        ("ab", [["a"], ["b"]], {}, "not one string"),
    ],
)
def test_corpus_bad_input(
    predictions: Any, references: Any, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        corpus_rouge(predictions, references, scorer=RougeScorer(), **kwargs)


# --- bad input: one clear InvalidInput ---------------------------------------------------------


def errors() -> Iterator[tuple[str, Any, str]]:
    yield "tokenizer", lambda: RougeScorer(tokenizer="mecab"), "unknown tokenizer 'mecab'"
    yield "type", lambda: RougeScorer(["rougeX"]), "unknown ROUGE type 'rougeX'"
    yield "type0", lambda: RougeScorer(["rouge0"]), "unknown ROUGE type 'rouge0'"
    yield "no types", lambda: RougeScorer([]), "at least one ROUGE type"
    yield (
        "reduce",
        lambda: RougeScorer().score_multi("a", ["a"], reduce="median"),
        "reduce must be 'mean' or 'max'",
    )
    yield "no refs", lambda: RougeScorer().score_multi("a", []), "at least one reference"
    yield "no refs all", lambda: RougeScorer().score_all("a", []), "at least one reference"
    yield "get_tokenizer", lambda: get_tokenizer("bpe"), "unknown tokenizer 'bpe'"
    yield (
        "reduce_scores",
        lambda: reduce_scores([{"rouge1": Score(1, 1, 1)}], "min"),
        "reduce must be",
    )


@pytest.mark.parametrize(
    ("call", "message"), [e[1:] for e in errors()], ids=[e[0] for e in errors()]
)
def test_bad_input_is_invalid_input(call: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as info:
        call()
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    if "tokenizer" in message:
        assert "default, whitespace, kiwi, char" in str(info.value)
