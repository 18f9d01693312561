"""Jobs on their worker thread, driven directly: what a client leaving mid-reply does."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from personae.backends.base import GenerationParams
from personae.config import Settings
from personae.server.backend_pool import BackendPool, ModelId
from personae.server.jobs import (
    Delta,
    Event,
    Failed,
    Finished,
    Job,
    Opened,
    StoredTarget,
    Workers,
)
from personae.store import ChatRepository, Database
from tests.support.scripted import ScriptedBackend
from tests.support.server import make_store


def workers_for(tmp_path: Path, backend: ScriptedBackend) -> Workers:
    return Workers(
        db_location=make_store(tmp_path / "jobs.db"),
        settings=Settings(backend="scripted", model="m", reply_guard=False),
        backends=BackendPool(lambda _: backend, "m"),
        size=1,
    )


def run_until_first_delta(workers: Workers, job: Job) -> list[Event]:
    """Run ``job`` as a request whose client disconnects after the first piece."""
    events: list[Event] = []
    cancel = threading.Event()

    def emit(event: Event | None) -> None:
        if event is not None:
            events.append(event)
        if isinstance(event, Delta):
            cancel.set()

    workers.submit(job, emit, cancel).result(timeout=30)
    return events


def test_client_leaving_a_stored_chat_keeps_the_partial_reply(tmp_path: Path) -> None:
    backend = ScriptedBackend().enqueue("one two three four five six")
    workers = workers_for(tmp_path, backend)
    job = Job("holmes", None, GenerationParams(), stored=StoredTarget("hi", user_id="alice"))
    events = run_until_first_delta(workers, job)
    assert isinstance(events[0], Opened) and events[0].chat_id is not None
    assert not any(isinstance(e, Finished | Failed) for e in events)
    assert backend.closed_early == 1  # the backend's generator was closed: generation stopped
    with Database(workers.db_location) as db:
        last = ChatRepository(db).messages(events[0].chat_id)[-1]
    assert last.role == "assistant" and last.status == "incomplete"
    assert last.finish_reason == "cancelled" and last.content.startswith("one")
    workers.shutdown()


def test_client_leaving_a_stateless_reply_stops_generation(tmp_path: Path) -> None:
    backend = ScriptedBackend().enqueue("one two three four five six")
    workers = workers_for(tmp_path, backend)
    job = Job("holmes", None, GenerationParams(), history=(), n=3)
    events = run_until_first_delta(workers, job)
    assert [type(e) for e in events] == [Opened, Delta]
    assert backend.closed_early == 1 and len(backend.calls) == 1  # no second candidate
    workers.shutdown()


def test_a_job_whose_client_left_before_it_started_does_nothing(tmp_path: Path) -> None:
    backend = ScriptedBackend()
    workers = workers_for(tmp_path, backend)
    cancel = threading.Event()
    cancel.set()
    seen: list[Event | None] = []
    workers.submit(Job("holmes", None, GenerationParams()), seen.append, cancel).result(30)
    assert seen == [None] and backend.calls == []
    workers.shutdown()


def test_model_ids() -> None:
    assert ModelId.parse("sherlock") == ModelId("sherlock", None)
    assert ModelId.parse("sherlock@qwen2.5-coder-1.5b") == ModelId("sherlock", "qwen2.5-coder-1.5b")
    assert ModelId.parse("sherlock@org/model@v2") == ModelId("sherlock", "org/model@v2")
    assert ModelId.parse("sherlock@") == ModelId("sherlock", None)


def test_pool_builds_each_model_once_even_when_asked_together() -> None:
    built: list[str] = []
    gate = threading.Event()

    def slow_build(model: str) -> ScriptedBackend:
        gate.wait(5)
        built.append(model)
        return ScriptedBackend(model)

    pool = BackendPool(slow_build, "default")
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(pool.get())) for _ in range(4)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert built == ["default"] and len({id(b) for b in got}) == 1


def test_pool_does_not_cache_a_failed_build() -> None:
    attempts: list[str] = []

    def flaky(model: str) -> ScriptedBackend:
        attempts.append(model)
        if len(attempts) == 1:
            raise RuntimeError("first load fails")
        return ScriptedBackend(model)

    pool = BackendPool(flaky, "m")
    with contextlib.suppress(RuntimeError):
        pool.get()
    assert pool.get().model == "m" and attempts == ["m", "m"]
