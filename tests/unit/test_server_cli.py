"""`personae serve`: options, one-line errors, and what it hands to uvicorn (never started)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result

from personae.backends import register_backend
from personae.cli import cli
from personae.errors import ConfigError
from personae.server import run as server_run
from tests.support.scripted import ScriptedBackend


class ServeBackend(ScriptedBackend):
    name = "serve-scripted"


@pytest.fixture(autouse=True)
def scripted_backend() -> None:
    register_backend("serve-scripted", ServeBackend)


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Replaces uvicorn: records what would have been served, returns at once."""
    calls: list[dict[str, Any]] = []

    def fake_serve(app: Any, sock: socket.socket, *, log_level: str = "info") -> None:
        calls.append({"app": app, "address": sock.getsockname(), "log_level": log_level})
        sock.close()

    monkeypatch.setattr(server_run, "serve", fake_serve)
    yield calls


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["serve", *args], catch_exceptions=False)


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0
    err = result.stderr.strip()
    assert err.startswith("error:") and "\n" not in err and "Traceback" not in err, err
    return err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--port", "notaport"], "not a port number"),
        (["--port", "0"], "not a port number"),
        (["--port", "70000"], "not a port number"),
        (["--parallel", "0"], "--parallel"),
        (["--parallel", "65"], "--parallel"),
        (["--max-queue", "-1"], "--max-queue"),
        (["--ctx", "x"], "--ctx"),
        (["--log-level", "loud"], "--log-level"),
        (["--prot", "80"], "--prot"),
        (["extra"], "extra"),
    ],
)
def test_bad_options_are_one_line(args: list[str], words: str, served: list[Any]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert words in one_line_error(result)
    assert served == []


def test_port_in_use_is_one_line(served: list[Any]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--backend", "serve-scripted", "--port", str(port))
    assert "cannot listen on 127.0.0.1" in one_line_error(result)
    assert served == []


def test_unknown_backend_is_one_line(served: list[Any]) -> None:
    result = run("--backend", "nope", "--port", str(free_port()))
    assert "unknown backend 'nope'" in one_line_error(result)
    assert served == []


def test_serves_on_loopback_by_default(served: list[Any]) -> None:
    port = free_port()
    result = run("--backend", "serve-scripted", "-m", "tiny", "--port", str(port), "--seed", "3")
    assert result.exit_code == 0, result.output
    [call] = served
    assert call["address"] == ("127.0.0.1", port)
    assert f"on http://127.0.0.1:{port}/v1 with serve-scripted tiny" in result.stderr
    assert "warning" not in result.stderr
    state = call["app"].state.personae
    assert state.params.seed == 3
    assert state.workers.backends.get("tiny").model == "tiny"  # the one loaded at startup


def test_parallel_queue_and_cors_reach_the_app(served: list[Any]) -> None:
    args = ["--backend", "serve-scripted", "--port", str(free_port()), "--parallel", "3"]
    args += ["--max-queue", "5", "--cors-origin", "http://localhost:3000", "--cors-origin", "*"]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "3 at once" in result.stderr
    app = served[0]["app"]
    admission = app.state.personae.workers.admission
    assert (admission.slots, admission.max_queue) == (3, 5)
    [cors] = [m for m in app.user_middleware if m.cls.__name__ == "CORSMiddleware"]
    assert cors.kwargs["allow_origins"] == ["http://localhost:3000", "*"]


def test_no_cors_unless_asked(served: list[Any]) -> None:
    assert run("--backend", "serve-scripted", "--port", str(free_port())).exit_code == 0
    app = served[0]["app"]
    assert not [m for m in app.user_middleware if m.cls.__name__ == "CORSMiddleware"]
    assert app.state.personae.workers.admission.slots == 8  # a non-embedded backend's default


def test_bad_server_settings_are_one_line(served: list[Any], personae_home: Any) -> None:
    port = str(free_port())
    bad_origin = run("--backend", "serve-scripted", "--port", port, "--cors-origin", "x/y")
    assert "error: --cors-origin: 'x/y' is not an origin" in one_line_error(bad_origin)
    (personae_home / "config.toml").write_text("[server]\nmax_queue = -3\n", encoding="utf-8")
    bad_config = run("--backend", "serve-scripted", "--port", port)
    assert "[server] max_queue must be a whole number" in one_line_error(bad_config)
    assert served == []


def test_warns_when_listening_beyond_this_machine(served: list[Any]) -> None:
    result = run("--backend", "serve-scripted", "--host", "0.0.0.0", "--port", str(free_port()))
    assert result.exit_code == 0, result.output
    assert "warning: listening on 0.0.0.0 with no API keys" in result.stderr
    assert "not implemented" not in result.stderr


def test_no_warning_beyond_this_machine_once_keys_exist(served: list[Any]) -> None:
    from personae.store.keys import KeyRepository
    from personae.store.library import open_library

    db = open_library()
    try:
        KeyRepository(db).create("mina")
    finally:
        db.close()
    result = run("--backend", "serve-scripted", "--host", "0.0.0.0", "--port", str(free_port()))
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr


def test_missing_server_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from personae.server.app import require_server_extra

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ConfigError, match=r"personae\[server\]"):
        require_server_extra()
    result = run("--backend", "serve-scripted", "--port", str(free_port()))
    assert "pip install 'personae[server]'" in one_line_error(result)


def test_allowed_hosts_and_the_host_name_reach_the_app(served: list[Any]) -> None:
    args = ["--backend", "serve-scripted", "--port", str(free_port()), "--host", "localhost"]
    result = run(*args, "--allowed-host", "MyBox.lan", "--allowed-host", ".corp.example")
    assert result.exit_code == 0, result.output
    app = served[0]["app"]
    [guard] = [m for m in app.user_middleware if m.cls.__name__ == "RequestGuard"]
    assert guard.kwargs["hosts"].names == ("mybox.lan", ".corp.example", "localhost")
    served.clear()
    assert run("--backend", "serve-scripted", "--port", str(free_port())).exit_code == 0
    [guard] = [m for m in served[0]["app"].user_middleware if m.cls.__name__ == "RequestGuard"]
    assert guard.kwargs["hosts"].names == ()  # 127.0.0.1 passes as an address anyway
    bad = run("--backend", "serve-scripted", "--port", str(free_port()), "--allowed-host", "a/b")
    assert "error: --allowed-host: 'a/b' is not a host name" in one_line_error(bad)
