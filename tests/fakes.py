"""Fakes of the client's ports for unit tests: an in-memory store, secrets, an EST server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ccms_protocol.wire import client_subject
from ecmt.ccms.est import Issued, Pending
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import (
    ClientIdentity,
    PinCredentials,
    PrivateKey,
    Profile,
    StoredCertificate,
)


class MemorySecrets:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def set(self, name: str, value: str) -> None:
        self.values[name] = value

    def delete(self, name: str) -> None:
        self.values.pop(name, None)


@dataclass
class FakeStore:
    """The CertStore port in memory, with switches to make each step fail."""

    entries: dict[str, tuple[StoredCertificate, PrivateKey | None]] = field(default_factory=dict)
    fail_install: EcmtError | None = None
    lose_after_install: bool = False
    fail_remove: EcmtError | None = None
    description: str = "memory store"

    def available(self) -> bool:
        return True

    def needs_elevation(self) -> bool:
        return False

    def list(self, profile: Profile) -> list[StoredCertificate]:
        return [s for s, _ in self.entries.values() if profile.matches(s.certificate)]

    def find(self, fp: str) -> StoredCertificate | None:
        entry = self.entries.get(fp)
        return entry[0] if entry else None

    def install(
        self,
        key: PrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
        friendly_name: str,
    ) -> StoredCertificate:
        if self.fail_install:
            raise self.fail_install
        stored = StoredCertificate(certificate, True, self.description, friendly_name)
        if not self.lose_after_install:
            self.entries[stored.fingerprint] = (stored, key)
        return stored

    def remove(self, fp: str) -> None:
        if self.fail_remove:
            raise self.fail_remove
        if fp not in self.entries:
            raise EcmtError(ErrorCode.STORE_NOT_FOUND, fp)
        del self.entries[fp]

    def load_identity(self, fp: str) -> ClientIdentity:
        stored, key = self.entries[fp]
        assert key is not None
        return ClientIdentity(stored.certificate, key)

    def fingerprints(self) -> set[str]:
        return set(self.entries)


class MiniCA:
    """A root and an issuing CA made in memory, issuing like the reference server."""

    def __init__(self, name: str = "Fake") -> None:
        now = datetime.now(UTC)
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Root")])
        self.root = self._ca(root_name, root_name, self.root_key, self.root_key, now)
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} Issuing CA")])
        self.issuing = self._ca(name, root_name, self.key, self.root_key, now)

    @staticmethod
    def _ca(subject, issuer, key, signer, now) -> x509.Certificate:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(signer, hashes.SHA256())
        )

    def issue(
        self,
        public_key,
        epoc: str,
        days: int = 365,
        client_auth: bool = True,
        not_before: datetime | None = None,
    ) -> x509.Certificate:
        start = not_before or datetime.now(UTC) - timedelta(minutes=1)
        usage = [
            ExtendedKeyUsageOID.CLIENT_AUTH if client_auth else ExtendedKeyUsageOID.SERVER_AUTH
        ]
        return (
            x509.CertificateBuilder()
            .subject_name(client_subject("Dr Fake", epoc, "GP", "Fake Practice"))
            .issuer_name(self.issuing.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + timedelta(days=days))
            .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
            .sign(self.key, hashes.SHA256())
        )


@dataclass
class FakeEst:
    """An EST server in memory: idempotent on a repeated key, optionally pending first."""

    ca: MiniCA
    pending_rounds: int = 0
    epoc_override: str | None = None
    sent: list[bytes] = field(default_factory=list)
    issued: dict[bytes, x509.Certificate] = field(default_factory=dict)

    def __enter__(self) -> FakeEst:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def cacerts(self) -> list[x509.Certificate]:
        return [self.ca.issuing, self.ca.root]

    def simpleenroll(self, csr_der: bytes, credentials: PinCredentials) -> Issued | Pending:
        return self._answer(csr_der, credentials.epoc)

    def simplereenroll(self, csr_der: bytes) -> Issued | Pending:
        csr = x509.load_der_x509_csr(csr_der)
        epoc = csr.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
        return self._answer(csr_der, str(epoc))

    def _answer(self, csr_der: bytes, epoc: str) -> Issued | Pending:
        self.sent.append(csr_der)
        if self.pending_rounds > 0:
            self.pending_rounds -= 1
            return Pending(retry_after=1, reference=f"ref-{len(self.sent)}")
        if csr_der not in self.issued:  # the same CSR again gets the same certificate
            public_key = x509.load_der_x509_csr(csr_der).public_key()
            self.issued[csr_der] = self.ca.issue(public_key, self.epoc_override or epoc)
        return Issued([self.issued[csr_der]], reference=f"ref-{len(self.sent)}")
