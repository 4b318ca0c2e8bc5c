"""What one walk through the wizard has learned so far, and the app it works with.
Plain Python, no Qt.

The app (settings, store, services) is built on first use by `AppSource`, normally in
the first page's background task: the window is on screen before any of it is loaded.
"""

from __future__ import annotations

import platform
import threading
from collections.abc import Callable
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


class AppSource:
    """The app, made once by `make` (which also names the log file), from any thread."""

    def __init__(self, make: Callable[[], tuple[App, Path | None]]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._app: App | None = None
        self.log_path: Path | None = None

    @classmethod
    def ready(cls, app: App, log_path: Path | None) -> AppSource:
        source = cls(lambda: (app, log_path))
        source.get()
        return source

    @property
    def built(self) -> bool:
        return self._app is not None

    def get(self) -> App:
        with self._lock:
            if self._app is None:
                self._app, self.log_path = self._make()
            return self._app


class WizardSession:
    """One walk: a fresh one for every renewal, sharing the app, the log and the demo."""

    def __init__(
        self, app: App | AppSource, log_path: Path | None = None, demo_note: str | None = None
    ) -> None:
        self.source = app if isinstance(app, AppSource) else AppSource.ready(app, log_path)
        self.demo_note = demo_note
        self.release: ReleaseDecision | None = None
        self.account: AccountInfo | None = None
        self.credentials: PinCredentials | None = None
        self.identity: ClientIdentity | None = None  # the current certificate, if renewing with it
        self.terms: TermsDocument | None = None
        self.result: RenewalResult | None = None
        self.backup: BackupResult | None = None
        self.wants_reminder = False  # "Remind me before it expires" was ticked at Finish
        self.step_code = "R-1"
        self.last_error: EcmtError | None = None
        self.notes: list[str] = []

    @property
    def app(self) -> App:
        return self.source.get()

    @property
    def log_path(self) -> Path | None:
        return self.source.log_path

    def for_new_walk(self) -> WizardSession:
        """A fresh walk: the same app, log and demo, nothing learned by an earlier walk
        (a finished renewal, a backup, a logon) carried over into the next."""
        return WizardSession(self.source, None, self.demo_note)

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


def reference(error: EcmtError | None) -> str:
    """The short form users read out, then the full request id the logs hold."""
    if error is None or not error.reference:
        return "-"
    from ccms_protocol.reference import short_reference

    return f"{short_reference(error.reference)} ({error.reference})"
