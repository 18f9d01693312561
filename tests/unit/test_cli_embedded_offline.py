"""`personae ask` on the embedded backend where llama.cpp's HTTP listener cannot be reached (a
sandbox without loopback, ``unshare -n``): it still replies, says once that token counts are
estimated, and a failed start is one line. llama.cpp is faked (tests/support/fake_llama.py)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result

from personae.backends import embedded_start, registry
from personae.backends.base import parse_options
from personae.backends.embedded import EmbeddedBackend, EmbeddedOptions
from personae.cli import cli
from tests.support.fake_llama import FakeLlamaServer, gguf_file, refusing, reply

PIECES = ("Elementary,", " my", " dear", " friend.")
REPLY = "".join(PIECES)


class OfflineEmbedded(EmbeddedBackend):
    """The embedded backend on a fake llama.cpp whose listener refuses every connection."""

    made: ClassVar[list[FakeLlamaServer]] = []
    fail_with: ClassVar[BaseException | None] = None

    @classmethod
    def from_options(cls, **options: Any) -> EmbeddedBackend:
        def factory(params: Any) -> FakeLlamaServer:
            if cls.fail_with is not None:
                raise cls.fail_with
            cls.made.append(FakeLlamaServer(params, script=[reply(*PIECES)]))
            return cls.made[-1]

        transport, _ = refusing()
        return cls(
            parse_options(EmbeddedOptions, cls.name, options),
            server_factory=factory,
            http_transport=transport,
        )


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._registered, "embedded", OfflineEmbedded)
    monkeypatch.setattr(OfflineEmbedded, "made", [])
    monkeypatch.setattr(OfflineEmbedded, "fail_with", None)


def ask(model: Path, *extra: str) -> Result:
    args = ["ask", "sherlock", "Who are you?", "--backend", "embedded", "--model", str(model)]
    return CliRunner().invoke(cli, [*args, *extra], catch_exceptions=False)


def test_ask_replies_and_says_once_that_counts_are_estimated(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = gguf_file(tmp_path / "tiny.gguf")
    with caplog.at_level(logging.WARNING, logger="personae.backends.embedded"):
        result = ask(model)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == REPLY
    assert "Traceback" not in result.output and "error:" not in result.stderr
    notes = [r for r in caplog.records if r.name == "personae.backends.embedded"]
    assert len(notes) == 1, "the estimate is said once, not for every count"
    assert "estimated" in notes[0].getMessage()
    [server] = OfflineEmbedded.made
    assert server.requests, "the reply came from the in-process runtime"


def test_ask_json_reports_the_runtime_usage(tmp_path: Path) -> None:
    model = gguf_file(tmp_path / "tiny.gguf")
    result = ask(model, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["reply"] == REPLY and body["backend"] == "embedded"
    assert body["usage"]["completion_tokens"] == len(PIECES)


def test_a_start_that_fails_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded_start, "listener_bind_error", lambda host="127.0.0.1": None)
    monkeypatch.setattr(embedded_start, "memory_limit", lambda: None)
    monkeypatch.setattr(
        OfflineEmbedded, "fail_with", RuntimeError("Failed to init server, please check the input")
    )
    model = gguf_file(tmp_path / "tiny.gguf")
    result = ask(model)
    assert result.exit_code == 1
    err = result.stderr.strip()
    assert err.startswith("error: llama.cpp could not load") and "may be damaged" in err
    assert "\n" not in err and "Traceback" not in result.output


def test_a_file_that_is_not_gguf_is_one_line_and_starts_nothing(tmp_path: Path) -> None:
    model = tmp_path / "notes.gguf"
    model.write_text("these are my notes", encoding="utf-8")
    result = ask(model)
    assert result.exit_code == 1
    err = result.stderr.strip()
    assert err.startswith("error:") and "not a GGUF model" in err and "\n" not in err
    assert OfflineEmbedded.made == []
