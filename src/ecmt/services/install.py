"""Installing a new certificate as a transaction: the old one goes only after the new one
is in the store and found again by its fingerprint, with its key; a failed check rolls the
new one back. Several stores at once (certstore/_several.py) answer as one store: the
check passes only when every one of them holds the new certificate with its key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509

from ..certstore.port import CertStore
from ..crashpoint import crash_point
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import (
    PrivateKey,
    RenewalStage,
    StoredCertificate,
    SupersededPolicy,
    fingerprint,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InstallOutcome:
    installed: StoredCertificate
    removed: tuple[StoredCertificate, ...]
    kept: tuple[StoredCertificate, ...]


def install_replacing(
    store: CertStore,
    key: PrivateKey,
    certificate: x509.Certificate,
    chain: Sequence[x509.Certificate],
    friendly_name: str,
    superseded: Sequence[StoredCertificate],
    policy: SupersededPolicy,
    stage: Callable[[RenewalStage], None] = lambda _stage: None,
) -> InstallOutcome:
    new_fp = fingerprint(certificate)
    stage(RenewalStage.INSTALLING)
    store.install(key, certificate, chain, friendly_name)
    crash_point("installed-unverified")
    stage(RenewalStage.VERIFYING)
    try:
        found = store.find(new_fp)
        if found is None or not found.has_private_key:
            raise EcmtError(
                ErrorCode.INSTALL_NOT_VERIFIED,
                f"{store.description}: new certificate {'without its key' if found else 'missing'}",
            )
    except BaseException:
        _roll_back(store, new_fp)
        raise
    crash_point("verified")
    removed: list[StoredCertificate] = []
    kept: list[StoredCertificate] = []
    for old in superseded:
        if old.fingerprint == new_fp:
            continue
        if policy is SupersededPolicy.KEEP_UNTIL_EXPIRY:
            kept.append(old)
            continue
        try:
            store.remove(old.fingerprint)
            removed.append(old)
        except EcmtError as exc:  # the new one is in and verified: keep going, say so
            log.warning("could not remove superseded %s: %s", old.fingerprint[:16], exc)
            kept.append(old)
    still = store.find(new_fp)  # removing an old one must never take the new one
    if still is None or not still.has_private_key:
        raise EcmtError(ErrorCode.INSTALL_NOT_VERIFIED, "new certificate gone after clean-up")
    return InstallOutcome(found, tuple(removed), tuple(kept))


def _roll_back(store: CertStore, new_fp: str) -> None:
    try:
        if store.find(new_fp) is not None:
            store.remove(new_fp)
    except EcmtError as exc:
        log.error("rollback of %s failed: %s", new_fp[:16], exc)
