"""A user's requests in flight across server processes (PostgreSQL advisory locks): each
ClusterQuota stands for one process, with a connection of its own."""

from __future__ import annotations

import pytest

from personae.server.cluster_quota import ClusterQuota, user_key


def test_one_users_share_holds_across_processes(request: pytest.FixtureRequest) -> None:
    from tests.support.stores import postgres_or_skip

    url = postgres_or_skip(request).fresh()
    first, second = ClusterQuota(url, 2), ClusterQuota(url, 2)
    try:
        a = first.take("user:ana")
        b = second.take("user:ana")
        assert {a, b} == {0, 1}
        assert first.take("user:ana") is None and second.take("user:ana") is None
        assert first.take("user:bo") is not None  # another user has a share of their own
        assert a is not None
        first.give_back("user:ana", a)
        first.give_back("user:ana", a)  # twice: nothing more is let go
        assert second.take("user:ana") == a
        assert second.held("user:ana") == 2
        second.close()  # a process that dies lets go of everything it held
        assert {first.take("user:ana"), first.take("user:ana")} == {0, 1}
    finally:
        first.close()
        second.close()


def test_user_keys_are_stable_and_leave_room_for_slots() -> None:
    assert user_key("user:ana") == user_key("user:ana") != user_key("user:bo")
    assert 0 <= user_key("x" * 1000) < 2**47
    with pytest.raises(ValueError, match="at least 1"):
        ClusterQuota("postgresql://u@127.0.0.1:1/x", 0)


def test_a_second_process_refuses_a_user_who_holds_a_whole_share(
    request: pytest.FixtureRequest,
) -> None:
    import threading

    from personae.backends.base import GenerationParams
    from personae.config import Settings
    from personae.server.backend_pool import BackendPool
    from personae.server.errors import APIError
    from personae.server.jobs import Job, Workers
    from tests.support.scripted import ScriptedBackend
    from tests.support.server import make_store
    from tests.support.stores import postgres_or_skip

    url = str(make_store(postgres_or_skip(request).fresh()))

    def process() -> Workers:
        return Workers(
            db_location=url,
            settings=Settings(backend="scripted", model="m", reply_guard=False),
            backends=BackendPool(lambda _: ScriptedBackend(), "m"),
            size=1,
            max_queue=4,
            max_queue_per_user=1,
        )

    first, second = process(), process()
    try:
        quota = first.cluster_quota
        assert quota is not None and quota.per_user == 2  # one slot + one place in the queue
        releases = [quota.hold("user:ana", lambda: 1) for _ in range(2)]
        job = Job(character="holmes", model=None, params=GenerationParams(), viewer="ana")
        with pytest.raises(APIError) as refused:
            second.submit(job, lambda _: None, threading.Event())
        assert refused.value.http_status == 429 and "across the servers" in str(refused.value)
        releases[0]()
        done = threading.Event()
        second.submit(job, lambda e: done.set() if e is None else None, threading.Event())
        assert done.wait(10)
    finally:
        first.shutdown()
        second.shutdown()
