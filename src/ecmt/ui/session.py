"""What one walk through the wizard has learned so far. Plain Python, no Qt."""

from __future__ import annotations

import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__

if TYPE_CHECKING:  # only names for annotations: importing them would slow the start
    from ccms_protocol.wire import AccountInfo, TermsDocument

    from ..app import App
    from ..domain.errors import EcmtError
    from ..domain.models import ClientIdentity, PinCredentials
    from ..services.backup import BackupResult
    from ..services.release import ReleaseDecision
    from ..services.renewal import RenewalResult


def reference(error: EcmtError | None) -> str:
    """The short form users read out, then the full request id the logs hold."""
    if error is None or not error.reference:
        return "-"
    from ccms_protocol.wire import short_reference

    return f"{short_reference(error.reference)} ({error.reference})"


@dataclass
class WizardSession:
    app: App
    log_path: Path | None = None
    demo_note: str | None = None
    release: ReleaseDecision | None = None
    account: AccountInfo | None = None
    credentials: PinCredentials | None = None
    identity: ClientIdentity | None = None  # the current certificate, when renewing with it
    terms: TermsDocument | None = None
    result: RenewalResult | None = None
    backup: BackupResult | None = None
    step_code: str = "R-1"
    last_error: EcmtError | None = None
    notes: list[str] = field(default_factory=list)

    def for_new_walk(self) -> WizardSession:
        """A fresh walk: the same app, log and demo, nothing learned by an earlier walk
        (a finished renewal, a backup, a logon) carried over into the next."""
        return WizardSession(self.app, self.log_path, self.demo_note)

    @property
    def epoc(self) -> str | None:
        if self.account is not None:
            return self.account.epoc
        return self.credentials.epoc if self.credentials else None

    def needs_terms(self) -> bool:
        return (
            self.account is not None
            and self.terms is not None
            and self.account.terms_accepted_version != self.terms.version
        )

    def support_details(self) -> str:
        """What the helpdesk asks for. Never the PIN, a password or a key."""
        error = self.last_error
        lines = [
            f"ecmt {__version__}",
            f"System: {platform.system()} {platform.release()} ({platform.machine()})",
            f"Store: {self.app.store.description}",
            f"Service: {self.app.settings.server_url}",
            f"Step: {self.step_code}",
            f"EPOC: {self.epoc or '-'}",
            f"Last error: {error.code.value if error else '-'}",
            f"Reference: {reference(error)}",
            f"Log file: {self.log_path or '-'}",
        ]
        return "\n".join(lines)
