"""simplereenroll: TLS client certificate authentication and its refusals."""

from __future__ import annotations

import socket
import ssl
import warnings
from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from ccms_server.ca import fingerprint_sha256, spki_sha256
from ccms_server.db.models import IssuedCertificate
from ccms_server.keys import load_signing_key
from support import EST, Identity, certs_from_body, csr_body, rsa_key


def test_reenroll_with_the_current_certificate(server):
    identity = server.new_identity()
    response = server.reenroll(identity)
    assert response.status_code == 200, response.text
    (renewed,) = certs_from_body(response.content)
    assert renewed.subject == identity.cert.subject
    assert renewed.serial_number != identity.cert.serial_number
    assert renewed.public_key() != identity.cert.public_key()
    rows = server.admin.list_certificates(None)
    assert [r["via"] for r in rows] == ["enroll", "reenroll"]


def test_reenroll_needs_no_pin_and_ignores_a_used_one(server):
    identity = server.new_identity()
    # the PIN that got the first certificate is consumed; the certificate alone suffices
    assert server.reenroll(identity).status_code == 200


def test_reenroll_repeat_of_a_key_returns_the_same_certificate(server):
    identity = server.new_identity()
    key = rsa_key()
    first, again = server.reenroll(identity, key), server.reenroll(identity, key)
    assert certs_from_body(first.content) == certs_from_body(again.content)


def test_subject_mismatch_is_refused(server):
    identity = server.new_identity()
    other = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Dr Someone Else")])
    response = server.reenroll(identity, subject=other)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "CCMS-CSR-INVALID"
    assert "subject" in body["detail"]


def test_without_a_client_certificate_credentials_are_asked_for(server):
    with server.http() as http:
        response = http.post(
            server.url + EST + "simplereenroll",
            data=csr_body(rsa_key()),
            headers={"Content-Type": "application/pkcs10"},
        )
    assert response.status_code == 401
    assert response.json()["code"] == "CCMS-AUTH-REQUIRED"


def test_revoked_certificate_is_refused(server):
    identity = server.new_identity()
    server.admin.revoke(format(identity.cert.serial_number, "x"), "keyCompromise")
    response = server.reenroll(identity)
    assert response.status_code == 403
    assert response.json()["code"] == "CCMS-CERT-NOT-ACCEPTED"
    assert "revoked" in response.json()["detail"]


def _expired_identity(server, tmp_path) -> Identity:
    """A certificate from our issuing CA, on record, whose validity ended yesterday."""
    live = server.new_identity()
    key = rsa_key()
    issuing = server.services.ca.issuing
    ca_key = load_signing_key(server.services.paths.issuing_key, None)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(live.cert.subject)
        .issuer_name(issuing.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=400))
        .not_valid_after(now - timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    with server.services.sessions.begin() as session:
        account_id = session.query(IssuedCertificate).one().account_id
        session.add(
            IssuedCertificate(
                serial=format(cert.serial_number, "x"),
                account_id=account_id,
                pin_id=None,
                spki_sha256=spki_sha256(key.public_key()),
                fingerprint_sha256=fingerprint_sha256(cert),
                subject=cert.subject.rfc4514_string(),
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                der=cert.public_bytes(Encoding.DER),
                via="enroll",
            )
        )
    return Identity(key, cert, tmp_path)


def test_expired_certificate_gets_a_clear_403_not_a_tls_alert(server, tmp_path):
    identity = _expired_identity(server, tmp_path)
    response = server.reenroll(identity)
    assert response.status_code == 403
    assert response.json()["code"] == "CCMS-CERT-NOT-ACCEPTED"
    assert "expired" in response.json()["detail"]


def test_a_certificate_from_another_ca_fails_the_handshake(server, tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Foreign")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    identity = Identity(key, cert, tmp_path)
    # TLS 1.3 reports the server's unknown_ca alert after the handshake: a reset or an
    # SSL error, depending on timing. Either way no request reaches the application.
    with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
        server.reenroll(identity)
    assert "simplereenroll" not in server.log_file.read_text()


def test_a_certificate_signed_by_the_ca_but_not_on_record_is_refused(server, tmp_path):
    live = server.new_identity()
    key = rsa_key()
    forged = server.services.ca.issue_client(key.public_key(), live.cert.subject, 30)
    response = server.reenroll(Identity(key, forged, tmp_path))
    assert response.status_code == 403
    assert response.json()["detail"] == "certificate not on record"


def test_tls_below_1_2_is_refused(server):
    host, port = server.thread.listening.host, server.thread.listening.port
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(server.trust_anchor)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
    context.set_ciphers("ALL:@SECLEVEL=0")

    with (
        socket.create_connection((host, port), timeout=10) as raw,
        pytest.raises(ssl.SSLError, match=r"PROTOCOL_VERSION|UNEXPECTED_EOF"),
    ):
        context.wrap_socket(raw, server_hostname="localhost").close()

    ok = ssl.create_default_context(cafile=str(server.trust_anchor))
    ok.maximum_version = ssl.TLSVersion.TLSv1_2
    with (
        socket.create_connection((host, port), timeout=10) as raw,
        ok.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.version() == "TLSv1.2"
