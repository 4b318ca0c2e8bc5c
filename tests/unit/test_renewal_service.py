"""The renewal service with fakes of its ports: assert on the store's state and on codes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from ecmt.config import load_settings
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import (
    ClientIdentity,
    PinCredentials,
    RenewalStage,
    StoredCertificate,
    SupersededPolicy,
)
from ecmt.keys import generate
from ecmt.services.journal import Journal
from ecmt.services.renewal import RenewalRequest, RenewalService
from fakes import FakeEst, FakeStore, MemorySecrets, MiniCA

EPOC = "1234567"
PIN = PinCredentials(EPOC, SecretStr("K7QM-4X9R-T3HP"))


@pytest.fixture
def ca() -> MiniCA:
    return MiniCA()


@pytest.fixture
def journal(tmp_path) -> Journal:
    return Journal(tmp_path / "journal", MemorySecrets())


def make_service(tmp_path, store, est, journal, **settings):
    values = {
        "server_url": "https://ccms.test",
        "key_algorithm": "ec-p256",
        "approval_deadline_seconds": 30,
        **settings,
    }
    return RenewalService(load_settings(files=[], **values), store, journal, lambda _id: est)


def old_certificate(ca: MiniCA, store: FakeStore) -> ClientIdentity:
    key = generate("ec-p256")
    cert = ca.issue(key.public_key(), EPOC, days=20)
    store.entries[StoredCertificate(cert, True, "memory").fingerprint] = (
        StoredCertificate(cert, True, "memory", "old"),
        key,
    )
    return ClientIdentity(cert, key)


def test_enrol_installs_then_removes_the_superseded(tmp_path, ca, journal):
    store, est = FakeStore(), FakeEst(ca)
    old = old_certificate(ca, store)
    stages: list[RenewalStage] = []
    result = make_service(tmp_path, store, est, journal).renew(
        RenewalRequest(EPOC, credentials=PIN), lambda stage, _note: stages.append(stage)
    )
    assert store.fingerprints() == {result.installed.fingerprint}
    assert [r.certificate for r in result.removed] == [old.certificate]
    assert stages == [
        RenewalStage.GENERATING_KEY,
        RenewalStage.SENDING_REQUEST,
        RenewalStage.DOWNLOADING,
        RenewalStage.CHECKING,
        RenewalStage.INSTALLING,
        RenewalStage.VERIFYING,
    ]
    assert result.identity.chain == (ca.issuing,)
    assert journal.load(EPOC) is None


def test_keep_until_expiry_policy(tmp_path, ca, journal):
    store, est = FakeStore(), FakeEst(ca)
    old = old_certificate(ca, store)
    service = make_service(
        tmp_path, store, est, journal, superseded_policy=SupersededPolicy.KEEP_UNTIL_EXPIRY
    )
    result = service.renew(RenewalRequest(EPOC, credentials=PIN))
    assert len(store.fingerprints()) == 2
    assert [k.certificate for k in result.kept] == [old.certificate]


def test_unverifiable_install_is_rolled_back_and_the_old_stays(tmp_path, ca, journal):
    store, est = FakeStore(lose_after_install=True), FakeEst(ca)
    old = old_certificate(ca, store)
    before = store.fingerprints()
    with pytest.raises(EcmtError) as caught:
        make_service(tmp_path, store, est, journal).renew(RenewalRequest(EPOC, credentials=PIN))
    assert caught.value.code is ErrorCode.INSTALL_NOT_VERIFIED
    assert store.fingerprints() == before
    assert store.find(next(iter(before))).certificate == old.certificate
    assert journal.load(EPOC) is not None  # issued: kept for the next run


def test_store_failure_keeps_the_old_and_the_journal(tmp_path, ca, journal):
    store = FakeStore(fail_install=EcmtError(ErrorCode.STORE_ERROR, "rc 255"))
    old_certificate(ca, store)
    before = store.fingerprints()
    est = FakeEst(ca)
    with pytest.raises(EcmtError) as caught:
        make_service(tmp_path, store, est, journal).renew(RenewalRequest(EPOC, credentials=PIN))
    assert caught.value.code is ErrorCode.STORE_ERROR
    assert store.fingerprints() == before
    # the next run re-sends the same CSR and gets the same certificate
    store.fail_install = None
    result = make_service(tmp_path, store, est, journal).renew(
        RenewalRequest(EPOC, credentials=PIN)
    )
    assert result.recovered
    assert est.sent[0] == est.sent[1]
    assert len(est.issued) == 1
    assert store.fingerprints() == {result.installed.fingerprint}


def test_failure_to_remove_an_old_one_does_not_fail_the_renewal(tmp_path, ca, journal):
    store = FakeStore(fail_remove=EcmtError(ErrorCode.STORE_ERROR, "busy"))
    old_certificate(ca, store)
    result = make_service(tmp_path, store, FakeEst(ca), journal).renew(
        RenewalRequest(EPOC, credentials=PIN)
    )
    assert len(result.kept) == 1
    assert result.installed.fingerprint in store.fingerprints()


def test_pending_then_issued_with_the_same_csr(tmp_path, ca, journal):
    est = FakeEst(ca, pending_rounds=2)
    notes: list[tuple[RenewalStage, str | None]] = []
    make_service(tmp_path, FakeStore(), est, journal).renew(
        RenewalRequest(EPOC, credentials=PIN), lambda stage, note: notes.append((stage, note))
    )
    assert len(est.sent) == 3
    assert len(set(est.sent)) == 1
    waiting = [note for stage, note in notes if stage is RenewalStage.WAITING_FOR_APPROVAL]
    assert waiting == ["asking again in 1 s", "asking again in 1 s"]


def test_approval_deadline_then_resume(tmp_path, ca, journal):
    est = FakeEst(ca, pending_rounds=100)
    service = make_service(tmp_path, FakeStore(), est, journal, approval_deadline_seconds=0)
    with pytest.raises(EcmtError) as caught:
        service.renew(RenewalRequest(EPOC, credentials=PIN))
    assert caught.value.code is ErrorCode.APPROVAL_TIMEOUT
    est.pending_rounds = 0
    result = service.renew(RenewalRequest(EPOC, credentials=PIN))
    assert result.recovered
    assert len(set(est.sent)) == 1


def test_cancel_before_sending_sends_nothing(tmp_path, ca, journal):
    est, cancel = FakeEst(ca), threading.Event()
    cancel.set()
    with pytest.raises(EcmtError) as caught:
        make_service(tmp_path, FakeStore(), est, journal).renew(
            RenewalRequest(EPOC, credentials=PIN), cancel=cancel
        )
    assert caught.value.code is ErrorCode.CANCELLED
    assert est.sent == []
    assert journal.load(EPOC) is None


def test_cancel_while_waiting_keeps_the_request(tmp_path, ca, journal):
    est, cancel = FakeEst(ca, pending_rounds=5), threading.Event()

    def progress(stage, _note):
        if stage is RenewalStage.WAITING_FOR_APPROVAL:
            cancel.set()

    with pytest.raises(EcmtError) as caught:
        make_service(tmp_path, FakeStore(), est, journal).renew(
            RenewalRequest(EPOC, credentials=PIN), progress, cancel
        )
    assert caught.value.code is ErrorCode.CANCELLED
    assert journal.load(EPOC) is not None


def test_a_certificate_for_another_epoc_is_not_installed(tmp_path, ca, journal):
    store, est = FakeStore(), FakeEst(ca, epoc_override="7654321")
    with pytest.raises(EcmtError) as caught:
        make_service(tmp_path, store, est, journal).renew(RenewalRequest(EPOC, credentials=PIN))
    assert caught.value.code is ErrorCode.CERT_WRONG_EPOC
    assert store.fingerprints() == set()


def test_reenrol_sends_the_current_subject(tmp_path, ca, journal):
    from cryptography import x509

    store, est = FakeStore(), FakeEst(ca)
    current = old_certificate(ca, store)
    make_service(tmp_path, store, est, journal).renew(RenewalRequest(EPOC, current=current))
    assert x509.load_der_x509_csr(est.sent[0]).subject == current.certificate.subject


def test_neither_pin_nor_certificate(tmp_path, ca, journal):
    with pytest.raises(EcmtError) as caught:
        make_service(tmp_path, FakeStore(), FakeEst(ca), journal).renew(RenewalRequest(EPOC))
    assert caught.value.code is ErrorCode.PIN_MISSING


def test_journal_is_encrypted_and_expires(tmp_path, ca):
    from ecmt.services.journal import PendingRenewal

    secrets = MemorySecrets()
    journal = Journal(tmp_path / "j", secrets)
    key = generate("ec-p256")
    created = datetime.now(UTC)
    journal.save(PendingRenewal(EPOC, "enroll", key, b"csr-bytes", created))
    raw = (tmp_path / "j" / f"pending-{EPOC}.json").read_bytes()
    assert b"csr-bytes" not in raw
    assert b"PRIVATE" not in raw
    assert journal.load(EPOC).csr_der == b"csr-bytes"
    assert journal.load(EPOC, created + timedelta(hours=25)) is None
    journal.save(PendingRenewal(EPOC, "enroll", key, b"x", created))
    secrets.values.clear()  # the keyring lost its entry: the file alone is useless
    with pytest.raises(EcmtError) as caught:
        journal.load(EPOC)
    assert caught.value.code is ErrorCode.JOURNAL_UNREADABLE
    assert journal.load(EPOC) is None  # set aside: the next renewal starts afresh
