"""The web chat page in a real browser: Debian's Chromium, driven by Playwright, against the real
app served by uvicorn on 127.0.0.1 with the scripted backend streaming deterministic replies.

One walk through what a user does: give the API key, pick a character, chat in English and in
Korean (an IME composition must not be sent by its Enter), stop a reply, regenerate, edit and
delete messages, look at and add memories, import a card by dropping it on the page. It ends
with screenshots (desktop and a 375 px phone) in the test's tmp dir, or in the folder named by
PERSONAE_SCREENSHOTS: the README's are refreshed with
``PERSONAE_SCREENSHOTS=benchmarks/results/web python -m pytest tests/browser``.

Playwright's own browser downloads are never used: without /usr/bin/chromium (apt-get install
chromium) or the playwright package, the test is skipped.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from personae.characters.formats import card_bytes, placeholder_png
from personae.store import Database
from personae.store.keys import KeyRepository
from tests.support.factories import make_character
from tests.support.scripted import failing
from tests.support.server import Backends, live_server, make_app, wait_until

CHROMIUM = Path("/usr/bin/chromium")
# The README's screenshots, committed: a test run must leave them alone.
README_SHOTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "web"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="Debian's Chromium is not installed at /usr/bin/chromium "
        "(apt-get install chromium chromium-driver); Playwright's own browsers are not used",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (pip install playwright)"
)

ENGLISH_REPLY = "Your tan, Watson, and the way you hold your shoulder."
KOREAN_REPLY = "햇볕에 탄 얼굴과 군인다운 자세 덕분이지요, 왓슨."
LONG_REPLY = " ".join(f"clue{i}" for i in range(300))
REGENERATED = "A *fresh* deduction: you came from the surgery."

# A file dropped on the page, as the browser would hand it over: File in a DataTransfer.
DROP_JS = """([name, type, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], name, { type }));
  for (const kind of ['dragenter', 'dragover', 'drop']) {
    const init = { bubbles: true, cancelable: true, dataTransfer: data };
    document.body.dispatchEvent(new DragEvent(kind, init));
  }
}"""

# Counts changes to the message list, to see a reply arrive in pieces rather than at once.
WATCH_JS = """() => {
  window.__updates = 0;
  const watch = { childList: true, subtree: true, characterData: true };
  new MutationObserver(() => { window.__updates += 1; })
    .observe(document.getElementById('messages'), watch);
}"""


# Records each Enter the message box sees: whether it came during a composition, its keyCode.
KEYS_JS = """() => {
  window.__enters = [];
  document.getElementById('input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter') window.__enters.push([e.isComposing, e.keyCode]);
  }, true);
}"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, Backends]]:
    backends = Backends()
    backends.default.delay = 0.05
    backends.default.enqueue(
        ENGLISH_REPLY,
        KOREAN_REPLY,
        failing(2, "Let me think", message="the model ran out of memory"),
        LONG_REPLY,
        REGENERATED,
    )
    app = make_app(tmp_path, backends)
    with Database(tmp_path / "server.db") as db:
        _, key = KeyRepository(db).create("watson", "browser test")
    with live_server(app) as base_url:
        yield base_url.removesuffix("/v1"), key, backends


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where the screenshots go: only into the tree when asked, so a test run leaves it clean."""
    wanted = os.environ.get("PERSONAE_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _file_states(folder: Path) -> dict[str, tuple[int, int]]:
    files = sorted(folder.glob("*.png")) if folder.is_dir() else []
    return {f.name: (f.stat().st_mtime_ns, f.stat().st_size) for f in files}


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
            reduced_motion="reduce",  # no sliding panels half-way in a screenshot
        )
        context.set_default_timeout(10_000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def _problems(page: Any) -> list[str]:
    """JavaScript errors and CSP violations seen on the page (4xx loads are expected)."""
    seen: list[str] = []
    page.on("pageerror", lambda exc: seen.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            seen.append(f"console: {msg.text}")
            if msg.type == "error" and "Failed to load resource" not in msg.text
            else None
        ),
    )
    return seen


def _send(page: Any, text: str) -> None:
    box = page.locator("#input")
    box.fill(text)
    box.press("Enter")


def _last_reply(page: Any) -> Any:
    return page.locator("#messages .msg.assistant").last


def _api(base: str, key: str, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"}
    response = httpx.request(method, base + path, headers=headers, timeout=10, **kwargs)
    assert response.status_code < 400, response.text
    return response.json() if response.content else None


def test_chatting_in_the_browser(server: tuple[str, str, Backends], page: Any, shots: Path) -> None:
    base, key, backends = server
    committed = _file_states(README_SHOTS)
    problems = _problems(page)
    expect = sync_api.expect

    # The API wants a key: the page asks for it, keeps it and carries on.
    page.goto(base + "/")
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#key-message")).to_contain_text("API key")
    page.fill("#key-input", key)
    page.locator("#key-form button[type=submit]").click()
    expect(dialog).to_be_hidden()
    assert page.evaluate("localStorage.getItem('personae.apiKey')") == key

    # Pick Holmes: his greeting opens the chat.
    holmes = page.locator('#characters button.character[data-id="holmes"]')
    expect(page.locator("#characters button.character")).to_have_count(2)
    holmes.click()
    expect(holmes).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#messages")).to_contain_text("You have been in Afghanistan")

    # English: Enter sends, the reply streams in piece by piece.
    page.evaluate(WATCH_JS)
    _send(page, "How did you know?")
    expect(page.locator("#messages .msg.streaming")).to_have_count(1)
    expect(page.locator("#stop")).to_be_visible()
    expect(_last_reply(page).locator(".text")).to_have_text(ENGLISH_REPLY)
    expect(page.locator("#send")).to_be_visible()
    assert page.evaluate("window.__updates") >= 5  # word by word, not all at once
    expect(page.locator("#chats .chat-item")).to_have_count(1)

    # Korean with an IME: Enter while composing must not send the half-typed syllable.
    box = page.locator("#input")
    box.focus()
    page.evaluate(KEYS_JS)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.imeSetComposition", {"text": "한", "selectionStart": 1, "selectionEnd": 1})
    page.keyboard.press("Enter")
    cdp.send("Input.insertText", {"text": "한"})  # the syllable is committed: composition over
    # Safari's order: compositionend first, then the Enter that ended it, as keyCode 229.
    enter = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 229}
    cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", **enter})
    cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", **enter})
    page.wait_for_timeout(300)
    assert page.evaluate("window.__enters") == [[True, 13], [False, 229]]
    expect(page.locator("#messages .msg")).to_have_count(3)  # greeting, question, reply
    assert box.input_value().startswith("한")  # still in the box, not sent
    box.fill("")
    page.keyboard.insert_text("안녕하세요, 홈즈 씨. 어떻게 아셨어요?")
    page.keyboard.press("Shift+Enter")  # a new line, not a send
    page.keyboard.insert_text("궁금해요.")
    expect(box).to_have_value("안녕하세요, 홈즈 씨. 어떻게 아셨어요?\n궁금해요.")
    page.keyboard.press("Enter")
    expect(_last_reply(page).locator(".text")).to_have_text(KOREAN_REPLY)
    expect(_last_reply(page).locator(".text")).to_have_attribute("lang", "ko")
    korean_question = page.locator("#messages .msg.user").last
    expect(korean_question).to_contain_text("궁금해요.")

    # A failure after streaming began arrives as an error event: its message is shown, and
    # what arrived stays, marked incomplete.
    _send(page, "And then?")
    expect(page.locator("#notice.error")).to_contain_text("the model ran out of memory")
    expect(_last_reply(page).locator(".text")).to_have_text("Let me")
    expect(_last_reply(page).locator(".badge")).to_have_text("incomplete")
    page.locator("#notice-close").click()

    # Stop a long reply: the partial reply is kept, marked incomplete.
    _send(page, "Tell me everything.")
    expect(_last_reply(page).locator(".text")).to_contain_text("clue3")
    page.locator("#stop").click()
    expect(page.locator("#notice")).to_contain_text("Stopped")
    expect(_last_reply(page).locator(".badge")).to_have_text("incomplete")
    # The server sees the browser's abort a moment after the page shows it: wait for it.
    wait_until(lambda: backends.default.closed_early == 2, what="the stopped reply's close")

    # Regenerate the (stopped) last reply.
    _last_reply(page).get_by_role("button", name="Regenerate").click()
    expect(_last_reply(page).locator(".text")).to_have_text(
        "A fresh deduction: you came from the surgery."
    )
    expect(_last_reply(page).locator(".text em")).to_have_text("fresh")
    expect(_last_reply(page).locator(".badge")).to_have_count(0)

    # Edit the first question, delete the last one.
    first_question = page.locator("#messages .msg.user").first
    first_question.get_by_role("button", name="Edit").click()
    first_question.locator("textarea.editor").fill("How did you know, Holmes?")
    first_question.get_by_role("button", name="Save").click()
    expect(page.locator("#messages .msg.user").first.locator(".text")).to_have_text(
        "How did you know, Holmes?"
    )
    page.once("dialog", lambda d: d.accept())
    asked = page.locator("#messages .msg.user", has_text="Tell me everything.")
    asked.get_by_role("button", name="Delete").click()
    expect(asked).to_have_count(0)

    chat_id = int(page.locator("#chats .chat-item").first.get_attribute("data-id") or 0)
    stored = _api(base, key, "GET", f"/api/chats/{chat_id}")
    texts = [(m["role"], m["content"], m["status"]) for m in stored["messages"]]
    assert ("user", "How did you know, Holmes?", "complete") in texts
    assert "Tell me everything." not in [text for _, text, _ in texts]
    assert ("user", "안녕하세요, 홈즈 씨. 어떻게 아셨어요?\n궁금해요.", "complete") in texts
    assert texts[-1] == ("assistant", REGENERATED, "complete")

    # The memory panel: what the character knows, and a note added from the page.
    _api(
        base,
        key,
        "POST",
        "/api/memories",
        json={"text": "Watson served in Afghanistan.", "kind": "fact", "character": "holmes"},
    )
    page.get_by_role("button", name="Memory").click()
    panel = page.locator("#memory-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("#profile")).to_contain_text("Watson served in Afghanistan.")
    page.fill("#memory-text", "Watson takes his tea black.")
    page.fill("#memory-label", "tea")
    panel.get_by_role("button", name="Add", exact=True).click()
    note = panel.locator("#memories .memory", has_text="tea black")
    expect(note).to_have_count(1)
    note = panel.locator(f'.memory[data-id="{note.get_attribute("data-id")}"]')
    note.get_by_role("button", name="Edit").click()
    note.locator("textarea.editor").fill("Watson takes his tea with milk.")
    note.get_by_role("button", name="Save").click()
    expect(panel.locator("#memories")).to_contain_text("tea with milk")
    memories = _api(base, key, "GET", "/api/memories?character=holmes")["data"]
    assert "Watson takes his tea with milk." in [m["text"] for m in memories]

    # Import by dropping files: a broken card gets the server's message; a PNG card is added,
    # with its avatar fetched (with the key) into a blob: URL.
    _drop(page, "broken.json", "application/json", b'{"name": ')
    expect(page.locator("#notice")).to_have_class("notice error")
    assert page.locator("#notice-text").inner_text().strip()
    mycroft = make_character(
        "Mycroft",
        description="Mycroft Holmes, of the Diogenes Club.",
        first_mes="My brother speaks of you, doctor.",
    )
    png = card_bytes(mycroft, "png", placeholder_png("Mycroft"))
    _drop(page, "mycroft.png", "image/png", png)
    expect(page.locator("#notice")).to_contain_text("Imported Mycroft")
    picked = page.locator("#characters button.character", has_text="Mycroft")
    expect(picked).to_have_attribute("aria-pressed", "true")
    expect(picked.locator("img.avatar")).to_have_attribute("src", _blob_url())
    expect(page.locator("#messages")).to_contain_text("My brother speaks of you")

    holmes.click()
    expect(page.locator("#memories")).to_contain_text("tea with milk")
    _screenshot_desktop(page, shots)
    _screenshot_phone(page, holmes, shots)
    assert problems == []
    assert {"chat.png", "chat-mobile.png"} <= set(_file_states(shots))
    if "PERSONAE_SCREENSHOTS" not in os.environ:
        assert _file_states(README_SHOTS) == committed, "the test rewrote committed screenshots"


def _blob_url() -> re.Pattern[str]:
    return re.compile(r"^blob:http://127\.0\.0\.1:\d+/")


def _drop(page: Any, name: str, content_type: str, data: bytes) -> None:
    page.evaluate(DROP_JS, [name, content_type, base64.b64encode(data).decode()])


def _dismiss_notice(page: Any) -> None:
    if page.locator("#notice").is_visible():
        page.locator("#notice-close").click()
    sync_api.expect(page.locator("#notice")).to_be_hidden()


def _screenshot_desktop(page: Any, shots: Path) -> None:
    _dismiss_notice(page)
    page.screenshot(path=str(shots / "chat.png"))


def _screenshot_phone(page: Any, holmes: Any, shots: Path) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    _dismiss_notice(page)
    page.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Characters").click()
    holmes.click()
    sync_api.expect(page.locator("#sidebar")).not_to_have_class("sidebar open")
    sync_api.expect(page.locator("#messages")).to_contain_text("you came from the surgery")
    page.screenshot(path=str(shots / "chat-mobile.png"))


def test_a_best_of_n_reply_says_it_is_choosing_until_one_is_chosen(
    tmp_path: Path, page: Any
) -> None:
    # Holmes answers best-of-2: nothing of a reply shows until both candidates are done and one
    # is chosen, so the empty reply says what is happening (issue 15's "choosing…" state).
    backends = Backends()
    backends.default.delay = 0.15  # per piece: time enough to see the state
    backends.default.enqueue(ENGLISH_REPLY, REGENERATED)
    app = make_app(
        tmp_path, backends, server={"reply": {"holmes": {"strategy": "best-of-n", "n": 2}}}
    )
    expect = sync_api.expect
    problems = _problems(page)
    with live_server(app) as base_url:
        page.goto(base_url.removesuffix("/v1") + "/?lang=ko")
        page.locator('#characters button.character[data-id="holmes"]').click()
        _send(page, "어떻게 아셨어요?")
        waiting = _last_reply(page).locator(".text")
        expect(waiting).to_have_attribute("data-waiting", "답 2개 중에서 고르는 중…")
        expect(page.locator("#messages .msg.streaming")).to_have_count(1)
        assert waiting.evaluate("e => getComputedStyle(e, '::before').content").strip('"') == (
            "답 2개 중에서 고르는 중…"
        )
        expect(waiting).not_to_be_empty(timeout=20_000)
        expect(page.locator("#messages .msg.streaming")).to_have_count(0, timeout=20_000)
        assert waiting.evaluate("e => getComputedStyle(e, '::before').content") in (
            "none",
            "normal",
        )
    assert problems == []
