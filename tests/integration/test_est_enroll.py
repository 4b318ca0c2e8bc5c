"""EST over real TLS: cacerts, csrattrs, simpleenroll, the issued profile, idempotent retry."""

from __future__ import annotations

import base64
import subprocess
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ccms_protocol.wire import MEDIA_PKCS7_CERTS
from support import EST, certs_from_body, csr_body, rsa_key


def _public(key_or_cert: object) -> bytes:
    public = key_or_cert.public_key()  # type: ignore[attr-defined]
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_cacerts_serves_issuing_ca_and_root_as_base64_pkcs7(server):
    response = server.get(EST + "cacerts")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/pkcs7-mime")
    assert int(response.headers["Content-Length"]) == len(response.content)
    certs = certs_from_body(response.content)
    root = x509.load_pem_x509_certificate(server.trust_anchor.read_bytes())
    assert root in certs
    issuing = next(c for c in certs if c != root)
    issuing.verify_directly_issued_by(root)
    assert issuing.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_csrattrs_asks_for_rsa_2048(server):
    response = server.get(EST + "csrattrs")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/csrattrs"
    der = base64.b64decode(b"".join(response.content.split()))
    parsed = subprocess.run(
        ["openssl", "asn1parse", "-inform", "DER"], input=der, capture_output=True, check=True
    ).stdout.decode()
    assert "rsaEncryption" in parsed
    assert "sha256WithRSAEncryption" in parsed
    assert ":0800" in parsed  # INTEGER 2048


def test_csrattrs_without_a_wish_is_204(server_factory):
    server = server_factory(csr_key_wish="none")
    response = server.get(EST + "csrattrs")
    assert response.status_code == 204
    assert response.content == b""


def test_simpleenroll_issues_the_account_profile(server):
    epoc = server.add_account(name="Dr Jane Example")
    key = rsa_key()
    hostile = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Someone Else"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, "9999999"),
        ]
    )
    with server.http() as http:
        response = http.post(
            server.url + EST + "simpleenroll",
            data=csr_body(key, hostile),
            auth=(epoc, server.issue_pin(epoc)),
            headers={"Content-Type": "application/pkcs10"},
        )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == MEDIA_PKCS7_CERTS
    assert int(response.headers["Content-Length"]) == len(response.content)
    (cert,) = certs_from_body(response.content)

    subject = {a.oid: a.value for a in cert.subject}
    assert subject[NameOID.SERIAL_NUMBER] == epoc
    assert subject[NameOID.COMMON_NAME] == "Dr Jane Example"
    assert subject[NameOID.ORGANIZATION_NAME] == "Test Practice"
    assert subject[NameOID.ORGANIZATIONAL_UNIT_NAME] == "GP"
    assert cert.subject.rfc4514_string().startswith("CN=Dr Jane Example,")
    assert _public(cert) == _public(key)
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature
    assert usage.key_encipherment
    assert not usage.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    lifetime = cert.not_valid_after_utc - datetime.now(UTC)
    assert timedelta(days=364) < lifetime <= timedelta(days=365)
    cert.verify_directly_issued_by(server.services.ca.issuing)


def test_ec_p256_keys_are_accepted(server):
    from cryptography.hazmat.primitives.asymmetric import ec

    epoc = server.add_account()
    key = ec.generate_private_key(ec.SECP256R1())
    response = server.enroll(epoc, server.issue_pin(epoc), key)
    assert response.status_code == 200, response.text
    usage = (
        certs_from_body(response.content)[0].extensions.get_extension_for_class(x509.KeyUsage).value
    )
    assert usage.digital_signature
    assert not usage.key_encipherment


def test_repeating_the_same_key_returns_the_same_certificate(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    key = rsa_key()
    first = server.enroll(epoc, pin, key)
    again = server.enroll(epoc, pin, key)
    assert first.status_code == again.status_code == 200
    assert certs_from_body(first.content) == certs_from_body(again.content)
    assert len(server.admin.list_certificates(epoc)) == 1


def test_a_new_key_after_the_pin_was_used_is_refused(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    assert server.enroll(epoc, pin, rsa_key()).status_code == 200
    response = server.enroll(epoc, pin, rsa_key())
    assert response.status_code == 401
    assert response.json()["code"] == "CCMS-PIN-USED"


def test_idempotent_window_is_configurable(server_factory):
    server = server_factory(idempotency_hours=0)
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    key = rsa_key()
    assert server.enroll(epoc, pin, key).status_code == 200
    assert server.enroll(epoc, pin, key).json()["code"] == "CCMS-PIN-USED"


def test_terms_required_before_enrolment(server):
    epoc = server.add_account(accept_terms=False)
    response = server.enroll(epoc, server.issue_pin(epoc))
    assert response.status_code == 403
    assert response.json()["code"] == "CCMS-TERMS-REQUIRED"


def test_terms_accepted_for_an_old_version_is_not_enough(server):
    epoc = server.add_account()
    server.admin.publish_terms("2", "Acceptable Use Policy", "New terms.")
    response = server.enroll(epoc, server.issue_pin(epoc))
    assert response.json()["code"] == "CCMS-TERMS-REQUIRED"


def test_simpleenroll_takes_the_subject_from_the_account_whatever_the_csr_names(server):
    """Clients send a full subject (CN, serialNumber, O, OU); it need not match the account."""
    epoc = server.add_account(name="Dr Jane Example")
    key = ec.generate_private_key(ec.SECP256R1())
    offered = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Dr Jane Example (old name)"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, epoc),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Another Practice"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Pharmacist"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        ]
    )
    response = server.http().post(
        server.url + EST + "simpleenroll",
        data=csr_body(key, offered),
        auth=(epoc, server.issue_pin(epoc)),
        headers={"Content-Type": "application/pkcs10"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    (cert,) = certs_from_body(response.content)
    assert cert.subject != offered
    assert {a.oid: a.value for a in cert.subject} == {
        NameOID.COMMON_NAME: "Dr Jane Example",
        NameOID.SERIAL_NUMBER: epoc,
        NameOID.ORGANIZATION_NAME: "Test Practice",
        NameOID.ORGANIZATIONAL_UNIT_NAME: "GP",
    }
    assert _public(cert) == _public(key)
