"""The certificates of our profile in the store: expiry, days left, state, where installed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from ccms_protocol.files import write_atomic

from ..certstore.port import CertStore, KeyReaders
from ..domain.models import CertState, Profile, StoredCertificate, common_name_of


@dataclass(frozen=True)
class CertificateStatus:
    fingerprint: str
    serial: str
    name: str
    epoc: str | None
    not_before: datetime
    not_after: datetime
    days_left: int
    state: CertState
    location: str
    has_private_key: bool
    key_readers: tuple[str, ...] | None = None  # accounts that may use the key (Windows)

    def as_json(self) -> dict[str, object]:
        return {
            "fingerprint": self.fingerprint,
            "serial": self.serial,
            "name": self.name,
            "epoc": self.epoc,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "days_left": self.days_left,
            "state": self.state.value,
            "location": self.location,
            "has_private_key": self.has_private_key,
            "key_readers": list(self.key_readers) if self.key_readers is not None else None,
        }


class StatusService:
    """Works offline: the CA names of the last renewal (cached) narrow the profile."""

    def __init__(
        self,
        store: CertStore,
        renewal_window_days: int,
        ca_cache: Path,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._window = timedelta(days=renewal_window_days)
        self._ca_cache = ca_cache
        self._clock = clock

    def remember_cas(self, cas: list[x509.Certificate]) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding

        write_atomic(self._ca_cache, b"".join(c.public_bytes(Encoding.PEM) for c in cas), 0o644)

    def profile(self, epoc: str | None = None) -> Profile:
        issuers: tuple[x509.Name, ...] = ()
        if self._ca_cache.exists():
            cas = x509.load_pem_x509_certificates(self._ca_cache.read_bytes())
            issuers = tuple(c.subject for c in cas)
        return Profile(issuers, epoc)

    def certificates(self, epoc: str | None = None) -> list[CertificateStatus]:
        now = self._clock()
        found = self._store.list(self.profile(epoc))
        return sorted(
            (self._status(s, now) for s in found), key=lambda s: s.not_after, reverse=True
        )

    def installed_epoc(self) -> str | None:
        """The EPOC of the newest usable certificate, to pre-fill the logon."""
        for status in self.certificates():
            if status.state in {CertState.VALID, CertState.RENEWAL_DUE} and status.epoc:
                return status.epoc
        return None

    def current(self, epoc: str) -> StoredCertificate | None:
        """The newest certificate for EPOC that can still authenticate a renewal."""
        now = self._clock()
        usable = [
            s
            for s in self._store.list(self.profile(epoc))
            if s.has_private_key
            and s.certificate.not_valid_before_utc <= now <= s.certificate.not_valid_after_utc
        ]
        return max(usable, key=lambda s: s.not_after, default=None)

    def _status(self, stored: StoredCertificate, now: datetime) -> CertificateStatus:
        cert = stored.certificate
        not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        if now < not_before:
            state = CertState.NOT_YET_VALID
        elif now > not_after:
            state = CertState.EXPIRED
        elif not_after - now <= self._window:
            state = CertState.RENEWAL_DUE
        else:
            state = CertState.VALID
        readers = None
        if stored.has_private_key and isinstance(self._store, KeyReaders):
            found = self._store.key_readers_of(stored.fingerprint)
            readers = tuple(found) if found is not None else None
        return CertificateStatus(
            fingerprint=stored.fingerprint,
            serial=format(cert.serial_number, "x"),
            name=common_name_of(cert),
            epoc=stored.epoc,
            not_before=not_before,
            not_after=not_after,
            days_left=max(0, (not_after - now).days),
            state=state,
            location=stored.location,
            has_private_key=stored.has_private_key,
            key_readers=readers,
        )
