"""Dropping a SillyTavern World Info file on the web page, in Debian's Chromium: it is imported
as a lorebook (not refused as a broken card), attached to the selected character, and its entries
reach the next reply's prompt. A card JSON dropped the same way is still a card."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.test_web_chat import ARGS, CHROMIUM, DROP_JS
from tests.support.factories import make_character
from tests.support.server import Backends, live_server, make_app

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

WORLD = {
    "entries": {
        "0": {
            "uid": 0,
            "key": ["dragon"],
            "keysecondary": [],
            "comment": "Dragons",
            "content": "DRAGON-LORE: dragons guard Eldoria.",
            "constant": False,
            "selective": True,
            "order": 100,
            "position": 0,
            "disable": False,
        }
    }
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Backends]]:
    backends = Backends()
    backends.default.enqueue("A dragon? Nonsense, Watson.")
    with live_server(make_app(tmp_path, backends)) as base_url:
        yield base_url.removesuffix("/v1"), backends


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 800},
            locale="en-US",
        )
        context.set_default_timeout(10_000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def _drop(page: Any, name: str, data: bytes) -> None:
    page.evaluate(DROP_JS, [name, "application/json", base64.b64encode(data).decode()])


def test_dropping_a_world_info_file_attaches_a_lorebook(
    server: tuple[str, Backends], page: Any
) -> None:
    base, backends = server
    expect = sync_api.expect
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(base + "/")
    holmes = page.locator('#characters button.character[data-id="holmes"]')
    holmes.click()
    expect(holmes).to_have_attribute("aria-pressed", "true")

    _drop(page, "Eldoria.json", json.dumps(WORLD).encode())
    expect(page.locator("#notice")).to_contain_text("Imported lorebook Eldoria → Holmes")
    books = httpx.get(base + "/api/lorebooks", params={"character": "holmes"}, timeout=10)
    assert [b["name"] for b in books.json()["data"]] == ["Eldoria"]
    assert len(page.locator("#characters button.character").all()) == 2  # no character added

    box = page.locator("#input")
    box.fill("I saw a dragon on the moor.")
    box.press("Enter")
    expect(page.locator("#messages .msg.assistant").last).to_contain_text("Nonsense, Watson")
    sent = "\n".join(m.content for m in backends.default.calls[-1][0])
    assert "DRAGON-LORE" in sent

    # A card's JSON is still a card.
    card = make_character("Lestrade", first_mes="Another case, Mr Holmes?")
    _drop(page, "lestrade.json", json.dumps(card.to_card_dict()).encode())
    expect(page.locator("#notice")).to_contain_text("Imported Lestrade")
    assert errors == []
