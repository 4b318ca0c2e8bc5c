"""The second line of defence: even an error or a message that was never cleaned where it
entered reaches the terminal, the JSON and the log without control characters."""

from __future__ import annotations

import json
import logging
import unicodedata

from ecmt.cli.output import Output
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.logsetup import configure

RAW = "\x1b]0;owned\x07\x1b[31mCall 0900 666 666\x1b[0m\rInstalled OK\n" + "A" * 12000


def printable(text: str) -> bool:
    return all(c == "\n" or not unicodedata.category(c).startswith("C") for c in text)


def test_an_error_with_raw_text_is_printed_clean(capsys):
    Output(json_mode=False).error(EcmtError(ErrorCode.SERVER_ERROR, RAW, reference=RAW))
    printed = capsys.readouterr()
    assert printable(printed.err)
    assert max(len(line) for line in printed.err.splitlines()) < 1100
    assert "  Detail: Call 0900 666 666 Installed OK AAA" in printed.err


def test_json_error_with_raw_text_is_clean(capsys):
    Output(json_mode=True).error(EcmtError(ErrorCode.SERVER_ERROR, RAW, reference=RAW))
    answer = json.loads(capsys.readouterr().out)
    assert printable(answer["detail"])
    assert "\n" not in answer["detail"]
    assert len(answer["reference"]) <= 64


def test_results_and_progress_keep_their_lines_but_lose_controls(capsys):
    out = Output(json_mode=False)
    out.say("Logged on as \x1b[8mDr X\x1b[0m\r")
    out.result({}, "line one\x07\nline two")
    printed = capsys.readouterr()
    assert printed.err == "Logged on as Dr X \n"
    assert printed.out == "line one\nline two\n"
    Output(json_mode=True).result({"name": "\x1b[31mX\x1b[0m", "n": [1, "\x07"]}, "")
    assert json.loads(capsys.readouterr().out) == {"status": "ok", "name": "X", "n": [1, ""]}


def test_the_log_has_one_clean_line_per_record(tmp_path):
    path = configure(tmp_path / "logs")
    log = logging.getLogger("ecmt.test")
    log.warning("server said %s", RAW)
    try:
        raise ValueError("bad \x1b[31mthing\x1b[0m")
    except ValueError:
        log.exception("failed \x07")
    for handler in logging.getLogger("ecmt").handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert printable(text)
    lines = text.splitlines()
    assert "server said Call 0900 666 666 Installed OK AAA" in lines[0]
    assert len(lines[0]) <= 4000
    assert lines[1].endswith("failed")
    assert "ValueError: bad thing" in text  # the traceback keeps its lines
