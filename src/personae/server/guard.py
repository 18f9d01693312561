"""Guards every request passes before any route sees it, against web pages that use the
visitor's browser to reach a server on their machine. They hold while the server has no API keys
(anyone who reaches it may use it): with keys such a page has nothing to send, since the key
travels in a header, never in a cookie a browser would add for it.

* **Content types.** A page on any site may send a "simple" cross-origin POST — with a
  ``text/plain``, form or multipart body, or none at all — without the browser asking the server
  first (no CORS preflight). So POST, PUT and PATCH must say what they carry with a type a
  page cannot send unasked: ``application/json`` for the JSON routes (all of ``/v1``), a card's
  own type (``image/png``, ``application/json``, ``application/zip``,
  ``application/octet-stream``) for card uploads. Any other type makes a browser ask first, and
  the server grants only the origins given with ``--cors-origin``.
* **Host.** A DNS-rebinding page (``evil.example`` re-pointed at 127.0.0.1) is same-origin with
  the server as far as the browser knows, so it could read what the server answers. Its
  requests still say ``Host: evil.example``. So the server answers only Host names that cannot
  be re-pointed this way: IP addresses, ``localhost``, and the names the operator lists
  (``--allowed-host``, ``[server] allowed_hosts``). The port is not compared: it adds nothing
  against rebinding, and SSH tunnels and container port maps change it.

Also here: JSON request bodies are checked for nesting depth before they are parsed (the parser
recurses) and for lone UTF-16 surrogates after (``"\\ud800"`` is valid JSON but not text: it
cannot be stored or sent on as UTF-8).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from personae.server.errors import APIError, error_response, param_name

MAX_JSON_DEPTH = 100
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# What a page may send cross-origin without a preflight (the Fetch standard's CORS-safelisted
# request content types); "" is no Content-Type at all, which a page's fetch() also sends.
SIMPLE_TYPES = frozenset(
    {"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
_SHOWN_HOST_CHARS = 100

# A JSON string, escapes included; the closing quote is optional so that an unterminated string
# ends the match at the end of the body instead of being retried from every later quote.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DEPTH_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


# -- hosts ---------------------------------------------------------------------------------------


def host_name(header: str) -> str:
    """The name in a Host header, lower-case, without its port, brackets or final dot."""
    host = header.strip().lower()
    if host.startswith("["):  # [::1]:8000
        return host[1:].partition("]")[0]
    if host.count(":") == 1:
        host = host.partition(":")[0]
    return host.rstrip(".")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class HostPolicy:
    """Which Host names an open server answers besides IP addresses and ``localhost``.
    ``names``: exact names, or ``.example.com`` for that domain and its subdomains; ``*`` in
    them turns the check off."""

    names: tuple[str, ...] = ()

    @classmethod
    def of(cls, names: Iterable[str]) -> HostPolicy:
        cleaned: list[str] = []
        for name in names:
            text = name.strip().lower()
            if text != "*" and not text.startswith("."):
                text = host_name(text)
            if text and text not in cleaned:
                cleaned.append(text)
        return cls(tuple(cleaned))

    def allows(self, host: str) -> bool:
        if not host or "*" in self.names:
            return True
        if _is_ip(host) or host == "localhost" or host.endswith(".localhost"):
            # Nobody can point these names at another machine from outside it.
            return True
        return any(
            host == name or (name.startswith(".") and (host == name[1:] or host.endswith(name)))
            for name in self.names
        )


def host_refused(host: str) -> APIError:
    shown = host if len(host) <= _SHOWN_HOST_CHARS else host[:_SHOWN_HOST_CHARS] + "…"
    return APIError(
        f"this server has no API keys, so it only answers requests addressed to this machine "
        f"(localhost or an IP address), not to {shown!r}: open it as http://127.0.0.1:PORT/, "
        f"or start it with `--allowed-host {shown}` if that name is yours, or create API keys "
        "(`personae keys create --user NAME`)",
        status=403,
        code="host_not_allowed",
    )


# -- content types -------------------------------------------------------------------------------


def media_type(header: str) -> str:
    """``application/json; charset=utf-8`` → ``application/json``."""
    return header.partition(";")[0].strip().lower()


def is_json_type(kind: str) -> bool:
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


def content_type_refused(method: str, path: str, kind: str) -> APIError | None:
    """The 415 for a ``method`` request to ``path`` with body type ``kind``, or None if fine."""
    if method not in BODY_METHODS:
        return None
    if path.startswith("/v1/"):
        if is_json_type(kind):
            return None
        what = "no Content-Type" if not kind else f"Content-Type {kind!r}"
        return _unsupported(f"this route takes JSON, but the request has {what}")
    if kind not in SIMPLE_TYPES:
        return None
    what = "no Content-Type" if not kind else f"a {kind} body"
    return _unsupported(
        f"the request has {what}, which any web page could send unasked, so a server without "
        "API keys refuses it"
    )


def _unsupported(why: str) -> APIError:
    return APIError(
        f"{why}: send 'Content-Type: application/json' with a JSON body (a card upload: the "
        "card's own type, e.g. image/png or application/json; with curl, -H 'Content-Type: "
        "application/json')",
        status=415,
        code="unsupported_media_type",
    )


class RequestGuard:
    """ASGI middleware applying the content-type and Host rules above, before any route (and
    any body) is read, while ``keys_required()`` is false (it is asked only about a request
    that breaks a rule, so the usual request costs no look-up)."""

    def __init__(
        self, app: ASGIApp, *, hosts: HostPolicy, keys_required: Callable[[], bool]
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.keys_required = keys_required

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        problem = content_type_refused(
            scope["method"], scope["path"], media_type(headers.get("content-type", ""))
        )
        if problem is None:
            host = host_name(headers.get("host", ""))
            if not self.hosts.allows(host):
                problem = host_refused(host)
        if problem is None or self.keys_required():
            await self.app(scope, receive, send)
            return
        await error_response(problem)(scope, receive, send)


# -- JSON bodies ---------------------------------------------------------------------------------


def json_depth(raw: bytes) -> int:
    """How deeply the arrays and objects of JSON text ``raw`` nest (brackets inside strings do
    not count), without parsing it: linear in its length, with no recursion."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets)), default=0)


def check_json_depth(raw: bytes, limit: int = MAX_JSON_DEPTH) -> None:
    """A 400 for a body nested deeper than ``limit`` (before the recursive parser sees it)."""
    if json_depth(raw) > limit:
        raise APIError(
            f"the request body is nested deeper than {limit} levels: send a plain JSON object",
            code="invalid_json",
        )


def check_text(data: Any) -> None:
    """A 400 naming the parameter where parsed JSON ``data`` holds a lone UTF-16 surrogate."""
    stack: list[tuple[Any, tuple[int | str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, str):
            bad = _LONE_SURROGATE.search(value)
            if bad is not None:
                raise _surrogate(bad.group(), path)
        elif isinstance(value, dict):
            for key, item in value.items():
                if _LONE_SURROGATE.search(key):
                    raise _surrogate(_LONE_SURROGATE.findall(key)[0], path)
                stack.append((item, (*path, key)))
        elif isinstance(value, list):
            stack.extend((item, (*path, i)) for i, item in enumerate(value))


def _surrogate(char: str, path: tuple[int | str, ...]) -> APIError:
    param = param_name(path) or None
    where = f" in {param!r}" if param else ""
    escaped = json.dumps(char)
    return APIError(
        f"the request body has a lone UTF-16 surrogate ({escaped}){where}, which is not text: "
        "send valid Unicode (an emoji cut in half is the usual cause)",
        param=param,
        code="invalid_value",
    )
