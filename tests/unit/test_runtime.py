"""The allocator tuning the `personae` command applies at start."""

from __future__ import annotations

import platform

import pytest

from personae import runtime


@pytest.fixture(autouse=True)
def untuned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "_tuned", False)
    monkeypatch.delenv("PERSONAE_MALLOC_TUNING", raising=False)


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_tunes_glibc_once() -> None:
    assert runtime.tune_allocator() is True
    assert runtime.tune_allocator() is True  # a second call changes nothing


@pytest.mark.parametrize("value", ["0", "false", "off", " no "])
def test_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PERSONAE_MALLOC_TUNING", value)
    assert runtime.tune_allocator() is False


def test_does_nothing_off_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime.platform, "system", lambda: "Darwin")
    assert runtime.tune_allocator() is False


def test_a_missing_libc_is_not_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_libc(*args: object, **kwargs: object) -> object:
        raise OSError("no libc here")

    monkeypatch.setattr(runtime.platform, "system", lambda: "Linux")
    monkeypatch.setattr(runtime.platform, "libc_ver", lambda: ("glibc", "2.36"))
    monkeypatch.setattr(runtime.ctypes, "CDLL", no_libc)
    assert runtime.tune_allocator() is False


def test_the_command_tunes_before_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    import personae.cli as cli

    calls: list[str] = []
    monkeypatch.setattr(cli, "tune_allocator", lambda: calls.append("tuned") or True)
    monkeypatch.setattr(cli, "cli", lambda: calls.append("ran"))
    cli.main()
    assert calls == ["tuned", "ran"]
