"""The logon token a PIN logon answered with, held for the requests of the same renewal.

With it, terms acceptance and enrolment go as `Authorization: Bearer`, and the service
checks the PIN (slowly, with argon2) once per renewal instead of once per request. It is
kept only in memory, only for the credentials that earned it, and is dropped as soon as
the service refuses it; the PIN itself then goes again, as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ccms_protocol.wire import LogonToken, ProblemCode

from ..domain.models import PinCredentials

# the service's clock may run ahead of ours: a token this close to expiry is not worth a try
MARGIN = timedelta(seconds=30)
REFUSED = frozenset({ProblemCode.TOKEN_INVALID.value, ProblemCode.TOKEN_EXPIRED.value})


class LogonTokens:
    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._held: tuple[PinCredentials, LogonToken] | None = None

    def keep(self, credentials: PinCredentials, token: LogonToken) -> None:
        with self._lock:
            self._held = (credentials, token)

    def bearer(self, credentials: PinCredentials) -> str | None:
        """The token for exactly these credentials while it is fresh, else None."""
        with self._lock:
            if self._held is None or self._held[0] != credentials:
                return None
            token = self._held[1]
        if token.expires_at - MARGIN <= self._clock():
            return None
        return token.token.get_secret_value()

    def forget(self, credentials: PinCredentials) -> None:
        with self._lock:
            if self._held is not None and self._held[0] == credentials:
                self._held = None
