"""The app factory. ``create_app()`` gives an ASGI app (FastAPI) to run with uvicorn, or to
test with FastAPI's ``TestClient``; ``personae serve`` is the command-line way to run it.

Each concern has its module: :mod:`.openai_routes` (the OpenAI-compatible API), :mod:`.rest`
(the REST API under ``/api``), :mod:`.errors` (OpenAI error bodies), :mod:`.jobs` (generation on
worker threads), :mod:`.replies` and :mod:`.streaming` (events to responses), :mod:`.backends`
(model ids to backends), :mod:`.auth` (API keys), :mod:`.guard` (what a request must look like
before any route reads it: content types, Host names), :mod:`.openapi` (``/openapi.json``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from personae import __version__
from personae.backends.base import GenerationParams
from personae.backends.sampling import default_params
from personae.config import Settings, load_settings
from personae.errors import ConfigError
from personae.memory.bank import MemoryBank
from personae.memory.from_settings import memory_settings, redaction_policy
from personae.server.auth import authenticate
from personae.server.backend_pool import BackendFactory, BackendPool, settings_factory
from personae.server.errors import install_error_handlers
from personae.server.guard import HostPolicy, RequestGuard
from personae.server.jobs import MemoryFactory, Workers
from personae.server.openai_routes import router as openai_router
from personae.server.openapi import install_openapi
from personae.server.options import resolve
from personae.server.rest import router as rest_router
from personae.server.schemas import MAX_BODY_BYTES
from personae.server.state import ServerState
from personae.server.web import router as web_router
from personae.store import Database
from personae.store.database import Location
from personae.store.library import open_library
from personae.store.postgres import is_postgres_url

if TYPE_CHECKING:
    from fastapi import FastAPI

    from personae.memory.manager import MemorySettings

log = logging.getLogger("personae.server")


def require_server_extra() -> None:
    """Fail with the install command when FastAPI or uvicorn is missing."""
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise ConfigError(
            f"the server needs the 'server' extra ({exc.name} is not installed): "
            "pip install 'personae[server]'"
        ) from None


def _database_location(db: Database | str | os.PathLike[str] | None) -> Location:
    if isinstance(db, Database):
        return db.location
    if db is None:
        library = open_library()  # the configured store, with the bundled characters
        library.close()
        return library.location
    location: Location = db if isinstance(db, str) and is_postgres_url(db) else Path(db)
    Database(location).close()  # create it and bring its schema up to date before serving
    return location


def _memory(
    settings: Settings, memory: MemoryFactory | bool
) -> tuple[MemoryFactory | None, MemorySettings | None]:
    if memory is False:
        return None, None
    chosen = memory_settings(settings.memory)  # a bad [memory] table fails now, not mid-chat
    if memory is True:
        policy = redaction_policy(settings.privacy)

        def bank(db: Database) -> MemoryBank:
            return MemoryBank(db, policy=policy, notice=log.warning)

        return bank, chosen
    return memory, chosen


def create_app(
    db: Database | str | os.PathLike[str] | None = None,
    *,
    settings: Settings | None = None,
    backend_factory: BackendFactory | None = None,
    params: GenerationParams | None = None,
    sampling: Mapping[str, Any] | None = None,
    memory: MemoryFactory | bool = True,
    parallel: int | None = None,
    max_queue: int | None = None,
    max_queue_per_user: int | None = None,
    cors_origins: Sequence[str] | None = None,
    allowed_hosts: Sequence[str] | None = None,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """An OpenAI-compatible server for the characters in ``db``.

    ``db``: a :class:`Database` (only its path is used: each worker thread opens its own
    connection), a path, or None for the data directory's store. ``settings``: default backend,
    model and user name (default: :func:`~personae.config.load_settings`). ``backend_factory``:
    model name → backend; whatever it builds is cached, one per model (default: from ``settings``).
    ``params``: default sampling for every model, which a request's own values override; without it
    each model samples with its catalogue defaults
    (:func:`~personae.backends.sampling.default_params`) under ``sampling``, the operator's settings
    (``personae serve --sampling``, ``--temperature`` …). ``memory``: True for the configured
    memory, False for none, or a callable ``Database -> MemoryBank``. ``parallel``: how many replies
    generate at once (with the embedded backend, its parallel slots); ``max_queue``: how many more
    may wait for one (``max_queue_per_user`` of them from one user), beyond that a 429;
    ``cors_origins``: web origins whose pages may call the API (none: no CORS); ``allowed_hosts``:
    Host names that a server without API keys answers besides IP addresses and ``localhost`` (see
    :mod:`.guard`; ``personae serve`` adds its ``--host``). Each of these five defaults to the
    ``[server]`` table of ``settings`` (see :mod:`.options`). ``max_body_bytes``: larger requests
    get a 413.
    """
    require_server_extra()
    from fastapi import Depends, FastAPI

    settings, options = resolve(
        settings or load_settings(),
        parallel=parallel,
        max_queue=max_queue,
        max_queue_per_user=max_queue_per_user,
        cors_origins=cors_origins,
        allowed_hosts=allowed_hosts,
    )
    memory_factory, memory_settings = _memory(settings, memory)
    pool = BackendPool(backend_factory or settings_factory(settings), settings.model)
    db_location = _database_location(db)
    state = ServerState(
        db_location=db_location,
        settings=settings,
        workers=Workers(
            db_location=db_location,
            settings=settings,
            backends=pool,
            memory=memory_factory,
            memory_settings=memory_settings,
            size=options.parallel,
            max_queue=options.max_queue,
            max_queue_per_user=options.max_queue_per_user,
            strategies=options.strategies,
        ),
        params=params or default_params(settings.model, **(sampling or {})),
        sampling=None if params is not None else dict(sampling or {}),
        max_body_bytes=max_body_bytes,
    )

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        try:
            yield
        finally:
            state.workers.shutdown()
            state.keys.close()
            pool.close()

    app = FastAPI(
        title="personae",
        version=__version__,
        lifespan=lifespan,
        # The schema, but no docs page: FastAPI's loads its scripts from a CDN.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.personae = state
    install_error_handlers(app)
    install_openapi(app)
    # Added before CORS, so that CORS wraps it: an allowed page can read why it was refused.
    app.add_middleware(
        RequestGuard,
        hosts=HostPolicy.of(options.allowed_hosts),
        keys_required=state.keys.required,
    )
    if options.cors_origins:
        add_cors(app, options.cors_origins)
    app.include_router(openai_router, dependencies=[Depends(authenticate)])
    app.include_router(rest_router, dependencies=[Depends(authenticate)])
    app.include_router(web_router)  # the page itself is public; its API calls carry the key
    return app


def add_cors(app: FastAPI, origins: Sequence[str]) -> None:
    """Let pages from ``origins`` (``*``: any) call the API from a browser: preflights are
    answered, the key and JSON headers allowed, and the chat id and Retry-After readable. No
    cookies are involved (the key travels in a header), so credentials stay off."""
    from starlette.middleware.cors import CORSMiddleware

    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "X-API-Key"],
        expose_headers=["X-Personae-Chat-Id", "Retry-After"],
        max_age=600,
    )
