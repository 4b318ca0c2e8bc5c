"""The composition root: settings -> adapters -> services. The only place that picks
concrete classes; the CLI and the wizard both start here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .ccms.api import ApiClient
from .ccms.est import EstClient
from .ccms.transport import Transport
from .certstore import open_store
from .certstore.port import CertStore
from .config import EcmtSettings
from .domain.errors import EcmtError, ErrorCode
from .domain.models import ClientIdentity
from .secrets import KeyringSecrets
from .services.journal import Journal
from .services.logon import LogonService, TermsService
from .services.release import ReleaseCheck
from .services.renewal import RenewalService
from .services.status import StatusService


@dataclass(frozen=True)
class App:
    settings: EcmtSettings
    store: CertStore
    status: StatusService
    logon: LogonService
    terms: TermsService
    renewal: RenewalService
    release: ReleaseCheck

    def est(self, identity: ClientIdentity | None = None) -> EstClient:
        return EstClient(Transport(self.settings, identity))

    def api(self, identity: ClientIdentity | None = None) -> ApiClient:
        return ApiClient(Transport(self.settings, identity))

    def current_identity(self, epoc: str) -> ClientIdentity:
        """The newest valid certificate for EPOC with its key, for `simplereenroll`."""
        stored = self.status.current(epoc)
        if stored is None:
            raise EcmtError(ErrorCode.NO_CURRENT_CERT, f"EPOC {epoc} in {self.store.description}")
        return self.store.load_identity(stored.fingerprint)

    @property
    def ca_cache(self) -> Path:
        return self.settings.state_dir / "ca-chain.pem"


def build_app(settings: EcmtSettings) -> App:
    secrets = KeyringSecrets(settings.state_dir / "secrets")
    store = open_store(settings.store, settings.data_dir, secrets)

    def api_for(identity: ClientIdentity | None) -> ApiClient:
        return ApiClient(Transport(settings, identity))

    def est_for(identity: ClientIdentity | None) -> EstClient:
        return EstClient(Transport(settings, identity))

    status = StatusService(store, settings.renewal_window_days, settings.state_dir / "ca-chain.pem")
    return App(
        settings=settings,
        store=store,
        status=status,
        logon=LogonService(api_for, settings.epoc_pattern),
        terms=TermsService(api_for),
        renewal=RenewalService(
            settings, store, Journal(settings.state_dir / "journal", secrets), est_for
        ),
        release=ReleaseCheck.from_settings(settings),
    )
