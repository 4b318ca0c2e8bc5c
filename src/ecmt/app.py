"""The composition root: settings -> adapters -> services. The only place that picks
concrete classes; the CLI and the wizard both start here.

Services that need the network stack are built on first use, so the desktop app shows
its first page without loading requests, TLS or the keyring.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .certstore import open_store, store_values
from .certstore.names import plain_store_name
from .config import EcmtSettings
from .domain.errors import EcmtError, ErrorCode
from .domain.models import ClientIdentity
from .secrets import KeyringSecrets
from .services.status import StatusService

if TYPE_CHECKING:
    from .ccms.api import ApiClient
    from .ccms.connections import Connections
    from .ccms.est import EstClient
    from .certstore.port import CertStore
    from .services.logon import LogonService, TermsService
    from .services.release import ReleaseCheck
    from .services.renewal import RenewalService


class App:
    def __init__(self, settings: EcmtSettings) -> None:
        self.settings = settings
        self.secrets = KeyringSecrets(settings.state_dir / "secrets")
        self.store_values = store_values(settings.store)  # "nss", or ["nss", "firefox"]
        self.store_value = ",".join(self.store_values)
        self.store: CertStore = open_store(  # several values: one store over all of them
            self.store_value,
            settings.data_dir,
            self.secrets,
            exportable_keys=settings.exportable_keys,
            key_readers=settings.key_readers,
            firefox_wait_seconds=settings.firefox_wait_seconds,
        )
        self.status = StatusService(
            store=self.store,
            renewal_window_days=settings.renewal_window_days,
            ca_cache=self.ca_cache,
            store_value=self.store_value,
        )

    @property
    def store_name(self) -> str:
        """The store (or stores: "the certificate stores of Chrome and Edge, and Firefox")
        in a user's words; `store.description` has the paths."""
        return plain_store_name(self.store_value)

    @property
    def ca_cache(self) -> Path:
        return self.settings.state_dir / "ca-chain.pem"

    def server_url(self) -> str:
        """The service's address; SERVER_NOT_CONFIGURED (not a network error) when no
        setting names one."""
        if not self.settings.server_url:
            raise EcmtError(
                ErrorCode.SERVER_NOT_CONFIGURED,
                "no server is configured (set `server_url` or --server)",
            )
        return self.settings.server_url

    def est(self, identity: ClientIdentity | None = None) -> EstClient:
        """Over the app's kept-alive connection (for `identity`, its own): closing the
        client leaves it open for the next step of the renewal."""
        from .ccms.est import EstClient

        self.server_url()
        return EstClient(self.connections.transport(identity), owns_transport=False)

    def api(self, identity: ClientIdentity | None = None) -> ApiClient:
        from .ccms.api import ApiClient

        self.server_url()
        return ApiClient(self.connections.transport(identity), owns_transport=False)

    @cached_property
    def connections(self) -> Connections:
        from .ccms.connections import Connections

        return Connections(self.settings)

    def close(self) -> None:
        """Close the kept-alive connections, if any were made."""
        if "connections" in self.__dict__:
            self.connections.close()

    @cached_property
    def logon(self) -> LogonService:
        from .services.logon import LogonService

        return LogonService(self.api, self.settings.epoc_pattern)

    @cached_property
    def terms(self) -> TermsService:
        from .services.logon import TermsService

        return TermsService(self.api)

    @cached_property
    def renewal(self) -> RenewalService:
        from .services.journal import Journal
        from .services.renewal import RenewalService

        journal = Journal(self.settings.state_dir / "journal", self.secrets)
        return RenewalService(self.settings, self.store, journal, self.est)

    @cached_property
    def release(self) -> ReleaseCheck:
        from .services.release import ReleaseCheck

        return ReleaseCheck.from_settings(self.settings)

    def current_identity(self, epoc: str) -> ClientIdentity:
        """The newest valid certificate for EPOC with its key, for `simplereenroll`."""
        stored = self.status.current(epoc)
        if stored is None:
            raise EcmtError(ErrorCode.NO_CURRENT_CERT, f"EPOC {epoc} in {self.store.description}")
        return self.store.load_identity(stored.fingerprint)


def build_app(settings: EcmtSettings) -> App:
    return App(settings)
