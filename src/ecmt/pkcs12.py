"""PKCS#12 with a pinned algorithm: built by us from the key we generated, never exported.

`LEGACY` (PBE-SHA1-3DES, SHA-1 MAC) opens everywhere, including Windows Server 2016 and
macOS `security import`; `MODERN` (PBES2 AES-256-CBC, SHA-256 MAC) needs Windows 10 1709+.
`BestAvailableEncryption` is not used: its choice changes between cryptography releases.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    PrivateFormat,
    pkcs12,
)

from .domain.errors import EcmtError, ErrorCode
from .domain.models import BackupFormat, PrivateKey

KDF_ROUNDS = {BackupFormat.LEGACY: 2048, BackupFormat.MODERN: 100_000}


def build(
    key: PrivateKey,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    friendly_name: str,
    password: bytes,
    fmt: BackupFormat,
) -> bytes:
    """DER PKCS#12 holding key, certificate (with friendlyName) and the CA chain."""
    builder = PrivateFormat.PKCS12.encryption_builder().kdf_rounds(KDF_ROUNDS[fmt])
    if fmt is BackupFormat.LEGACY:
        builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        builder = builder.hmac_hash(hashes.SHA1())  # noqa: S303 - the format's point
    else:
        builder = builder.key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        builder = builder.hmac_hash(hashes.SHA256())
    return pkcs12.serialize_key_and_certificates(
        friendly_name.encode("utf-8"),
        key,
        certificate,
        list(chain) or None,
        builder.build(password),
    )


def one_time_password() -> bytes:
    """For a PKCS#12 that only carries a key into an OS store and is then destroyed."""
    return secrets.token_urlsafe(24).encode()


@dataclass(frozen=True)
class Opened:
    key: PrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    friendly_name: str | None


def open_(data: bytes, password: bytes) -> Opened:
    """Parse with the password; STORE_WRONG_PASSWORD for a wrong one or a damaged file."""
    try:
        parsed = pkcs12.load_pkcs12(data, password)
    except ValueError:
        raise EcmtError(ErrorCode.STORE_WRONG_PASSWORD, "PKCS#12 did not open") from None
    key, cert = parsed.key, parsed.cert
    if cert is None or not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise EcmtError(ErrorCode.STORE_UNSUPPORTED_FORMAT, "PKCS#12 lacks a key or certificate")
    name = cert.friendly_name.decode("utf-8") if cert.friendly_name else None
    return Opened(
        key=key,
        certificate=cert.certificate,
        chain=tuple(c.certificate for c in parsed.additional_certs),
        friendly_name=name,
    )


# DER markers a test (or a support engineer) can look for in a PKCS#12 file
OID_PBE_SHA1_3DES = bytes.fromhex("060a2a864886f70d010c0103")
OID_PBES2 = bytes.fromhex("06092a864886f70d01050d")
OID_SHA1 = bytes.fromhex("06052b0e03021a")
OID_AES256_CBC = bytes.fromhex("060960864801650304012a")
