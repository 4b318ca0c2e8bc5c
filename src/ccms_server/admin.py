"""Operator actions behind the admin CLI; each one leaves an audit entry."""

from __future__ import annotations

import getpass
import hashlib
import re
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from . import audit
from .db.models import Account, EnrollmentRequest, IssuedCertificate, Pin, Terms, utcnow
from .pins import PinHasher, generate_pin
from .settings import ServerSettings


class AdminError(Exception):
    """An operator request that cannot be carried out, said in plain words."""


def operator() -> str:
    try:
        return f"admin:{getpass.getuser()}"
    except (KeyError, OSError):
        return "admin:unknown"


class Admin:
    def __init__(
        self, sessions: sessionmaker[Session], settings: ServerSettings, hasher: PinHasher
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._hasher = hasher
        self.actor = operator()

    def _account(self, session: Session, epoc: str) -> Account:
        account = session.scalar(select(Account).where(Account.epoc == epoc))
        if account is None:
            raise AdminError(f"no account with EPOC {epoc}")
        return account

    def add_account(self, epoc: str, name: str, organisation: str, role: str) -> None:
        if not re.fullmatch(self._settings.epoc_pattern, epoc):
            raise AdminError(f"EPOC {epoc!r} does not match {self._settings.epoc_pattern}")
        if not (name.strip() and organisation.strip() and role.strip()):
            raise AdminError("name, organisation and role must not be empty")
        with self._sessions.begin() as session:
            if session.scalar(select(Account.id).where(Account.epoc == epoc)) is not None:
                raise AdminError(f"an account with EPOC {epoc} already exists")
            session.add(
                Account(
                    epoc=epoc,
                    display_name=name.strip(),
                    organisation=organisation.strip(),
                    role=role.strip(),
                    failed_attempts=0,
                )
            )
            audit.record(
                session,
                self.actor,
                "account.added",
                epoc,
                {"name": name, "organisation": organisation, "role": role},
            )

    def issue_pin(self, epoc: str, validity_days: int | None = None) -> str:
        """A new PIN for EPOC; every older PIN stops working. Returned once, never stored."""
        pin = generate_pin()
        now = utcnow()
        days = self._settings.pin_validity_days if validity_days is None else validity_days
        if days < 1:
            raise AdminError("a PIN must be valid for at least one day")
        hashed = self._hasher.hash(pin)
        with self._sessions.begin() as session:
            account = self._account(session, epoc)
            session.execute(
                update(Pin)
                .where(Pin.account_id == account.id, Pin.superseded_at.is_(None))
                .values(superseded_at=now)
            )
            session.add(
                Pin(
                    account_id=account.id,
                    hash=hashed,
                    issued_at=now,
                    expires_at=now + timedelta(days=days),
                )
            )
            audit.record(session, self.actor, "pin.issued", epoc, {"valid_days": days})
        return pin

    def unlock(self, epoc: str) -> None:
        with self._sessions.begin() as session:
            account = self._account(session, epoc)
            account.locked_at = None
            account.failed_attempts = 0
            audit.record(session, self.actor, "account.unlocked", epoc)

    def publish_terms(self, version: str, title: str, text: str) -> str:
        digest = hashlib.sha256(text.encode()).hexdigest()
        with self._sessions.begin() as session:
            if session.scalar(select(Terms.id).where(Terms.version == version)) is not None:
                raise AdminError(f"terms version {version} already exists; use a new version")
            session.add(Terms(version=version, title=title, text=text, sha256=digest))
            audit.record(session, self.actor, "terms.published", version, {"sha256": digest})
        return digest

    def list_requests(self, status: str | None) -> list[dict[str, object]]:
        with self._sessions() as session:
            query = select(EnrollmentRequest).order_by(EnrollmentRequest.id)
            if status:
                query = query.where(EnrollmentRequest.status == status)
            return [
                {
                    "id": r.id,
                    "epoc": r.account.epoc,
                    "status": r.status,
                    "created_at": r.created_at.isoformat(),
                    "key_sha256": r.spki_sha256,
                }
                for r in session.scalars(query)
            ]

    def approve_request(self, request_id: int) -> None:
        with self._sessions.begin() as session:
            request = session.get(EnrollmentRequest, request_id)
            if request is None:
                raise AdminError(f"no request {request_id}")
            if request.status != "pending":
                raise AdminError(f"request {request_id} is {request.status}, not pending")
            request.status = "approved"
            request.decided_at = utcnow()
            request.decided_by = self.actor
            audit.record(session, self.actor, "request.approved", str(request_id))

    def list_certificates(self, epoc: str | None) -> list[dict[str, object]]:
        now = utcnow()
        with self._sessions() as session:
            query = select(IssuedCertificate, Account.epoc).join(Account)
            if epoc:
                query = query.where(Account.epoc == epoc)
            rows = session.execute(query.order_by(IssuedCertificate.id)).all()
            return [
                {
                    "serial": c.serial,
                    "epoc": e,
                    "subject": c.subject,
                    "status": c.status(now),
                    "not_after": c.not_after.isoformat(),
                    "via": c.via,
                }
                for c, e in rows
            ]

    def revoke(self, serial: str, reason: str) -> None:
        serial = serial.lower().replace(":", "").lstrip("0") or "0"
        with self._sessions.begin() as session:
            cert = session.scalar(
                select(IssuedCertificate).where(IssuedCertificate.serial == serial)
            )
            if cert is None:
                raise AdminError(f"no certificate with serial {serial}")
            if cert.revoked_at is not None:
                raise AdminError(f"certificate {serial} is already revoked")
            cert.revoked_at = utcnow()
            cert.revocation_reason = reason
            audit.record(session, self.actor, "certificate.revoked", serial, {"reason": reason})
