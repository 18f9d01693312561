"""The resumable results file: what was written survives; a torn write is repaired."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.errors import InvalidInput
from personae.evaluation.cache import ResultCache


def test_put_get_and_resume(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "run.jsonl"
    cache = ResultCache(path)
    assert len(cache) == 0 and cache.get("a") is None and "a" not in cache
    cache.put("a", {"score": 0.5, "text": "한국어"})
    cache.put("b", [1, 2])
    again = ResultCache(path)
    assert len(again) == 2
    assert again.get("a") == {"score": 0.5, "text": "한국어"}
    assert "b" in again
    assert dict(again.items()) == {"a": {"score": 0.5, "text": "한국어"}, "b": [1, 2]}
    assert "한국어" in path.read_text(encoding="utf-8")  # stored readable, not \u-escaped


def test_later_record_wins(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "run.jsonl")
    cache.put("a", 1)
    cache.put("a", 2)
    assert cache.get("a") == 2
    assert ResultCache(tmp_path / "run.jsonl").get("a") == 2


def test_torn_last_line_is_ignored_and_truncated(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    cache = ResultCache(path)
    cache.put("a", 1)
    cache.put("b", 2)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"key": "c", "val')  # the process died mid-write
    resumed = ResultCache(path)
    assert dict(resumed.items()) == {"a": 1, "b": 2}
    assert path.read_bytes() == whole
    resumed.put("c", 3)
    assert dict(ResultCache(path).items()) == {"a": 1, "b": 2, "c": 3}


def test_torn_only_line(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(b'{"key": "a", "va')
    assert len(ResultCache(path)) == 0
    assert path.read_bytes() == b""


def test_whole_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text('{"key": "a", "value": 1}', encoding="utf-8")
    cache = ResultCache(path)
    assert cache.get("a") == 1
    cache.put("b", 2)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["a", "b"]


@pytest.mark.parametrize("bad", [b"not json", b'{"key": "x"}', b"[1, 2]", b'"text"', b"\xff\xfe"])
def test_corrupt_middle_line_names_the_line(tmp_path: Path, bad: bytes) -> None:
    path = tmp_path / "run.jsonl"
    good = b'{"key": "a", "value": 1}\n'
    path.write_bytes(good + b"\n" + bad + b"\n" + good)
    before = path.read_bytes()
    with pytest.raises(InvalidInput) as info:
        ResultCache(path)
    message = str(info.value)
    assert "line 3" in message and str(path) in message and "delete the file" in message
    assert "\n" not in message
    assert path.read_bytes() == before  # nothing is "repaired" away


def test_corrupt_last_line_with_newline_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_bytes(b'{"key": "a", "value": 1}\ngarbage\n')
    with pytest.raises(InvalidInput, match="line 2"):
        ResultCache(path)
