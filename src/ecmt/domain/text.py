"""Text from outside (a server's error answer, a header, an exception's message) made safe to
show and to log.

A terminal obeys escape sequences: colours, cursor moves, a window title (OSC); a carriage
return overwrites the line and bidi overrides reorder what is read. A hostile answer could
print a fake "Installed" line or a fake helpdesk number. `clean_text` keeps printable
characters only, on one line, and caps the length.
"""

from __future__ import annotations

import re
import unicodedata

LIMIT = 300
ELLIPSIS = "…"

# control strings (OSC, DCS, SOS, PM, APC), 7-bit or C1, up to BEL or ST or the end
_STRING = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
)
_CSI = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?")
_ESCAPE = re.compile(r"\x1b[ -/]*[0-~]?")
_SPACES = frozenset("\t\n\v\f\r\x1c\x1d\x1e\x1f\x85\u2028\u2029")


def _without_sequences(text: str) -> str:
    return _ESCAPE.sub("", _CSI.sub("", _STRING.sub("", text)))


def _printable(char: str, keep: str) -> str:
    """Unicode category C (controls, format characters such as bidi overrides, surrogates,
    private use, unassigned) goes; line breaks and tabs become a space unless kept."""
    if char in keep:
        return char
    if char in _SPACES:
        return " "
    return "" if unicodedata.category(char).startswith("C") else char


def clean_text(value: object, limit: int = LIMIT) -> str:
    """One printable line of at most `limit` characters (an ellipsis marks a cut)."""
    text = str(value)[: limit * 64]  # bounds the work; nothing past the cap is shown
    text = "".join(_printable(c, "") for c in _without_sequences(text))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + ELLIPSIS
    return text


def clean_lines(text: str) -> str:
    """Like `clean_text` but keeps line breaks and tabs and does not cap: for multi-line
    text this program composed, as a last defence before it reaches a terminal or a log."""
    text = text.replace("\r\n", "\n")
    return "".join(_printable(c, "\n\t") for c in _without_sequences(text))
