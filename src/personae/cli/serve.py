"""`personae serve`: the characters over an OpenAI-compatible HTTP API, a REST API and a web
chat page."""

from __future__ import annotations

# Commands import what they run inside their own function: `personae --help` imports every
# command module, so a module-level import here would slow every command (see cli/__init__.py).
import ipaddress
import socket
from typing import Any

import click

from personae.cli.common import (
    backend_options,
    err_console,
    fail,
    make_backend,
    open_db,
    sampling_overrides,
    settings_from,
    user_errors,
)
from personae.errors import ConfigError, InvalidInput
from personae.store import CharacterRepository
from personae.store.database import describe
from personae.store.keys import KeyRepository
from personae.store.postgres import is_postgres_url


class _OneLineErrors(click.Command):
    """Bad options end in one ``error:`` line like every other failure, not a usage block."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            fail(" ".join(exc.format_message().split()), code=2)
            raise  # unreachable: fail() exits


def _port(_: click.Context, __: click.Parameter, value: str) -> int:
    # A callback, not a ParamType subclass: ParamType is generic only in newer click.
    text = str(value).strip()
    if not text.isdecimal() or not 1 <= int(text) <= 65535:
        raise click.BadParameter(f"{value!r} is not a port number: use 1-65535")
    return int(text)


# resolve() names a bad argument by its keyword; here it was a flag.
_FLAGS = {
    "parallel": "--parallel",
    "max_queue": "--max-queue",
    "cors_origins": "--cors-origin",
    "allowed_hosts": "--allowed-host",
}


def _named_by_flag(exc: ConfigError) -> ConfigError:
    key, text = exc.param or "", str(exc)
    if key in _FLAGS and text.startswith(key):
        return ConfigError(_FLAGS[key] + text[len(key) :], param=key)
    return exc


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve", cls=_OneLineErrors)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default="8000",
    callback=_port,
    metavar="PORT",
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--parallel",
    type=click.IntRange(1, 64),
    metavar="N",
    help="Replies generated at once. With the embedded backend these are llama.cpp's parallel "
    "slots, batched together, each with the whole --ctx (memory grows with N). Default: "
    "[server] parallel in config.toml, else the backend's n_parallel (1), or 8 with a remote "
    "backend.",
)
@click.option(
    "--max-queue",
    type=click.IntRange(0, 10_000),
    metavar="N",
    help="Requests that may wait for a free slot, served in turn by user (half of them at most "
    "from one user); more get 429 with Retry-After. Default: [server] max_queue, else 64.",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    metavar="ORIGIN",
    help="Let web pages from ORIGIN (e.g. http://localhost:3000; * for any) call the API from "
    "a browser. Repeatable. Default: [server] cors_origins, else none.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="While the server has no API keys it answers only requests addressed to localhost, "
    "an IP address or --host (so that no web page can reach it by DNS rebinding); this adds "
    "NAME (e.g. mybox.lan; .example.com: that domain and its subdomains; * turns the check "
    "off). Repeatable. Default: [server] allowed_hosts, else none.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    metavar="N",
    help="Server processes sharing the port (restarted if one dies). More than one needs a "
    "PostgreSQL store (PERSONAE_DATABASE_URL or [store] url), which they share; each loads "
    "its own backend, so with the embedded model memory grows with N: use a remote backend "
    "(vLLM, llama.cpp's server) to scale out.",
)
@click.option(
    "--reuse-port/--no-reuse-port",
    default=True,
    show_default=True,
    help="With --workers: a listening socket per worker on the one port (SO_REUSEPORT), so the "
    "kernel gives the workers even shares of new connections; --no-reuse-port has them share "
    "one socket, where whichever wakes first takes a burst.",
)
@click.option(
    "--memory/--no-memory",
    "use_memory",
    default=True,
    show_default=True,
    help="Memory for stored chats (requests with chat_id or user).",
)
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@backend_options
@user_errors
def serve_command(
    host: str,
    port: int,
    parallel: int | None,
    max_queue: int | None,
    cors_origins: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    workers: int,
    reuse_port: bool,
    use_memory: bool,
    log_level: str,
    **flags: Any,
) -> None:
    """Serve the characters until Ctrl-C: a web chat page at http://HOST:PORT/, an
    OpenAI-compatible API under /v1 and a REST API under /api (its spec: /openapi.json).

    Point SillyTavern, Open WebUI or the openai client at http://HOST:PORT/v1; each character
    is a model (GET /v1/models), `sherlock@MODEL` picks the backend model as well. Send
    `chat_id` or `user` to have the server keep the chat and its memory.

    With no API keys anyone who can reach the server may use it; once `personae keys create
    --user NAME` has made one, every API request needs a key, and each key's user sees only
    their own chats, memories and private characters.

    It listens on 127.0.0.1 unless --host says otherwise. Up to --parallel replies generate
    at once; further requests wait their turn (users take turns), and once --max-queue are
    waiting the next get HTTP 429 with a Retry-After header.
    """
    from personae.server import create_app
    from personae.server import run as server_run
    from personae.server.app import require_server_extra
    from personae.server.backend_pool import served_adapters, settings_factory
    from personae.server.options import resolve

    require_server_extra()
    # Each model samples with its own defaults (the catalogue's) under these settings.
    sampling = sampling_overrides(flags)
    # Checked before anything slow; with the embedded backend, --parallel becomes n_parallel.
    try:
        settings, options = resolve(
            settings_from(flags),
            parallel=parallel,
            max_queue=max_queue,
            cors_origins=cors_origins or None,
            allowed_hosts=allowed_hosts or None,
        )
    except ConfigError as exc:
        raise _named_by_flag(exc) from None
    db = open_db()
    try:
        count = len(CharacterRepository(db).ids())
        keyed = KeyRepository(db).any_active()
        location = db.location
    finally:
        db.close()
    if workers > 1 and not is_postgres_url(location):
        raise InvalidInput(
            "--workers above 1 needs a PostgreSQL store, which the processes share (on a SQLite "
            "file each would lock chats and index memories on its own): set "
            "PERSONAE_DATABASE_URL=postgresql://… or [store] url, and copy your library over "
            "with `personae db copy`",
            param="workers",
        )
    # Bound before the slow part, so a busy port fails at once; one socket per worker.
    sockets = server_run.bind_each(host, port, workers if reuse_port else 1)

    def build() -> tuple[Any, Any]:
        """The app and its default backend (loaded now, so a missing or broken model fails
        here, not at the first request; others that a request names load when asked for)."""
        default = make_backend(settings, adapters=served_adapters(settings.model))
        others = settings_factory(settings)

        def backend_for(model: str) -> Any:
            return default if model == settings.model else others(model)

        return create_app(
            location,
            settings=settings,
            backend_factory=backend_for,
            sampling=sampling,
            memory=use_memory,
            parallel=options.parallel,
            max_queue=options.max_queue,
            max_queue_per_user=options.max_queue_per_user,
            cors_origins=options.cors_origins,
            # A name it was started with is one the operator uses for it (IPs pass anyway).
            allowed_hosts=(*options.allowed_hosts, *([] if _is_ip(host) else [host])),
        ), default

    def run(sock: socket.socket, app: Any, default: Any) -> None:
        try:
            server_run.serve(app, sock, log_level=log_level)
        finally:
            close = getattr(default, "close", None)
            if close is not None:
                close()

    bound_port = sockets[0].getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    if workers > 1:
        from personae.server.supervisor import preload, supervise

        err_console.print(
            f"serving {count} characters on http://{shown}:{bound_port}/v1 from {workers} "
            f"processes sharing {describe(location)}, each with {settings.backend} "
            f"{settings.model}, {options.parallel} at once — Ctrl-C stops",
            markup=False,
        )
        _warn_if_open(host, keyed)
        preload()
        try:
            supervise(workers, sockets, lambda sock: run(sock, *build()))
        finally:
            for sock in sockets:
                sock.close()
        return
    (sock,) = sockets
    try:
        app, default = build()
    except BaseException:
        sock.close()
        raise
    err_console.print(
        f"serving {count} characters on http://{shown}:{bound_port}/v1 with "
        f"{default.name} {default.model}, {options.parallel} at once — Ctrl-C stops",
        markup=False,
    )
    _warn_if_open(host, keyed)
    run(sock, app, default)


def _warn_if_open(host: str, keyed: bool) -> None:
    if not _is_loopback(host) and not keyed:
        err_console.print(
            f"warning: listening on {host} with no API keys: anyone who can reach this machine "
            "can use the characters and continue stored chats (create one with "
            "`personae keys create --user NAME`)",
            markup=False,
        )
