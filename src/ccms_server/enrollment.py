"""`simpleenroll` and `simplereenroll`: checks, idempotent retry, approval, issuance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ccms_protocol.wire import ProblemCode, client_subject

from . import audit
from .authn import Caller
from .ca import CertificateAuthority, fingerprint_sha256
from .csr import CheckedCsr
from .db.models import Account, EnrollmentRequest, IssuedCertificate, Pin, Terms, utcnow
from .problems import ProblemError, RequestContext
from .settings import ServerSettings


@dataclass(frozen=True)
class Pending:
    """The request waits for an operator; the client retries the same CSR later."""

    request_id: int
    retry_after: int


class Enrollment:
    def __init__(
        self, sessions: sessionmaker[Session], ca: CertificateAuthority, settings: ServerSettings
    ) -> None:
        self._sessions = sessions
        self._ca = ca
        self._settings = settings

    def enroll(
        self, caller: Caller, csr: CheckedCsr, ctx: RequestContext
    ) -> x509.Certificate | Pending:
        """Issue to a PIN-authenticated caller; a repeat of a recent key gets the same cert."""
        previous = self._recent(caller.account_id, csr.spki_sha256, "enroll", caller.pin_id)
        if previous is not None:
            return previous
        caller.require_usable_pin()
        self._require_current_terms(caller.account_id)
        if self._settings.enroll_requires_approval:
            pending = self._approval(caller, csr, ctx)
            if pending is not None:
                return pending
        try:
            return self._issue(caller, csr, "enroll", ctx)
        except ProblemError as problem:  # a parallel retry of the same CSR won the PIN
            if problem.code is ProblemCode.PIN_USED:
                won = self._recent(caller.account_id, csr.spki_sha256, "enroll", caller.pin_id)
                if won is not None:
                    return won
            raise

    def reenroll(self, caller: Caller, csr: CheckedCsr, ctx: RequestContext) -> x509.Certificate:
        """Issue to a certificate-authenticated caller whose CSR names the same subject."""
        assert caller.certificate is not None
        if csr.csr.subject != caller.certificate.subject:
            raise ProblemError(
                ProblemCode.CSR_INVALID,
                "the CSR subject must equal the subject of the certificate being renewed",
            )
        previous = self._recent(caller.account_id, csr.spki_sha256, "reenroll", None)
        if previous is not None:
            return previous
        self._require_current_terms(caller.account_id)
        return self._issue(caller, csr, "reenroll", ctx)

    def _recent(
        self, account_id: int, spki: str, via: str, pin_id: int | None
    ) -> x509.Certificate | None:
        since = utcnow() - timedelta(hours=self._settings.idempotency_hours)
        query = select(IssuedCertificate).where(
            IssuedCertificate.account_id == account_id,
            IssuedCertificate.spki_sha256 == spki,
            IssuedCertificate.via == via,
            IssuedCertificate.issued_at >= since,
            IssuedCertificate.revoked_at.is_(None),
        )
        if pin_id is not None:
            query = query.where(IssuedCertificate.pin_id == pin_id)
        with self._sessions() as session:
            row = session.scalars(query.order_by(IssuedCertificate.id.desc())).first()
        return x509.load_der_x509_certificate(row.der) if row else None

    def _require_current_terms(self, account_id: int) -> None:
        with self._sessions() as session:
            current = session.scalars(select(Terms).order_by(Terms.id.desc())).first()
            account = session.get_one(Account, account_id)
        if current is not None and account.terms_accepted_version != current.version:
            raise ProblemError(
                ProblemCode.TERMS_REQUIRED,
                f"accept the current terms (version {current.version}) first",
            )

    def _approval(self, caller: Caller, csr: CheckedCsr, ctx: RequestContext) -> Pending | None:
        retry = self._settings.approval_retry_after_seconds
        with self._sessions.begin() as session:
            request = session.scalar(
                select(EnrollmentRequest).where(
                    EnrollmentRequest.account_id == caller.account_id,
                    EnrollmentRequest.spki_sha256 == csr.spki_sha256,
                )
            )
            if request is None:
                request = EnrollmentRequest(
                    account_id=caller.account_id,
                    spki_sha256=csr.spki_sha256,
                    status="pending",
                    request_id=ctx.request_id,
                )
                session.add(request)
                session.flush()
                audit.record(
                    session,
                    f"epoc:{caller.epoc}",
                    "request.pending",
                    caller.epoc,
                    {"request": request.id},
                    ctx.request_id,
                )
            elif request.status == "issued":  # issued long ago: a new approval is needed
                request.status, request.decided_at, request.decided_by = "pending", None, None
            if request.status != "approved":
                return Pending(request.id, retry)
        return None

    def _issue(
        self, caller: Caller, csr: CheckedCsr, via: str, ctx: RequestContext
    ) -> x509.Certificate:
        with self._sessions() as session:
            account = session.get_one(Account, caller.account_id)
            subject = client_subject(
                account.display_name, account.epoc, account.role, account.organisation
            )
        cert = self._ca.issue_client(csr.public_key, subject, self._settings.cert_validity_days)
        now = utcnow()
        with self._sessions.begin() as session:
            if caller.pin_id is not None and via == "enroll":
                consumed = session.execute(
                    update(Pin)
                    .where(
                        Pin.id == caller.pin_id, Pin.used_at.is_(None), Pin.superseded_at.is_(None)
                    )
                    .values(used_at=now)
                )
                if consumed.rowcount != 1:  # type: ignore[attr-defined]
                    raise ProblemError(ProblemCode.PIN_USED)
            row = IssuedCertificate(
                serial=format(cert.serial_number, "x"),
                account_id=caller.account_id,
                pin_id=caller.pin_id if via == "enroll" else None,
                spki_sha256=csr.spki_sha256,
                fingerprint_sha256=fingerprint_sha256(cert),
                subject=cert.subject.rfc4514_string(),
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                der=cert.public_bytes(Encoding.DER),
                issued_at=now,
                via=via,
            )
            session.add(row)
            session.flush()
            session.execute(
                update(EnrollmentRequest)
                .where(
                    EnrollmentRequest.account_id == caller.account_id,
                    EnrollmentRequest.spki_sha256 == csr.spki_sha256,
                )
                .values(status="issued", certificate_id=row.id)
            )
            renewed = caller.certificate
            audit.record(
                session,
                f"epoc:{caller.epoc}",
                "certificate.issued",
                row.serial,
                {"via": via, "renewed": format(renewed.serial_number, "x") if renewed else None},
                ctx.request_id,
            )
        return cert
