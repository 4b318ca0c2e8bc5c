"""The client's CCMS layer (transport, EST, JSON API) against the real server over real TLS,
and against throwaway peers for the failures the real server cannot produce."""

from __future__ import annotations

import base64
import gc
import hashlib
import re
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID
from pydantic import SecretStr
from sqlalchemy import update
from tls_fixtures import (
    BAD_GATEWAY,
    PROXY_AUTH_REQUIRED,
    ConnectProxy,
    HttpsServer,
    closed_port,
    issue_leaf,
    make_ca,
    write_pem,
)

from ccms_server.db.models import Pin, utcnow
from ecmt import __version__
from ecmt.ccms import tls
from ecmt.ccms.api import ApiClient
from ecmt.ccms.est import EstClient, Issued, Pending
from ecmt.ccms.transport import Transport
from ecmt.domain.certcheck import check_issued
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import ClientIdentity, PinCredentials, epoc_of, fingerprint
from ecmt.keys import build_csr, generate, same_public_key
from support import Harness, client_settings, key_pem, rsa_key

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")
PROXY_VARIABLES += ("all_proxy", "NO_PROXY", "no_proxy")
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.fixture(autouse=True)
def _leaks_show_in_the_test_that_made_them() -> Iterator[None]:
    """Collect garbage after the servers stopped, so that a socket a test left open is
    reported (filterwarnings = error) against that test and not a later one."""
    yield
    gc.collect()


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's HTTPS_PROXY must not route these loopback tests anywhere."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def peers() -> Iterator[Callable[[Any], Any]]:
    """Start throwaway servers and proxies; all are stopped in teardown."""
    started: list[Any] = []

    def start(peer: Any) -> Any:
        started.append(peer)
        return peer.start()

    yield start
    for peer in reversed(started):
        peer.stop()


@pytest.fixture
def other_ca_pem(tmp_path: Path) -> Path:
    """A CA the server has nothing to do with, as a trust anchor file."""
    return write_pem(tmp_path / "other-ca.pem", make_ca("Some Other CA").cert)


def settings_for(server: Harness, tmp_path: Path, **overrides: Any) -> Any:
    return client_settings(server, tmp_path / "client", **overrides)


def transport(
    server: Harness, tmp_path: Path, identity: ClientIdentity | None = None, **kw: Any
) -> Transport:
    return Transport(settings_for(server, tmp_path, **kw), identity)


def creds(epoc: str, pin: str) -> PinCredentials:
    return PinCredentials(epoc, SecretStr(pin))


def client_identity(server: Harness, identity: Any) -> ClientIdentity:
    return ClientIdentity(identity.cert, identity.key, tuple(server.services.ca.chain()[:1]))


def new_csr(epoc: str, subject: x509.Name | None = None) -> tuple[rsa.RSAPrivateKey, bytes]:
    key = generate("rsa2048")
    assert isinstance(key, rsa.RSAPrivateKey)
    return key, build_csr(key, subject, epoc)


def raises(code: ErrorCode, call: Callable[[], object]) -> EcmtError:
    with pytest.raises(EcmtError) as caught:
        call()
    assert caught.value.code is code, caught.value
    return caught.value


def assert_logged(server: Harness, error: EcmtError, problem: str) -> None:
    """The reference the user reads out finds the server's log line for that request."""
    assert error.reference is not None
    assert re.fullmatch(r"[0-9a-f-]{36}", error.reference)
    lines = [
        line
        for line in server.log_file.read_text().splitlines()
        if f"rid={error.reference} " in line
    ]
    assert len(lines) == 1, lines
    assert f"code={problem}" in lines[0]


# --- what works ---------------------------------------------------------------------------


def test_cacerts_are_the_issuing_ca_and_the_root(server, tmp_path):
    with transport(server, tmp_path) as t:
        certs = EstClient(t).cacerts()
    # a certs-only PKCS#7 holds a SET: the order is not the server's
    assert sorted(map(fingerprint, certs)) == sorted(map(fingerprint, server.services.ca.chain()))
    (root,) = [c for c in certs if c.subject == c.issuer]
    (issuing,) = [c for c in certs if c is not root]
    assert root.subject == root.issuer
    issuing.verify_directly_issued_by(root)


def test_csrattrs_says_what_key_the_ca_wants(server, tmp_path):
    with transport(server, tmp_path) as t:
        assert EstClient(t).csrattrs()


def test_terms(server, tmp_path):
    with transport(server, tmp_path) as t:
        terms = ApiClient(t).terms()
    assert terms.version == "1"
    assert terms.title == "Acceptable Use Policy"
    assert terms.sha256 == hashlib.sha256(terms.text.encode()).hexdigest()


def test_logon_with_a_pin_does_not_use_it(server, tmp_path):
    epoc = server.add_account(name="Dr Client Logon")
    pin = server.issue_pin(epoc)
    with transport(server, tmp_path) as t:
        api = ApiClient(t)
        first, again = api.account(creds(epoc, pin)), api.account(creds(epoc, pin))
    assert first == again
    assert first.epoc == epoc
    assert first.display_name == "Dr Client Logon"
    assert first.pin is not None
    assert first.certificates == []


def test_accepting_the_terms_lets_the_account_enrol(server, tmp_path):
    epoc = server.add_account(accept_terms=False)
    pin = server.issue_pin(epoc)
    with transport(server, tmp_path) as t:
        api = ApiClient(t)
        assert api.account(creds(epoc, pin)).terms_accepted_version is None
        api.accept_terms(creds(epoc, pin), api.terms())
        assert api.account(creds(epoc, pin)).terms_accepted_version == "1"
        _, csr = new_csr(epoc)
        assert isinstance(EstClient(t).simpleenroll(csr, creds(epoc, pin)), Issued)


def test_simpleenroll_issues_for_our_key_and_a_repeat_gets_the_same_certificate(server, tmp_path):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    key, csr = new_csr(epoc)
    with transport(server, tmp_path) as t:
        est = EstClient(t)
        first = est.simpleenroll(csr, creds(epoc, pin))
        assert isinstance(first, Issued)
        assert first.reference == t.last_request_id
        cas = est.cacerts()
        again = est.simpleenroll(csr, creds(epoc, pin))  # the PIN is used by now
    (cert,) = first.certificates
    assert same_public_key(cert, key)
    assert epoc_of(cert) == epoc
    check_issued(cert, key, cas, epoc, datetime.now(UTC))  # every install-time check passes
    assert isinstance(again, Issued)
    assert again.certificates == first.certificates
    assert again.reference != first.reference


def test_a_request_waiting_for_approval_is_pending_with_the_servers_delay(server_factory, tmp_path):
    server = server_factory(enroll_requires_approval=True, approval_retry_after_seconds=3)
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    key, csr = new_csr(epoc)
    with transport(server, tmp_path) as t:
        est = EstClient(t)
        pending = est.simpleenroll(csr, creds(epoc, pin))
        assert pending == Pending(retry_after=3, reference=t.last_request_id)
        (waiting,) = server.admin.list_requests("pending")
        server.admin.approve_request(int(str(waiting["id"])))
        issued = est.simpleenroll(csr, creds(epoc, pin))
    assert isinstance(issued, Issued)
    assert same_public_key(issued.certificates[0], key)


def test_simplereenroll_with_the_current_certificate(server, tmp_path):
    current = server.new_identity()
    epoc = epoc_of(current.cert)
    assert epoc is not None
    key, csr = new_csr(epoc, current.cert.subject)
    with transport(server, tmp_path, client_identity(server, current)) as t:
        assert t.has_identity
        renewed = EstClient(t).simplereenroll(csr)
    assert isinstance(renewed, Issued)
    (cert,) = renewed.certificates
    assert cert.subject == current.cert.subject
    assert cert.serial_number != current.cert.serial_number
    assert same_public_key(cert, key)


def test_account_by_client_certificate(server, tmp_path):
    current = server.new_identity()
    with transport(server, tmp_path, client_identity(server, current)) as t:
        info = ApiClient(t).account(None)
    assert info.epoc == epoc_of(current.cert)
    assert [c.serial for c in info.certificates] == [format(current.cert.serial_number, "x")]
    assert info.pin is None or info.pin.expires_at > info.pin.issued_at


def test_release_manifest_missing_is_its_own_code(server, tmp_path):
    with transport(server, tmp_path) as t:
        error = raises(ErrorCode.RELEASE_UNAVAILABLE, ApiClient(t).client_release)
    assert_logged(server, error, "CCMS-NOT-FOUND")


# --- every refusal from the server -----------------------------------------------------


def test_wrong_pin_counts_down(server, tmp_path):
    epoc = server.add_account()
    server.issue_pin(epoc)
    with transport(server, tmp_path) as t:
        api = ApiClient(t)
        error = raises(ErrorCode.AUTH_INVALID, lambda: api.account(creds(epoc, "WRONG-PIN")))
        assert error.reference == t.last_request_id
        assert error.attempts_remaining == 4
        assert error.retry_after is None
        assert_logged(server, error, "CCMS-AUTH-INVALID")
        second = raises(ErrorCode.AUTH_INVALID, lambda: api.account(creds(epoc, "WRONG-PIN")))
    assert second.attempts_remaining == 3
    assert second.reference != error.reference


def test_a_pin_with_characters_beyond_latin1_is_just_a_wrong_pin(server, tmp_path):
    """The PIN field takes any text; a typed dash or letter must not crash the request."""
    epoc = server.add_account()
    server.issue_pin(epoc)
    with transport(server, tmp_path) as t:
        error = raises(
            ErrorCode.AUTH_INVALID, lambda: ApiClient(t).account(creds(epoc, "ŁÓDŹ\u20131234"))
        )
    assert error.attempts_remaining == 4
    assert_logged(server, error, "CCMS-AUTH-INVALID")


def test_unknown_epoc_has_no_attempt_count(server, tmp_path):
    with transport(server, tmp_path) as t:
        error = raises(ErrorCode.AUTH_INVALID, lambda: ApiClient(t).account(creds("4040404", "X")))
    assert error.attempts_remaining is None


def test_superseded_pin(server, tmp_path):
    epoc = server.add_account()
    old = server.issue_pin(epoc)
    server.issue_pin(epoc)
    with transport(server, tmp_path) as t:
        error = raises(ErrorCode.PIN_SUPERSEDED, lambda: ApiClient(t).account(creds(epoc, old)))
    assert error.reference == t.last_request_id
    assert_logged(server, error, "CCMS-PIN-SUPERSEDED")


def test_expired_pin(server, tmp_path):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    with server.services.sessions.begin() as session:
        session.execute(update(Pin).values(expires_at=utcnow() - timedelta(minutes=1)))
    _, csr = new_csr(epoc)
    with transport(server, tmp_path) as t:
        error = raises(
            ErrorCode.PIN_EXPIRED, lambda: EstClient(t).simpleenroll(csr, creds(epoc, pin))
        )
    assert error.reference == t.last_request_id
    assert_logged(server, error, "CCMS-PIN-EXPIRED")


def test_used_pin(server, tmp_path):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    with transport(server, tmp_path) as t:
        est = EstClient(t)
        assert isinstance(est.simpleenroll(new_csr(epoc)[1], creds(epoc, pin)), Issued)
        _, other = new_csr(epoc)  # a different key: not an idempotent repeat
        error = raises(ErrorCode.PIN_USED, lambda: est.simpleenroll(other, creds(epoc, pin)))
    assert error.reference == t.last_request_id
    assert_logged(server, error, "CCMS-PIN-USED")


def test_five_wrong_pins_lock_the_account(server, tmp_path):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    with transport(server, tmp_path) as t:
        api = ApiClient(t)
        remaining = [
            raises(
                ErrorCode.AUTH_INVALID, lambda: api.account(creds(epoc, "WRONG"))
            ).attempts_remaining
            for _ in range(4)
        ]
        assert remaining == [4, 3, 2, 1]
        locked = raises(ErrorCode.ACCOUNT_LOCKED, lambda: api.account(creds(epoc, "WRONG")))
        assert_logged(server, locked, "CCMS-ACCOUNT-LOCKED")
        right = raises(ErrorCode.ACCOUNT_LOCKED, lambda: api.account(creds(epoc, pin)))
    assert right.reference == t.last_request_id
    assert right.attempts_remaining is None


def test_terms_required_before_enrolment(server, tmp_path):
    epoc = server.add_account(accept_terms=False)
    pin = server.issue_pin(epoc)
    _, csr = new_csr(epoc)
    with transport(server, tmp_path) as t:
        error = raises(
            ErrorCode.TERMS_REQUIRED, lambda: EstClient(t).simpleenroll(csr, creds(epoc, pin))
        )
    assert error.reference == t.last_request_id
    assert_logged(server, error, "CCMS-TERMS-REQUIRED")


def test_terms_changed_while_reading_them(server, tmp_path):
    epoc = server.add_account(accept_terms=False)
    pin = server.issue_pin(epoc)
    with transport(server, tmp_path) as t:
        api = ApiClient(t)
        read = api.terms()
        server.admin.publish_terms("2", "Acceptable Use Policy", read.text + "\nAnd more.\n")
        error = raises(ErrorCode.TERMS_STALE, lambda: api.accept_terms(creds(epoc, pin), read))
        assert error.reference == t.last_request_id
        assert_logged(server, error, "CCMS-TERMS-STALE")
        api.accept_terms(creds(epoc, pin), api.terms())
    assert server.account_row(epoc).terms_accepted_version == "2"


def test_revoked_certificate_cannot_renew(server, tmp_path):
    current = server.new_identity()
    server.admin.revoke(format(current.cert.serial_number, "x"), "keyCompromise")
    _, csr = new_csr(epoc_of(current.cert) or "", current.cert.subject)
    with transport(server, tmp_path, client_identity(server, current)) as t:
        error = raises(ErrorCode.CERT_NOT_ACCEPTED, lambda: EstClient(t).simplereenroll(csr))
    assert error.reference == t.last_request_id
    assert_logged(server, error, "CCMS-CERT-NOT-ACCEPTED")


def test_renewal_without_a_certificate_asks_for_credentials(server, tmp_path):
    _, csr = new_csr("5000000")
    with transport(server, tmp_path) as t:
        error = raises(ErrorCode.AUTH_REQUIRED, lambda: EstClient(t).simplereenroll(csr))
    assert_logged(server, error, "CCMS-AUTH-REQUIRED")


def test_weak_key_is_refused(server, tmp_path):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    weak = rsa_key(1024)  # below the server's minimum
    with transport(server, tmp_path) as t:
        error = raises(
            ErrorCode.CSR_REFUSED,
            lambda: EstClient(t).simpleenroll(build_csr(weak, None, epoc), creds(epoc, pin)),
        )
    assert_logged(server, error, "CCMS-CSR-INVALID")


@pytest.mark.parametrize(("flag", "retry_after"), [("120\n", 120), ("", 300)])
def test_maintenance(server, tmp_path, flag, retry_after):
    (server.data_dir / "maintenance").write_text(flag)
    with transport(server, tmp_path) as t:
        error = raises(ErrorCode.SERVICE_UNAVAILABLE, ApiClient(t).terms)
    assert error.retry_after == retry_after
    assert error.reference == t.last_request_id
    assert_logged(server, error, "CCMS-UNAVAILABLE")


def test_rate_limited(server_factory, tmp_path):
    server = server_factory(rate_limit_per_minute=60, rate_limit_burst=2)
    with transport(server, tmp_path) as t:
        api = ApiClient(t)
        api.terms()
        api.terms()
        error = raises(ErrorCode.RATE_LIMITED, api.terms)
    assert error.retry_after is not None
    assert 1 <= error.retry_after <= 60
    assert error.reference == t.last_request_id
    assert_logged(server, error, "CCMS-RATE-LIMITED")


# --- TLS and the network ----------------------------------------------------------------


def test_another_trust_anchor_does_not_trust_the_server(server, tmp_path, other_ca_pem):
    with transport(server, tmp_path, trust_anchors=[other_ca_pem]) as t:
        error = raises(ErrorCode.TLS_UNTRUSTED, EstClient(t).cacerts)
    assert error.reference == t.last_request_id
    assert "cacerts" not in server.log_file.read_text()  # nothing reached the application


def test_an_unreadable_trust_anchor_is_a_configuration_error(server, tmp_path):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    raises(ErrorCode.CONFIG_INVALID, lambda: transport(server, tmp_path, trust_anchors=[garbage]))


@pytest.fixture
def ca_bundle_variables(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    def point_at(bundle: Path) -> None:
        for name in CA_BUNDLE_VARIABLES:
            monkeypatch.setenv(name, str(bundle))

    return point_at


def test_ca_bundle_variables_do_not_widen_a_configured_anchor(
    server, tmp_path, other_ca_pem, ca_bundle_variables
):
    if not SYSTEM_BUNDLE.is_file():
        pytest.skip(f"no system CA bundle at {SYSTEM_BUNDLE}")
    ca_bundle_variables(SYSTEM_BUNDLE)
    with transport(server, tmp_path, trust_anchors=[other_ca_pem]) as t:
        raises(ErrorCode.TLS_UNTRUSTED, EstClient(t).cacerts)


def test_a_ca_bundle_variable_naming_the_servers_ca_is_still_ignored(
    server, tmp_path, other_ca_pem, ca_bundle_variables
):
    """requests loads REQUESTS_CA_BUNDLE (or certifi) into a custom context unless the adapter
    stops it: the configured anchors must be the only ones."""
    ca_bundle_variables(server.trust_anchor)
    with transport(server, tmp_path, trust_anchors=[other_ca_pem]) as t:
        raises(ErrorCode.TLS_UNTRUSTED, EstClient(t).cacerts)
        raises(ErrorCode.TLS_UNTRUSTED, EstClient(t).cacerts)  # and not on a second connection


def test_without_anchors_the_os_store_does_not_know_the_test_ca(
    server, tmp_path, ca_bundle_variables
):
    if SYSTEM_BUNDLE.is_file():
        ca_bundle_variables(SYSTEM_BUNDLE)
    with transport(server, tmp_path, trust_anchors=[]) as t:
        raises(ErrorCode.TLS_UNTRUSTED, EstClient(t).cacerts)


@pytest.fixture
def our_ca(tmp_path: Path) -> tuple[Any, Path]:
    ca = make_ca("Throwaway Server CA")
    return ca, write_pem(tmp_path / "throwaway-ca.pem", ca.cert)


def throwaway_settings(url: str, anchor: Path, tmp_path: Path, **overrides: Any) -> Any:
    from ecmt.config import load_settings

    values: dict[str, Any] = {
        "server_url": url,
        "trust_anchors": [anchor],
        "data_dir": tmp_path / "client" / "data",
        "log_dir": tmp_path / "client" / "logs",
        "state_dir": tmp_path / "client" / "state",
        **overrides,
    }
    return load_settings(files=[], **values)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_certificate_for_another_name(peers, our_ca, tmp_path, host):
    ca, anchor = our_ca
    peer = peers(HttpsServer(issue_leaf(ca, names=["other.example"])))
    with Transport(throwaway_settings(peer.url(host), anchor, tmp_path)) as t:
        raises(ErrorCode.TLS_HOSTNAME, EstClient(t).cacerts)
    assert peer.captured == []


def test_expired_server_certificate_points_at_the_clock(peers, our_ca, tmp_path):
    ca, anchor = our_ca
    now = datetime.now(UTC)
    leaf = issue_leaf(ca, not_before=now - timedelta(days=30), not_after=now - timedelta(days=1))
    peer = peers(HttpsServer(leaf))
    with Transport(throwaway_settings(peer.url(), anchor, tmp_path)) as t:
        raises(ErrorCode.TLS_CLOCK, EstClient(t).cacerts)


def test_connection_refused(server, tmp_path):
    url = f"https://127.0.0.1:{closed_port()}"
    with transport(server, tmp_path, server_url=url) as t:
        error = raises(ErrorCode.NETWORK_CONNECT, EstClient(t).cacerts)
    assert error.reference == t.last_request_id


def test_unknown_host_name(server, tmp_path):
    with transport(server, tmp_path, server_url="https://no-such-host.invalid") as t:
        raises(ErrorCode.NETWORK_DNS, EstClient(t).cacerts)


def test_a_server_that_never_answers_times_out(peers, our_ca, tmp_path):
    ca, anchor = our_ca
    peer = peers(HttpsServer(issue_leaf(ca), hang=True))
    settings = throwaway_settings(peer.url(), anchor, tmp_path, read_timeout=0.5)
    with Transport(settings) as t:
        raises(ErrorCode.NETWORK_TIMEOUT, EstClient(t).cacerts)
    assert [c.path for c in peer.captured] == ["/.well-known/est/cacerts"]  # TLS was fine


def test_proxy_asking_for_a_password(server, tmp_path, peers):
    proxy = peers(ConnectProxy(refuse=PROXY_AUTH_REQUIRED))
    with transport(server, tmp_path, proxy=proxy.url) as t:
        raises(ErrorCode.PROXY_AUTH, EstClient(t).cacerts)
    assert len(proxy.seen) == 1
    assert proxy.seen[0].startswith("CONNECT 127.0.0.1:")


@pytest.mark.parametrize(
    "url",
    [
        None,  # the real server's address
        "https://127.0.0.1:4070",  # a "407" in the port is not the proxy's status
        "https://ccms407.example",
    ],
)
def test_proxy_refusing_the_tunnel(server, tmp_path, peers, url):
    proxy = peers(ConnectProxy(refuse=BAD_GATEWAY))
    overrides = {"server_url": url} if url else {}
    with transport(server, tmp_path, proxy=proxy.url, **overrides) as t:
        raises(ErrorCode.PROXY_ERROR, EstClient(t).cacerts)
    assert len(proxy.seen) == 1


def test_requests_reach_the_server_through_a_proxy(server, tmp_path, peers):
    proxy = peers(ConnectProxy())
    port = server.thread.listening.port
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    with transport(server, tmp_path, proxy=proxy.url) as t:
        assert len(EstClient(t).cacerts()) == 2
        assert ApiClient(t).account(creds(epoc, pin)).epoc == epoc
        rid = t.last_request_id
    assert proxy.seen
    assert all(line.startswith(f"CONNECT 127.0.0.1:{port} ") for line in proxy.seen)
    assert proxy.errors == []
    assert f"rid={rid} " in server.log_file.read_text()


def test_an_explicit_proxy_beats_the_environments(server, tmp_path, peers, monkeypatch):
    unused = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("HTTPS_PROXY", unused)
    proxy = peers(ConnectProxy())
    with transport(server, tmp_path, proxy=proxy.url) as t:
        EstClient(t).cacerts()
    assert len(proxy.seen) == 1


def test_the_environments_proxy_is_honoured(server, tmp_path, peers, monkeypatch):
    proxy = peers(ConnectProxy())
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    with transport(server, tmp_path) as t:
        EstClient(t).cacerts()
    assert len(proxy.seen) == 1


def test_a_certificate_from_another_ca_is_refused_in_the_handshake(server, tmp_path):
    foreign_ca = make_ca("Foreign CA")
    foreign = issue_leaf(
        foreign_ca, names=[], usages=[ExtendedKeyUsageOID.CLIENT_AUTH], subject=None
    )
    identity = ClientIdentity(foreign.cert, foreign.key, (foreign_ca.cert,))
    key = generate("ec-p256")
    csr = build_csr(key, foreign.cert.subject, "5000000")
    with transport(server, tmp_path, identity) as t:
        error = raises(ErrorCode.CERT_NOT_ACCEPTED, lambda: EstClient(t).simplereenroll(csr))
    assert error.reference == t.last_request_id
    assert "simplereenroll" not in server.log_file.read_text()


# --- what every request carries -------------------------------------------------------------


def test_user_agent_request_ids_and_content_length(peers, our_ca, tmp_path):
    ca, anchor = our_ca
    peer = peers(HttpsServer(issue_leaf(ca), status=202, headers=[("retry-after", "7")]))
    _, csr = new_csr("1234567")
    with Transport(throwaway_settings(peer.url(), anchor, tmp_path)) as t:
        est = EstClient(t)
        first = est.simpleenroll(csr, creds("1234567", "ABCD-EFGH"))
        second = est.simpleenroll(csr, creds("1234567", "ABCD-EFGH"))
    # a header name in lower case is still the same header
    assert first == Pending(retry_after=7, reference=first.reference)
    assert isinstance(second, Pending)
    posts = peer.captured
    assert [p.method for p in posts] == ["POST", "POST"]
    ids = [p.header("X-Request-ID") for p in posts]
    assert ids == [first.reference, second.reference]
    assert len(set(ids)) == 2
    for post, rid in zip(posts, ids, strict=True):
        assert rid is not None
        assert uuid.UUID(rid).version == 4
        assert str(uuid.UUID(rid)) == rid
        agent = post.header("User-Agent") or ""
        assert re.fullmatch(rf"ecmt/{re.escape(__version__)} \(.+\)", agent), agent
        assert post.header("Transfer-Encoding") is None
        assert post.header("Content-Length") == str(len(post.body))
        assert post.header("Content-Type") == "application/pkcs10"
        assert base64.b64decode(post.body) == csr
        expected = base64.b64encode(b"1234567:ABCD-EFGH").decode()
        assert post.header("Authorization") == f"Basic {expected}"


def test_json_posts_carry_a_content_length_too(peers, our_ca, tmp_path):
    from ccms_protocol.wire import TermsDocument

    ca, anchor = our_ca
    peer = peers(HttpsServer(issue_leaf(ca), status=204))
    terms = TermsDocument(version="1", title="T", text="x", sha256="0" * 64)
    with Transport(throwaway_settings(peer.url(), anchor, tmp_path)) as t:
        ApiClient(t).accept_terms(creds("1234567", "PIN"), terms)
    (post,) = peer.captured
    assert post.header("Transfer-Encoding") is None
    assert post.header("Content-Length") == str(len(post.body))
    assert post.header("Content-Type") == "application/json"


def test_plain_status_answers_keep_their_retry_after(peers, our_ca, tmp_path):
    ca, anchor = our_ca
    peer = peers(
        HttpsServer(
            issue_leaf(ca),
            status=503,
            headers=[("retry-after", "42"), ("Content-Type", "text/html")],
            body=b"<h1>down</h1>",
        )
    )
    with Transport(throwaway_settings(peer.url(), anchor, tmp_path)) as t:
        error = raises(ErrorCode.SERVICE_UNAVAILABLE, EstClient(t).cacerts)
    assert error.retry_after == 42
    assert error.reference == peer.captured[0].header("X-Request-ID")


def test_request_ids_reach_the_servers_log(server, tmp_path):
    with transport(server, tmp_path) as t:
        est = EstClient(t)
        rids = []
        for _ in range(3):
            est.cacerts()
            rids.append(t.last_request_id)
    assert len(set(rids)) == 3
    log = server.log_file.read_text()
    for rid in rids:
        assert rid is not None
        assert uuid.UUID(rid).version == 4
        assert f'rid={rid} client=127.0.0.1 "GET /.well-known/est/cacerts" 200' in log


# --- the client identity's key on disk ----------------------------------------------------


@pytest.mark.posix
def test_loading_the_identity_leaves_no_key_file(server, tmp_path, monkeypatch):
    current = server.new_identity()
    identity = client_identity(server, current)
    temp = Path(tempfile.gettempdir())

    def ours() -> set[str]:
        return {p.name for p in temp.iterdir() if p.name.startswith("ecmt-tls-")}

    folders: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def spy_mkdtemp(*args: Any, **kwargs: Any) -> str:
        made = real_mkdtemp(*args, **kwargs)
        folders.append(Path(made))
        return made

    written: list[tuple[Path, bytes, int, int]] = []
    real_write = tls.write_atomic

    def spy_write(path: Path, data: bytes, *args: Any, **kwargs: Any) -> None:
        real_write(path, data, *args, **kwargs)
        folder_mode = stat.S_IMODE(path.parent.stat().st_mode)
        written.append((path, data, folder_mode, stat.S_IMODE(path.stat().st_mode)))

    before = ours()
    monkeypatch.setattr(tempfile, "mkdtemp", spy_mkdtemp)
    monkeypatch.setattr(tls, "write_atomic", spy_write)
    with Transport(settings_for(server, tmp_path), identity) as t:
        monkeypatch.undo()
        after = ours()
        assert ApiClient(t).account(None).epoc == epoc_of(current.cert)  # the identity works
    assert after - before == set()
    assert folders
    assert all(f.name.startswith("ecmt-tls-") for f in folders)
    assert not any(f.exists() for f in folders)
    assert {p.name for p, *_ in written} == {"key.pem", "cert.pem"}
    for path, data, folder_mode, file_mode in written:
        assert path.parent in folders
        assert folder_mode == 0o700
        assert file_mode == 0o600
        if path.name == "key.pem":
            assert data.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    plain = key_pem(current.key)
    assert not any(plain in data for _, data, *_ in written)


def test_netrc_credentials_are_never_sent(server, tmp_path, monkeypatch):
    """A ~/.netrc entry for the host must not turn a certificate call into a PIN logon."""
    identity = server.new_identity()
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login 9999999 password NETRC-PIN\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    settings = client_settings(server, tmp_path)
    with Transport(settings, ClientIdentity(identity.cert, identity.key)) as t:
        account = ApiClient(t).account(None)
    assert account.epoc != "9999999"
    assert "epoc=9999999" not in server.log_file.read_text()
