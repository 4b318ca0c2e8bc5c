"""The daily check's decisions with a clock: which reminder is due, each shown once, the
unattended renewal's rules, and the words (never a PIN)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import CertState
from ecmt.services.reminders import (
    EXPIRED,
    Reminder,
    ReminderCheck,
    ReminderState,
    due_threshold,
    expiry_reminder,
)
from ecmt.services.status import CertificateStatus
from ecmt.services.unattended import UnattendedRenewal

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def status(days: float, fingerprint: str = "aa" * 32, key: bool = True) -> CertificateStatus:
    not_after = NOW + timedelta(days=days)
    if days < 0:
        state = CertState.EXPIRED
    elif days <= 30:
        state = CertState.RENEWAL_DUE
    else:
        state = CertState.VALID
    return CertificateStatus(
        fingerprint=fingerprint,
        serial="1",
        name="Dr Alex Morgan",
        epoc="8123456",
        not_before=NOW - timedelta(days=300),
        not_after=not_after,
        days_left=max(0, (not_after - NOW).days),
        state=state,
        location="test store",
        has_private_key=key,
    )


class Shown:
    def __init__(self, works: bool = True) -> None:
        self.reminders: list[Reminder] = []
        self.works = works

    def notify(self, reminder: Reminder) -> bool:
        self.reminders.append(reminder)
        return self.works


@pytest.mark.parametrize(
    ("days", "threshold"),
    [
        (90, None),
        (60.5, 60),
        (59, 60),
        (30.2, 30),
        (29, 30),
        (14, 14),
        (8, 14),
        (7, 7),
        (3.5, 3),
        (2, 3),
        (1.5, 1),
        (0.2, 1),
        (-0.1, EXPIRED),
        (-40, EXPIRED),
    ],
)
def test_due_threshold(days, threshold):
    assert due_threshold(status(days)) == threshold


def check(tmp_path, found, shown, auto=None, window=30) -> ReminderCheck:
    return ReminderCheck(
        statuses=lambda: found,
        notifier=shown,
        state_file=tmp_path / "reminders.json",
        window_days=window,
        auto_renew=auto,
        clock=lambda: NOW,
    )


def test_each_threshold_is_shown_once_and_remembered(tmp_path):
    shown = Shown()
    found = [status(13.5)]
    first = check(tmp_path, found, shown).run()
    assert first.delivered
    assert first.shown.title == "Your ePractitioner certificate expires in 13 days"
    assert "13 days left" in first.shown.text
    assert "Click here" in first.shown.text
    again = check(tmp_path, found, shown).run()
    assert again.shown is None
    assert again.line.endswith("nothing due")
    assert len(shown.reminders) == 1
    state = json.loads((tmp_path / "reminders.json").read_text())
    assert state["notified"] == {"aa" * 32: [14]}
    found[0] = status(6.5)  # a week later: the 7-day reminder
    assert check(tmp_path, found, shown).run().shown.kind == "expiring"
    assert len(shown.reminders) == 2


def test_quiet_with_more_than_60_days_or_no_certificate(tmp_path):
    shown = Shown()
    assert check(tmp_path, [status(200)], shown).run().shown is None
    assert check(tmp_path, [], shown).run().shown is None
    assert shown.reminders == []
    assert not (tmp_path / "reminders.json").exists()


def test_a_reminder_that_could_not_be_shown_comes_again(tmp_path):
    broken = Shown(works=False)
    assert not check(tmp_path, [status(2.5)], broken).run().delivered
    assert check(tmp_path, [status(2.5)], Shown()).run().delivered


def test_expired_and_a_new_certificate_starts_afresh(tmp_path):
    shown = Shown()
    result = check(tmp_path, [status(-2)], shown).run()
    assert result.shown.kind == "expired"
    assert result.shown.urgent
    renewed = status(365, fingerprint="bb" * 32)
    assert check(tmp_path, [renewed], shown).run().shown is None
    soon = status(50, fingerprint="bb" * 32)
    assert check(tmp_path, [soon], shown).run().shown.title.endswith("in 50 days")


@pytest.mark.parametrize("days", [59, 29, 13, 6, 2, 1, 0.5, -1])
def test_no_reminder_ever_asks_for_a_pin(days):
    reminder = expiry_reminder(status(days), due_threshold(status(days)))
    assert "PIN" not in reminder.title + reminder.text
    assert "Click here" in reminder.text


def test_a_damaged_state_file_starts_afresh(tmp_path):
    (tmp_path / "reminders.json").write_text("{not json")
    assert ReminderState.load(tmp_path / "reminders.json") == ReminderState()


# --- unattended ---------------------------------------------------------------------------


class FakeRenewal:
    def __init__(self, error: EcmtError | None = None) -> None:
        self.calls = 0
        self.error = error

    def __call__(self, current: CertificateStatus):
        self.calls += 1
        if self.error:
            raise self.error
        raise AssertionError("the success path is tested against the real server")


def unattended(tmp_path, found, renew, elevation=False, now=NOW) -> UnattendedRenewal:
    return UnattendedRenewal(
        statuses=lambda: found,
        needs_elevation=lambda: elevation,
        renew=renew,
        state_file=tmp_path / "reminders.json",
        clock=lambda: now,
    )


def test_not_due_sends_nothing(tmp_path):
    renew = FakeRenewal()
    outcome = unattended(tmp_path, [status(45)], renew).run(30)
    assert not outcome.renewed
    assert outcome.current.days_left == 45
    assert renew.calls == 0


def test_elevation_needed_sends_nothing(tmp_path):
    renew = FakeRenewal()
    with pytest.raises(EcmtError) as raised:
        unattended(tmp_path, [status(10)], renew, elevation=True).run(30)
    assert raised.value.code is ErrorCode.STORE_ELEVATION_REQUIRED
    assert renew.calls == 0


def test_one_attempt_a_day_even_when_it_failed(tmp_path):
    renew = FakeRenewal(EcmtError(ErrorCode.NETWORK_CONNECT, "refused"))
    with pytest.raises(EcmtError) as first:
        unattended(tmp_path, [status(10)], renew).run(30)
    assert first.value.code is ErrorCode.NETWORK_CONNECT
    with pytest.raises(EcmtError) as second:
        unattended(tmp_path, [status(10)], renew).run(30)
    assert second.value.code is ErrorCode.AUTO_RENEW_TRIED_TODAY
    assert renew.calls == 1
    tomorrow = NOW + timedelta(days=1)
    with pytest.raises(EcmtError):
        unattended(tmp_path, [status(9)], renew, now=tomorrow).run(30)
    assert renew.calls == 2


def test_a_refusal_stops_it_until_a_new_certificate(tmp_path):
    refused = EcmtError(ErrorCode.CERT_NOT_ACCEPTED, "HTTP 403", reference="rid-1")
    renew = FakeRenewal(refused)
    with pytest.raises(EcmtError) as raised:
        unattended(tmp_path, [status(10)], renew).run(30)
    assert raised.value.code is ErrorCode.AUTO_RENEW_STOPPED
    assert raised.value.reference == "rid-1"
    later = NOW + timedelta(days=3)
    with pytest.raises(EcmtError) as again:
        unattended(tmp_path, [status(7)], renew, now=later).run(30)
    assert again.value.code is ErrorCode.AUTO_RENEW_STOPPED
    assert renew.calls == 1
    # the check says so once, then goes on with the plain reminders
    shown = Shown()
    auto = unattended(tmp_path, [status(7)], renew, now=later).run
    first = check(tmp_path, [status(7)], shown, auto=auto).run()
    assert first.shown.kind == "stopped"
    assert "PIN" not in first.shown.text
    second = check(tmp_path, [status(6.5)], shown, auto=auto).run()
    assert second.shown.kind == "expiring"
    # a person renewed with a PIN: a new certificate, and automatic renewal may try again
    renew.error = EcmtError(ErrorCode.NETWORK_DNS, "offline")
    with pytest.raises(EcmtError) as fresh:
        unattended(tmp_path, [status(10, fingerprint="cc" * 32)], renew, now=later).run(30)
    assert fresh.value.code is ErrorCode.NETWORK_DNS


def test_no_usable_certificate(tmp_path):
    with pytest.raises(EcmtError) as raised:
        unattended(tmp_path, [status(10, key=False), status(-5)], FakeRenewal()).run(30)
    assert raised.value.code is ErrorCode.NO_CURRENT_CERT
