"""The helpdesk guide covers every problem code a client can meet, and the protocol page
lists each with the status the server sends."""

from __future__ import annotations

import re
from pathlib import Path

from ccms_protocol.wire import ProblemCode

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_problem_code_has_a_helpdesk_entry():
    headings = set(re.findall(r"^### (CCMS-[A-Z-]+)\s*$", (DOCS / "helpdesk.md").read_text(), re.M))
    assert headings == {code.value for code in ProblemCode}


def test_every_problem_code_is_in_the_protocol_table():
    rows = re.findall(
        r"^\| (\d{3}) \| `(CCMS-[A-Z-]+)` \|", (DOCS / "protocol.md").read_text(), re.M
    )
    assert sorted(rows) == sorted((str(code.status), code.value) for code in ProblemCode)
