"""Firefox on Linux: one NSS database per profile, driven by the same NSS adapter.

A write while Firefox has the profile open may be undone when Firefox quits, so `install`
and `remove` first wait (a bounded time, `wait_seconds`) for Firefox to close, then stop
with STORE_BROWSER_RUNNING: the user closes Firefox and tries again. Reading is safe.

`firefox` means every profile that has a database, looked up each time (a profile made
after the program started counts); `firefox:NAME` one profile, by its name in
profiles.ini or its folder's name.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from cryptography import x509

from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import ClientIdentity, PrivateKey, Profile, StoredCertificate
from . import WAIT_SECONDS  # the one default, kept where stores are chosen
from ._firefox_running import firefox_using
from ._nss import NssStore
from ._nss_locations import FirefoxProfile, find_firefox_profile, firefox_profiles
from ._several import Place, SeveralStores

log = logging.getLogger(__name__)
POLL_SECONDS = 0.5


class FirefoxProfileStore:
    """One Firefox profile's database (never created here: Firefox makes it on first start)."""

    def __init__(
        self,
        profile: FirefoxProfile,
        *,
        wait_seconds: float = WAIT_SECONDS,
        running: Callable[[Path], int | None] = firefox_using,
    ) -> None:
        self.profile = profile
        self.nss = NssStore(profile.folder, create=False)
        self.wait_seconds = wait_seconds
        self._running = running

    @property
    def description(self) -> str:
        return f"Firefox profile {self.profile.name} ({self.nss.description})"

    def available(self) -> bool:
        return self.profile.has_database and self.nss.available()

    def needs_elevation(self) -> bool:
        return self.nss.needs_elevation()

    def list(self, profile: Profile) -> builtins.list[StoredCertificate]:
        return [self._here(s) for s in self.nss.list(profile)]

    def find(self, fingerprint: str) -> StoredCertificate | None:
        found = self.nss.find(fingerprint)
        return self._here(found) if found else None

    def install(
        self,
        key: PrivateKey,
        certificate: x509.Certificate,
        chain: Sequence[x509.Certificate],
        friendly_name: str,
    ) -> StoredCertificate:
        if not self.profile.has_database:
            raise EcmtError(
                ErrorCode.STORE_UNAVAILABLE,
                f"{self.description}: no certificate database yet (start Firefox once)",
            )
        self.wait_until_closed()
        return self._here(self.nss.install(key, certificate, chain, friendly_name))

    def remove(self, fingerprint: str) -> None:
        self.wait_until_closed()
        self.nss.remove(fingerprint)

    def load_identity(self, fingerprint: str) -> ClientIdentity:
        return self.nss.load_identity(fingerprint)

    def wait_until_closed(self) -> None:
        """Return once no Firefox has this profile open; STORE_BROWSER_RUNNING after
        `wait_seconds` (Firefox takes a few seconds to quit after its window closes)."""
        deadline = time.monotonic() + self.wait_seconds
        pid = self._running(self.profile.folder)
        if pid is not None:
            log.warning("Firefox (process %d) has %s open: waiting", pid, self.profile.name)
        while pid is not None:
            if time.monotonic() >= deadline:
                raise EcmtError(
                    ErrorCode.STORE_BROWSER_RUNNING,
                    f"Firefox (process {pid}) has profile {self.profile.name} open "
                    f"({self.profile.folder}); waited {self.wait_seconds:g} s",
                )
            time.sleep(POLL_SECONDS)
            pid = self._running(self.profile.folder)

    def _here(self, stored: StoredCertificate) -> StoredCertificate:
        return StoredCertificate(
            stored.certificate, stored.has_private_key, self.description, stored.label
        )


class FirefoxProfiles(SeveralStores):
    """Every Firefox profile with a database in this home, found again on each use."""

    def __init__(self, home: Path, *, wait_seconds: float = WAIT_SECONDS) -> None:
        super().__init__((), "firefox")
        self.home = home
        self.wait_seconds = wait_seconds

    def places(self) -> builtins.list[Place]:
        profiles = [p for p in firefox_profiles(self.home) if p.has_database]
        if len(profiles) == 1:  # the usual case: "Firefox", not "Firefox (default-release)"
            return [Place("firefox", self._store(profiles[0]))]
        names = [p.name for p in profiles]
        return [
            Place(
                f"firefox:{p.name if names.count(p.name) == 1 else p.folder.name}", self._store(p)
            )
            for p in profiles
        ]

    def empty_reason(self) -> str:
        return f"no Firefox profile with a certificate database in {self.home} (start Firefox once)"

    def _store(self, profile: FirefoxProfile) -> FirefoxProfileStore:
        return FirefoxProfileStore(profile, wait_seconds=self.wait_seconds)


def open_firefox(
    name: str, home: Path, wait_seconds: float = WAIT_SECONDS
) -> FirefoxProfiles | FirefoxProfileStore:
    """`firefox` (every profile) or `firefox:NAME`; STORE_UNAVAILABLE for an unknown name."""
    if not name:
        return FirefoxProfiles(home, wait_seconds=wait_seconds)
    profile = find_firefox_profile(home, name)
    if profile is None:
        known = ", ".join(p.name for p in firefox_profiles(home)) or "none"
        raise EcmtError(
            ErrorCode.STORE_UNAVAILABLE, f"no Firefox profile named {name!r} (profiles: {known})"
        )
    return FirefoxProfileStore(profile, wait_seconds=wait_seconds)
