"""Keep the model from writing the user's lines.

Two layers: stop strings sent to the backend (cheap, stop generation at once), and
:class:`ReplyFilter`, which watches the streamed text line by line and catches what stop strings
miss: a reply that *starts* as the user, case variants, the full-width colon Korean keyboards
produce, and a leading "Name:" the model puts before the character's own words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from personae.characters.user_names import (
    PLACEHOLDER_USER_NAME,
    SPEAKER_LABELS,
    is_neutral,
    is_placeholder,
)

_SEPARATORS = (":", "：")
# "사용자:" labels the user's lines in a Korean card's examples when the user has no name.
_GENERIC_USER_NAMES = ("user", "{{user}}", "<user>", *SPEAKER_LABELS.values())
START = "<START>"
# The placeholder as a word of its own ("looks at User", "User's"), not "Username" or "user".
_PLACEHOLDER_WORD = re.compile(rf"(?<![\w@#/]){PLACEHOLDER_USER_NAME}(?!\w)")
_PLACEHOLDER_TAIL = re.compile(r"(?<![\w@#/])U(?:s(?:e(?:r)?)?)?$")


def stop_strings(user_name: str) -> tuple[str, ...]:
    """Stop sequences for a chat with ``user_name`` (sent to the backend)."""
    names = dict.fromkeys([user_name, user_name.title(), *SPEAKER_LABELS.values(), "{{user}}"])
    stops = [f"\n{name}{sep}" for name in names if name for sep in _SEPARATORS]
    # "<START>" separates example chats. Only one after a line break ends the reply; one the
    # model opens with (small models copy the examples' layout) is dropped by ReplyFilter.
    stops.append(f"\n{START}")
    return tuple(stops)


class ReplyFilter:
    """Streaming cleaner for a character's reply.

    ``feed(delta)`` returns the text that is safe to show now; text that might still turn out
    to be the start of ``"Name:"`` is held back until it can be decided (a few characters at
    most). A line that starts with a user name ends the reply (``stopped`` becomes true); a
    line that starts with the character's name loses that prefix. ``<START>`` opening the reply
    is dropped; on a later line it ends the reply.

    ``continues``: the text of the message this reply continues. The reply then starts inside
    that message's last line, where no "Name:" can begin (unless it ended with a line break),
    and keeps its leading space or line break: it is glued straight onto that text.

    When ``user_name`` is a real name (not a placeholder, not the neutral "you"), the word
    "User" in the reply becomes that name: the model copied the placeholder from somewhere (an
    old chat's greeting, a card), and the user should not be called "User".
    """

    def __init__(
        self,
        char_name: str,
        user_name: str,
        extra_user_names: Iterable[str] = (),
        *,
        continues: str | None = None,
    ):
        self._users = _labels([user_name, *extra_user_names, *_GENERIC_USER_NAMES])
        self._chars = _labels([char_name, "{{char}}", "<bot>"])
        self._buf = ""
        self._continuing = continues is not None
        self._checking = continues is None or continues.endswith("\n")
        self._spaces = ""
        self._rename = (
            user_name.strip()
            if not is_placeholder(user_name) and not is_neutral(user_name)
            else None
        )
        self._held = ""  # the end of the shown text that may still become "User"
        self.text = ""
        self.stopped = False

    def feed(self, delta: str) -> str:
        if self.stopped or not delta:
            return ""
        self._buf += delta
        return self._drain(final=False)

    def finish(self) -> str:
        """Flush what is held back at the end of the stream; trailing space is dropped."""
        if self.stopped:
            tail = self._renamed("", final=True)
            self.text += tail
        else:
            tail = self._drain(final=True)
        clean = self.text.rstrip()
        cut = len(self.text) - len(clean)
        self.text = clean
        return tail[: max(0, len(tail) - cut)]

    def _drain(self, *, final: bool) -> str:
        out: list[str] = []
        while self._buf:
            start = 0
            if self._checking:
                body = self._buf.lstrip()
                lead = self._buf[: len(self._buf) - len(body)]
                verdict, size = self._classify(body)
                if verdict == "wait" and not final:
                    break
                if verdict == "start" and not self.text and not out:
                    self._buf = body[size:].lstrip()
                    continue
                if verdict in ("user", "start"):
                    self.stopped = True
                    self._buf = ""
                    break
                if verdict == "char":
                    body = body[size:].lstrip(" \t")
                if not self.text and not out and not self._continuing:
                    lead = ""  # no leading blank lines in a reply
                self._buf = lead + body
                start = len(lead)
                self._checking = False
            newline = self._buf.find("\n", start)
            if newline == -1:
                out.append(self._buf)
                self._buf = ""
                break
            out.append(self._buf[:newline])
            self._buf = self._buf[newline:]
            self._checking = True
        text = "".join(out)
        if not self.text and not self._continuing:
            text = text.lstrip()
        if text:
            # Spaces are shown only once something follows them, so a reply never ends in one.
            text = self._spaces + text
            body = text if final else text.rstrip()
            self._spaces = text[len(body) :]
            text = body
        text = self._renamed(text, final=final)
        self.text += text
        return text

    def _renamed(self, text: str, *, final: bool) -> str:
        """``text`` with the placeholder word replaced by the user's name; a last word that
        may still grow into it ("Us") waits for the next piece."""
        if self._rename is None:
            return text
        # The last character already shown decides whether "User" starts a word.
        shown = self.text[-1:]
        text = shown + self._held + text
        self._held = ""
        if not final and (tail := _PLACEHOLDER_TAIL.search(text, len(shown))):
            self._held = text[tail.start() :]
            text = text[: tail.start()]
        name, start = self._rename, len(shown)
        renamed = _PLACEHOLDER_WORD.sub(lambda m: name if m.start() >= start else m[0], text)
        return renamed[start:]

    def _classify(self, body: str) -> tuple[str, int]:
        if not body:
            return "wait", 0
        low = body.lower()
        marker = START.lower()
        if low.startswith(marker):
            return "start", len(marker)
        undecided = marker.startswith(low)
        for verdict, labels in (("user", self._users), ("char", self._chars)):
            for label in labels:
                if low.startswith(label):
                    return verdict, len(label)
                if label.startswith(low):
                    undecided = True
        return ("wait", 0) if undecided else ("text", 0)


def _labels(names: Iterable[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        name = name.strip().lower()
        if not name:
            continue
        for sep in _SEPARATORS:
            for label in (f"{name}{sep}", f"**{name}**{sep}", f"**{name}{sep}**"):
                if label not in out:
                    out.append(label)
    return out
