"""The account overview (`GET account`) and the terms of use."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ccms_protocol.wire import (
    AccountInfo,
    CertificateSummary,
    PinInfo,
    ProblemCode,
    TermsAcceptance,
    TermsDocument,
)

from . import audit
from .authn import Caller
from .db.models import Account, IssuedCertificate, Pin, Terms, TermsAcceptanceRecord, utcnow
from .problems import ProblemError, RequestContext
from .settings import ServerSettings


class Accounts:
    def __init__(self, sessions: sessionmaker[Session], settings: ServerSettings) -> None:
        self._sessions = sessions
        self._settings = settings

    def overview(self, caller: Caller) -> AccountInfo:
        now = utcnow()
        with self._sessions() as session:
            account = session.get_one(Account, caller.account_id)
            pin = session.scalars(
                select(Pin)
                .where(
                    Pin.account_id == account.id, Pin.superseded_at.is_(None), Pin.used_at.is_(None)
                )
                .order_by(Pin.id.desc())
            ).first()
            certs = session.scalars(
                select(IssuedCertificate)
                .where(IssuedCertificate.account_id == account.id)
                .order_by(IssuedCertificate.not_after.desc())
            ).all()
            return AccountInfo(
                epoc=account.epoc,
                display_name=account.display_name,
                organisation=account.organisation,
                role=account.role,
                terms_accepted_version=account.terms_accepted_version,
                pin=PinInfo(issued_at=pin.issued_at, expires_at=pin.expires_at) if pin else None,
                certificates=[
                    CertificateSummary(
                        serial=c.serial,
                        not_before=c.not_before,
                        not_after=c.not_after,
                        status=c.status(now),
                    )
                    for c in certs
                ],
                renewal_window_days=self._settings.renewal_window_days,
            )

    def current_terms(self) -> TermsDocument:
        with self._sessions() as session:
            terms = session.scalars(select(Terms).order_by(Terms.id.desc())).first()
        if terms is None:
            raise ProblemError(ProblemCode.NOT_FOUND, "no terms of use have been published")
        return TermsDocument(
            version=terms.version, title=terms.title, text=terms.text, sha256=terms.sha256
        )

    def accept_terms(
        self, caller: Caller, acceptance: TermsAcceptance, ctx: RequestContext
    ) -> None:
        with self._sessions.begin() as session:
            terms = session.scalars(select(Terms).order_by(Terms.id.desc())).first()
            if terms is None:
                raise ProblemError(ProblemCode.NOT_FOUND, "no terms of use have been published")
            if acceptance.version != terms.version or acceptance.sha256 != terms.sha256:
                raise ProblemError(
                    ProblemCode.TERMS_STALE,
                    f"the current terms are version {terms.version}; fetch and accept those",
                    extra={"current_version": terms.version},
                )
            account = session.get_one(Account, caller.account_id)
            account.terms_accepted_version = terms.version
            session.add(
                TermsAcceptanceRecord(
                    account_id=account.id, terms_id=terms.id, request_id=ctx.request_id
                )
            )
            audit.record(
                session,
                f"epoc:{caller.epoc}",
                "terms.accepted",
                caller.epoc,
                {"version": terms.version},
                ctx.request_id,
            )
