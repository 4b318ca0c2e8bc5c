"""The certificates of our profile in the store: expiry, days left, state, where installed.

With several stores (`store = ["nss", "firefox"]`) each certificate says in which of them
it is (`places`), so the overview can show each browser that has it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509

from ccms_protocol.files import write_atomic

from ..certstore._several import places_of
from ..certstore.names import plain_store_list, plain_store_name
from ..certstore.port import CertStore, KeyReaders
from ..domain.models import CertState, Profile, StoredCertificate, common_name_of


@dataclass(frozen=True)
class StorePlace:
    """One store that holds the certificate."""

    store: str  # its store value: "nss", "firefox", "firefox:work", "windows:user"
    where: str  # in plain words: "Firefox on this computer"
    location: str  # the technical description, with the path
    has_private_key: bool

    def as_json(self) -> dict[str, object]:
        return {
            "store": self.store,
            "where": self.where,
            "location": self.location,
            "has_private_key": self.has_private_key,
        }


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
    places: tuple[StorePlace, ...] = ()  # each store that holds it

    @property
    def where(self) -> str:
        """Every store that holds it, in plain words ("the certificate stores of Chrome and
        Edge, and Firefox")."""
        return plain_store_list([p.store for p in self.places]) if self.places else ""

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
            "where": self.where,
            "places": [p.as_json() for p in self.places],
        }


class StatusService:
    """Works offline: the CA names of the last renewal (cached) narrow the profile.

    `store_value` names the store (as configured) for the plain words of each place."""

    def __init__(
        self,
        store: CertStore,
        renewal_window_days: int,
        ca_cache: Path,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        store_value: str = "",
    ) -> None:
        self._store = store
        self._store_value = store_value
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
        found = self._found(self.profile(epoc))
        return sorted(
            (self._status(held, now) for held in found),
            key=lambda s: s.not_after,
            reverse=True,
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
            for s in (held.stored for held in self._found(self.profile(epoc)))
            if s.has_private_key
            and s.certificate.not_valid_before_utc <= now <= s.certificate.not_valid_after_utc
        ]
        return max(usable, key=lambda s: s.not_after, default=None)

    def _found(self, profile: Profile) -> list[_Held]:
        """Each certificate once, with the stores that hold it; it has its key if any of
        them holds it with its key (a renewal or a backup can read it from there)."""
        copies: dict[str, list[tuple[StoredCertificate, StorePlace, CertStore]]] = {}
        for place in places_of(self._store, self._store_value):
            where = plain_store_name(place.value)
            for stored in place.store.list(profile):
                here = StorePlace(place.value, where, stored.location, stored.has_private_key)
                copies.setdefault(stored.fingerprint, []).append((stored, here, place.store))
        found = []
        for held in copies.values():
            merged = StoredCertificate(
                certificate=held[0][0].certificate,
                has_private_key=any(s.has_private_key for s, _, _ in held),
                location="; ".join(s.location for s, _, _ in held),
                label=next((s.label for s, _, _ in held if s.label), None),
            )
            readers = next(
                (st for s, _, st in held if s.has_private_key and isinstance(st, KeyReaders)),
                None,
            )
            found.append(_Held(merged, tuple(p for _, p, _ in held), readers))
        return found

    def _status(self, held: _Held, now: datetime) -> CertificateStatus:
        stored = held.stored
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
        if held.key_readers is not None:
            found = held.key_readers.key_readers_of(stored.fingerprint)
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
            places=held.places,
        )


@dataclass(frozen=True)
class _Held:
    stored: StoredCertificate  # merged over the stores that hold it
    places: tuple[StorePlace, ...]
    key_readers: KeyReaders | None  # a store that can say who may use its key
