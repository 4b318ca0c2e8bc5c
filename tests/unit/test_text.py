"""Text from the network made safe to show (ecmt.domain.text): escape sequences, controls,
bidi overrides and line breaks go; whitespace collapses; the length is capped."""

from __future__ import annotations

import unicodedata

import pytest

from ecmt.domain.text import ELLIPSIS, LIMIT, clean_lines, clean_text

ESC = "\x1b"


def printable(text: str) -> bool:
    return not any(unicodedata.category(c).startswith("C") for c in text)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (f"{ESC}[31;1mCall 0900 666 666{ESC}[0m", "Call 0900 666 666"),  # CSI colours
        (f"a{ESC}]0;owned{chr(7)}b", "ab"),  # OSC window title ended by BEL
        (f"a{ESC}]2;owned{ESC}\\b", "ab"),  # ... ended by ST
        (f"a{ESC}]8;;https://evil.example{ESC}\\link{ESC}]8;;{ESC}\\", "alink"),  # hyperlink
        (f"a{ESC}Pq#0;2;0;0;0{ESC}\\b", "ab"),  # DCS (sixel)
        ("a\x9b2Jb\x9d0;t\x07c", "abc"),  # 8-bit CSI and OSC
        (f"{ESC}[2J{ESC}[HInstalled", "Installed"),  # clear screen, cursor home
        (f"{ESC}7{ESC}8{ESC}(Bx", "x"),  # two-byte escapes
        ("Bad PIN\rInstalled OK", "Bad PIN Installed OK"),  # carriage return
        ("line one\nline two\r\n\tthree", "line one line two three"),
        ("ding\x07\x00\x08\x7f", "ding"),  # BEL, NUL, backspace, DEL
        ("\u202egnp.exe\u202c \u2066x\u2069 \u200fy", "gnp.exe x y"),  # bidi controls
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("a\u2028b\u2029c\x85d", "a b c d"),  # Unicode line breaks
        ("lone \ud800 surrogate", "lone surrogate"),  # would not even encode as UTF-8
        ("   many    spaces   ", "many spaces"),
        (f"unterminated {ESC}]0;title that never ends", "unterminated"),
        ("Dr Zoë Ó Briain, Café", "Dr Zoë Ó Briain, Café"),  # letters stay
    ],
)
def test_clean_text(raw, shown):
    assert clean_text(raw) == shown


def test_the_length_is_capped_with_an_ellipsis():
    text = clean_text("A" * 12 * 1024)
    assert len(text) == LIMIT
    assert text.endswith(ELLIPSIS)
    assert clean_text("B" * 50, limit=10) == "B" * 9 + ELLIPSIS
    assert clean_text("C" * 10, limit=10) == "C" * 10


def test_the_cap_counts_what_is_left_after_cleaning():
    assert clean_text(f"{ESC}[31m" * 1000 + "short") == "short"


def test_anything_becomes_text():
    assert clean_text(None) == "None"
    assert clean_text({"a": "\x1b[31mb"}) == "{'a': '\\x1b[31mb'}"  # repr escaped it


def test_every_code_point_is_either_dropped_or_printable():
    everything = "".join(chr(c) for c in range(0x3000))
    assert printable(clean_text(everything, limit=10**6))


def test_clean_lines_keeps_lines_and_tabs_but_nothing_else():
    raw = f"one\r\ntwo{ESC}[2K\n\tthree\rfour\x07"
    assert clean_lines(raw) == "one\ntwo\n\tthree four"
    assert clean_lines("x" * 5000) == "x" * 5000  # not capped
