"""Admission on its own: the fair queue's turns, the slot bound, the queue bound and its 429,
requests whose client left while they waited, the Retry-After estimate, and shutdown."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest

from personae.backends.base import GenerationParams
from personae.server.admission import Admission, FairQueue, over_capacity
from personae.server.errors import APIError, describe
from personae.server.jobs import Job, StoredTarget, queue_user
from tests.support.server import wait_until


class Slots:
    """Jobs that record when they run and hold their slot until released."""

    def __init__(self, admission: Admission) -> None:
        self.admission = admission
        self.ran: list[str] = []
        self.gates: dict[str, threading.Event] = {}
        self.active = 0
        self.most_active = 0
        self.dropped: dict[str, BaseException | None] = {}
        self._lock = threading.Lock()

    def work(self, name: str) -> Callable[[], None]:
        gate = self.gates.setdefault(name, threading.Event())

        def run() -> None:
            with self._lock:
                self.ran.append(name)
                self.active += 1
                self.most_active = max(self.most_active, self.active)
            try:
                assert gate.wait(15), f"{name} was never released"
            finally:
                with self._lock:
                    self.active -= 1

        return run

    def submit(self, user: str, name: str, cancel: threading.Event | None = None) -> Future[None]:
        def dropped(reason: BaseException | None) -> None:
            self.dropped[name] = reason

        return self.admission.submit(user, self.work(name), cancel or threading.Event(), dropped)

    def release(self, *names: str) -> None:
        for name in names:
            self.gates.setdefault(name, threading.Event()).set()

    def release_all(self) -> None:
        for gate in self.gates.values():
            gate.set()


@pytest.fixture
def make_slots() -> Iterator[Callable[..., Slots]]:
    made: list[Slots] = []

    def make(slots: int = 1, max_queue: int = 8, **kwargs: object) -> Slots:
        s = Slots(Admission(slots, max_queue, **kwargs))  # type: ignore[arg-type]
        made.append(s)
        return s

    yield make
    for s in made:
        s.release_all()
        s.admission.shutdown()


def is_429(exc: APIError) -> None:
    assert exc.http_status == 429
    assert int(exc.headers["Retry-After"]) >= 1
    status, body = describe(exc)
    assert status == 429
    assert body["error"]["type"] == "requests"
    assert body["error"]["code"] == "rate_limit_exceeded"
    assert "retry in about" in body["error"]["message"]


# -- the queue on its own -------------------------------------------------------------------------


def test_fair_queue_takes_users_in_turn() -> None:
    queue: FairQueue[str] = FairQueue()
    for user, item in [("a", "a1"), ("a", "a2"), ("a", "a3"), ("b", "b1"), ("c", "c1")]:
        queue.push(user, item)
    queue.push("b", "b2")
    assert len(queue) == 6 and queue.waiting("a") == 3
    order = []
    while (popped := queue.pop()) is not None:
        order.append(popped[1])
    assert order == ["a1", "b1", "c1", "a2", "b2", "a3"]
    assert len(queue) == 0 and queue.pop() is None


def test_fair_queue_removal_keeps_each_users_turn() -> None:
    queue: FairQueue[str] = FairQueue()
    for user, item in [("a", "a1"), ("b", "b1"), ("b", "b2"), ("c", "c1"), ("a", "a2")]:
        queue.push(user, item)
    assert queue.remove_if(lambda item: item in ("b1", "c1")) == ["b1", "c1"]
    assert len(queue) == 3 and queue.users() == ["a", "b"]
    assert [queue.pop(), queue.pop(), queue.pop()] == [("a", "a1"), ("b", "b2"), ("a", "a2")]


# -- slots and turns ------------------------------------------------------------------------------


def test_no_more_than_the_slots_run_at_once(make_slots: Callable[..., Slots]) -> None:
    s = make_slots(slots=2)
    futures = [s.submit("u", f"j{i}") for i in range(5)]
    wait_until(lambda: s.admission.running == 2, what="two running")
    assert s.admission.waiting == 3 and s.ran == ["j0", "j1"]
    s.release_all()
    for f in futures:
        f.result(10)
    assert s.most_active == 2 and sorted(s.ran) == [f"j{i}" for i in range(5)]
    assert s.admission.running == 0 and s.admission.waiting == 0


def test_waiting_users_take_turns(make_slots: Callable[..., Slots]) -> None:
    s = make_slots(slots=1)
    s.submit("x", "busy")
    wait_until(lambda: s.ran == ["busy"])
    for name in ("a1", "a2", "a3"):
        s.submit("alice", name)
    s.submit("bob", "b1")
    s.submit("carol", "c1")
    s.submit("bob", "b2")
    s.release_all()
    wait_until(lambda: len(s.ran) == 7, what="all jobs")
    # Alice queued three first, yet Bob and Carol each wait behind only one of hers.
    assert s.ran == ["busy", "a1", "b1", "c1", "a2", "b2", "a3"]


def test_a_failing_job_frees_its_slot(make_slots: Callable[..., Slots]) -> None:
    s = make_slots(slots=1)

    def boom() -> None:
        raise RuntimeError("boom")

    failed = s.admission.submit("u", boom, threading.Event())
    after = s.submit("u", "after")
    s.release_all()
    with pytest.raises(RuntimeError, match="boom"):
        failed.result(10)
    after.result(10)
    assert s.ran == ["after"]


# -- the bound ----------------------------------------------------------------------------------


def test_a_full_queue_refuses_with_429(make_slots: Callable[..., Slots]) -> None:
    s = make_slots(slots=1, max_queue=2, max_queue_per_user=2)
    s.submit("u", "running")
    wait_until(lambda: s.ran == ["running"])
    s.submit("u", "w1")
    s.submit("v", "w2")
    with pytest.raises(APIError) as refused:
        s.submit("w", "refused")
    is_429(refused.value)
    assert "1 replies are generating and 2 requests are waiting" in refused.value.message
    s.release_all()
    wait_until(lambda: len(s.ran) == 3)
    assert s.ran == ["running", "w1", "w2"]  # never the refused one


def test_one_user_may_hold_only_part_of_the_queue(make_slots: Callable[..., Slots]) -> None:
    s = make_slots(slots=1, max_queue=4)  # half the queue per user by default: 2
    assert s.admission.max_queue_per_user == 2
    s.submit("greedy", "running")
    wait_until(lambda: s.ran == ["running"])
    s.submit("greedy", "g1")
    s.submit("greedy", "g2")
    with pytest.raises(APIError) as refused:
        s.submit("greedy", "g3")
    is_429(refused.value)
    assert "you already have 2 requests waiting" in refused.value.message
    s.submit("modest", "m1")  # another user still gets a place
    assert s.admission.waiting == 3


def test_no_queue_means_busy_slots_refuse_at_once(make_slots: Callable[..., Slots]) -> None:
    s = make_slots(slots=1, max_queue=0)
    s.submit("u", "running")
    with pytest.raises(APIError) as refused:
        s.submit("v", "second")
    is_429(refused.value)


# -- clients that leave -------------------------------------------------------------------------


def test_a_request_cancelled_while_queued_leaves_without_running(
    make_slots: Callable[..., Slots],
) -> None:
    s = make_slots(slots=1, max_queue=1)
    s.submit("u", "running")
    wait_until(lambda: s.ran == ["running"])
    cancel = threading.Event()
    left = s.submit("u", "left", cancel)
    with pytest.raises(APIError):
        s.submit("v", "no room")
    cancel.set()  # its client went away
    assert s.admission.waiting == 0
    assert left.done() and s.dropped == {"left": None}  # its requester was told: no reason
    s.submit("v", "next")  # its place is free again
    s.release_all()
    wait_until(lambda: s.ran == ["running", "next"])
    assert "left" not in s.ran


def test_a_request_cancelled_as_its_turn_comes_is_skipped(
    make_slots: Callable[..., Slots],
) -> None:
    s = make_slots(slots=1)
    s.submit("u", "running")
    wait_until(lambda: s.ran == ["running"])
    cancel = threading.Event()
    left = s.submit("u", "left", cancel)
    last = s.submit("u", "last")
    cancel.set()
    s.release_all()  # the slot frees with "left" still in the queue
    last.result(10)
    left.result(10)
    assert s.ran == ["running", "last"] and s.dropped == {"left": None}


# -- Retry-After --------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_retry_after_comes_from_recent_job_times() -> None:
    clock = Clock()
    admission = Admission(1, 0, clock=clock)
    try:

        def ten_seconds() -> None:
            clock.now += 10

        admission.submit("u", ten_seconds, threading.Event()).result(10)
        gate = threading.Event()
        started = threading.Event()

        def held() -> None:
            started.set()
            gate.wait(10)

        admission.submit("u", held, threading.Event())
        assert started.wait(10)
        clock.now += 3  # typical job: 10 s; this one has run 3
        with pytest.raises(APIError) as refused:
            admission.submit("v", lambda: None, threading.Event())
        assert refused.value.headers["Retry-After"] == "7"
        clock.now += 30  # overdue: still at least a second
        assert admission.retry_after() == 1
        gate.set()
    finally:
        admission.shutdown()


def test_retry_after_without_history_assumes_as_long_again() -> None:
    clock = Clock()
    admission = Admission(1, 0, clock=clock)
    gate = threading.Event()

    def held() -> None:
        gate.wait(10)

    try:
        admission.submit("u", held, threading.Event())
        clock.now += 4.2
        assert admission.retry_after() == 5
    finally:
        gate.set()
        admission.shutdown()


def test_over_capacity_error_shape() -> None:
    err = over_capacity("busy", 12)
    status, body = describe(err)
    assert status == 429 and err.headers == {"Retry-After": "12"}
    assert body == {
        "error": {
            "message": "busy; retry in about 12 s",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }


# -- shutdown and settings ------------------------------------------------------------------------


def test_shutdown_tells_waiting_requests_and_refuses_new_ones(
    make_slots: Callable[..., Slots],
) -> None:
    s = make_slots(slots=1)
    s.submit("u", "running")
    wait_until(lambda: s.ran == ["running"])
    waiting = s.submit("u", "waiting")
    s.admission.shutdown()
    assert waiting.done()
    reason = s.dropped["waiting"]
    assert isinstance(reason, APIError) and reason.http_status == 503
    with pytest.raises(APIError) as refused:
        s.submit("u", "late")
    assert refused.value.http_status == 503
    s.release_all()
    assert s.ran == ["running"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((0,), "slots must be 1 or more, not 0"),
        ((1, -1), "max_queue must be 0 or more, not -1"),
        ((True,), "slots must be 1 or more"),
        ((1, 4, 0), "max_queue_per_user must be 1 or more, not 0"),
    ],
)
def test_bad_admission_settings(args: tuple[int, ...], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        Admission(*args)


def test_whose_turn_a_job_waits_for() -> None:
    params = GenerationParams()
    stored = Job("holmes", None, params, stored=StoredTarget("hi", user_id="alice"))
    keyed = Job("holmes", None, params, viewer="bob")
    assert queue_user(stored, "10.0.0.1") == "user:alice"
    assert queue_user(keyed, "10.0.0.1") == "user:bob"
    assert queue_user(Job("holmes", None, params), "10.0.0.1") == "client:10.0.0.1"
    assert queue_user(Job("holmes", None, params)) == "client:anonymous"
