"""Several stores behind the one port, so one renewal serves Chrome and Firefox alike.

The replace transaction of services/install.py then spans every store, with no change to
its steps, because the composite answers as one store:

- `install` puts the certificate into each store in turn; when one fails, the ones done
  (and the failing one, should it hold it) get it removed again before the error goes up.
  A part that names no store now (`firefox` where Firefox never ran) is passed over with
  a warning in the log; alone, it is STORE_UNAVAILABLE;
- `find` and `list` merge by fingerprint; a certificate counts as having its key only
  when EVERY store holds it with its key, so the check after install fails (and rolls
  back everywhere) unless it landed everywhere, and no old certificate is removed from
  any store before that;
- `remove` takes it from every store that holds it, carrying on past a failure;
- `load_identity` reads the first store that holds it with its key.

`places()` names each store with its own store value, for a status per store.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import ClientIdentity, PrivateKey, Profile, StoredCertificate
from ..domain.models import fingerprint as fingerprint_of
from .port import CertStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Place:
    """One store and the store value that names it (`nss`, `firefox:default-release`)."""

    value: str
    store: CertStore


class SeveralStores:
    def __init__(self, parts: Sequence[Place], value: str) -> None:
        self.parts = tuple(parts)
        self.value = value

    def places(self) -> builtins.list[Place]:
        """Every single store, a composite among the parts opened up."""
        flat: builtins.list[Place] = []
        for part in self.parts:
            if isinstance(part.store, SeveralStores):
                flat.extend(part.store.places())
            else:
                flat.append(part)
        return flat

    @property
    def description(self) -> str:
        return "; ".join(p.store.description for p in self.places()) or self.empty_reason()

    def empty_reason(self) -> str:
        return f"no certificate store in {self.value!r}"

    def available(self) -> bool:
        places = self.places()
        return bool(places) and all(p.store.available() for p in places)

    def needs_elevation(self) -> bool:
        return any(p.store.needs_elevation() for p in self.places())

    def list(self, profile: Profile) -> builtins.list[StoredCertificate]:
        places = self.places()
        found: dict[str, builtins.list[StoredCertificate]] = {}
        for place in places:
            for stored in place.store.list(profile):
                found.setdefault(stored.fingerprint, []).append(stored)
        return [_merged(copies, len(places)) for copies in found.values()]

    def find(self, fingerprint: str) -> StoredCertificate | None:
        places = self.places()
        copies = [s for p in places if (s := p.store.find(fingerprint)) is not None]
        return _merged(copies, len(places)) if copies else None

    def install(
        self,
        key: PrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
        friendly_name: str,
    ) -> StoredCertificate:
        places = self.places()
        if not places:
            raise EcmtError(ErrorCode.STORE_UNAVAILABLE, self.empty_reason())
        for part in self.parts:  # `firefox` on a computer where Firefox was never started
            if isinstance(part.store, SeveralStores) and not part.store.places():
                log.warning(
                    "%s: nothing to install into: %s", part.value, part.store.empty_reason()
                )
        fp = fingerprint_of(certificate)
        done: builtins.list[Place] = []
        installed: builtins.list[StoredCertificate] = []
        try:
            for place in places:
                done.append(place)
                installed.append(place.store.install(key, certificate, chain, friendly_name))
        except BaseException:
            for place in reversed(done):
                _take_back(place, fp)
            raise
        return _merged(installed, len(places))

    def remove(self, fingerprint: str) -> None:
        holding = [p for p in self.places() if p.store.find(fingerprint) is not None]
        if not holding:
            raise EcmtError(ErrorCode.STORE_NOT_FOUND, f"no certificate {fingerprint[:16]}")
        failed: builtins.list[EcmtError] = []
        for place in holding:
            try:
                place.store.remove(fingerprint)
            except EcmtError as exc:
                log.error("removing %s from %s failed: %s", fingerprint[:16], place.value, exc)
                failed.append(exc)
        if failed:
            first = failed[0]
            raise EcmtError(first.code, f"{len(failed)} of {len(holding)} stores: {first.detail}")

    def load_identity(self, fingerprint: str) -> ClientIdentity:
        held_without_key = False
        for place in self.places():
            stored = place.store.find(fingerprint)
            if stored is None:
                continue
            if stored.has_private_key:
                return place.store.load_identity(fingerprint)
            held_without_key = True
        if held_without_key:
            raise EcmtError(ErrorCode.BACKUP_NO_KEY, "no store holds this certificate's key")
        raise EcmtError(ErrorCode.STORE_NOT_FOUND, f"no certificate {fingerprint[:16]}")


def places_of(store: CertStore, value: str) -> list[Place]:
    """The single stores behind `store` (itself, unless it is a composite)."""
    if isinstance(store, SeveralStores):
        return store.places()
    return [Place(value, store)]


def _merged(copies: Sequence[StoredCertificate], places: int) -> StoredCertificate:
    everywhere = len(copies) == places and all(c.has_private_key for c in copies)
    return StoredCertificate(
        certificate=copies[0].certificate,
        has_private_key=everywhere,
        location="; ".join(c.location for c in copies),
        label=next((c.label for c in copies if c.label), None),
    )


def _take_back(place: Place, fp: str) -> None:
    """Roll one store back after a failure elsewhere; log, never mask the first error."""
    try:
        if place.store.find(fp) is not None:
            place.store.remove(fp)
    except EcmtError as exc:
        log.error("rollback of %s in %s failed: %s", fp[:16], place.value, exc)
