"""Training data in: chat records and preference pairs read, checked and split; the loss mask
on the character's turns; the run's options checked before anything loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from personae.errors import InvalidInput, NotFound
from personae.training.data import (
    ChatRecord,
    data_digest,
    load_records,
    parse_record,
    split_records,
)
from personae.training.options import TrainOptions
from personae.training.tokens import IGNORE, tokenize_chat

CHAT = [
    {"role": "system", "content": "You are Holmes."},
    {"role": "user", "content": "Who are you?"},
    {"role": "assistant", "content": "A detective."},
    {"role": "user", "content": "어디 살아요?"},
    {"role": "assistant", "content": "베이커 가."},
]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows)
        + "\n",
        encoding="utf-8",
    )
    return path


def test_chat_records_and_pairs_are_read(tmp_path: Path) -> None:
    data = write_jsonl(tmp_path / "a.jsonl", [{"messages": CHAT}, "", {"messages": CHAT[:3]}])
    records = load_records([data], "sft")
    assert [len(r.messages) for r in records] == [5, 3]
    pair = {"prompt": CHAT[:2], "chosen": "Holmes.", "rejected": [CHAT[2]]}
    pairs = load_records([write_jsonl(tmp_path / "p.jsonl", [pair])], "dpo")
    assert pairs[0].chosen == "Holmes." and pairs[0].rejected == "A detective."
    assert pairs[0].as_json()["chosen"] == [{"role": "assistant", "content": "Holmes."}]


def test_a_folder_reads_every_jsonl_in_it(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "1.jsonl", [{"messages": CHAT}])
    write_jsonl(tmp_path / "2.jsonl", [{"messages": CHAT[:3]}])
    (tmp_path / "notes.txt").write_text("not data")
    assert len(load_records([tmp_path], "sft")) == 2


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("[1, 2]", "not a chat record"),
        ("{not json", "not JSON"),
        ('{"text": "hi"}', "SFT rows need a messages list"),
        ('{"messages": []}', "non-empty list"),
        ('{"messages": [{"role": "user", "content": "hi"}]}', "no assistant message"),
        ('{"messages": [{"role": "bot", "content": "hi"}]}', "role 'bot'"),
        ('{"messages": [{"role": "assistant", "content": "  "}]}', "has no text"),
        ('{"messages": [{"role": "assistant", "content": 3}]}', "has no text"),
        ('{"messages": ["hi"]}', "must be an object"),
    ],
)
def test_a_bad_sft_row_is_one_line_naming_the_file_and_line(
    tmp_path: Path, row: str, message: str
) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", [{"messages": CHAT}, row])
    with pytest.raises(InvalidInput, match=message) as caught:
        load_records([data], "sft")
    assert "d.jsonl line 2" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"messages": CHAT}, "DPO rows need prompt, chosen and rejected"),
        ({"prompt": CHAT[:2], "chosen": "a", "rejected": "a"}, "the same reply"),
        ({"prompt": CHAT[:3], "chosen": "a", "rejected": "b"}, "must end with a message to"),
        ({"prompt": CHAT[:2], "chosen": [CHAT[1]], "rejected": "b"}, "one assistant reply"),
        ({"prompt": CHAT[:2], "chosen": 5, "rejected": "b"}, "one assistant reply"),
    ],
)
def test_a_bad_pair_is_refused(row: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_record(row, "x line 1", "dpo")


def test_missing_empty_and_oversized_data_are_clear(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no training data at"):
        load_records([tmp_path / "nope.jsonl"], "sft")
    with pytest.raises(InvalidInput, match="has no .jsonl files"):
        load_records([tmp_path], "sft")
    with pytest.raises(InvalidInput, match="has no rows"):
        load_records([write_jsonl(tmp_path / "e.jsonl", [""])], "sft")
    big = tmp_path / "big.jsonl"
    big.write_text('{"messages": "' + "x" * 200_001 + '"}\n')
    with pytest.raises(InvalidInput, match="longer than"):
        load_records([big], "sft")
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00garbage\n")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        load_records([binary], "sft")


def test_an_experience_directory_is_read_as_chat_records_and_pairs(tmp_path: Path) -> None:
    folder = tmp_path / "exp"
    folder.mkdir()
    manifest = {"format": 1, "character": "Sherlock Holmes", "language": "en"}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    turns = [
        {
            "speaker": "Owen",
            "action": "speaking",
            "text": "What is a telephone?",
            "character": False,
        },
        {"speaker": "Sherlock Holmes", "action": "speaking", "text": "A what?", "character": True},
        {"speaker": "Owen", "action": "speaking", "text": "A device.", "character": False},
        {"speaker": "Sherlock Holmes", "action": "thinking", "text": "Odd.", "character": True},
    ]
    scene = {"id": "p1", "type": "chat", "place": "a park", "protective": True, "topic": "x"}
    row = {
        "scene": scene,
        "background": "A park.",
        "turns": turns,
        "rejected_replies": [{"reason": "anachronism", "text": "I use mine daily."}],
    }
    write_jsonl(folder / "experiences.jsonl", [row])
    (record,) = load_records([folder], "sft")
    assert (
        record.messages[0]["role"] == "system"
        and "Sherlock Holmes" in record.messages[0]["content"]
    )
    assert [m["role"] for m in record.messages[1:]] == ["user", "assistant", "user", "assistant"]
    assert record.messages[-1]["content"] == "*Odd.*"
    (pair,) = load_records([folder], "dpo")
    assert pair.chosen == "A what?" and pair.rejected == "I use mine daily."
    assert pair.messages[-1] == {"role": "user", "content": "What is a telephone?"}


def test_the_split_depends_on_content_only_and_never_leaves_a_side_empty() -> None:
    records = [ChatRecord(({"role": "assistant", "content": f"line {i}"},)) for i in range(300)]
    train, held = split_records(records)
    assert 15 <= len(held) <= 45 and len(train) + len(held) == 300
    _, held_again = split_records(list(reversed(records)))
    assert {r.messages[0]["content"] for r in held} == {
        r.messages[0]["content"] for r in held_again
    }
    more = [*records, *(ChatRecord(({"role": "user", "content": f"{i}"},)) for i in range(50))]
    _, held_more = split_records(more)
    assert {r.messages[0]["content"] for r in held} <= {r.messages[0]["content"] for r in held_more}
    assert split_records(records[:2])[1] and split_records(records[:2])[0]
    with pytest.raises(InvalidInput, match="too few to hold any out"):
        split_records(records[:1])
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        split_records(records, 1.5)
    assert data_digest(records) == data_digest(list(records))
    assert data_digest(records) != data_digest(records[1:])


class CharTokenizer:
    """A tokenizer a character a token, with a ChatML-like template."""

    def apply_chat_template(
        self, messages: list[dict[str, str]], tokenize: bool, add_generation_prompt: bool
    ) -> str:
        text = "".join(f"<{m['role']}>{m['content']}|\n" for m in messages)
        return text + ("<assistant>" if add_generation_prompt else "")

    def __call__(self, text: str, add_special_tokens: bool) -> dict[str, list[int]]:
        return {"input_ids": [ord(c) for c in text]}


def learnt(chat: Any) -> str:
    return "".join(chr(t) for t in chat.labels if t != IGNORE)


def test_the_loss_falls_on_the_characters_turns_and_their_end_marker_only() -> None:
    chat = tokenize_chat(CharTokenizer(), CHAT, max_length=10_000)
    assert len(chat.input_ids) == len(chat.labels)
    assert learnt(chat) == "A detective.|\n베이커 가.|\n"
    assert chat.trained_tokens == len("A detective.|\n베이커 가.|\n")
    short = tokenize_chat(CharTokenizer(), CHAT, max_length=40)
    assert len(short.input_ids) == 40 and len(short.labels) == 40


def test_a_template_that_rewrites_earlier_turns_is_refused() -> None:
    class Rewriting(CharTokenizer):
        def apply_chat_template(
            self, messages: list[dict[str, str]], tokenize: bool, add_generation_prompt: bool
        ) -> str:
            # Like templates that drop earlier turns' thoughts once a conversation goes on.
            return f"[{len(messages)}]" + super().apply_chat_template(
                messages, tokenize, add_generation_prompt
            )

    with pytest.raises(InvalidInput, match="chat template"):
        tokenize_chat(Rewriting(), CHAT, max_length=1000)
    with pytest.raises(InvalidInput, match="no assistant message"):
        tokenize_chat(CharTokenizer(), CHAT[:2], max_length=1000)


@pytest.mark.parametrize(
    ("change", "flag"),
    [
        ({"rank": 0}, "--rank"),
        ({"epochs": 0}, "--epochs"),
        ({"lr": 1.0}, "--lr"),
        ({"max_steps": 0}, "--max-steps"),
        ({"max_length": 8}, "--max-length"),
        ({"held_out": 0.9}, "--held-out"),
        ({"method": "ppo"}, "--method"),
        ({"device": "tpu"}, "--device"),
    ],
)
def test_options_out_of_range_are_one_line(change: dict[str, Any], flag: str) -> None:
    with pytest.raises(InvalidInput, match=flag):
        TrainOptions(**change).check()


def test_options_record_what_decides_the_run() -> None:
    options = TrainOptions(method="dpo", rank=4)
    recorded = options.as_json()
    assert recorded["lr"] == 5e-5 and recorded["alpha"] == 8
    assert options.same_run({**recorded, "device": "cuda"})
    assert not options.same_run({**recorded, "rank": 8})
