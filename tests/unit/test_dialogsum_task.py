"""The DialogSum task: loading, resumable predictions, scoring rows against baselines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.errors import InvalidInput, NotFound
from personae.evaluation.cache import ResultCache
from personae.evaluation.tasks.dialogsum import (
    load_dialogsum,
    predict,
    run_dialogsum,
    score_runs,
    strategy_config,
)
from personae.metrics import RougeScorer
from personae.summarization import SummaryConfig
from tests.support.scripted import ScriptedBackend

ROWS = [
    {
        "fname": f"dev_{i}",
        "dialogue": f"#Person1#: Shall we meet at {i} o'clock?\n#Person2#: Yes, at the cafe.\n"
        "#Person1#: Great, see you there.\n#Person2#: Bye.",
        "summary": f"#Person1# and #Person2# will meet at the cafe at {i}.",
        "topic": "meeting",
    }
    for i in range(4)
]


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_load_single_and_multi_reference(tmp_path: Path) -> None:
    items = load_dialogsum(write(tmp_path / "d.jsonl", ROWS))
    assert [i.id for i in items] == ["dev_0", "dev_1", "dev_2", "dev_3"]
    multi = dict(ROWS[0], summary1="a", summary2="b", summary3="c")
    del multi["summary"]
    (item,) = load_dialogsum(write(tmp_path / "t.jsonl", [multi]))
    assert item.references == ("a", "b", "c")


@pytest.mark.parametrize(
    ("rows", "needle"),
    [
        ([{"fname": "x", "summary": "s"}], "line 1 has no 'dialogue'"),
        ([{"fname": "x", "dialogue": "A: hi"}], "line 1 has no 'summary'"),
        ([ROWS[0], ROWS[0]], "appears twice"),
        ([{"fname": "x", "dialogue": "no speakers here", "summary": "s"}], "line 1"),
        ([], "no dialogues"),
    ],
)
def test_load_errors_name_the_row(
    tmp_path: Path, rows: list[dict[str, object]], needle: str
) -> None:
    with pytest.raises(InvalidInput, match=needle):
        load_dialogsum(write(tmp_path / "bad.jsonl", rows))


def test_load_missing_and_malformed(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        load_dialogsum(tmp_path / "absent.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ROWS[0]) + "\n{not json\n")
    with pytest.raises(InvalidInput, match="line 2 is not valid JSON"):
        load_dialogsum(bad)


def test_strategy_config() -> None:
    assert strategy_config("zero-shot") == SummaryConfig()
    assert strategy_config("few-shot", shots=3).shots == 3
    assert strategy_config("consensus", samples=3).samples == 3
    assert strategy_config("zero-shot", shots=3).shots == 0  # shots only apply to few-shot
    with pytest.raises(InvalidInput, match="unknown strategy"):
        strategy_config("best-of")


def test_predict_resumes_from_cache(tmp_path: Path) -> None:
    items = load_dialogsum(write(tmp_path / "d.jsonl", ROWS))
    cache = ResultCache(tmp_path / "cache.jsonl")
    backend = ScriptedBackend("m").enqueue("#Person1# and #Person2# meet.", "Two people meet.")
    assert predict(items[:2], backend, SummaryConfig(), cache) == 2
    backend.enqueue("x", "y")
    reopened = ResultCache(tmp_path / "cache.jsonl")
    assert predict(items, backend, SummaryConfig(), reopened) == 2
    assert len(backend.calls) == 4  # the first two came from the cache
    assert reopened.get("m|zero-shot|dev_0")["text"] == "#Person1# and #Person2# meet."


def test_score_runs_rows_and_same_item_baselines(tmp_path: Path) -> None:
    items = load_dialogsum(write(tmp_path / "d.jsonl", ROWS))
    cache = ResultCache(tmp_path / "cache.jsonl")
    for item in items:  # a perfect system on all items
        cache.put(f"good|zero-shot|{item.id}", {"text": item.references[0], "candidates": []})
    for item in items[:2]:  # a consensus run on two items
        cache.put(
            f"cons|few-shot-2+consensus-5|{item.id}",
            {"text": item.references[0], "candidates": ["nothing alike", item.references[0]]},
        )
    cache.put("good|zero-shot|not-in-this-file", {"text": "ignored", "candidates": []})
    rows, per_item = score_runs(items, cache, RougeScorer(("rouge1", "rouge2", "rougeL")))
    by = {(r.model, r.strategy): r for r in rows}
    assert by[("-", "lead-3")].vs_lead == 0.0 and by[("-", "lead-3")].n == 4
    good = by[("good", "zero-shot")]
    assert good.n == 4 and good.scores["mean"].mean == pytest.approx(1.0)
    assert good.vs_lead is not None and good.vs_lead > 0
    cons = by[("cons", "few-shot-2+consensus-5")]
    single = by[("cons", "few-shot-2 (1 sample)")]
    assert cons.n == single.n == 2
    assert cons.scores["mean"].mean > single.scores["mean"].mean
    assert set(per_item) == {"dev_0", "dev_1", "dev_2", "dev_3"}


def test_run_dialogsum_end_to_end_writes_report(tmp_path: Path) -> None:
    data = write(tmp_path / "d.jsonl", ROWS)
    backend = ScriptedBackend("m").enqueue(
        *[f"#Person1# and #Person2# meet at {i}." for i in range(8)]
    )
    report = run_dialogsum(
        data,
        backend=backend,
        strategies=("zero-shot", "few-shot"),
        limit=3,
        cache_path=tmp_path / "c.jsonl",
        shots=1,
    )
    strategies = [row[2] for row in report.tables[0].rows]
    assert strategies == ["lead-3", "longest-3", "few-shot-1", "zero-shot"]
    assert report.settings["tokenizer"] == "default" and report.settings["stemmer"] is True
    # few-shot demonstrations come from the same file but never the item itself
    for messages, _ in backend.calls[3:]:
        assert len(messages) == 4
    paths = report.write(tmp_path / "out" / "dialogsum")
    assert "<svg" in paths[2].read_text()
    with pytest.raises(InvalidInput, match="limit"):
        run_dialogsum(data, limit=0, cache_path=tmp_path / "c.jsonl")
