"""What the client checks before it installs anything (ccms-protocol.md, last section).

Each failed check has its own code, so the user and the helpdesk learn which one failed;
nothing is installed after any of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from .errors import EcmtError, ErrorCode
from .models import PrivateKey, epoc_of

CLOCK_SKEW = timedelta(minutes=5)


def _spki(key: PrivateKey | x509.Certificate) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def chains_to(cert: x509.Certificate, cas: Sequence[x509.Certificate]) -> bool:
    """True when `cert` links, signature by signature, into the CA certificates given.

    The walk ends at a self-signed root, at the top of what cacerts holds, or where it would
    go round in a loop: during a root rollover cacerts also holds the cross-certificates
    OldWithNew and NewWithOld (RFC 7030 4.1.3), which certify each other.
    """
    current: x509.Certificate = cert
    visited: list[x509.Certificate] = []
    while True:
        parents = [ca for ca in cas if _issued_by(current, ca)]
        if not parents:
            return current is not cert  # reached the top of what cacerts holds
        if any(parent.subject == parent.issuer for parent in parents):
            return True
        unvisited = [parent for parent in parents if parent not in visited]
        if not unvisited:
            return True  # cross-certificates in a loop, all inside cacerts
        current = unvisited[0]
        visited.append(current)


def check_issued(
    cert: x509.Certificate,
    key: PrivateKey,
    cas: Sequence[x509.Certificate],
    epoc: str,
    now: datetime,
) -> None:
    if _spki(cert) != _spki(key):
        raise EcmtError(ErrorCode.CERT_KEY_MISMATCH, "public key differs from the one sent")
    if not chains_to(cert, cas):
        raise EcmtError(ErrorCode.CERT_CHAIN_UNTRUSTED, f"issuer {cert.issuer.rfc4514_string()}")
    if not cert.not_valid_before_utc - CLOCK_SKEW <= now <= cert.not_valid_after_utc:
        raise EcmtError(
            ErrorCode.CERT_NOT_VALID,
            f"valid {cert.not_valid_before_utc:%Y-%m-%d %H:%M} to "
            f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC, now {now:%Y-%m-%d %H:%M} UTC",
        )
    try:
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = x509.ExtendedKeyUsage([])
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise EcmtError(ErrorCode.CERT_NO_CLIENT_AUTH, "no clientAuth extended key usage")
    found = epoc_of(cert)
    if found != epoc:
        raise EcmtError(ErrorCode.CERT_WRONG_EPOC, f"serialNumber {found!r}, expected {epoc!r}")
