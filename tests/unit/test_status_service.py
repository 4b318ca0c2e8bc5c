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


def test_with_several_stores_each_certificate_says_where_it_is(tmp_path):
    from ecmt.certstore import Place, SeveralStores

    ca = MiniCA()
    chrome, firefox = FakeStore(description="NSS database ~/.pki/nssdb"), FakeStore()
    firefox.description = "Firefox profile default-release (NSS database ~/.mozilla/x)"
    put(chrome, ca, "1111", NOW - timedelta(days=10), 365)
    ((stored, _key),) = chrome.entries.values()
    firefox.entries[stored.fingerprint] = (
        StoredCertificate(stored.certificate, False, firefox.description, stored.label),
        None,
    )
    put(chrome, ca, "2222", NOW - timedelta(days=5), 365)  # in Chrome's store only
    store = SeveralStores([Place("nss", chrome), Place("firefox", firefox)], "nss,firefox")
    service = StatusService(
        store, 30, tmp_path / "ca.pem", clock=lambda: NOW, store_value="nss,firefox"
    )

    by_epoc = {s.epoc: s for s in service.certificates()}

    everywhere, chrome_only = by_epoc["1111"], by_epoc["2222"]
    assert [(p.store, p.has_private_key) for p in everywhere.places] == [
        ("nss", True),
        ("firefox", False),
    ]
    assert everywhere.places[1].where == "Firefox on this computer"
    assert everywhere.places[1].location == firefox.description
    assert everywhere.where == "the certificate stores of Chrome and Edge, and Firefox"
    assert everywhere.has_private_key  # a renewal or backup reads the key from Chrome's
    assert chrome_only.where == "the certificate store Chrome and Edge use on this computer"
    assert [p.store for p in chrome_only.places] == ["nss"]
    as_json = everywhere.as_json()
    assert as_json["where"] == everywhere.where
    assert as_json["places"][1] == {
        "store": "firefox",
        "where": "Firefox on this computer",
        "location": firefox.description,
        "has_private_key": False,
    }
    assert service.current("1111").fingerprint == everywhere.fingerprint
    assert store.find(everywhere.fingerprint).has_private_key is False  # not everywhere


def test_one_store_has_one_place(tmp_path):
    ca, store = MiniCA(), FakeStore()
    put(store, ca, "1111", NOW - timedelta(days=1), 365)
    service = StatusService(store, 30, tmp_path / "ca.pem", clock=lambda: NOW, store_value="files")
    (status,) = service.certificates()
    assert [(p.store, p.where, p.location) for p in status.places] == [
        ("files", "this program's own certificate folder", "memory")
    ]
    assert status.where == "this program's own certificate folder"
