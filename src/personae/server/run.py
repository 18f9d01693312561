"""Running an app with uvicorn on a socket bound beforehand.

Binding first turns "port in use" or "no such host" into one clear error before anything slow
(loading a model) happens, and lets a caller listen on port 0 and learn the port it got.
"""

from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

from personae.errors import InvalidInput

if TYPE_CHECKING:
    import uvicorn


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (port 0: any free port), or a one-line error."""
    family, kind, proto, address = _address(host, port)
    return _bound(family, kind, proto, address, host=host, port=port)


def bind_each(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` sockets bound to one ``host:port`` with ``SO_REUSEPORT``, one per server
    process: the kernel gives each new connection to one of them by a hash of its addresses, so
    the processes get even shares, where on one shared socket the process that wakes first
    accepts a whole burst. One shared socket where the system has no ``SO_REUSEPORT``.

    The port is first bound alone, so a server already listening there (whose sockets could
    otherwise be joined) is "port in use", as with :func:`bind`; port 0 picks one free port for
    all of them."""
    first = bind(host, port)
    reuse_port = getattr(socket, "SO_REUSEPORT", None)
    if count == 1 or reuse_port is None or os.name == "nt":
        return [first]
    family, kind, proto, address = _address(host, first.getsockname()[1])
    first.close()
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sockets.append(
                _bound(family, kind, proto, address, host=host, port=port, reuse_port=reuse_port)
            )
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _address(host: str, port: int) -> tuple[socket.AddressFamily, socket.SocketKind, int, Any]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InvalidInput(
            f"cannot listen on {host!r}: {reason}; give --host an address such as 127.0.0.1",
            param="host",
        ) from None
    family, kind, proto, _, address = infos[0]
    return family, kind, proto, address


def _bound(
    family: socket.AddressFamily,
    kind: socket.SocketKind,
    proto: int,
    address: Any,
    *,
    host: str,
    port: int,
    reuse_port: int | None = None,
) -> socket.socket:
    sock = socket.socket(family, kind, proto)
    if os.name != "nt":  # elsewhere it lets a restarted server reuse the port at once
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port is not None:
        sock.setsockopt(socket.SOL_SOCKET, reuse_port, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise InvalidInput(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port "
            "or stop what is using it",
            param="port",
        ) from None
    return sock


def make_server(app: Any, *, log_level: str = "info") -> uvicorn.Server:
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level=log_level,
        lifespan="on",
        # A reply being streamed when Ctrl-C comes gets a few seconds to finish, no more.
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    return uvicorn.Server(config)


def serve(app: Any, sock: socket.socket, *, log_level: str = "info") -> None:
    """Serve until Ctrl-C (or SIGTERM)."""
    make_server(app, log_level=log_level).run(sockets=[sock])
