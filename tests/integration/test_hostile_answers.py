"""The client's transport against a hostile server over real TLS on loopback: answers far
too large, headers and bodies dripped past any deadline, plain-text error pages, a 401 to
a certificate, and references that are not request ids."""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from tls_fixtures import issue_leaf, make_ca

from ccms_protocol.wire import MEDIA_PKCS7, MEDIA_PROBLEM
from ecmt.ccms import transport
from ecmt.ccms.api import ApiClient
from ecmt.ccms.est import EstClient
from ecmt.ccms.transport import Transport
from ecmt.config import load_settings
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import ClientIdentity
from ecmt.keys import build_csr, generate
from hostile_server import Behaviour, HostileServer
from support import Harness, client_settings

MiB = 1024 * 1024
SLACK = 3.0  # seconds: two shared cores, TLS handshakes, thread start-up
BLOCK = b"A" * 65536


@pytest.fixture(autouse=True)
def _leaks_show_in_the_test_that_made_them() -> Iterator[None]:
    yield
    gc.collect()


@pytest.fixture
def hostile() -> Iterator[Callable[..., HostileServer]]:
    started: list[HostileServer] = []

    def start(script: Any, **kwargs: Any) -> HostileServer:
        peer = HostileServer(script, **kwargs).start()
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.stop()


def settings(peer: HostileServer, tmp_path: Path, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "server_url": peer.url,
        "trust_anchors": [peer.trust_anchor],
        "data_dir": tmp_path / "client" / "data",
        "log_dir": tmp_path / "client" / "logs",
        "state_dir": tmp_path / "client" / "state",
        **overrides,
    }
    return load_settings(files=[], **values)


def raises(code: ErrorCode, call: Callable[[], object]) -> EcmtError:
    with pytest.raises(EcmtError) as caught:
        call()
    assert caught.value.code is code, caught.value
    return caught.value


def pkcs7(**kw: Any) -> Behaviour:
    return Behaviour(headers=[("Content-Type", MEDIA_PKCS7)], **kw)


# --- size ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "framing", [{"length": None}, {"chunked": True}], ids=["until-close", "chunked"]
)
def test_an_endless_answer_is_refused_soon_after_the_limit(hostile, tmp_path, framing):
    peer = hostile(pkcs7(body=BLOCK, repeat=1024, **framing))  # 64 MiB
    with Transport(settings(peer, tmp_path)) as t:
        error = raises(ErrorCode.RESPONSE_TOO_LARGE, EstClient(t).cacerts)
    served = peer.wait_served()
    assert error.reference == served.request.header("X-Request-ID")
    assert not served.complete
    assert served.error  # the client hung up: broken pipe or reset
    # what was written is the limit plus what the sockets' buffers took, not 64 MiB
    assert served.sent < 16 * MiB, served.sent


def test_a_huge_content_length_is_refused_before_the_body_is_read(hostile, tmp_path):
    peer = hostile(pkcs7(body=BLOCK, repeat=64, length=3 * 1024 * MiB, pause=0.5))
    started = time.monotonic()
    with Transport(settings(peer, tmp_path)) as t:
        error = raises(ErrorCode.RESPONSE_TOO_LARGE, EstClient(t).cacerts)
    assert time.monotonic() - started < SLACK
    assert "3221225472" in (error.detail or "")
    served = peer.wait_served(timeout=5)
    assert not served.complete
    assert served.sent < 4 * len(BLOCK)


def test_an_answer_at_the_limit_is_read(hostile, tmp_path):
    assert MiB == transport.MAX_BODY
    peer = hostile(Behaviour(status=204, body=b""))
    with Transport(settings(peer, tmp_path)) as t:
        assert t.request("GET", "/x", ok=(204,)).body == b""
    peer = hostile(Behaviour(body=b"B" * MiB))
    with Transport(settings(peer, tmp_path)) as t:
        assert len(t.request("GET", "/x").body) == MiB


def test_a_huge_error_page_is_quoted_not_refused(hostile, tmp_path):
    peer = hostile(
        Behaviour(status=500, headers=[("Content-Type", "text/plain")], body=BLOCK, repeat=80)
    )
    with Transport(settings(peer, tmp_path)) as t:
        error = raises(ErrorCode.SERVER_ERROR, EstClient(t).cacerts)
    assert (error.detail or "").startswith("HTTP 500: AAAA")
    assert len(error.detail or "") <= 300
    assert peer.wait_served().sent < 16 * MiB


# --- time ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "drip",
    [
        Behaviour(head_pause=0.25),  # the status line and headers, a byte at a time
        Behaviour(body=b"x" * 200, piece=1, pause=0.25),  # the body, a byte at a time
        Behaviour(body=b"x" * 200, chunked=True, piece=1, pause=0.25),
    ],
    ids=["headers", "body", "chunked-body"],
)
def test_a_dripping_server_meets_the_deadline(hostile, tmp_path, drip):
    peer = hostile(drip)
    deadline = 2.0
    started = time.monotonic()
    with Transport(settings(peer, tmp_path, request_deadline=deadline, read_timeout=5)) as t:
        error = raises(ErrorCode.NETWORK_TIMEOUT, EstClient(t).cacerts)
    elapsed = time.monotonic() - started
    assert deadline <= elapsed + 0.1
    assert elapsed < deadline + SLACK, elapsed
    assert "answered too slowly" in (error.detail or "")
    assert error.title == "The certificate service took too long to answer"
    assert error.reference == t.last_request_id
    assert not peer.wait_served().complete


def test_a_pause_in_the_body_is_a_timeout_not_an_unreachable_service(hostile, tmp_path):
    """requests reports a read timeout in the body as a connection error."""
    peer = hostile(pkcs7(body=b"x" * 100, piece=10, pause=3))
    with Transport(settings(peer, tmp_path, read_timeout=0.5)) as t:
        raises(ErrorCode.NETWORK_TIMEOUT, EstClient(t).cacerts)


def test_the_deadline_leaves_kept_alive_connections_alone(server: Harness, tmp_path):
    """The watchdog of a finished request must not cut the pooled connection later."""
    with Transport(client_settings(server, tmp_path / "client", request_deadline=1)) as t:
        est = EstClient(t)
        est.cacerts()
        time.sleep(1.5)
        est.cacerts()
        assert len(est.cacerts()) == 2


# --- what error answers say ----------------------------------------------------------------


def test_a_plain_text_error_is_kept_cleaned_in_the_detail(hostile, tmp_path):
    body = b"Maintenance until 18:00\r\n\x1b[31mCall 0900 666 666\x1b[0m\x07"
    peer = hostile(Behaviour(status=503, headers=[("Content-Type", "text/plain")], body=body))
    with Transport(settings(peer, tmp_path)) as t:
        error = raises(ErrorCode.SERVICE_UNAVAILABLE, EstClient(t).cacerts)
    assert error.detail == "HTTP 503: Maintenance until 18:00 Call 0900 666 666"


@pytest.mark.parametrize(
    "echoed", ["\x1b[31mCall 0900 666 666", "not-a-request-id", str(uuid.uuid4()) + "x"]
)
def test_a_request_id_header_that_is_not_one_is_ignored(hostile, tmp_path, echoed):
    peer = hostile(Behaviour(status=500, headers=[("X-Request-ID", echoed)]))
    with Transport(settings(peer, tmp_path)) as t:
        error = raises(ErrorCode.SERVER_ERROR, EstClient(t).cacerts)
    assert error.reference == peer.wait_served().request.header("X-Request-ID")


def test_a_problem_reference_that_is_not_a_request_id_is_ignored(hostile, tmp_path):
    body = b'{"title": "x", "status": 503, "code": "CCMS-UNAVAILABLE", "reference": "0900 666"}'
    peer = hostile(Behaviour(status=503, headers=[("Content-Type", MEDIA_PROBLEM)], body=body))
    with Transport(settings(peer, tmp_path)) as t:
        error = raises(ErrorCode.SERVICE_UNAVAILABLE, EstClient(t).cacerts)
    assert error.reference == t.last_request_id


# --- 401 to a certificate ------------------------------------------------------------------


@pytest.fixture
def identity() -> tuple[ClientIdentity, bytes]:
    """A client certificate from a throwaway CA, and that CA's PEM for the server."""
    ca = make_ca("Throwaway Client CA")
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = issue_leaf(ca, names=["client"], usages=None, key=key)
    return ClientIdentity(leaf.cert, key, (ca.cert,)), ca.pem


@pytest.mark.parametrize(
    "answer",
    [
        Behaviour(status=401, headers=[("WWW-Authenticate", 'Basic realm="est"')]),
        Behaviour(status=401, headers=[("Content-Type", "text/html")], body=b"<h1>401</h1>"),
        Behaviour(
            status=401,
            headers=[("Content-Type", MEDIA_PROBLEM)],
            body=b'{"title": "Unauthorized", "status": 401, "code": "CCMS-AUTH-INVALID"}',
        ),
    ],
    ids=["bare", "html", "problem"],
)
def test_a_401_to_the_current_certificate_is_not_a_wrong_pin(hostile, tmp_path, identity, answer):
    current, client_ca = identity
    peer = hostile(answer, client_ca_pem=client_ca)
    key = generate("ec-p256")
    csr = build_csr(key, current.certificate.subject, "1234567")
    with Transport(settings(peer, tmp_path), current) as t:
        error = raises(ErrorCode.CERT_NOT_ACCEPTED, lambda: EstClient(t).simplereenroll(csr))
    assert error.title == "Your current certificate cannot be used to renew"
    request = peer.wait_served().request
    assert request.client_cert is not None  # offered, and not accepted
    assert request.header("Authorization") is None  # no PIN went anywhere


def test_a_401_to_a_certificate_logon_is_the_certificate_refused(hostile, tmp_path, identity):
    current, client_ca = identity
    peer = hostile(Behaviour(status=401), client_ca_pem=client_ca)
    with Transport(settings(peer, tmp_path), current) as t:
        raises(ErrorCode.CERT_NOT_ACCEPTED, lambda: ApiClient(t).account(None))
