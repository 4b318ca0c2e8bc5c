"""The app's transports, kept for its lifetime: one for requests with a PIN or no
credentials, and one for the client certificate in use (TLS client authentication belongs
to a connection, so the two never share one). A renewal's logon, terms, CA certificates and
enrolment thus go over one kept-alive connection, and the logon token reaches the
enrolment."""

from __future__ import annotations

import threading

from ..config import EcmtSettings
from ..domain.models import ClientIdentity, fingerprint
from .transport import Transport


class Connections:
    def __init__(self, settings: EcmtSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._plain: Transport | None = None
        self._certified: tuple[str, Transport] | None = None

    def transport(self, identity: ClientIdentity | None) -> Transport:
        with self._lock:
            if identity is None:
                if self._plain is None:
                    self._plain = Transport(self._settings)
                return self._plain
            which = fingerprint(identity.certificate)
            if self._certified is None or self._certified[0] != which:
                if self._certified is not None:  # another certificate now: its turn is over
                    self._certified[1].close()
                self._certified = (which, Transport(self._settings, identity))
            return self._certified[1]

    def close(self) -> None:
        with self._lock:
            for transport in (self._plain, self._certified[1] if self._certified else None):
                if transport is not None:
                    transport.close()
            self._plain = self._certified = None
