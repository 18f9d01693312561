"""Generation off the event loop: each request is one job on a worker thread.

A job does everything that touches the store or the backend, start to finish, on one thread:
SQLite connections belong to the thread that opened them, and a stored chat writes its
checkpoints from inside the reply generator. Each worker thread keeps its own connection and
memory bank for the jobs it runs. A job reports through ``emit`` (see :mod:`.streaming`) and
stops when ``cancel`` is set: it closes the reply generator, which closes the backend's stream
(cancelling generation), and a stored reply keeps what arrived, marked incomplete.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from personae.agent import Agent, Chat, Turn
from personae.agent.tokens import token_counter
from personae.backends.base import Backend, Chunk, GenerationParams, Message
from personae.config import Settings
from personae.errors import EmptyReply, NotFound, PersonaeError
from personae.server.admission import DEFAULT_MAX_QUEUE, Admission
from personae.server.backend_pool import BackendPool, character_backend
from personae.server.client_prompt import with_instructions
from personae.server.cluster_quota import ClusterQuota
from personae.server.errors import APIError, model_not_found

# (Event is imported for those who import the events from here, where they were before.)
from personae.server.events import Candidates, Delta, Emit, Failed, Finished, Opened
from personae.server.events import Event as Event
from personae.server.job_request import Job as Job
from personae.server.job_request import StoredTarget as StoredTarget
from personae.server.strategies import Strategies, candidates_detail, ranked_choices, slots_for
from personae.store import CharacterRepository, ChatRepository, Database, StoredCharacter
from personae.store.database import Location
from personae.store.lorebooks import played_character
from personae.store.postgres import is_postgres_url

if TYPE_CHECKING:
    from personae.memory.bank import MemoryBank
    from personae.memory.manager import MemorySettings

log = logging.getLogger("personae.server")

MemoryFactory = Callable[[Database], "MemoryBank"]


# -- the workers -------------------------------------------------------------------------------


@dataclass
class Workers:
    """``size`` generation slots, each a thread with its own store connection and memory, and
    a fair, bounded queue in front of them (see :mod:`.admission`)."""

    db_location: Location  # the store: a SQLite file or a postgresql:// URL
    settings: Settings
    backends: BackendPool
    memory: MemoryFactory | None = None
    memory_settings: MemorySettings | None = None
    size: int = 8  # replies generating at once
    max_queue: int = DEFAULT_MAX_QUEUE  # requests waiting for a slot; more get a 429
    max_queue_per_user: int | None = None  # None: half the queue
    strategies: Strategies = field(default_factory=Strategies)  # [reply] and per character
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _busy: set[int] = field(default_factory=set, repr=False)
    _busy_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _admission: Admission | None = field(default=None, repr=False)
    _quota: ClusterQuota | None = field(default=None, repr=False)
    _pool_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def admission(self) -> Admission:
        with self._pool_lock:
            if self._admission is None:  # first use, or the app started again after a shutdown
                self._admission = Admission(self.size, self.max_queue, self.max_queue_per_user)
            return self._admission

    def submit(
        self, job: Job, emit: Emit, cancel: threading.Event, *, client: str | None = None
    ) -> Future[None]:
        """Run ``job`` in a slot, or queue it; over capacity, raises a 429 :class:`APIError`
        (with ``Retry-After``). ``client``: the caller's address, which stands for the user of
        a request that names none in the queue's turns."""

        user, quota = queue_user(job, client), self.cluster_quota
        # several processes on PostgreSQL: one of the user's slots in the whole cluster
        release = quota.hold(user, self.admission.retry_after) if quota else lambda: None

        def dropped(reason: BaseException | None) -> None:
            # It will not run: its client left (nobody listens), or the server is stopping.
            release()
            if reason is not None:
                emit(Failed(reason))
            emit(None)

        def work() -> None:
            try:
                run_job(self, job, emit, cancel)
            finally:
                release()

        # A best-of-N reply decodes its candidates together, one slot each: it holds that many
        # of the ``size`` slots while it runs (a continuation, always single, holds one).
        continuing = job.continuing or (job.stored is not None and job.stored.continue_reply)
        weight = 1 if job.raw else slots_for(job.strategy, self.size, continuing=continuing)
        try:
            return self.admission.submit(user, work, cancel, dropped, weight=weight)
        except BaseException:
            release()
            raise

    @property
    def cluster_quota(self) -> ClusterQuota | None:
        """A user's share of all the processes on a PostgreSQL store: never more than one
        process lets them hold (its slots and their part of its queue). None on SQLite."""
        if not is_postgres_url(self.db_location):
            return None
        per_user = self.size + self.admission.max_queue_per_user
        with self._pool_lock:
            if self._quota is None:
                self._quota = ClusterQuota(self.db_location, per_user)
            return self._quota

    def shutdown(self) -> None:
        with self._pool_lock:
            admission, self._admission = self._admission, None
            quota, self._quota = self._quota, None
        if quota is not None:
            quota.close()
        if admission is not None:
            # Jobs in flight were cancelled by their requests; do not wait for a slow backend.
            admission.shutdown()

    def database(self) -> Database:
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            from personae.settings.privacy import transcript_redactor

            # [privacy] transcripts = "redact": messages are stored redacted
            redactor = transcript_redactor(self.settings.privacy)
            db = Database(self.db_location, redact_transcripts=redactor)
            self._local.db = db
        return db

    def memory_bank(self) -> MemoryBank | None:
        if self.memory is None:
            return None
        bank: MemoryBank | None = getattr(self._local, "bank", None)
        if bank is None:
            bank = self.memory(self.database())
            self._local.bank = bank
        return bank

    @contextlib.contextmanager
    def claim(self, chat_id: int) -> Iterator[None]:
        """One reply at a time per stored chat: a second would interleave its turn. Held in
        this process's memory and, on a PostgreSQL store that several processes serve, in the
        store too (on this thread's connection, which the job then writes with)."""
        busy = APIError(
            f"chat {chat_id} is already generating a reply: wait for it to finish",
            status=409,
            code="chat_busy",
            param="chat_id",
        )
        with self._busy_lock:
            if chat_id in self._busy:
                raise busy
            self._busy.add(chat_id)
        db: Database | None = None
        try:
            db = self.database() if is_postgres_url(self.db_location) else None
            if db is not None and not db.try_hold_chat(chat_id):
                db = None
                raise busy
            yield
        finally:
            if db is not None:
                db.release_chat(chat_id)
            with self._busy_lock:
                self._busy.discard(chat_id)

    @property
    def n_ctx(self) -> int | None:
        value = self.settings.backend_options.get("n_ctx")
        return int(value) if value else None


def queue_user(job: Job, client: str | None = None) -> str:
    """Whose turn a job waits for in the queue: the stored chat's user, else the API key's
    user, else the caller's address (requests from one address are one user's)."""
    if job.stored is not None and job.stored.user_id:
        return f"user:{job.stored.user_id}"
    if job.viewer:
        return f"user:{job.viewer}"
    return f"client:{client or 'anonymous'}"


def run_job(workers: Workers, job: Job, emit: Emit, cancel: threading.Event) -> None:
    """The whole of one request's generation; every outcome is an event, the last is None."""
    try:
        if cancel.is_set():  # the client left while the job waited for a worker
            return
        if job.raw:
            run_raw(job, workers.backends.get(job.model), emit, cancel)
            return
        stored = find_character(workers.database(), job.character, viewer=job.viewer)
        backend = character_backend(workers.backends, stored.id, job.model)
        if job.stored is None:
            _stateless(workers, job, stored, backend, emit, cancel)
        else:
            _stateful(workers, job, job.stored, stored, backend, emit, cancel)
    except Exception as exc:
        emit(Failed(exc))
    finally:
        emit(None)


def find_character(db: Database, name: str, *, viewer: str | None = None) -> StoredCharacter:
    """The character a model id names: its exact id, else its id or name in any case, among
    those ``viewer`` may see (None: all)."""
    repo = CharacterRepository(db)
    try:
        return repo.get(name, visible_to=viewer)
    except PersonaeError:
        pass
    folded = name.casefold()
    matches = [
        s
        for s in repo.all(visible_to=viewer)
        if folded in (s.id.casefold(), s.character.name.casefold())
    ]
    if len(matches) == 1:
        return matches[0]
    raise model_not_found(name)


def _relay(pieces: Iterator[str], index: int, emit: Emit, cancel: threading.Event) -> bool:
    """Send each piece on; False when cancelled. Closing the generator is what stops the
    backend (and, in a stored chat, marks the reply incomplete with what arrived)."""
    try:
        for piece in pieces:
            if cancel.is_set():
                return False
            emit(Delta(index, piece))
        return not cancel.is_set()
    finally:
        close: Any = getattr(pieces, "close", None)
        if close is not None:
            close()


def _seeded(params: GenerationParams, index: int) -> GenerationParams:
    # n candidates with one seed would be n copies of one reply.
    if index == 0 or params.seed is None:
        return params
    return params.model_copy(update={"seed": params.seed + index})


def _stateless(
    workers: Workers,
    job: Job,
    stored: StoredCharacter,
    backend: Backend,
    emit: Emit,
    cancel: threading.Event,
) -> None:
    agent = Agent(
        with_instructions(
            played_character(workers.database(), stored, user_id=job.viewer), job.instructions
        ),
        backend,
        user_name=job.user_name or workers.settings.user_name,
        params=job.params,
        n_ctx=workers.n_ctx,
        strategy=job.strategy,
    )
    history: Sequence[Turn] = list(job.history)
    emit(Opened())
    if agent.strategy.candidates > 1 and not job.continuing:
        _chosen(agent, history, job, emit, cancel)
        return
    for index in range(job.n):
        reply = agent.reply(history, _seeded(job.params, index), continuing=job.continuing)
        if not _relay(iter(reply), index, emit, cancel):
            return
        if not reply.text:  # empty even after the agent's retry: a failure, not a 200
            raise EmptyReply()
        if index == 0 and getattr(reply, "ranked", None):  # refine: its drafts, ranked
            emit(Candidates(candidates_detail(reply), agent.strategy.name))
        usage = reply.usage
        emit(
            Finished(
                index,
                reply.finish_reason or "stop",
                usage.prompt_tokens if usage else reply.prompt.prompt_tokens,
                usage.completion_tokens if usage else agent.count_tokens(reply.text),
            )
        )


def _chosen(
    agent: Agent, history: Sequence[Turn], job: Job, emit: Emit, cancel: threading.Event
) -> None:
    """A stateless reply chosen among candidates: the chosen one is choice 0 and, with ``n`` >
    1, the others follow best first as choices 1 … (at most ``n``; fewer when fewer candidates
    were distinct). Nothing streams until the reply is chosen; then each choice arrives whole.
    The usage is the whole turn's (every candidate's tokens), on choice 0."""
    if job.n > agent.strategy.n:
        agent.strategy = replace(agent.strategy, n=job.n)  # n choices need n candidates
    reply = agent.reply(history, job.params)
    if not _relay(iter(reply), 0, emit, cancel):
        return
    if not reply.text:
        raise EmptyReply()
    emit(Candidates(candidates_detail(reply), agent.strategy.name))
    usage = reply.usage
    for index, text in enumerate(ranked_choices(reply, job.n)):
        if index:
            emit(Delta(index, text))
        emit(
            Finished(
                index,
                (reply.finish_reason or "stop") if index == 0 else "stop",
                usage.prompt_tokens if usage else reply.prompt.prompt_tokens,
                (usage.completion_tokens if usage else agent.count_tokens(reply.text))
                if index == 0
                else 0,
            )
        )


def run_raw(job: Job, backend: Backend, emit: Emit, cancel: threading.Event) -> None:
    """A raw model (``raw:``): the client's messages go to the backend as they are, and its
    text comes back as it is (no card, no reply cleaning, no stop strings but the client's);
    a continuation is sent as a prefix."""
    messages = [Message(t.role, t.content) for t in job.history]
    if job.continuing:
        messages[-1] = Message("assistant", messages[-1].content, prefix=True)
    count = token_counter(backend)
    emit(Opened())
    for index in range(job.n):
        texts: list[str] = []
        finals: list[Chunk] = []
        stream = backend.stream(messages, _seeded(job.params, index))
        if not _relay(_texts(stream, texts, finals), index, emit, cancel):
            return
        final = finals[-1] if finals else Chunk(finish_reason="stop")
        usage = final.usage
        emit(
            Finished(
                index,
                final.finish_reason or "stop",
                usage.prompt_tokens if usage else sum(count(m.content) for m in messages),
                usage.completion_tokens if usage else count("".join(texts)),
            )
        )


def _texts(stream: Iterator[Chunk], texts: list[str], finals: list[Chunk]) -> Iterator[str]:
    """A backend stream's text pieces (kept in ``texts``, the final chunk in ``finals``);
    closing this closes the stream, which cancels generation."""
    try:
        for chunk in stream:
            if chunk.text:
                texts.append(chunk.text)
                yield chunk.text
            if chunk.is_final:
                finals.append(chunk)
    finally:
        close: Any = getattr(stream, "close", None)
        if close is not None:
            close()


def _open_chat(
    workers: Workers,
    job: Job,
    target: StoredTarget,
    stored: StoredCharacter,
    backend: Backend,
) -> tuple[int | None, Callable[[], Chat]]:
    """The chat id to claim (None for a new chat) and how to open it."""
    db = workers.database()
    chats = ChatRepository(db)
    common: dict[str, Any] = {
        "params": job.params,
        "n_ctx": workers.n_ctx,
        "memory": workers.memory_bank(),
        "memory_settings": workers.memory_settings,
        "guard": workers.settings.reply_guard,
        "strategy": job.strategy,
    }
    chat_id = target.chat_id
    if chat_id is not None:
        try:
            info = chats.get(chat_id)
        except NotFound:
            info = None
        # Another user's chat is reported as missing, not as someone else's.
        if info is None or (target.user_id is not None and info.user_id != target.user_id):
            raise APIError(
                f"no chat {chat_id}: leave chat_id out (with a user) to start one",
                status=404,
                code="chat_not_found",
                param="chat_id",
            )
        if info.character_id != stored.id:
            raise APIError(
                f"chat {chat_id} is with {info.character_id!r}, not {stored.id!r}: use the "
                f"model {info.character_id!r} or another chat",
                param="chat_id",
                code="chat_mismatch",
            )
    elif not target.new_chat:
        latest = chats.latest(stored.id, user_id=target.user_id)
        chat_id = latest.id if latest else None
    if chat_id is not None:
        existing = chat_id
        return existing, lambda: Chat(db, existing, backend, **common)
    return None, lambda: Chat.start(
        db,
        stored.id,
        backend,
        user_name=job.user_name or workers.settings.user_name,
        user_id=target.user_id or workers.settings.user_id,
        **common,
    )


@contextlib.contextmanager
def _claimed(
    workers: Workers, chat_id: int | None, open_chat: Callable[[], Chat]
) -> Iterator[Chat]:
    if chat_id is not None:
        with workers.claim(chat_id):
            yield open_chat()
    else:
        chat = open_chat()  # a new chat: claimed as soon as it has an id
        with workers.claim(chat.id):
            yield chat


def _stateful(
    workers: Workers,
    job: Job,
    target: StoredTarget,
    stored: StoredCharacter,
    backend: Backend,
    emit: Emit,
    cancel: threading.Event,
) -> None:
    chat_id, open_chat = _open_chat(workers, job, target, stored, backend)
    with _claimed(workers, chat_id, open_chat) as chat:
        if job.instructions.strip():
            chat.agent = Agent(
                with_instructions(chat.agent.character, job.instructions),  # attached books too
                backend,
                user_name=chat.info.user_name,
                params=job.params,
                n_ctx=workers.n_ctx,
                guard=workers.settings.reply_guard,
                strategy=job.strategy,
            )
        emit(Opened(chat.id, chat.info.user_id))
        if target.regenerate:
            pieces = chat.regenerate(job.params)
        elif target.continue_reply:
            pieces = chat.continue_reply(job.params)
        elif target.text:
            pieces = chat.send(target.text, job.params)
        else:
            pieces = chat.speak(job.params)
        if not _relay(pieces, 0, emit, cancel):
            return
        reply = chat.last_reply
        assert reply is not None  # set by the generator before it ends
        if chat.last_ranked:
            ranked = [r.as_dict() for r in chat.last_ranked]
            emit(Candidates(ranked, chat.agent.strategy.name))
        emit(
            Finished(
                0,
                reply.finish_reason or "stop",
                reply.prompt_tokens or 0,
                reply.completion_tokens
                if reply.completion_tokens is not None
                else chat.agent.count_tokens(reply.text),
                reply_id=reply.id,
                memory_error=chat.memory_error,
            )
        )
