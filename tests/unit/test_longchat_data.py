"""The scripted long-chat recall benchmarks (benchmarks/data/longchat_*.json) are well formed.

Each file is a 300-message chat (user first, alternating) in which 20 facts about the user are
planted in messages 0-99; afterwards the benchmark asks each fact's probe. For the benchmark to
measure memory, every fact's answer must appear only in its planting message, and never after
message 99 (distractors there use different values).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "benchmarks" / "data"
BUNDLED = Path(__file__).resolve().parents[2] / "src" / "personae" / "characters" / "bundled"
FILES = {"longchat_en.json": ("en", "sherlock"), "longchat_ko.json": ("ko", "mina")}
N_MESSAGES = 300
N_FACTS = 20
PLANTING_ZONE = 100
HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")


def contains_answer(text: str, answer: str) -> bool:
    """Korean answers match as substrings (particles attach to them); Latin ones as whole words."""
    if HANGUL.search(answer):
        return answer.lower() in text.lower()
    pattern = r"(?<![0-9A-Za-z])" + re.escape(answer) + r"(?![0-9A-Za-z])"
    return re.search(pattern, text, re.IGNORECASE) is not None


@pytest.fixture(scope="module", params=sorted(FILES))
def script(request: pytest.FixtureRequest) -> tuple[str, dict]:
    path = DATA / request.param
    with path.open(encoding="utf-8") as f:
        return request.param, json.load(f)


def test_header(script: tuple[str, dict]) -> None:
    name, doc = script
    language, character = FILES[name]
    assert doc["language"] == language
    assert doc["character"] == character
    assert (BUNDLED / f"{character}.json").is_file()
    assert isinstance(doc["user_name"], str) and doc["user_name"].strip()
    assert isinstance(doc["description"], str) and doc["description"].strip()


def test_messages_alternate_starting_with_user(script: tuple[str, dict]) -> None:
    _, doc = script
    messages = doc["messages"]
    assert len(messages) == N_MESSAGES
    for i, message in enumerate(messages):
        assert set(message) == {"role", "content"}, i
        assert message["role"] == ("user" if i % 2 == 0 else "assistant"), i
        assert isinstance(message["content"], str) and message["content"].strip(), i
    contents = [m["content"] for m in messages]
    assert len(set(contents)) == len(contents), "no copy-pasted messages"


def test_facts_are_planted_early_in_user_messages(script: tuple[str, dict]) -> None:
    _, doc = script
    messages, facts = doc["messages"], doc["facts"]
    assert len(facts) == N_FACTS
    ids = [f["id"] for f in facts]
    assert len(set(ids)) == len(ids)
    for fact in facts:
        for key in ("id", "statement", "probe", "kind"):
            assert isinstance(fact[key], str) and fact[key].strip(), (fact["id"], key)
        answers = fact["answers"]
        assert answers and all(isinstance(a, str) and a.strip() for a in answers), fact["id"]
        index = fact["message"]
        assert isinstance(index, int) and 0 <= index < PLANTING_ZONE, fact["id"]
        assert messages[index]["role"] == "user", fact["id"]
        text = messages[index]["content"].lower()
        assert any(a.lower() in text for a in answers), fact["id"]


def test_no_answer_after_the_planting_zone(script: tuple[str, dict]) -> None:
    _, doc = script
    messages = doc["messages"]
    for fact in doc["facts"]:
        for i in range(PLANTING_ZONE, len(messages)):
            for answer in fact["answers"]:
                assert not contains_answer(messages[i]["content"], answer), (fact["id"], i, answer)


def test_each_answer_is_stated_only_in_its_planting_message(script: tuple[str, dict]) -> None:
    _, doc = script
    messages = doc["messages"]
    for fact in doc["facts"]:
        hits = [
            i
            for i, m in enumerate(messages)
            if any(contains_answer(m["content"], a) for a in fact["answers"])
        ]
        assert hits == [fact["message"]], (fact["id"], hits)


def test_probes_are_distinct_and_not_in_the_chat(script: tuple[str, dict]) -> None:
    _, doc = script
    probes = [f["probe"].strip() for f in doc["facts"]]
    assert all(probes)
    assert len(set(probes)) == len(probes)
    contents = {m["content"].strip() for m in doc["messages"]}
    assert not contents.intersection(probes)


def test_distractors_come_late(script: tuple[str, dict]) -> None:
    _, doc = script
    distractors = doc["distractors"]
    assert 4 <= len(distractors) <= 6
    for d in distractors:
        assert PLANTING_ZONE <= d["message"] < N_MESSAGES, d
        assert isinstance(d["note"], str) and d["note"].strip(), d
