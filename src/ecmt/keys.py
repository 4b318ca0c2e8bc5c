"""Key pairs and CSRs made on this computer: the private key never leaves it unencrypted."""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from .config import KeyAlgorithm
from .domain.models import PrivateKey


def generate(algorithm: KeyAlgorithm) -> PrivateKey:
    if algorithm == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    bits = 3072 if algorithm == "rsa3072" else 2048
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


UB_NAME = 64  # RFC 5280's upper bound for commonName, organizationName and the others here


def account_subject(
    epoc: str, display_name: str = "", organisation: str = "", role: str = ""
) -> x509.Name:
    """The subject the CCMS issues, `CN=<name>, serialNumber=<EPOC>, OU=<role>, O=<org>`,
    built from the logon's answer: a CA that takes the subject from the request, or that
    requires a commonName, gets it complete. Empty parts are left out, long ones cut."""
    parts = [
        (NameOID.ORGANIZATION_NAME, organisation),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, role),
        (NameOID.SERIAL_NUMBER, epoc),
        (NameOID.COMMON_NAME, display_name),
    ]
    return x509.Name(
        [x509.NameAttribute(oid, value.strip()[:UB_NAME]) for oid, value in parts if value.strip()]
    )


def build_csr(key: PrivateKey, subject: x509.Name | None, epoc: str) -> bytes:
    """DER PKCS#10. The CCMS takes the subject from the account; other EST servers may want
    one, so send the expected subject (at least `serialNumber=<EPOC>`)."""
    name = subject or account_subject(epoc)
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.DER)


def same_public_key(a: PrivateKey | x509.Certificate, b: PrivateKey | x509.Certificate) -> bool:
    def spki(item: PrivateKey | x509.Certificate) -> bytes:
        return item.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    return spki(a) == spki(b)
