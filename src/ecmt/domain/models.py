"""Values that move between services, stores and faces (pydantic and frozen dataclasses)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

# the plain enums live apart, so the desktop app can show its first window without
# loading cryptography or pydantic; they are re-exported here for everyone else
from .states import BackupFormat as BackupFormat
from .states import CertState as CertState
from .states import RenewalStage as RenewalStage
from .states import SupersededPolicy as SupersededPolicy

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER, lower-case hex: how stores and services name a certificate."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def epoc_of(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    return str(values[0].value) if values else None


def common_name_of(cert: x509.Certificate) -> str:
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else cert.subject.rfc4514_string()


@dataclass(frozen=True)
class Profile:
    """Which certificates are ours: issued by one of these CAs, optionally for one EPOC."""

    issuers: tuple[x509.Name, ...] = ()
    epoc: str | None = None

    def matches(self, cert: x509.Certificate) -> bool:
        if self.issuers and cert.issuer not in self.issuers:
            return False
        if epoc_of(cert) is None:
            return False
        return self.epoc is None or epoc_of(cert) == self.epoc


@dataclass(frozen=True)
class StoredCertificate:
    """A certificate as a store holds it."""

    certificate: x509.Certificate
    has_private_key: bool
    location: str
    label: str | None = None
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fingerprint", fingerprint(self.certificate))

    @property
    def epoc(self) -> str | None:
        return epoc_of(self.certificate)

    @property
    def not_after(self) -> datetime:
        return self.certificate.not_valid_after_utc


@dataclass(frozen=True)
class PinCredentials:
    epoc: str
    pin: SecretStr

    def __repr__(self) -> str:
        return f"PinCredentials(epoc={self.epoc!r}, pin=**********)"


@dataclass(frozen=True)
class ClientIdentity:
    """A certificate and its private key, for TLS client authentication and backups."""

    certificate: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()

    def __repr__(self) -> str:
        return f"ClientIdentity(serial={self.certificate.serial_number:x}, key=<hidden>)"


Credentials = PinCredentials | ClientIdentity
