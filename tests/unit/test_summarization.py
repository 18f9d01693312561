"""Dialogue parsing, prompts, demonstration retrieval, cleaning, consensus and baselines."""

from __future__ import annotations

import pytest

from personae.errors import InvalidInput
from personae.metrics import RougeScorer
from personae.summarization import (
    Demo,
    DemoPool,
    Summarizer,
    SummaryConfig,
    clean_summary,
    dialogue_from_messages,
    lead,
    longest,
    parse_dialogue,
)
from personae.summarization.prompts import build_messages
from personae.summarization.summarizer import consensus_choice
from tests.support.scripted import ScriptedBackend

DIALOGUE = """#Person1#: Hello, I'd like to book a table for two tonight.
#Person2#: Certainly. What time would you like?
#Person1#: Around seven, please.
and near the window if possible.
#Person2#: A window table at seven is booked for you."""

KOREAN = """민수: 내일 도서관에서 같이 공부할래?
지영: 좋아, 몇 시에 만날까?
민수: 오후 두 시 어때?
지영: 그래, 두 시에 도서관 앞에서 보자."""


def test_parse_tagged_and_named_dialogues() -> None:
    d = parse_dialogue(DIALOGUE)
    assert d.speakers == ["#Person1#", "#Person2#"]
    assert len(d.turns) == 4
    assert d.turns[2].text == "Around seven, please. and near the window if possible."
    assert d.language == "en"
    k = parse_dialogue(KOREAN)
    assert k.speakers == ["민수", "지영"] and k.language == "ko"
    assert k.text().splitlines()[0] == "민수: 내일 도서관에서 같이 공부할래?"


@pytest.mark.parametrize("text", ["", "   \n\n", "no speaker on this first line\nA: hi"])
def test_parse_rejects_dialogues_without_speakers(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_dialogue(text)


def test_dialogue_from_messages_skips_empty() -> None:
    d = dialogue_from_messages([("Watson", "Holmes?"), ("Holmes", "  "), ("Holmes", "Yes.")])
    assert [t.speaker for t in d.turns] == ["Watson", "Holmes"]
    with pytest.raises(InvalidInput):
        dialogue_from_messages([("A", " ")])


def test_baselines() -> None:
    d = parse_dialogue(DIALOGUE)
    assert lead(d).splitlines() == [t.line() for t in d.turns[:3]]
    longest_lines = longest(d, 2).splitlines()
    # the two longest turns, kept in dialogue order
    assert longest_lines == [d.turns[0].line(), d.turns[2].line()]


def test_prompts_name_speakers_and_put_demos_first() -> None:
    messages = build_messages(
        "A: hi",
        language="en",
        max_words=30,
        max_sentences=1,
        speakers=["A"],
        demos=[("B: yo", ["B"], "B greets.")],
    )
    assert [m.role for m in messages] == ["system", "user", "assistant", "user"]
    assert "one sentence" in messages[-1].content and "30 words" in messages[-1].content
    assert "exactly A" in messages[-1].content and messages[2].content == "B greets."
    ko = build_messages(
        "민수: 안녕", language="ko", max_words=20, max_sentences=2, speakers=["민수"]
    )
    assert "한두 문장으로" in ko[-1].content and "민수" in ko[-1].content


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "Summary: #Person1# books a table. It is at seven.",
            "#Person1# books a table. It is at seven.",
        ),
        ('"A books a table."\n\nMore text here.', "A books a table."),
        ("One. Two. Three.", "One. Two."),
        (
            "요약: 민수와 지영은 내일 두 시에 만나기로 했다. 장소는 도서관이다. 끝.",
            "민수와 지영은 내일 두 시에 만나기로 했다. 장소는 도서관이다.",
        ),
    ],
)
def test_clean_summary(raw: str, expected: str) -> None:
    assert clean_summary(raw, max_sentences=2, max_words=40) == expected


def test_clean_summary_respects_word_limit_but_keeps_one_sentence() -> None:
    text = "a " * 30 + "end. second sentence here."
    assert clean_summary(text, max_sentences=2, max_words=10).endswith("end.")


def _pool() -> DemoPool:
    return DemoPool(
        [
            Demo("d1", "#Person1#: I want to book a table.\n#Person2#: OK.", "#Person1# books."),
            Demo("d2", "#Person1#: The weather is cold.\n#Person2#: Yes.", "They talk weather."),
            Demo("d3", "#Person1#: " + "word " * 300, "too long"),
        ]
    )


def test_demo_pool_retrieves_similar_and_excludes() -> None:
    pool = _pool()
    assert [d.id for d in pool.select("book a table please", 1)] == ["d1"]
    assert [d.id for d in pool.select("book a table", 1, exclude="d1")] == ["d2"]
    # nothing in common: falls back, but never to the over-long demo
    assert [d.id for d in pool.select("zzz", 2)] == ["d1", "d2"]
    assert pool.select("x", 0) == []
    with pytest.raises(InvalidInput):
        DemoPool([])


def test_demo_pool_from_jsonl_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "pool.jsonl"
    good.write_text('{"fname": "a", "dialogue": "A: hi", "summary": "A greets."}\n')
    assert len(DemoPool.from_jsonl(good)) == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"fname": "a", "dialogue": "A: hi"}\n')
    with pytest.raises(InvalidInput, match="line 1 has no 'summary'"):
        DemoPool.from_jsonl(bad)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"dialogue": "A: hi", "summary": "x"}\n{oops\n')
    with pytest.raises(InvalidInput, match="line 2"):
        DemoPool.from_jsonl(broken)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"shots": -1},
        {"shots": 9},
        {"samples": 0},
        {"max_words": 2},
        {"max_sentences": 0},
        {"language": "fr"},
    ],
)
def test_config_rejects_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        SummaryConfig(**kwargs)  # type: ignore[arg-type]


def test_strategy_names() -> None:
    assert SummaryConfig().strategy == "zero-shot"
    assert SummaryConfig(shots=2).strategy == "few-shot-2"
    assert SummaryConfig(shots=2, samples=5).strategy == "few-shot-2+consensus-5"


def test_zero_shot_is_greedy_and_cleaned() -> None:
    backend = ScriptedBackend().enqueue("Summary: #Person1# books a window table for two at seven.")
    summary = Summarizer(backend).summarize(DIALOGUE)
    assert summary.text == "#Person1# books a window table for two at seven."
    messages, params = backend.calls[0]
    assert params.temperature == 0.0 and params.seed == 0
    assert "#Person1#, #Person2#" in messages[-1].content


def test_few_shot_needs_a_pool_and_uses_demos() -> None:
    with pytest.raises(InvalidInput, match="pool"):
        Summarizer(ScriptedBackend(), SummaryConfig(shots=1))
    backend = ScriptedBackend().enqueue("#Person1# books a table.")
    summary = Summarizer(backend, SummaryConfig(shots=1), _pool()).summarize(DIALOGUE)
    assert summary.demos == ("d1",)
    messages, _ = backend.calls[0]
    assert messages[2].role == "assistant" and messages[2].content == "#Person1# books."


def test_consensus_picks_the_candidate_the_others_agree_with() -> None:
    backend = ScriptedBackend().enqueue(
        "#Person1# books a table for two at seven.",
        "Bananas are yellow and tasty.",
        "#Person1# books a window table at seven.",
        "#Person1# books a table at seven for two people.",
    )
    summary = Summarizer(backend, SummaryConfig(samples=4, temperature=0.9)).summarize(DIALOGUE)
    assert summary.text != "Bananas are yellow and tasty."
    assert len(summary.candidates) == 4 and len(summary.agreement) == 4
    assert min(summary.agreement) == summary.agreement[1]
    seeds = [params.seed for _, params in backend.calls]
    temps = {params.temperature for _, params in backend.calls}
    assert seeds == [0, 1, 2, 3] and temps == {0.9}
    assert summary.strategy == "zero-shot+consensus-4"


def test_consensus_choice_ties_and_korean() -> None:
    scorer = RougeScorer(("rouge1", "rouge2", "rougeL"), tokenizer="kiwi")
    best, agreement = consensus_choice(
        ["민수와 지영은 두 시에 만난다.", "민수와 지영이 두 시에 만나기로 했다.", "날씨가 좋다."],
        scorer,
    )
    assert best in (0, 1) and agreement[2] < min(agreement[:2])
    assert consensus_choice(["same", "same"], scorer)[0] == 0
    assert consensus_choice(["only"], scorer) == (0, [1.0])


def test_korean_dialogue_gets_korean_prompt() -> None:
    backend = ScriptedBackend().enqueue("민수와 지영은 내일 두 시에 도서관에서 만나기로 했다.")
    summary = Summarizer(backend).summarize(KOREAN)
    assert summary.text.startswith("민수와 지영은")
    assert "요약하세요" in backend.calls[0][0][-1].content
