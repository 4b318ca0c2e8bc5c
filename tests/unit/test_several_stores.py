"""One store over several: what the composite answers where its stores disagree (the
transaction itself is in tests/contract, over every adapter)."""

from __future__ import annotations

import logging

import pytest

from ecmt.certstore import Place, SeveralStores
from ecmt.certstore._firefox import FirefoxProfiles
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import Profile, StoredCertificate
from ecmt.keys import generate
from fakes import FakeStore, MiniCA

NAME = "ePractitioner Dr Several"


def issued(ca: MiniCA):
    key = generate("ec-p256")
    return key, ca.issue(key.public_key(), "5700001")


def two() -> tuple[FakeStore, FakeStore, SeveralStores]:
    first, second = FakeStore(description="first"), FakeStore(description="second")
    return first, second, SeveralStores([Place("a", first), Place("b", second)], "a,b")


def test_a_certificate_has_its_key_only_where_every_store_holds_it_with_its_key():
    ca = MiniCA()
    first, second, both = two()
    key, cert = issued(ca)
    first.install(key, cert, [], NAME)

    (listed,) = both.list(Profile())
    assert not listed.has_private_key  # in the first store only
    assert listed.location == "first"
    assert both.load_identity(listed.fingerprint).key == key  # read from where it is
    second.install(key, cert, [], NAME)
    found = both.find(listed.fingerprint)
    assert found.has_private_key
    assert found.location == "first; second"
    assert found.label == NAME


def test_held_without_its_key_anywhere_is_backup_no_key_and_nowhere_is_not_found():
    ca = MiniCA()
    first, _second, both = two()
    _key, cert = issued(ca)
    stored = StoredCertificate(cert, False, "first")
    first.entries[stored.fingerprint] = (stored, None)
    with pytest.raises(EcmtError) as caught:
        both.load_identity(stored.fingerprint)
    assert caught.value.code is ErrorCode.BACKUP_NO_KEY
    with pytest.raises(EcmtError) as caught:
        both.load_identity("ab" * 32)
    assert caught.value.code is ErrorCode.STORE_NOT_FOUND
    with pytest.raises(EcmtError) as caught:
        both.remove("ab" * 32)
    assert caught.value.code is ErrorCode.STORE_NOT_FOUND


def test_remove_carries_on_past_a_store_that_fails_then_says_so():
    ca = MiniCA()
    first, second, both = two()
    stored = both.install(*issued(ca), [], NAME)
    first.fail_remove = EcmtError(ErrorCode.STORE_ERROR, "injected")

    with pytest.raises(EcmtError) as caught:
        both.remove(stored.fingerprint)

    assert caught.value.code is ErrorCode.STORE_ERROR
    assert "1 of 2 stores" in (caught.value.detail or "")
    assert second.fingerprints() == set()  # the other store went ahead
    assert first.fingerprints() == {stored.fingerprint}


def test_firefox_never_started_is_passed_over_in_a_list_and_unavailable_alone(tmp_path, caplog):
    ca = MiniCA()
    chrome = FakeStore(description="chrome")
    nobody = FirefoxProfiles(tmp_path)  # a home without Firefox profiles
    listed = SeveralStores([Place("nss", chrome), Place("firefox", nobody)], "nss,firefox")

    with caplog.at_level(logging.WARNING):
        stored = listed.install(*issued(ca), [], NAME)

    assert stored.has_private_key
    assert chrome.fingerprints() == {stored.fingerprint}
    assert "firefox: nothing to install into" in caplog.text
    assert not nobody.available()
    assert nobody.list(Profile()) == []
    with pytest.raises(EcmtError) as caught:
        nobody.install(*issued(ca), [], NAME)
    assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
    assert "start Firefox once" in (caught.value.detail or "")
