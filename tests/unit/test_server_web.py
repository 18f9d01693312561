"""The web page's own routes: ``/`` and ``/static/...`` from package data, with a strict CSP,
the right content types, ETags, and no way out of the static folder."""

from __future__ import annotations

import asyncio
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from personae.server.web import CSP, load_asset
from tests.support.server import make_app


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(make_app(tmp_path))


def test_the_page_is_served_with_a_strict_policy(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    policy = response.headers["content-security-policy"]
    assert policy == CSP
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["img-src"] == "'self' blob: data:"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no CDN
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-cache"
    page = response.text
    assert '<script type="module" src="/static/app.js"></script>' in page
    assert '<link rel="stylesheet" href="/static/app.css">' in page
    assert '<meta charset="utf-8">' in page
    assert "http://" not in page and "https://" not in page  # offline: nothing from elsewhere


def test_the_page_needs_no_key(tmp_path: Path) -> None:
    from personae.store import Database
    from personae.store.keys import KeyRepository

    client = TestClient(make_app(tmp_path))
    with Database(tmp_path / "server.db") as db:
        KeyRepository(db).create("watson")
    assert client.get("/").status_code == 200
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/v1/models").status_code == 401  # while the API still wants one


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("app.js", "text/javascript; charset=utf-8"),
        ("app.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
        ("index.html", "text/html; charset=utf-8"),
    ],
)
def test_static_files_have_their_content_types(
    client: TestClient, name: str, content_type: str
) -> None:
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["content-security-policy"] == CSP
    assert response.content == load_asset(name).data  # type: ignore[union-attr]


IMPORT = re.compile(r"import \{[^}]*\} from '(\./[a-z0-9][a-z0-9_-]*\.js)';")


def _scripts(client: TestClient) -> dict[str, str]:
    """The page's scripts by name: app.js and every module it imports, directly or not, each
    fetched as the browser would (relative to /static/, so the CSP's 'self' allows it)."""
    found: dict[str, str] = {}
    todo = ["app.js"]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"] == "text/javascript; charset=utf-8", name
        found[name] = response.text
        for line in response.text.splitlines():
            if line.startswith("import"):
                match = IMPORT.fullmatch(line)  # one line each, a sibling file, nothing else
                assert match is not None, (name, line)
                todo.append(match.group(1).removeprefix("./"))
    return found


def test_the_scripts_are_modules_with_no_outside_references(client: TestClient) -> None:
    scripts = _scripts(client)
    static = resources.files("personae.server.web").joinpath("static")
    shipped = {f.name for f in static.iterdir() if f.name.endswith(".js")}
    assert set(scripts) == shipped  # every module is reached from app.js; none is left over
    for name, script in scripts.items():
        for forbidden in ("http://", "https://", "eval(", "innerHTML", "document.write", "import("):
            assert forbidden not in script, (name, forbidden)
        assert len(script.splitlines()) < 300, name  # one concern each, kept small
    css = client.get("/static/app.css").text
    assert "@import" not in css and "url(" not in css  # no outside fonts or images


def test_etag_revalidation_gives_304(client: TestClient) -> None:
    first = client.get("/static/app.css")
    etag = first.headers["etag"]
    again = client.get("/static/app.css", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = client.get("/static/app.css", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.content == first.content


def test_head_gives_the_headers_without_the_body(client: TestClient) -> None:
    response = client.head("/")
    assert response.status_code == 200 and response.content == b""
    assert int(response.headers["content-length"]) == len(client.get("/").content)


def test_unknown_static_files_are_404_with_an_error_body(client: TestClient) -> None:
    response = client.get("/static/nope.js")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and "/static/nope.js" in error["message"]
    assert client.get("/static/").status_code == 404
    assert client.get("/static/.hidden.js").status_code == 404
    assert client.get("/static/app.py").status_code == 404  # not a served kind


@pytest.mark.parametrize(
    "path",
    [
        "/static/../__init__.py",
        "/static/../../app.py",
        "/static/%2e%2e/__init__.py",
        "/static/%2e%2e%2f__init__.py",
        "/static/..%2f..%2fapp.py",
        "/static/%2e%2e/%2e%2e/app.py",
        "/static/..%5c__init__.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
    ],
)
def test_paths_out_of_the_static_folder_are_refused(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "error" in response.json()
    assert "import" not in response.text and "root:" not in response.text


@pytest.mark.parametrize(
    "name",
    ["../__init__.py", "../../app.py", "..", ".", "", "/etc/passwd", "a/../app.js", "APP.JS"],
)
def test_load_asset_takes_only_plain_names(name: str) -> None:
    assert load_asset(name) is None


def _raw_get(app: Any, path: str) -> tuple[int, bytes]:
    """A GET with ``path`` exactly as given, as a client that does not tidy dot segments (curl
    --path-as-is, a raw socket) would send it: httpx would normalize ``..`` away first."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


@pytest.mark.parametrize(
    "path",
    [
        "/static/../__init__.py",
        "/static/../../app.py",
        "/static/./../__init__.py",
        "/static/..\\app.py",
    ],
)
def test_dot_segments_sent_as_is_are_refused(tmp_path: Path, path: str) -> None:
    status, body = _raw_get(make_app(tmp_path), path)
    assert status == 404
    assert json.loads(body)["error"]["code"] == "not_found"
