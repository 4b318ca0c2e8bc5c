"""The renewal: key, CSR, enrol (PIN) or re-enrol (current certificate), wait for approval,
check, install as a transaction, and a journal that survives a crash after issuance.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from cryptography import x509

from ccms_protocol.wire import AccountInfo

from .. import keys
from ..ccms.answers import Issued, Pending
from ..certstore.port import CertStore
from ..config import EcmtSettings
from ..crashpoint import crash_point
from ..domain.certcheck import check_issued
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import (
    ClientIdentity,
    PinCredentials,
    PrivateKey,
    Profile,
    RenewalStage,
    StoredCertificate,
    common_name_of,
)
from .install import install_replacing
from .journal import Journal, PendingRenewal

if TYPE_CHECKING:
    from ..ccms.est import EstClient

Progress = Callable[[RenewalStage, str | None], None]


@dataclass(frozen=True)
class RenewalResult:
    identity: ClientIdentity
    installed: StoredCertificate
    removed: tuple[StoredCertificate, ...]
    kept: tuple[StoredCertificate, ...]
    recovered: bool
    reference: str


@dataclass(frozen=True)
class RenewalRequest:
    """PIN credentials for `simpleenroll`, or the current identity for `simplereenroll`.

    `account` is what the logon answered: the CSR's subject is built from it, so that any
    EST CA gets a complete one (the CCMS ignores it)."""

    epoc: str
    credentials: PinCredentials | None = None
    current: ClientIdentity | None = None
    subject: x509.Name | None = None
    account: AccountInfo | None = None

    @property
    def via(self) -> str:
        return "reenroll" if self.current is not None else "enroll"

    @property
    def csr_subject(self) -> x509.Name | None:
        """`simplereenroll` requires the current certificate's subject exactly (RFC 7030
        4.2.2); a first enrolment names the account; without either, the EPOC alone."""
        if self.current is not None:
            return self.current.certificate.subject
        if self.subject is not None:
            return self.subject
        if self.account is not None:
            account = self.account
            return keys.account_subject(
                account.epoc, account.display_name, account.organisation, account.role
            )
        return None


class RenewalService:
    def __init__(
        self,
        settings: EcmtSettings,
        store: CertStore,
        journal: Journal,
        est_for: Callable[[ClientIdentity | None], EstClient],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._settings = settings
        self._store = store
        self._journal = journal
        self._est_for = est_for
        self._clock = clock

    def has_pending(self, epoc: str, via: str) -> bool:
        """An earlier request for EPOC may have been issued: resume it before any logon,
        which would now answer PIN-USED for the PIN that request consumed."""
        pending = self._journal.load(epoc, self._clock())
        return pending is not None and pending.via == via

    def renew(
        self,
        request: RenewalRequest,
        progress: Progress = lambda _stage, _note: None,
        cancel: threading.Event | None = None,
    ) -> RenewalResult:
        if request.credentials is None and request.current is None:
            raise EcmtError(ErrorCode.PIN_MISSING, "neither a PIN nor a current certificate")
        cancel = cancel or threading.Event()
        with self._est_for(request.current) as est:
            return self._renew(est, request, progress, cancel)

    def _renew(
        self, est: EstClient, request: RenewalRequest, progress: Progress, cancel: threading.Event
    ) -> RenewalResult:
        pending = self._journal.load(request.epoc, self._clock())
        recovered = pending is not None and pending.via == request.via
        progress(RenewalStage.GENERATING_KEY, "resuming the earlier request" if recovered else None)
        if pending is not None and recovered:
            cas = est.cacerts()
            key, csr = pending.key, pending.csr_der
        else:
            key, cas = self._key_and_cacerts(est)
            csr = keys.build_csr(key, request.csr_subject, request.epoc)
            crash_point("key-generated")
            self._journal.save(PendingRenewal(request.epoc, request.via, key, csr, self._clock()))
            crash_point("journal-saved")
        if cancel.is_set():
            self._journal.clear(request.epoc)  # nothing was sent: nothing to recover
            raise EcmtError(ErrorCode.CANCELLED, "before the request was sent")

        issued = self._send_until_issued(est, request, csr, progress, cancel)
        crash_point("answer-received")
        progress(RenewalStage.DOWNLOADING, None)
        certificate = next(
            (c for c in issued.certificates if keys.same_public_key(c, key)),
            issued.certificates[0],
        )
        progress(RenewalStage.CHECKING, None)
        check_issued(certificate, key, cas, request.epoc, self._clock())
        chain = tuple(c for c in cas if c.subject != c.issuer) or tuple(cas)
        superseded = self._store.list(Profile(tuple(c.subject for c in cas), request.epoc))
        outcome = install_replacing(
            self._store,
            key,
            certificate,
            chain,
            friendly_name(certificate),
            superseded,
            self._settings.superseded_policy,
            lambda stage: progress(stage, None),
        )
        crash_point("before-journal-clear")
        self._journal.clear(request.epoc)
        return RenewalResult(
            identity=ClientIdentity(certificate, key, chain),
            installed=outcome.installed,
            removed=outcome.removed,
            kept=outcome.kept,
            recovered=recovered,
            reference=issued.reference,
        )

    def _key_and_cacerts(self, est: EstClient) -> tuple[PrivateKey, list[x509.Certificate]]:
        """RSA key generation takes a moment: do it while cacerts is on the wire."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ecmt-keygen") as pool:
            future = pool.submit(keys.generate, self._settings.key_algorithm)
            cas = est.cacerts()
            return future.result(), cas

    def _send_until_issued(
        self,
        est: EstClient,
        request: RenewalRequest,
        csr: bytes,
        progress: Progress,
        cancel: threading.Event,
    ) -> Issued:
        deadline = self._clock().timestamp() + self._settings.approval_deadline_seconds
        progress(RenewalStage.SENDING_REQUEST, None)
        while True:
            if request.current is not None:
                answer = est.simplereenroll(csr)
            else:
                assert request.credentials is not None
                answer = est.simpleenroll(csr, request.credentials)
            if isinstance(answer, Issued):
                return answer
            wait = _bounded_wait(answer)
            remaining = deadline - self._clock().timestamp()
            if remaining < wait:
                raise EcmtError(
                    ErrorCode.APPROVAL_TIMEOUT,
                    f"still pending after {self._settings.approval_deadline_seconds} s",
                    reference=answer.reference,
                )
            progress(RenewalStage.WAITING_FOR_APPROVAL, f"asking again in {wait} s")
            if cancel.wait(wait):
                raise EcmtError(
                    ErrorCode.CANCELLED,
                    "while waiting for approval; the request is kept and resumes next time",
                    reference=answer.reference,
                )


def _bounded_wait(pending: Pending) -> int:
    return max(1, min(pending.retry_after, 300))


def friendly_name(certificate: x509.Certificate) -> str:
    """What a store shows: whose certificate, and until when it is valid."""
    until = certificate.not_valid_after_utc.strftime("%Y-%m-%d")
    return f"ePractitioner {common_name_of(certificate)} (until {until})"
