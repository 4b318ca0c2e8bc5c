"""JSON request bodies, refused unparsed when nested deeper than any CCMS body needs.

Python's parser recurses once per level, so a body of a few thousand `[` would exhaust the
interpreter's recursion limit, and it would do so before the caller is authenticated.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 16
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")
_QUOTE, _BACKSLASH = ord('"'), ord("\\")


def load_json(body: bytes) -> Any:
    """The parsed body; ValueError if it is not JSON or nests deeper than MAX_DEPTH."""
    if _too_deep(body):
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(body)
    except RecursionError:  # not reachable after the depth check; kept as a second wall
        raise ValueError("JSON nested too deeply") from None


def _too_deep(body: bytes) -> bool:
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False  # the common case: no need to walk the body
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == _BACKSLASH:
                escaped = True
            elif byte == _QUOTE:
                in_string = False
        elif byte == _QUOTE:
            in_string = True
        elif byte in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif byte in _CLOSE:
            depth -= 1
    return False
