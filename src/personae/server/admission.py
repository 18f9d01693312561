"""Admission: how many replies generate at once, whose request goes next, and who is told to
come back later.

The server has ``slots`` generation slots. With the embedded backend they are llama.cpp's
parallel slots, which continuous batching decodes together; with a remote backend they bound
the requests in flight to it. A request that finds every slot busy waits in a bounded queue
that serves users in turn (round robin): one user's burst of forty requests waits behind one
request of each other user, not in front of them. When the queue is full, or the user already
has their share of it waiting, the request is refused at once with a 429 and a ``Retry-After``
(before its response starts, so every client sees a proper status), instead of waiting
without end. A request whose client leaves while it waits (its ``cancel`` event is set) leaves
the queue without running and without counting against anyone's place.

Each slot is a thread that runs one job after another, so the per-thread store connections and
memory banks of :class:`~personae.server.jobs.Workers` stay on their thread.

A job may need more than one slot: a best-of-N reply decodes its N candidates together, one
llama.cpp slot each (see :mod:`.strategies`). Its ``weight`` is how many slots it holds while it
runs (at most all of them); it starts only when that many are free, and the queue keeps its
order: a heavy job at the front of the queue is not overtaken by lighter ones behind it, so it
cannot starve, at the price of slots idling while it waits for enough of them.
"""

from __future__ import annotations

import logging
import math
import statistics
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from personae.server.errors import APIError
from personae.settings.server import DEFAULT_MAX_QUEUE as DEFAULT_MAX_QUEUE  # [server] max_queue

log = logging.getLogger("personae.server")

T = TypeVar("T")

# How many finished jobs the Retry-After estimate looks back on.
RECENT_JOBS = 32
MAX_RETRY_AFTER = 3600

# What a dropped job's requester is told: None when its client left (nobody is listening),
# else the reason the server will not run it (it is shutting down).
Dropped = Callable[[BaseException | None], None]


class FairQueue(Generic[T]):
    """Waiting items per user, served in turn: each :meth:`pop` takes the oldest item of the
    user at the front and moves that user to the back. Not thread-safe on its own."""

    def __init__(self) -> None:
        self._users: OrderedDict[str, deque[T]] = OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[T]:
        for items in self._users.values():
            yield from items

    def waiting(self, user: str) -> int:
        items = self._users.get(user)
        return len(items) if items else 0

    def users(self) -> list[str]:
        """Users with something waiting, in the order they will be served."""
        return list(self._users)

    def push(self, user: str, item: T) -> None:
        self._users.setdefault(user, deque()).append(item)  # a new user joins at the back
        self._size += 1

    def peek(self) -> T | None:
        """The item :meth:`pop` would take next, left in place."""
        if not self._users:
            return None
        return next(iter(self._users.values()))[0]

    def pop(self) -> tuple[str, T] | None:
        if not self._users:
            return None
        user, items = next(iter(self._users.items()))
        item = items.popleft()
        self._size -= 1
        if items:
            self._users.move_to_end(user)
        else:
            del self._users[user]
        return user, item

    def remove_if(self, predicate: Callable[[T], bool]) -> list[T]:
        """Take out every item ``predicate`` picks (keeping each user's turn)."""
        removed: list[T] = []
        for user in list(self._users):
            items = self._users[user]
            kept = deque(i for i in items if not predicate(i))
            if len(kept) == len(items):
                continue
            removed.extend(i for i in items if predicate(i))
            self._size -= len(items) - len(kept)
            if kept:
                self._users[user] = kept  # assigning an existing key keeps its place
            else:
                del self._users[user]
        return removed

    def clear(self) -> list[T]:
        items = list(self)
        self._users.clear()
        self._size = 0
        return items


@dataclass(eq=False)
class Ticket:
    """One job's place: what to run, for whom, and how to tell its requester it will not run."""

    user: str
    work: Callable[[], None]
    cancel: threading.Event
    dropped: Dropped
    weight: int = 1  # slots it holds while it runs
    future: Future[None] = field(default_factory=Future)


def over_capacity(message: str, retry_after: int) -> APIError:
    """OpenAI's rate-limit error: a 429, type ``requests``, code ``rate_limit_exceeded``."""
    return APIError(
        f"{message}; retry in about {retry_after} s",
        status=429,
        code="rate_limit_exceeded",
        error_type="requests",
        headers={"Retry-After": str(retry_after)},
    )


class Admission:
    """``slots`` jobs at once, up to ``max_queue`` more waiting (at most ``max_queue_per_user``
    of them from one user: default half the queue), served round robin by user."""

    def __init__(
        self,
        slots: int,
        max_queue: int = DEFAULT_MAX_QUEUE,
        max_queue_per_user: int | None = None,
        *,
        thread_name: str = "personae-gen",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not _count(slots) or slots < 1:
            raise ValueError(f"slots must be 1 or more, not {slots!r}")
        if not _count(max_queue) or max_queue < 0:
            raise ValueError(f"max_queue must be 0 or more, not {max_queue!r}")
        if max_queue_per_user is None:
            max_queue_per_user = default_queue_per_user(max_queue)
        elif not _count(max_queue_per_user) or max_queue_per_user < 1:
            raise ValueError(f"max_queue_per_user must be 1 or more, not {max_queue_per_user!r}")
        self.slots = slots
        self.max_queue = max_queue
        self.max_queue_per_user = min(max_queue_per_user, max_queue)  # more would mean no cap
        self._clock = clock
        self._lock = threading.Lock()
        self._queue: FairQueue[Ticket] = FairQueue()
        self._running: dict[Ticket, float] = {}  # → when it started
        self._used = 0  # slots the running tickets hold (their weights)
        self._durations: deque[float] = deque(maxlen=RECENT_JOBS)
        self._executor = ThreadPoolExecutor(slots, thread_name_prefix=thread_name)
        self._closed = False

    # -- the requester's side -------------------------------------------------------------------

    def submit(
        self,
        user: str,
        work: Callable[[], None],
        cancel: threading.Event,
        dropped: Dropped | None = None,
        *,
        weight: int = 1,
    ) -> Future[None]:
        """Run ``work`` in free slots (``weight`` of them, at most all), or queue it; raises the
        429 :class:`APIError` when the queue has no room for ``user``. The future ends when the
        work has run or was dropped."""
        if not _count(weight) or weight < 1:
            raise ValueError(f"weight must be 1 or more, not {weight!r}")
        ticket = Ticket(user, work, cancel, dropped or (lambda _: None), min(weight, self.slots))
        with self._lock:
            if self._closed:
                raise APIError(
                    "the server is shutting down: try again once it is back",
                    status=503,
                    code="server_shutting_down",
                )
            gone = self._queue.remove_if(_cancelled)
            # Those removed may have held back a job that fits in the free slots.
            head, passed = self._next()
            while head is not None:
                self._start(head)
                head, passed = self._next()
            gone += passed
            refusal: APIError | None = None
            if not len(self._queue) and self._fits(ticket):
                self._start(ticket)
            elif len(self._queue) >= self.max_queue:
                refusal = over_capacity(
                    f"the server is busy: {len(self._running)} replies are generating and "
                    f"{len(self._queue)} requests are waiting, the most it queues",
                    self._retry_after(),
                )
            elif self._queue.waiting(user) >= self.max_queue_per_user:
                refusal = over_capacity(
                    f"you already have {self._queue.waiting(user)} requests waiting, the most "
                    "one user may queue: wait for them to finish",
                    self._retry_after(),
                )
            else:
                self._queue.push(user, ticket)
        _drop(gone, None)
        if refusal is not None:
            raise refusal
        return ticket.future

    @property
    def running(self) -> int:
        with self._lock:
            return len(self._running)

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot (those whose client left are dropped first)."""
        with self._lock:
            gone = self._queue.remove_if(_cancelled)
            count = len(self._queue)
        _drop(gone, None)
        return count

    def retry_after(self) -> int:
        with self._lock:
            return self._retry_after()

    def shutdown(self) -> None:
        """Refuse new work and tell every waiting request; running jobs finish on their own
        (their requests cancel them), not waited for here."""
        with self._lock:
            self._closed = True
            left = self._queue.clear()
        _drop(
            left,
            APIError(
                "the server is shutting down: try again once it is back",
                status=503,
                code="server_shutting_down",
            ),
        )
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- the slots ------------------------------------------------------------------------------

    def _fits(self, ticket: Ticket) -> bool:
        return self._used + ticket.weight <= self.slots

    def _start(self, ticket: Ticket) -> None:
        """Give ``ticket`` its slots (under the lock): a slot thread runs it, then what waits."""
        self._running[ticket] = self._clock()
        self._used += ticket.weight
        self._executor.submit(self._drive, ticket)

    def _drive(self, first: Ticket) -> None:
        ticket: Ticket | None = first
        while ticket is not None:
            live = ticket.future.set_running_or_notify_cancel()  # False: the future was cancelled
            error = self._run(ticket) if live else None
            with self._lock:
                started = self._running.pop(ticket)
                self._used -= ticket.weight
                if live and error is None and not ticket.cancel.is_set():
                    self._durations.append(self._clock() - started)  # a whole job: typical
                finished, (ticket, gone) = ticket, self._next()
                if ticket is not None:
                    self._running[ticket] = self._clock()
                    self._used += ticket.weight
                    # A heavy job's slots freed at once may let several waiting jobs start.
                    more, passed = self._next()
                    gone += passed
                    while more is not None:
                        self._start(more)
                        more, passed = self._next()
                        gone += passed
            # Settled only now, with the slot handed on, so that whoever waited on this job
            # may submit the next at once without finding the slot still taken.
            if live and error is not None:
                finished.future.set_exception(error)
            elif live:
                finished.future.set_result(None)
            _drop(gone, None)

    @staticmethod
    def _run(ticket: Ticket) -> BaseException | None:
        """Run one job; the exception it raised, if any."""
        if ticket.cancel.is_set():  # the client left between the queue and the slot
            _notify(ticket, None)
            return None
        try:
            ticket.work()
        except BaseException as exc:  # the future carries it to whoever waits on it
            return exc
        return None

    def _next(self) -> tuple[Ticket | None, list[Ticket]]:
        """The next live ticket in turn if its slots are free (else None: it keeps its place),
        and the abandoned ones passed over (under the lock)."""
        gone: list[Ticket] = []
        while not self._closed:
            head = self._queue.peek()
            if head is None:
                break
            if head.cancel.is_set():
                self._queue.pop()
                gone.append(head)
                continue
            if not self._fits(head):
                break
            self._queue.pop()
            return head, gone
        return None, gone

    def _retry_after(self) -> int:
        """Seconds until a place is likely to free: when the first running job is expected to
        end, going by the median of recent jobs (with none finished yet, a job is assumed to
        take as long again as it has run so far). At least 1."""
        now = self._clock()
        typical = statistics.median(self._durations) if self._durations else None
        remaining = [
            (typical - (now - started)) if typical is not None else now - started
            for started in self._running.values()
        ]
        soonest = min(remaining, default=0.0)
        return min(MAX_RETRY_AFTER, max(1, math.ceil(soonest)))


def default_queue_per_user(max_queue: int) -> int:
    """Half the queue (at least one place) may belong to one user."""
    return max(1, max_queue // 2)


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _cancelled(ticket: Ticket) -> bool:
    return ticket.cancel.is_set()


def _notify(ticket: Ticket, reason: BaseException | None) -> None:
    try:
        ticket.dropped(reason)
    except Exception:  # one requester's failure must not stop the slot or the queue
        log.exception("telling a dropped request failed")


def _drop(tickets: list[Ticket], reason: BaseException | None) -> None:
    for ticket in tickets:
        if ticket.future.set_running_or_notify_cancel():
            _notify(ticket, reason)
            ticket.future.set_result(None)
