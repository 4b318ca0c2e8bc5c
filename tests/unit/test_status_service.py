"""Status of the certificates in a store: days left, state, the EPOC to pre-fill."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecmt.domain.models import CertState, StoredCertificate
from ecmt.keys import generate
from ecmt.services.status import StatusService
from fakes import FakeStore, MiniCA

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def put(store: FakeStore, ca: MiniCA, epoc: str, start: datetime, days: int, key=True) -> None:
    private = generate("ec-p256")
    cert = ca.issue(private.public_key(), epoc, days=days, not_before=start)
    entry = StoredCertificate(cert, key, "memory", epoc)
    store.entries[entry.fingerprint] = (entry, private if key else None)


def test_states_days_left_and_the_epoc_to_prefill(tmp_path):
    ca, store = MiniCA(), FakeStore()
    put(store, ca, "1111", NOW - timedelta(days=400), 365)  # expired
    put(store, ca, "2222", NOW - timedelta(days=350), 365)  # 15 days left: renewal due
    put(store, ca, "3333", NOW - timedelta(days=10), 365, key=False)  # valid, no key
    put(store, ca, "4444", NOW + timedelta(days=2), 365)  # not yet valid
    service = StatusService(store, 30, tmp_path / "ca.pem", clock=lambda: NOW)
    by_epoc = {s.epoc: s for s in service.certificates()}
    assert by_epoc["1111"].state is CertState.EXPIRED
    assert by_epoc["1111"].days_left == 0
    assert by_epoc["2222"].state is CertState.RENEWAL_DUE
    assert by_epoc["2222"].days_left == 15
    assert by_epoc["3333"].state is CertState.VALID
    assert by_epoc["4444"].state is CertState.NOT_YET_VALID
    assert next(s.epoc for s in service.certificates()) == "4444"  # newest first
    assert service.installed_epoc() == "3333"
    assert service.current("3333") is None  # no key: cannot authenticate a renewal
    assert service.current("2222").epoc == "2222"


def test_remembered_cas_narrow_the_profile(tmp_path):
    ca, other, store = MiniCA("Ours"), MiniCA("Theirs"), FakeStore()
    put(store, ca, "1111", NOW - timedelta(days=1), 365)
    put(store, other, "2222", NOW - timedelta(days=1), 365)
    service = StatusService(store, 30, tmp_path / "ca.pem", clock=lambda: NOW)
    assert {s.epoc for s in service.certificates()} == {"1111", "2222"}
    service.remember_cas([ca.issuing])
    assert {s.epoc for s in service.certificates()} == {"1111"}
