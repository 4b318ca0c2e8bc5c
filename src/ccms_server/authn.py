"""Who is asking: EPOC + PIN (with lockout), a logon token from an earlier PIN check, or a
client certificate this CA issued.

PIN checks reserve a failed attempt *before* the slow argon2 verification and give it
back afterwards unless the PIN was wrong, so parallel guesses can never exceed the
lockout threshold, and no database lock is held while argon2 runs. Every check, for a known
EPOC or not, costs the same 1 + superseded_pins_checked verifications. A logon token costs
one HMAC and one read, and a wrong one is no PIN guess: it never counts toward the lockout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cryptography import x509
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ccms_protocol.wire import LogonToken, ProblemCode

from . import audit
from .ca import CertificateAuthority, fingerprint_sha256
from .db.models import Account, AuthAttempt, IssuedCertificate, Pin, utcnow
from .pins import PinHasher
from .problems import ProblemError, RequestContext
from .settings import ServerSettings
from .tokens import LogonTokens, refused


class PinOutcome(StrEnum):
    OK = "ok"
    USED = "pin-used"
    EXPIRED = "pin-expired"
    SUPERSEDED = "pin-superseded"


_OUTCOME_PROBLEM = {
    PinOutcome.USED: ProblemCode.PIN_USED,
    PinOutcome.EXPIRED: ProblemCode.PIN_EXPIRED,
    PinOutcome.SUPERSEDED: ProblemCode.PIN_SUPERSEDED,
}


@dataclass(frozen=True)
class Caller:
    """An authenticated account, and how it proved itself."""

    account_id: int
    epoc: str
    pin_id: int | None = None
    pin_outcome: PinOutcome = PinOutcome.OK
    certificate: x509.Certificate | None = None
    by_token: bool = False

    def require_usable_pin(self) -> None:
        """Raise the matching problem unless the PIN is current, unused and unexpired."""
        if self.pin_outcome is not PinOutcome.OK:
            raise ProblemError(_OUTCOME_PROBLEM[self.pin_outcome])


def _outcome(superseded: bool, used: bool, expires_at: datetime, now: datetime) -> PinOutcome:
    if superseded:
        return PinOutcome.SUPERSEDED
    if used:
        return PinOutcome.USED
    if expires_at < now:
        return PinOutcome.EXPIRED
    return PinOutcome.OK


@dataclass(frozen=True)
class _Candidate:
    pin_id: int
    hash: str
    superseded: bool
    used: bool
    expires_at: datetime


class Authenticator:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        hasher: PinHasher,
        ca: CertificateAuthority,
        settings: ServerSettings,
        tokens: LogonTokens,
    ) -> None:
        self._sessions = sessions
        self._hasher = hasher
        self._ca = ca
        self._settings = settings
        self._tokens = tokens

    def check_pin(self, epoc: str, pin: str, ctx: RequestContext) -> Caller:
        """Identify EPOC + PIN; a PIN that is genuine but not usable comes back as an outcome."""
        limit = self._settings.max_failed_pins
        candidates: list[_Candidate] = []
        reservation: int | None = None
        with self._sessions.begin() as session:
            account = session.scalar(select(Account).where(Account.epoc == epoc))
            if account is not None and account.locked_at is None:
                reservation = session.scalar(
                    update(Account)
                    .where(Account.id == account.id, Account.locked_at.is_(None))
                    .where(Account.failed_attempts < limit)
                    .values(failed_attempts=Account.failed_attempts + 1)
                    .returning(Account.failed_attempts)
                )
                if reservation is not None:
                    candidates = self._candidates(session, account.id)
            account_id = account.id if account else None
        rounds = 1 + self._settings.superseded_pins_checked
        if account_id is None:
            self._hasher.find([], pin, rounds)
            raise ProblemError(ProblemCode.AUTH_INVALID)
        if reservation is None:
            raise ProblemError(ProblemCode.ACCOUNT_LOCKED)

        index = self._hasher.find([c.hash for c in candidates], pin, rounds)
        match = None if index is None else candidates[index]
        return self._settle(account_id, epoc, match, reservation, ctx)

    def _candidates(self, session: Session, account_id: int) -> list[_Candidate]:
        pins = session.scalars(
            select(Pin)
            .where(Pin.account_id == account_id)
            .order_by(Pin.id.desc())
            .limit(1 + self._settings.superseded_pins_checked)
        ).all()
        return [
            _Candidate(
                p.id, p.hash, p.superseded_at is not None, p.used_at is not None, p.expires_at
            )
            for p in pins
        ]

    def _settle(
        self,
        account_id: int,
        epoc: str,
        match: _Candidate | None,
        reservation: int,
        ctx: RequestContext,
    ) -> Caller:
        """Record the outcome; `reservation` is this attempt's place in the failure count."""
        limit = self._settings.max_failed_pins
        now = utcnow()
        problem: ProblemError | None = None
        with self._sessions.begin() as session:
            account = session.get_one(Account, account_id)
            if match is None:
                if reservation >= limit:
                    account.locked_at = now
                    outcome = "locked"
                    audit.record(
                        session,
                        f"epoc:{epoc}",
                        "account.locked",
                        epoc,
                        {"failed_attempts": account.failed_attempts},
                        ctx.request_id,
                    )
                    problem = ProblemError(ProblemCode.ACCOUNT_LOCKED)
                else:
                    outcome = "wrong-pin"
                    problem = ProblemError(
                        ProblemCode.AUTH_INVALID,
                        extra={"attempts_remaining": limit - reservation},
                    )
                pin_outcome = PinOutcome.OK
            else:
                pin_outcome = _outcome(match.superseded, match.used, match.expires_at, now)
                if pin_outcome is PinOutcome.OK:
                    account.failed_attempts = 0
                else:  # a genuine PIN is not a guess: give the reservation back
                    account.failed_attempts = max(account.failed_attempts - 1, 0)
                outcome = pin_outcome.value
            session.add(
                AuthAttempt(
                    account_id=account_id,
                    outcome=outcome,
                    remote=ctx.remote,
                    request_id=ctx.request_id,
                )
            )
        if problem is not None:
            raise problem
        assert match is not None
        return Caller(account_id, epoc, pin_id=match.pin_id, pin_outcome=pin_outcome)

    def issue_token(self, caller: Caller) -> LogonToken | None:
        """A token for the rest of this renewal, after a successful check of the PIN itself."""
        if caller.by_token or caller.pin_id is None or caller.pin_outcome is not PinOutcome.OK:
            return None
        return self._tokens.issue(caller.epoc, caller.pin_id) if self._tokens.enabled else None

    def check_token(self, token: str) -> Caller:
        """The caller a logon token names. The PIN it was issued for must still be this
        account's; whether it is current, unused and unexpired comes back as the outcome,
        exactly as for the PIN itself."""
        if not self._tokens.enabled:
            raise refused(ProblemCode.TOKEN_INVALID)
        claims = self._tokens.verify(token)
        with self._sessions() as session:
            account = session.scalar(select(Account).where(Account.epoc == claims.epoc))
            pin = session.get(Pin, claims.pin_id)
            if account is None or pin is None or pin.account_id != account.id:
                raise refused(ProblemCode.TOKEN_INVALID)
            if account.locked_at is not None:
                raise ProblemError(ProblemCode.ACCOUNT_LOCKED)
            outcome = _outcome(
                pin.superseded_at is not None, pin.used_at is not None, pin.expires_at, utcnow()
            )
            return Caller(account.id, account.epoc, pin.id, outcome, by_token=True)

    def check_certificate(self, der: bytes | None) -> Caller:
        """Accept only a current, unrevoked certificate that this CA issued and recorded."""
        if der is None:
            raise ProblemError(
                ProblemCode.AUTH_REQUIRED, "present your current certificate (TLS client auth)"
            )
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            raise ProblemError(ProblemCode.CERT_NOT_ACCEPTED, "unreadable certificate") from None
        if not self._ca.issued_this(cert):
            raise ProblemError(ProblemCode.CERT_NOT_ACCEPTED, "not issued by this service")
        with self._sessions() as session:
            row = session.scalar(
                select(IssuedCertificate).where(
                    IssuedCertificate.serial == format(cert.serial_number, "x")
                )
            )
            if row is None or row.fingerprint_sha256 != fingerprint_sha256(cert):
                raise ProblemError(ProblemCode.CERT_NOT_ACCEPTED, "certificate not on record")
            account = session.get_one(Account, row.account_id)
            now = utcnow()
            if row.revoked_at is not None:
                raise ProblemError(ProblemCode.CERT_NOT_ACCEPTED, "certificate revoked")
            if not row.not_before <= now <= row.not_after:
                raise ProblemError(ProblemCode.CERT_NOT_ACCEPTED, "certificate expired")
            return Caller(account.id, account.epoc, certificate=cert)
