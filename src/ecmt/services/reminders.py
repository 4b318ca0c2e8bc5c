"""The daily check (`ecmt remind run`): a reminder at 60, 30, 14, 7, 3 and 1 days before the
certificate expires (and once it has), each shown once; an unattended renewal with the
current certificate where the settings allow it; one log line per run.

What was shown and tried is remembered in STATE_DIR/reminders.json, written atomically.
A reminder never asks for a PIN: it says how many days are left and that clicking it opens
the program.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, Protocol

from ccms_protocol.files import write_atomic

from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import CertState
from .status import CertificateStatus

log = logging.getLogger(__name__)

THRESHOLDS = (60, 30, 14, 7, 3, 1)
EXPIRED = 0  # the "it has expired" reminder, remembered like a threshold
STATE_FILE = "reminders.json"
TITLE = "ePractitioner certificate"
CLICK = "Click here to open the program and renew it."

Kind = Literal["expiring", "expired", "renewed", "stopped"]


@dataclass(frozen=True)
class Reminder:
    kind: Kind
    title: str
    text: str
    urgent: bool = False


class Notifier(Protocol):
    def notify(self, reminder: Reminder) -> bool:
        """Show it to the person at this computer; False where it could not be shown."""
        ...


def due_threshold(status: CertificateStatus) -> int | None:
    """The reminder this certificate is due for: the smallest threshold at or above its
    days left, EXPIRED once it has expired, None while more than 60 days are left."""
    if status.state is CertState.EXPIRED:
        return EXPIRED
    if status.state is CertState.NOT_YET_VALID:
        return None
    return next((t for t in sorted(THRESHOLDS) if status.days_left <= t), None)


def _long(day: datetime) -> str:
    return f"{day.day} {day:%B %Y}"


def expiry_reminder(status: CertificateStatus, threshold: int) -> Reminder:
    until = _long(status.not_after)
    if threshold == EXPIRED:
        return Reminder(
            "expired",
            "Your ePractitioner certificate has expired",
            f"It expired on {until}. ePharmacy and other clinical systems no longer accept "
            f"it. {CLICK}",
            urgent=True,
        )
    left = status.days_left
    when = {0: "today", 1: "tomorrow"}.get(left, f"in {left} days")
    return Reminder(
        "expiring",
        f"Your ePractitioner certificate expires {when}",
        f"It is valid until {until}: {left} day{'s' if left != 1 else ''} left. {CLICK}",
        urgent=threshold <= 7,
    )


def renewed_reminder(not_after: str) -> Reminder:
    until = _long(datetime.fromisoformat(not_after))
    return Reminder(
        "renewed",
        "Your ePractitioner certificate was renewed",
        f"The new certificate is valid until {until}. Please make a new backup of it: click "
        "here to open the program, then choose Back up.",
    )


def stopped_reminder() -> Reminder:
    return Reminder(
        "stopped",
        "Automatic renewal of your ePractitioner certificate has stopped",
        "The service did not accept the current certificate for a renewal. Click here to "
        "open the program and renew it there.",
        urgent=True,
    )


# --- what is remembered ------------------------------------------------------------------


@dataclass
class ReminderState:
    notified: dict[str, list[int]] = field(default_factory=dict)  # fingerprint -> thresholds
    last_attempt: str | None = None  # the local date of the last unattended renewal attempt
    stopped_for: str | None = None  # the certificate the service refused (fingerprint)
    stopped_code: str | None = None
    stopped_shown: bool = False
    renewed_until: str | None = None  # an unattended renewal whose notice is still to show

    @classmethod
    def load(cls, path: Path) -> ReminderState:
        """A damaged or missing file reads as a fresh start (logged): at worst a reminder
        is shown again, never one is lost."""
        try:
            data = json.loads(path.read_bytes())
            notified = {
                str(k): [int(t) for t in v] for k, v in dict(data.get("notified", {})).items()
            }
            return cls(
                notified=notified,
                last_attempt=_text(data.get("last_attempt")),
                stopped_for=_text(data.get("stopped_for")),
                stopped_code=_text(data.get("stopped_code")),
                stopped_shown=bool(data.get("stopped_shown", False)),
                renewed_until=_text(data.get("renewed_until")),
            )
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("reminder state %s unreadable (%s); starting afresh", path, exc)
            return cls()

    def save(self, path: Path) -> None:
        write_atomic(path, (json.dumps(asdict(self), indent=1, sort_keys=True) + "\n").encode())


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def today(clock: Callable[[], datetime]) -> str:
    """The local date: "once a day" means the practice's day."""
    return clock().astimezone().date().isoformat()


# --- the check ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    shown: Reminder | None
    delivered: bool
    line: str  # the one log line of this run


Unattended = Callable[[int], object]  # renew within N days; raises EcmtError or returns


class ReminderCheck:
    def __init__(
        self,
        *,
        statuses: Callable[[], list[CertificateStatus]],
        notifier: Notifier,
        state_file: Path,
        window_days: int,
        auto_renew: Unattended | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._statuses = statuses
        self._notifier = notifier
        self._state_file = state_file
        self._window = window_days
        self._auto_renew = auto_renew
        self._clock = clock

    def run(self) -> CheckResult:
        found = self._statuses()
        newest = found[0] if found else None
        notes: list[str] = []
        if newest is None:
            notes.append("no ePractitioner certificate here")
        else:
            notes.append(
                f"{newest.epoc or '-'}: {newest.state.value}, {newest.days_left} days left"
            )
        if self._auto_renew is not None and newest is not None and self._inside(newest):
            notes.append(self._try_renewal())
        state = ReminderState.load(self._state_file)
        reminder, record = self._choose(state, newest)
        delivered = False
        if reminder is not None:
            delivered = self._notifier.notify(reminder)
            if delivered:
                record(state)
                state.save(self._state_file)
            notes.append(f"{reminder.kind} reminder {'shown' if delivered else 'NOT shown'}")
        else:
            notes.append("nothing due")
        line = "remind run: " + "; ".join(notes)
        log.info("%s", line)
        return CheckResult(reminder, delivered, line)

    def _inside(self, status: CertificateStatus) -> bool:
        return (
            status.state in {CertState.VALID, CertState.RENEWAL_DUE}
            and status.days_left <= self._window
        )

    def _try_renewal(self) -> str:
        assert self._auto_renew is not None
        try:
            self._auto_renew(self._window)
        except EcmtError as error:
            return f"automatic renewal not done: {error.code.value}"
        return "renewed automatically"

    def _choose(
        self, state: ReminderState, newest: CertificateStatus | None
    ) -> tuple[Reminder | None, Callable[[ReminderState], None]]:
        if state.renewed_until:

            def shown_renewed(s: ReminderState) -> None:
                s.renewed_until = None

            return renewed_reminder(state.renewed_until), shown_renewed
        if (
            self._auto_renew is not None
            and state.stopped_for
            and not state.stopped_shown
            and newest is not None
            and newest.fingerprint == state.stopped_for
        ):

            def shown_stopped(s: ReminderState) -> None:
                s.stopped_shown = True

            return stopped_reminder(), shown_stopped
        if newest is None:
            return None, lambda _s: None
        threshold = due_threshold(newest)
        if threshold is None or threshold in state.notified.get(newest.fingerprint, []):
            return None, lambda _s: None

        def shown_threshold(s: ReminderState) -> None:
            s.notified.setdefault(newest.fingerprint, []).append(threshold)

        return expiry_reminder(newest, threshold), shown_threshold


# --- unattended renewal's rules ----------------------------------------------------------


def newest_usable(found: list[CertificateStatus]) -> CertificateStatus | None:
    return next(
        (
            s
            for s in found
            if s.has_private_key and s.state in {CertState.VALID, CertState.RENEWAL_DUE}
        ),
        None,
    )


def check_unattended_allowed(
    state: ReminderState, current: CertificateStatus, needs_elevation: bool, day: str
) -> None:
    """The safety rules, in order: the store's rights, a refusal by the service, and at
    most one attempt a day. Each refusal is an EcmtError with its own code."""
    if needs_elevation:
        raise EcmtError(
            ErrorCode.STORE_ELEVATION_REQUIRED,
            "an unattended renewal never runs where the store needs rights this task lacks",
        )
    if state.stopped_for == current.fingerprint:
        raise EcmtError(
            ErrorCode.AUTO_RENEW_STOPPED,
            f"the service refused this certificate ({state.stopped_code}); a renewal with a "
            "PIN starts automatic renewal again",
        )
    if state.last_attempt == day:
        raise EcmtError(ErrorCode.AUTO_RENEW_TRIED_TODAY, f"last attempt on {day}")
