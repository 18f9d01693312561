"""The adapter registry (what is usable, what is active) and preference pairs from a user's own
choices in chats (regenerated-away and edited replies)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from personae.agent import Chat
from personae.errors import InvalidInput, NotFound
from personae.store import CharacterRepository, ChatRepository, Database
from personae.training.adapters import GGUF, MANIFEST, RUN, AdapterRegistry, check_name
from personae.training.options import TrainOptions as _Options  # noqa: N814
from personae.training.pairs import pairs_from_chats
from tests.support.factories import make_character
from tests.support.scripted import ScriptedBackend

DEFAULT_OPTIONS = _Options().as_json()


def make_adapter(registry: AdapterRegistry, character: str, name: str, *, ready: bool) -> Path:
    folder = registry.folder(character, name)
    folder.mkdir(parents=True)
    (folder / RUN).write_text(json.dumps({"method": "sft", "base": {"name": "smollm2-135m"}}))
    if ready:
        (folder / GGUF).write_bytes(b"GGUF")
        (folder / MANIFEST).write_text(
            json.dumps({"method": "sft", "base": {"name": "smollm2-135m"}})
        )
    return folder


def test_only_a_finished_adapter_is_usable_or_active(tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path)
    make_adapter(registry, "holmes", "book-sft", ready=True)
    make_adapter(registry, "holmes", "half", ready=False)
    make_adapter(registry, "hong-gildong", "exp", ready=True)
    assert [(a.character, a.name, a.ready) for a in registry.list()] == [
        ("holmes", "book-sft", True),
        ("holmes", "half", False),
        ("hong-gildong", "exp", True),
    ]
    assert [a.name for a in registry.list("hong-gildong")] == ["exp"]
    assert registry.active("holmes") is None
    assert registry.resolve("holmes", None) is None
    info = registry.activate("holmes", "book-sft")
    assert info is not None and info.label == "holmes@book-sft" and info.base == "smollm2-135m"
    active = registry.active("holmes")
    assert active is not None and active.name == "book-sft"
    assert registry.resolve("holmes", "none") is None
    with pytest.raises(InvalidInput, match="did not finish training"):
        registry.activate("holmes", "half")
    with pytest.raises(NotFound, match="it has: book-sft, half"):
        registry.resolve("holmes", "nope")
    unfinished = registry.latest_unfinished("holmes")
    assert unfinished is not None and unfinished.name == "half"


def test_deleting_the_active_adapter_leaves_none_active(tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path)
    make_adapter(registry, "holmes", "a", ready=True)
    registry.activate("holmes", "a")
    registry.delete("holmes", "a")
    assert registry.active("holmes") is None and registry.list() == []
    with pytest.raises(NotFound):
        registry.delete("holmes", "a")


def test_an_adapter_whose_files_went_missing_is_not_active(tmp_path: Path) -> None:
    registry = AdapterRegistry(tmp_path)
    folder = make_adapter(registry, "holmes", "a", ready=True)
    registry.activate("holmes", "a")
    (folder / GGUF).unlink()
    assert registry.active("holmes") is None


@pytest.mark.parametrize("name", ["", "../x", "A", "a b", "a/b", "x" * 65, "-a", "a..b"])
def test_bad_adapter_names_and_ids_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInput, match="not an adapter name"):
        check_name(name)
    with pytest.raises(InvalidInput, match="not a character id"):
        AdapterRegistry(tmp_path).folder("../etc", "a")


@pytest.fixture
def db(tmp_path: Path) -> Database:
    d = Database(tmp_path / "p.db")
    CharacterRepository(d).add(make_character())
    return d


def test_pairs_come_from_regenerated_and_edited_replies(db: Database) -> None:
    backend = ScriptedBackend().enqueue(
        "Good evening, Mina.",  # the reply to the first message
        "I am Sherlock Holmes, the detective.",  # the regenerated reply, kept
        "Baker Street, of course.",  # the reply to the second message
    )
    chat = Chat.start(db, "holmes", backend, user_name="Mina")
    "".join(chat.send("Who are you?"))
    "".join(chat.regenerate())
    "".join(chat.send("Where do you live?"))
    last = chat.messages()[-1]
    ChatRepository(db).edit(last.id, "At 221B Baker Street, where else?")
    pairs = pairs_from_chats(db, "holmes")
    assert [(p.chosen, p.rejected) for p in pairs] == [
        ("I am Sherlock Holmes, the detective.", "Good evening, Mina."),
        ("At 221B Baker Street, where else?", "Baker Street, of course."),
    ]
    first, second = pairs
    # The prompt is the chat as the character saw it: its system prompt, then the turns.
    assert first.messages[0]["role"] == "system" and "Holmes" in first.messages[0]["content"]
    assert first.messages[-1] == {"role": "user", "content": "Who are you?"}
    assert second.messages[-1]["content"] == "Where do you live?"
    assert {"role": "assistant", "content": "I am Sherlock Holmes, the detective."} in list(
        second.messages
    )
    assert all(m["content"] != "Good evening, Mina." for m in second.messages)


def test_a_chat_without_choices_gives_no_pairs(db: Database) -> None:
    chat = Chat.start(db, "holmes", ScriptedBackend().enqueue("Hello."), user_name="Mina")
    "".join(chat.send("Hi"))
    assert pairs_from_chats(db, "holmes") == []
    with pytest.raises(NotFound):
        pairs_from_chats(db, "nobody")


def test_a_run_that_fails_before_training_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from personae.training import run as run_module
    from personae.training.base import BaseModel
    from personae.training.data import ChatRecord
    from personae.training.options import TrainOptions

    base = BaseModel("smollm2-135m", tmp_path / "m.gguf", "0" * 64, "llama", 1000)
    monkeypatch.setattr(run_module, "find_base", lambda name: base)
    monkeypatch.setattr(run_module, "check_memory", lambda base, device: None)

    def no_memory(*args: object) -> None:
        raise InvalidInput("not enough memory")

    monkeypatch.setattr(run_module, "load_base", no_memory)
    registry = AdapterRegistry(tmp_path / "adapters")
    records = [ChatRecord(({"role": "assistant", "content": f"line {i}"},)) for i in range(4)]
    with pytest.raises(InvalidInput, match="not enough memory"):
        run_module.train_adapter(registry, "holmes", "a", records, "x", TrainOptions())
    assert registry.list() == []
    # A resumed run keeps its folder whatever happens (its checkpoints are the point).
    folder = make_adapter(registry, "holmes", "b", ready=False)
    (folder / "run.json").write_text(
        json.dumps(
            {
                "method": "sft",
                "base": base.as_json(),
                "data": {"sha256": run_module.data_digest(records)},
                "options": TrainOptions().as_json(),
            }
        )
    )
    with pytest.raises(InvalidInput, match="not enough memory"):
        run_module.train_adapter(registry, "holmes", "b", records, "x", TrainOptions(), resume=True)
    assert folder.is_dir()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"data": {"sha256": "other"}}, "other data"),
        ({"base": {"sha256": "f" * 64}}, "other base model"),
        ({"method": "dpo"}, "other method"),
        ({"options": {**DEFAULT_OPTIONS, "rank": 64}}, "other options"),
    ],
)
def test_a_resume_with_other_data_base_or_options_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: dict[str, object], message: str
) -> None:
    from personae.training import run as run_module
    from personae.training.base import BaseModel
    from personae.training.data import ChatRecord
    from personae.training.options import TrainOptions

    base = BaseModel("smollm2-135m", tmp_path / "m.gguf", "0" * 64, "llama", 1000)
    monkeypatch.setattr(run_module, "find_base", lambda name: base)
    monkeypatch.setattr(run_module, "check_memory", lambda base, device: None)
    records = [ChatRecord(({"role": "assistant", "content": f"line {i}"},)) for i in range(4)]
    registry = AdapterRegistry(tmp_path / "adapters")
    folder = make_adapter(registry, "holmes", "b", ready=False)
    recorded = {
        "method": "sft",
        "base": base.as_json(),
        "data": {"sha256": run_module.data_digest(records)},
        "options": TrainOptions().as_json(),
        **change,
    }
    (folder / "run.json").write_text(json.dumps(recorded))
    with pytest.raises(InvalidInput, match=message):
        run_module.train_adapter(registry, "holmes", "b", records, "x", TrainOptions(), resume=True)
