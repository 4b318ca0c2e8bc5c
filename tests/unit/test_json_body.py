"""JSON bodies: deep nesting is refused before the parser sees it; brackets in strings are text."""

from __future__ import annotations

import json

import pytest

from ccms_server.http.json_body import MAX_DEPTH, load_json


def test_nesting_up_to_the_limit_parses():
    body = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert load_json(body.encode()) == eval(body)  # noqa: S307 - a literal built above


@pytest.mark.parametrize(
    "body",
    [
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
        '{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1),
        "[" * 60_000,  # unbalanced: refused for depth, not left to the parser
    ],
)
def test_deeper_nesting_is_refused(body):
    with pytest.raises(ValueError, match="nested"):
        load_json(body.encode())


def test_brackets_and_escaped_quotes_inside_strings_do_not_count():
    value = {"version": "1", "note": "{" * 100, "list": [{"q": '\\"' + "[" * 100}]}
    assert load_json(json.dumps(value).encode()) == value


def test_not_json_is_a_value_error():
    with pytest.raises(ValueError):
        load_json(b"not json")
    with pytest.raises(ValueError):
        load_json(b"\xff\xfe")
