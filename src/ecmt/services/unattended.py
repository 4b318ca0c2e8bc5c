"""Renewal without a person: with the current certificate (mutual TLS, no PIN), only inside
the renewal window, and only where it is safe.

`ecmt renew --current --if-expiring-within 30d` and the daily check (`auto_renew = true`)
both come here. The rules: never where the store needs rights this process lacks; at most
one attempt a day; after the service refused the certificate (CERT_NOT_ACCEPTED: not
accepted, revoked) no more attempts until a person has renewed with a PIN, which brings a
new certificate. Backups stay a person's job: the next reminder asks for one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..domain.errors import EcmtError, ErrorCode
from .reminders import ReminderState, check_unattended_allowed, newest_usable, today
from .renewal import RenewalResult
from .status import CertificateStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UnattendedOutcome:
    renewed: bool
    current: CertificateStatus
    result: RenewalResult | None = None


class UnattendedRenewal:
    def __init__(
        self,
        *,
        statuses: Callable[[], list[CertificateStatus]],
        needs_elevation: Callable[[], bool],
        renew: Callable[[CertificateStatus], RenewalResult],
        state_file: Path,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._statuses = statuses
        self._needs_elevation = needs_elevation
        self._renew = renew
        self._state_file = state_file
        self._clock = clock

    def run(self, within_days: int) -> UnattendedOutcome:
        """Renew when the current certificate has `within_days` or fewer days left."""
        current = newest_usable(self._statuses())
        if current is None:
            raise EcmtError(
                ErrorCode.NO_CURRENT_CERT, "no valid certificate with its key to renew with"
            )
        if current.days_left > within_days:
            return UnattendedOutcome(False, current)
        state = ReminderState.load(self._state_file)
        day = today(self._clock)
        check_unattended_allowed(state, current, self._needs_elevation(), day)
        state.last_attempt = day  # recorded before anything is sent
        state.save(self._state_file)
        try:
            result = self._renew(current)
        except EcmtError as error:
            if error.code is not ErrorCode.CERT_NOT_ACCEPTED:
                raise
            state = ReminderState.load(self._state_file)
            state.stopped_for = current.fingerprint
            state.stopped_code = error.code.value
            state.stopped_shown = False
            state.save(self._state_file)
            log.warning("automatic renewal stopped: the service refused %s", current.fingerprint)
            raise EcmtError(
                ErrorCode.AUTO_RENEW_STOPPED,
                f"the service refused the current certificate: {error.detail}",
                reference=error.reference,
            ) from None
        state = ReminderState.load(self._state_file)
        state.renewed_until = result.identity.certificate.not_valid_after_utc.isoformat()
        state.save(self._state_file)
        log.info("renewed without a person: %s", result.installed.fingerprint)
        return UnattendedOutcome(True, current, result)
