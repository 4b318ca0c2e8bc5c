"""`ecmt` against a hostile server: what the server says in an error answer reaches the
terminal, the JSON and the log only as one clean, capped line; a slow server is named as
slow, not as unreachable."""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from client_cli import Run, ecmt

from ccms_protocol.wire import MEDIA_PROBLEM
from hostile_server import Behaviour, HostileServer

ESC, BEL = "\x1b", "\x07"
HOSTILE = {
    "ansi": f"{ESC}[2K{ESC}[32mInstalled OK{ESC}[0m {ESC}[31;1mCall 0900 666 666{ESC}[0m",
    "osc": f"{ESC}]0;ecmt: certificate installed{BEL}{ESC}]8;;https://evil.example{ESC}\\x",
    "bel": f"ding{BEL}{BEL}{BEL}dong",
    "cr": "Wrong PIN\rInstalled OK, valid until 2099      ",
    "newline": "Wrong PIN\necmt: Installed: new certificate in the store\n  What to do: nothing",
    "bidi": "\u202eKO dellatsnI\u202c",
    "long": "A" * 12 * 1024,
}


def printable(text: str) -> bool:
    """Nothing but printable characters and line breaks."""
    return all(c == "\n" or not unicodedata.category(c).startswith("C") for c in text)


def log_text(home: Path) -> str:
    logs = list((home / ".local" / "state").rglob("ecmt.log"))
    assert logs, "no log written"
    return "".join(p.read_text(encoding="utf-8") for p in logs)


def assert_clean(text: str, longest: int = 400) -> None:
    assert printable(text), repr(text[:400])
    for line in text.splitlines():
        assert len(line) <= longest, line[:80]
        assert not line.startswith(("Installed", "ecmt: Installed")), line


@pytest.fixture
def hostile() -> Iterator[list[HostileServer]]:
    started: list[HostileServer] = []
    yield started
    for peer in started:
        peer.stop()


def problem(text: str, status: int = 401, code: str = "CCMS-AUTH-INVALID") -> Behaviour:
    body = {
        "type": "about:blank",
        "title": text,
        "status": status,
        "detail": text,
        "code": code,
        "reference": text,
        "attempts_remaining": 3,
    }
    return Behaviour(
        status=status,
        headers=[("Content-Type", MEDIA_PROBLEM), ("X-Request-ID", text[:200])],
        body=json.dumps(body).encode(),
    )


def run(peer: HostileServer, home: Path, *args: str, stdin: str | None = None) -> Run:
    return ecmt(
        *args,
        "--server",
        peer.url,
        "--trust-anchor",
        str(peer.trust_anchor),
        "--store",
        f"files:{home / 'store'}",
        home=home,
        stdin=stdin,
        timeout=60,
    )


@pytest.mark.parametrize("kind", list(HOSTILE))
@pytest.mark.parametrize("json_mode", [False, True], ids=["human", "json"])
def test_a_hostile_problem_document_reaches_no_terminal_or_log(hostile, tmp_path, kind, json_mode):
    text = HOSTILE[kind]
    peer = HostileServer(problem(text)).start()
    hostile.append(peer)
    flags = ["--json"] if json_mode else []
    result = run(peer, tmp_path, "renew", "--epoc", "1234567", "--pin-stdin", *flags, stdin="PIN\n")
    assert result.returncode == 3, result.stderr
    sent_id = peer.wait_served().request.header("X-Request-ID")
    assert_clean(result.stdout)
    assert_clean(result.stderr)
    assert_clean(log_text(tmp_path), longest=600)
    assert "Traceback" not in result.stderr
    assert f"Reference for the helpdesk: {sent_id}" in result.stderr
    (detail,) = [line for line in result.stderr.splitlines() if line.startswith("  Detail: ")]
    assert len(detail) <= len("  Detail: ") + 300
    if json_mode:
        answer = result.json
        assert answer["code"] == "ECMT-AUTH-INVALID"
        assert answer["reference"] == sent_id
        assert printable(answer["detail"])
        assert len(answer["detail"]) <= 300


def test_a_hostile_error_page_from_the_terms_call(hostile, tmp_path):
    page = f"<html><title>{HOSTILE['ansi']}</title><body>{HOSTILE['osc']}</body></html>"
    peer = HostileServer(
        Behaviour(status=502, headers=[("Content-Type", "text/html")], body=page.encode())
    ).start()
    hostile.append(peer)
    result = run(peer, tmp_path, "terms")
    assert result.returncode == 5, result.stderr
    assert_clean(result.stderr)
    assert "Detail: HTTP 502: Installed OK Call 0900 666 666" in result.stderr
    assert_clean(log_text(tmp_path), longest=600)


def test_a_dripping_server_is_named_slow_not_unreachable(hostile, tmp_path):
    peer = HostileServer(Behaviour(head_pause=0.5)).start()
    hostile.append(peer)
    config = tmp_path / "deadline.toml"
    config.write_text("request_deadline = 2\nread_timeout = 5\n")
    started = time.monotonic()
    result = run(peer, tmp_path, "--config", str(config), "terms")
    elapsed = time.monotonic() - started
    assert result.returncode == 5, result.stderr
    assert "ECMT-NETWORK-TIMEOUT: The certificate service took too long to answer" in (
        result.stderr
    )
    assert "answered too slowly" in result.stderr
    assert "cannot be reached" not in result.stderr
    assert elapsed < 2 + 8, elapsed  # the deadline, plus starting a Python process
