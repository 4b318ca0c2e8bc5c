"""What a connection check says: findings with a level, words and a stable code, and the
checks that need no network (the signed release manifest, the installed certificate).
The path to the service itself is tested in doctor.py."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.x509.oid import NameOID

from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import CertState
from ..domain.text import clean_text
from .release import ReleaseCheck
from .status import CertificateStatus


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"
    PROBLEM = "problem"


@dataclass(frozen=True)
class Finding:
    check: str  # settings, proxy, dns, tcp, tls, clock, service, certificate
    level: Level
    words: str
    code: ErrorCode | None = None
    detail: str | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "check": self.check,
            "level": self.level.value,
            "code": self.code.value if self.code else None,
            "words": self.words,
            "detail": self.detail,
        }


Certificates = Callable[[], list[tuple[CertificateStatus, x509.Certificate]]]
ReleaseWords = Callable[[bytes], Finding]


def worst(findings: list[Finding]) -> Finding | None:
    """The first problem, else None: what decides the exit status."""
    return next((f for f in findings if f.level is Level.PROBLEM), None)


def release_words(check: ReleaseCheck) -> ReleaseWords:
    """The service finding from the release manifest: verified, and this version's status."""

    def words(manifest: bytes) -> Finding:
        try:
            decision = check.evaluate(manifest)
        except EcmtError as error:
            return Finding(
                "service",
                Level.WARNING,
                "The service answered, but its release information could not be trusted: "
                f"{error.title.lower()}.",
                error.code,
                error.detail,
            )
        signed = "The service answered; its release information is signed by a trusted key."
        running, latest = decision.running_version, decision.latest_version
        if decision.verdict == "block":
            return Finding(
                "service",
                Level.PROBLEM,
                f"{signed} This version ({running}) is too old: {decision.minimum_version} or "
                f"newer is needed, from {decision.install_page}.",
                ErrorCode.RELEASE_BLOCKED,
            )
        if decision.verdict == "offer":
            return Finding(
                "service",
                Level.OK,
                f"{signed} A newer version, {latest}, is available (this is {running}).",
            )
        return Finding("service", Level.OK, f"{signed} This version ({running}) is up to date.")

    return words


def certificate_findings(
    read: Certificates, store_name: str, cas: list[x509.Certificate] | None
) -> list[Finding]:
    """The newest installed certificate: its days left, and (when the service's CA
    certificates could be fetched) whether that CA issued it."""
    findings: list[Finding] = []
    try:
        found = read()
    except EcmtError as error:
        findings.append(
            Finding(
                "certificate",
                Level.PROBLEM,
                f"The certificates in {store_name} could not be read.",
                error.code,
                error.detail,
            )
        )
        return findings
    if not found:
        findings.append(
            Finding(
                "certificate",
                Level.WARNING,
                f"There is no ePractitioner certificate in {store_name} yet.",
                ErrorCode.NO_CURRENT_CERT,
            )
        )
        return findings
    status, certificate = found[0]
    whose = f"{status.name} (EPOC {status.epoc or '-'})"
    until = f"{status.not_after.day} {status.not_after:%B %Y}"
    if status.state is CertState.EXPIRED:
        findings.append(
            Finding(
                "certificate",
                Level.PROBLEM,
                f"The certificate of {whose} expired on {until}.",
                ErrorCode.CERT_EXPIRED,
            )
        )
    elif status.state is CertState.RENEWAL_DUE:
        findings.append(
            Finding(
                "certificate",
                Level.WARNING,
                f"The certificate of {whose} expires on {until}: {status.days_left} days "
                "left. Renew it now.",
                ErrorCode.CERT_RENEWAL_DUE,
            )
        )
    else:
        findings.append(
            Finding(
                "certificate",
                Level.OK,
                f"The certificate of {whose} is in {store_name}, valid until "
                f"{until}: {status.days_left} days left.",
            )
        )
    if cas is not None and not issued_by_any(certificate, cas):
        findings.append(
            Finding(
                "certificate",
                Level.WARNING,
                f'The certificate of {whose} was issued by "{name_of(certificate.issuer)}", '
                "which is not one of the service's authorities: it cannot be used with "
                "this service.",
                ErrorCode.CERT_WRONG_CA,
            )
        )
    elif cas is not None:
        findings.append(
            Finding("certificate", Level.OK, "It was issued by the service's authority.")
        )
    return findings


def name_of(name: x509.Name) -> str:
    """A CA's name as people read it: its common name, else the whole name."""
    common = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    text = str(common[0].value) if common else name.rfc4514_string()
    return clean_text(text, 120)


def issued_by_any(certificate: x509.Certificate, cas: list[x509.Certificate]) -> bool:
    for ca in cas:
        try:
            certificate.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False
