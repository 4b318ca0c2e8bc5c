"""Hostile connections on a raw TLS socket: requests aiohttp cannot parse get problem+json,
and slow clients are cut off once `read_timeout_seconds` has passed."""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import time
from urllib.parse import urlsplit

import pytest

from support import API

DEADLINE = 2.0
SLACK = 2.5  # scheduling on a busy two-core machine


def _address(server) -> tuple[str, int]:
    parts = urlsplit(server.url)
    assert parts.hostname is not None
    assert parts.port is not None
    return parts.hostname, parts.port


def _tls(server, timeout: float = 10.0) -> ssl.SSLSocket:
    context = ssl.create_default_context(cafile=str(server.trust_anchor))
    raw = socket.create_connection(_address(server), timeout=timeout)
    return context.wrap_socket(raw, server_hostname="127.0.0.1")


def _read_all(sock: ssl.SSLSocket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = sock.recv(65536)
        except (ConnectionError, ssl.SSLError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


LONG = "a" * 16 * 1024
UNPARSABLE = {
    "16 KiB header": f"GET {API}terms HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: {LONG}\r\n\r\n",
    "16 KiB request line": f"GET {API}terms?q={LONG} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "200 headers": f"GET {API}terms HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    + "".join(f"X-H{i}: v\r\n" for i in range(200))
    + "\r\n",
    "not http": "HELLO THERE\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(UNPARSABLE))
def test_requests_that_cannot_be_parsed_get_problem_json(server, name):
    with _tls(server) as sock:
        sock.sendall(UNPARSABLE[name].encode())
        status, headers, body = _parse(_read_all(sock))
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["code"] == "CCMS-REQUEST-INVALID"
    assert problem["status"] == 400
    assert problem["detail"]
    assert problem["reference"] == headers["x-request-id"]
    assert headers["server"] == "ccms-server"
    log = server.log_file.read_text()
    assert f"rid={problem['reference']}" in log
    assert "Traceback" not in log
    assert LONG not in log


def test_a_secret_in_an_unparsable_request_is_not_logged(server):
    with _tls(server) as sock:
        sock.sendall(
            f"GET {API}account HTTP/1.1\r\nAuthorization: Basic SECRETPIN\x01\r\n\r\n".encode()
        )
        status, _, _ = _parse(_read_all(sock))
    assert status == 400
    assert "SECRETPIN" not in server.log_file.read_text()


def _seconds_until_closed(sock: ssl.SSLSocket, drip: list[bytes], interval: float) -> float:
    """Send `drip` one piece per `interval`; the seconds until the server closed the socket."""
    started = time.monotonic()
    sock.settimeout(interval)
    for piece in drip:
        try:
            sock.sendall(piece)
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except (ConnectionError, ssl.SSLError, BrokenPipeError):
            return time.monotonic() - started
    pytest.fail(f"still open after {time.monotonic() - started:.1f} s of dripping")


@pytest.fixture
def strict_server(server_factory):
    return server_factory(read_timeout_seconds=DEADLINE)


def test_headers_dripped_byte_by_byte_are_cut_off(strict_server):
    with _tls(strict_server) as sock:
        drip = [f"GET {API}terms HTTP/1.1\r\n".encode()] + [b"X"] * 60
        assert _seconds_until_closed(sock, drip, 0.25) < DEADLINE + SLACK


def test_a_body_dripped_byte_by_byte_is_cut_off(strict_server):
    epoc = strict_server.add_account(accept_terms=False)
    with _tls(strict_server) as sock:
        head = (
            f"POST {API}terms/acceptances HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
        drip = [head.encode()] + [b" "] * 60
        assert _seconds_until_closed(sock, drip, 0.25) < DEADLINE + SLACK
    assert strict_server.account_row(epoc).terms_accepted_version is None
    _wait_for_log(strict_server, 'detail="the request did not arrive in time"')
    assert "Traceback" not in strict_server.log_file.read_text()


def _wait_for_log(server, text: str) -> None:
    deadline = time.monotonic() + 5
    while text not in server.log_file.read_text():
        assert time.monotonic() < deadline, f"{text!r} not logged"
        time.sleep(0.05)


def test_an_idle_connection_is_closed(strict_server):
    with _tls(strict_server) as sock:
        sock.settimeout(DEADLINE + SLACK + 5)
        started = time.monotonic()
        assert sock.recv(1) == b""
        assert time.monotonic() - started < DEADLINE + SLACK


def test_a_slow_tls_handshake_is_cut_off(strict_server):
    with socket.create_connection(_address(strict_server), timeout=DEADLINE + SLACK + 5) as raw:
        raw.sendall(b"\x16\x03\x01")  # the start of a ClientHello, and then nothing
        started = time.monotonic()
        with contextlib.suppress(ConnectionResetError):
            assert raw.recv(1024) == b""
        assert time.monotonic() - started < DEADLINE + SLACK


def test_requests_in_time_on_one_connection_are_answered(strict_server):
    with _tls(strict_server) as sock:
        for _ in range(3):
            sock.sendall(f"GET {API}terms HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            raw = b""
            while b"\r\n\r\n" not in raw:
                raw += sock.recv(65536)
            status, headers, body = _parse(raw)
            while len(body) < int(headers["content-length"]):
                body += sock.recv(65536)
            assert status == 200
            time.sleep(DEADLINE / 2)  # each request restarts the clock
