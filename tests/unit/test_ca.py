from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ccms_protocol.wire import client_subject
from ccms_server.ca import CaLayoutError, CaPaths, CertificateAuthority, init_ca
from ccms_server.keys import KeyFileError
from support import rsa_key


@pytest.fixture(scope="module")
def ca_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ca") / "data"
    init_ca(folder, ["ccms.example"], b"secret", "ec-p256", "Unit")
    return folder


def test_chain_and_roles(ca_dir):
    ca = CertificateAuthority(CaPaths(ca_dir), b"secret")
    issuing, root = ca.chain()
    issuing.verify_directly_issued_by(root)
    root.verify_directly_issued_by(root)
    assert issuing.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    tls = x509.load_pem_x509_certificates(CaPaths(ca_dir).tls_chain.read_bytes())[0]
    tls.verify_directly_issued_by(root)
    eku = tls.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_wrong_passphrase_is_a_clear_error(ca_dir):
    with pytest.raises(KeyFileError, match="passphrase is wrong or missing"):
        CertificateAuthority(CaPaths(ca_dir), b"wrong")
    with pytest.raises(KeyFileError):
        CertificateAuthority(CaPaths(ca_dir), None)


def test_uninitialised_and_reinitialised_folders(tmp_path, ca_dir):
    with pytest.raises(CaLayoutError, match="not initialised"):
        CertificateAuthority(CaPaths(tmp_path), None)
    with pytest.raises(CaLayoutError, match="already initialised"):
        init_ca(ca_dir, [], None)


def test_client_certificate_profile_and_recognition(ca_dir):
    ca = CertificateAuthority(CaPaths(ca_dir), b"secret")
    subject = client_subject("Dr A", "1234567", "GP", "Practice")
    assert subject.rfc4514_string() == "CN=Dr A,2.5.4.5=1234567,OU=GP,O=Practice"
    key = rsa_key()
    cert = ca.issue_client(key.public_key(), subject, 365)
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "1234567"
    assert ca.issued_this(cert)
    assert cert.not_valid_after_utc - datetime.now(UTC) <= timedelta(days=365)
    other = tmp_ca(ca_dir.parent / "other")
    assert not other.issued_this(cert)


def test_validity_never_outlives_the_issuing_ca(ca_dir):
    ca = CertificateAuthority(CaPaths(ca_dir), b"secret")
    cert = ca.issue_client(rsa_key().public_key(), client_subject("a", "1234", "b", "c"), 365 * 50)
    assert cert.not_valid_after_utc <= ca.issuing.not_valid_after_utc


def tmp_ca(folder):
    init_ca(folder, [], None, "ec-p256", "Unit")
    return CertificateAuthority(CaPaths(folder), None)
