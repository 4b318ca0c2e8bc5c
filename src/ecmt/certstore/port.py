"""The certificate store port: what every store adapter (NSS, files, Windows, macOS) offers.

Adapters raise `EcmtError` with a STORE_* code, carrying the tool's or API's own error
in `detail`. Replacing a certificate is not an adapter method: `services.install` builds
the transaction (install, find again by fingerprint, remove superseded, roll back) from
these primitives, so every store gets the same safety.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from cryptography import x509

from ..domain.models import ClientIdentity, PrivateKey, Profile, StoredCertificate


class CertStore(Protocol):
    @property
    def description(self) -> str:
        """Where this store is, in words a helpdesk can read out ("NSS database ~/.pki/nssdb")."""
        ...

    def available(self) -> bool:
        """Whether this store exists or can be created here (tools present, platform right)."""
        ...

    def needs_elevation(self) -> bool:
        """Whether writing here needs administrator/root rights this process may lack."""
        ...

    def list(self, profile: Profile) -> list[StoredCertificate]:
        """Certificates of `profile` in this store. Raises STORE_UNAVAILABLE, STORE_ERROR."""
        ...

    def find(self, fingerprint: str) -> StoredCertificate | None:
        """The certificate with this SHA-256 fingerprint, or None."""
        ...

    def install(
        self,
        key: PrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
        friendly_name: str,
    ) -> StoredCertificate:
        """Add key + certificate (+ CA chain). Raises STORE_* codes; may leave nothing behind."""
        ...

    def remove(self, fingerprint: str) -> None:
        """Remove the certificate and its key. Raises STORE_NOT_FOUND, STORE_ERROR."""
        ...

    def load_identity(self, fingerprint: str) -> ClientIdentity:
        """Key, certificate and chain, to authenticate a renewal or build a backup.
        Raises STORE_NOT_FOUND, or BACKUP_NO_KEY where the key cannot leave the store."""
        ...


@runtime_checkable
class KeyReaders(Protocol):
    """A store whose keys carry their own access list (Windows): who may read a key."""

    def key_readers_of(self, fingerprint: str) -> list[str] | None:
        """Account names allowed to read the certificate's key; None where not known."""
        ...
