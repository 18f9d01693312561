"""The web chat page, served by the same server (no build step, no CDN).

``GET /`` is the page and ``/static/NAME`` its files, read from package data. The page is
public; what it shows comes from the ``/api`` and ``/v1`` routes, which check the API key the
page sends (``Authorization: Bearer KEY``, kept in the browser's localStorage).

Only plain file names of the known kinds are served from the ``static`` folder itself, so no
path (``..``, ``%2e%2e``, a slash) can reach another file. Every response carries a strict
Content-Security-Policy: the page runs only its own script and style, and talks only to its own
origin. Files are sent with an ETag and ``no-cache``, so a browser revalidates (a 304 when
nothing changed) and an upgraded server never leaves a stale script in a cache.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from personae.server.errors import APIError

router = APIRouter(include_in_schema=False)

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' blob: data:",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
}
# Short names only: the file system refuses long ones with an error, not a plain "missing".
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\.(html|css|js|svg|png)")


@dataclass(frozen=True)
class Asset:
    data: bytes
    content_type: str
    etag: str


_cache: dict[str, Asset] = {}


def load_asset(name: str) -> Asset | None:
    """The static file ``name``, or None when there is none (or the name is not a plain file
    name of a served kind). Package data does not change while the server runs, so files found
    are kept."""
    if name in _cache:
        return _cache[name]
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    file = resources.files(__name__).joinpath("static", name)
    try:
        if not file.is_file():
            return None
        data = file.read_bytes()
    except OSError:
        return None
    etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
    asset = Asset(data, CONTENT_TYPES[match.group(1)], etag)
    _cache[name] = asset
    return asset


def _send(request: Request, asset: Asset) -> Response:
    headers = {**SECURITY_HEADERS, "ETag": asset.etag}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else asset.data
    response = Response(body, media_type=asset.content_type, headers=headers)
    if request.method == "HEAD":
        response.headers["Content-Length"] = str(len(asset.data))
    return response


@router.api_route("/", methods=["GET", "HEAD"])
def index(request: Request) -> Response:
    """The chat page."""
    asset = load_asset("index.html")
    if asset is None:  # a broken install: the package data was left out
        raise APIError("the web page is missing from this install", status=500, code="no_page")
    return _send(request, asset)


@router.api_route("/static/{name:path}", methods=["GET", "HEAD"])
def static(name: str, request: Request) -> Response:
    """One of the page's files (its script, style sheet and icon)."""
    asset = load_asset(name)
    if asset is None:
        shown = name if len(name) <= 80 else name[:80] + "…"
        raise APIError(
            f"no such file: /static/{shown}",
            status=404,
            code="not_found",
            param="path",
        )
    return _send(request, asset)
