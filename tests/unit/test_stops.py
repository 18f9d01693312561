from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from personae.agent.stops import ReplyFilter, stop_strings


def run(deltas: list[str], char: str = "Sherlock", user: str = "Mina") -> tuple[str, bool]:
    f = ReplyFilter(char, user)
    shown = "".join(f.feed(d) for d in deltas) + f.finish()
    assert shown == f.text
    return shown, f.stopped


def test_stop_strings_cover_name_variants_and_fullwidth_colon() -> None:
    stops = stop_strings("민아")
    assert "\n민아:" in stops and "\n민아：" in stops and "\nUser:" in stops


def test_leading_character_name_is_removed() -> None:
    assert run(["Sher", "lock: Ele", "mentary."]) == ("Elementary.", False)


def test_user_line_ends_the_reply() -> None:
    assert run(["Indeed.", "\nMi", "na: and then I"]) == ("Indeed.", True)


def test_reply_that_starts_as_the_user_is_empty() -> None:
    assert run(["mina", ": I think so"]) == ("", True)


def test_generic_user_label_and_case() -> None:
    assert run(["Well.\nUSER: x"]) == ("Well.", True)


def test_korean_fullwidth_colon() -> None:
    assert run(["좋소.\n민아：", " 네"], char="홍길동", user="민아") == ("좋소.", True)
    assert run(["홍길동：", " 아버지를"], char="홍길동", user="민아") == ("아버지를", False)


def test_text_that_merely_starts_like_a_name_is_kept() -> None:
    assert run(["S", "o it is."]) == ("So it is.", False)
    assert run(["Mi", "nd you."]) == ("Mind you.", False)


def test_inner_newlines_kept_trailing_space_dropped() -> None:
    assert run(["Hello", "\n\nWatson", "!\n  "]) == ("Hello\n\nWatson!", False)


@given(st.text(max_size=80), st.integers(1, 7))
def test_any_split_gives_the_same_result(text: str, size: int) -> None:
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    assert run(pieces) == run([text])


def test_start_marker_opening_the_reply_is_dropped() -> None:
    """Small models copy the example chats' layout and open with <START>; the reply follows."""
    assert run(["<STA", "RT>\n홍길동: 허허, ", "반갑소."], char="홍길동") == (
        "허허, 반갑소.",
        False,
    )
    assert run(["<start>  Elementary."]) == ("Elementary.", False)
    assert "<START>" not in stop_strings("Mina") and "\n<START>" in stop_strings("Mina")


def test_start_marker_later_ends_the_reply() -> None:
    assert run(["Indeed.\n<START>\nMina: hi"]) == ("Indeed.", True)
    assert run(["<START>\n<START>\nx"]) == ("x", False)  # leading markers, however many


def test_text_that_merely_starts_like_the_marker_is_kept() -> None:
    assert run(["<", "b>bold</b>"]) == ("<b>bold</b>", False)


def test_a_continuation_keeps_its_joining_space_and_starts_mid_line() -> None:
    f = ReplyFilter("Sherlock", "Mina", continues="He looked at")
    shown = "".join(f.feed(d) for d in [" Sherlock", ": the", " door.", "\nMina:", " hi"])
    shown += f.finish()
    # Mid-line, "Sherlock:" is words of the message, not a speaker's label; a new line is.
    assert shown == f.text == " Sherlock: the door." and f.stopped


def test_a_continuation_after_a_line_break_is_checked_like_a_new_line() -> None:
    f = ReplyFilter("Sherlock", "Mina", continues="Quite so.\n")
    assert f.feed("Mina: and I?") + f.finish() == "" and f.stopped
    f = ReplyFilter("Sherlock", "Mina", continues="Quite so.\n")
    assert f.feed("\n*He nods.*") + f.finish() == "\n*He nods.*"
