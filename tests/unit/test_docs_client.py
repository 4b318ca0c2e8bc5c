"""The client's docs keep up with the code: every error code has its helpdesk section, and
every `ecmt` subcommand its section in the CLI guide."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from ecmt.cli.arguments import SUBCOMMANDS as COMMANDS
from ecmt.cli.output import exit_code_for
from ecmt.domain.errors import MESSAGES, ErrorCode

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _ecmt_sections() -> dict[str, str]:
    """`### ECMT-…` heading -> its text up to the next heading, whitespace collapsed."""
    sections: dict[str, str] = {}
    for block in re.split(r"^(?=#{1,3} )", _read("helpdesk.md"), flags=re.M):
        heading, _, body = block.partition("\n")
        match = re.fullmatch(r"###\s+(ECMT-\S*)\s*", heading)
        if match:
            sections[match.group(1)] = " ".join(body.split())
    return sections


def test_every_error_code_has_exactly_one_helpdesk_heading():
    headings = Counter(re.findall(r"^###\s+(ECMT-\S*)", _read("helpdesk.md"), re.M))
    assert set(headings) == {code.value for code in ErrorCode}
    assert {heading: n for heading, n in headings.items() if n > 1} == {}


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda code: code.value)
def test_helpdesk_section_quotes_the_message_and_the_exit_code(code):
    section = _ecmt_sections()[code.value]
    title, advice = MESSAGES[code]
    assert f'"{title}"' in section
    assert f'"{advice}"' in section
    stated = re.findall(r"\*\*`ecmt` exit code:\*\* (\d+)", section)
    assert stated == [str(exit_code_for(code))]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_subcommand_has_a_heading_in_the_cli_guide(name):
    word = rf"(?<![\w-]){re.escape(name)}(?![\w-])"
    assert re.search(rf"^#{{1,6}} .*{word}", _read("cli.md"), re.M), name


def test_cli_exit_code_table_matches_the_code():
    listed: dict[str, list[int]] = {}
    for status, codes in re.findall(r"^\| (\d+) \|[^|\n]*\|([^\n]*)\|\s*$", _read("cli.md"), re.M):
        for code in re.findall(r"ECMT-[A-Z-]+", codes):
            listed.setdefault(code, []).append(int(status))
    assert listed == {code.value: [exit_code_for(code)] for code in ErrorCode}
