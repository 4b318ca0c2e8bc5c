"""What every certificate store promises (ecmt/certstore/port.py), written once and run
against each adapter (see conftest.py): install, list by issuer and EPOC, find, the
replace transaction of services/install.py with its rollback (also across two stores,
the second failing), remove, load_identity and a backup made from the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import SecretStr

from ecmt import pkcs12
from ecmt.certstore import FileStore, Place, SeveralStores
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import (
    BackupFormat,
    Profile,
    StoredCertificate,
    SupersededPolicy,
    fingerprint,
)
from ecmt.services.backup import write_backup
from ecmt.services.install import install_replacing
from fakes import MemorySecrets, MiniCA
from support import rsa_key

FRIENDLY = "ePractitioner Dr Test Person"
EPOC = "5300001"


def issue(
    ca: MiniCA, epoc: str = EPOC, key: Any = None, **kwargs: Any
) -> tuple[Any, x509.Certificate]:
    key = key or rsa_key()
    return key, ca.issue(key.public_key(), epoc, **kwargs)


def profile(ca: MiniCA, epoc: str | None = EPOC) -> Profile:
    return Profile(issuers=(ca.issuing.subject,), epoc=epoc)


def fingerprints(stored: list[StoredCertificate]) -> set[str]:
    return {s.fingerprint for s in stored}


def test_install_gives_back_what_is_in_the_store(kit):
    ca = kit.ca()
    key, cert = issue(ca)

    stored = kit.store.install(key, cert, [ca.issuing, ca.root], FRIENDLY)

    assert stored.fingerprint == fingerprint(cert)
    assert stored.certificate == cert
    assert stored.has_private_key
    assert stored.label == FRIENDLY
    assert stored.location == kit.store.description
    assert kit.store.find(stored.fingerprint) == stored
    assert kit.store.find(stored.fingerprint.upper()) == stored
    assert kit.store.find("0" * 64) is None
    assert not kit.store.needs_elevation()


def test_list_picks_by_issuer_and_exact_epoc(kit):
    ca, other_ca = kit.ca(), kit.ca("Other")
    chain = [ca.issuing, ca.root]
    ours = kit.store.install(*issue(ca), chain, FRIENDLY)
    other_epoc = kit.store.install(*issue(ca, EPOC + "1"), chain, FRIENDLY)
    other_issuer = kit.store.install(*issue(other_ca), [other_ca.issuing, other_ca.root], FRIENDLY)

    assert kit.store.list(profile(ca)) == [ours]
    assert fingerprints(kit.store.list(profile(ca, EPOC + "1"))) == {other_epoc.fingerprint}
    assert fingerprints(kit.store.list(Profile(epoc=EPOC))) == {
        ours.fingerprint,
        other_issuer.fingerprint,
    }
    assert kit.store.list(profile(ca, EPOC[:-1])) == []  # a prefix is not the EPOC
    everything = fingerprints(kit.store.list(Profile()))
    assert fingerprint(ca.issuing) not in everything  # CAs have no EPOC: never ours
    assert {ours.fingerprint, other_epoc.fingerprint, other_issuer.fingerprint} <= everything


@pytest.mark.parametrize("policy", list(SupersededPolicy))
def test_replace_installs_the_new_one_then_deals_with_the_old(kit, policy):
    ca = kit.ca()
    chain = [ca.issuing, ca.root]
    old = kit.store.install(*issue(ca), chain, FRIENDLY)
    new_key, new_cert = issue(ca)

    outcome = install_replacing(kit.store, new_key, new_cert, chain, FRIENDLY, [old], policy)

    assert outcome.installed.fingerprint == fingerprint(new_cert)
    assert outcome.installed.has_private_key
    left = fingerprints(kit.store.list(profile(ca)))
    if policy is SupersededPolicy.REMOVE:
        assert (outcome.removed, outcome.kept) == ((old,), ())
        assert left == {outcome.installed.fingerprint}
    else:
        assert (outcome.removed, outcome.kept) == ((), (old,))
        assert left == {outcome.installed.fingerprint, old.fingerprint}
    loaded = kit.store.load_identity(outcome.installed.fingerprint)
    assert loaded.key.public_key() == new_key.public_key()


@dataclass
class FailingVerification:
    """The store, except that the check right after install sees `answer` (or raises it)."""

    store: Any
    answer: Any
    checked: bool = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def find(self, fp: str) -> StoredCertificate | None:
        if self.checked:
            return self.store.find(fp)
        self.checked = True
        if isinstance(self.answer, Exception):
            raise self.answer
        if self.answer == "keyless":
            found = self.store.find(fp)
            return StoredCertificate(found.certificate, False, found.location, found.label)
        return None


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (None, ErrorCode.INSTALL_NOT_VERIFIED),
        ("keyless", ErrorCode.INSTALL_NOT_VERIFIED),
        (EcmtError(ErrorCode.STORE_ERROR, "injected"), ErrorCode.STORE_ERROR),
    ],
    ids=["missing", "without-key", "error"],
)
def test_a_failed_check_rolls_the_new_one_back_and_keeps_the_old(kit, answer, code):
    ca = kit.ca()
    chain = [ca.issuing, ca.root]
    old_key, old_cert = issue(ca)
    old = kit.store.install(old_key, old_cert, chain, FRIENDLY)
    new_key, new_cert = issue(ca)
    failing = FailingVerification(kit.store, answer)

    with pytest.raises(EcmtError) as caught:
        install_replacing(
            failing, new_key, new_cert, chain, FRIENDLY, [old], SupersededPolicy.REMOVE
        )

    assert caught.value.code is code
    assert kit.store.find(fingerprint(new_cert)) is None
    (left,) = kit.store.list(profile(ca))
    assert left.fingerprint == old.fingerprint
    assert left.has_private_key
    assert kit.store.load_identity(old.fingerprint).key.public_key() == old_key.public_key()


def test_remove_takes_one_certificate_and_its_key_and_nothing_else(kit):
    ca = kit.ca()
    chain = [ca.issuing, ca.root]
    old_key, old_cert = issue(ca, not_before=datetime.now(UTC) - timedelta(days=2))
    old = kit.store.install(old_key, old_cert, chain, FRIENDLY)
    new = kit.store.install(*issue(ca), chain, FRIENDLY)  # same subject, newer

    kit.store.remove(new.fingerprint)  # the newer one: a nickname would pick it for "old"

    assert kit.store.find(new.fingerprint) is None
    (left,) = kit.store.list(profile(ca))
    assert left.fingerprint == old.fingerprint
    assert kit.store.load_identity(old.fingerprint).key.public_key() == old_key.public_key()
    kit.store.remove(old.fingerprint)
    assert kit.store.list(profile(ca)) == []


def test_unknown_fingerprints_are_not_found(kit):
    ca = kit.ca()
    stored = kit.store.install(*issue(ca), [ca.issuing, ca.root], FRIENDLY)
    for call in (kit.store.remove, kit.store.load_identity):
        with pytest.raises(EcmtError) as caught:
            call("ab" * 32)
        assert caught.value.code is ErrorCode.STORE_NOT_FOUND
    assert kit.store.find(stored.fingerprint) == stored


def test_load_identity_gives_key_certificate_and_issuing_ca(kit):
    ca = kit.ca()
    key, cert = issue(ca)
    stored = kit.store.install(key, cert, [ca.issuing, ca.root], FRIENDLY)

    loaded = kit.store.load_identity(stored.fingerprint)

    assert loaded.certificate == cert
    assert loaded.key.public_key() == key.public_key()
    assert ca.issuing in loaded.chain


def test_a_backup_from_the_store_opens_with_its_password(kit, tmp_path: Path):
    ca = kit.ca()
    key, cert = issue(ca)
    stored = kit.store.install(key, cert, [ca.issuing, ca.root], FRIENDLY)
    password = SecretStr("Practice-Backup-2026")

    identity = kit.store.load_identity(stored.fingerprint)
    result = write_backup(identity, tmp_path, "backup", password, password, BackupFormat.LEGACY)

    opened = pkcs12.open_(result.path.read_bytes(), password.get_secret_value().encode())
    assert opened.certificate == cert
    assert opened.key.public_key() == key.public_key()
    assert ca.issuing in opened.chain


def test_a_certificate_without_its_key(kit):
    ca = kit.ca()
    _key, cert = issue(ca)
    kit.add_without_key(cert)

    (listed,) = kit.store.list(profile(ca))
    assert listed.fingerprint == fingerprint(cert)
    assert not listed.has_private_key
    assert not kit.store.find(listed.fingerprint).has_private_key
    with pytest.raises(EcmtError) as caught:
        kit.store.load_identity(listed.fingerprint)
    assert caught.value.code is ErrorCode.BACKUP_NO_KEY
    kit.store.remove(listed.fingerprint)
    assert kit.store.find(listed.fingerprint) is None


def test_an_ec_key_and_a_name_in_any_script(kit):
    ca = kit.ca()
    key = ec.generate_private_key(ec.SECP256R1())
    _, cert = issue(ca, key=key)
    name = "Dr Ünïcode Ó'Brien (GP) ✓"

    stored = kit.store.install(key, cert, [ca.issuing, ca.root], name)

    assert stored.label == name
    assert kit.store.find(stored.fingerprint).label == name
    assert kit.store.load_identity(stored.fingerprint).key.public_key() == key.public_key()
    kit.store.remove(stored.fingerprint)
    assert kit.store.find(stored.fingerprint) is None


@dataclass
class FailingSecond:
    """A second store whose install of `new` fails: before changing anything, after
    putting the certificate in (half done), or whose check right after the install does
    not find it."""

    store: Any
    how: str
    new: str = ""
    hidden: bool = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def install(self, key: Any, cert: x509.Certificate, chain: Any, name: str) -> Any:
        armed = fingerprint(cert) == self.new
        if armed and self.how == "refuses":
            raise EcmtError(ErrorCode.STORE_ERROR, "injected: refused")
        stored = self.store.install(key, cert, chain, name)
        if armed and self.how == "half-done":
            raise EcmtError(ErrorCode.STORE_ERROR, "injected: failed after the import")
        self.hidden = armed and self.how == "not-verified"
        return stored

    def find(self, fp: str) -> StoredCertificate | None:
        if self.hidden and fp.lower() == self.new:
            self.hidden = False  # once: the check after install
            return None
        return self.store.find(fp)


@pytest.mark.parametrize("how", ["refuses", "half-done", "not-verified"])
def test_two_stores_a_failure_in_the_second_leaves_both_as_they_were(kit, tmp_path, how):
    ca = kit.ca()
    chain = [ca.issuing, ca.root]
    old_key, old_cert = issue(ca)
    second = FailingSecond(FileStore(tmp_path / "second", MemorySecrets()), how)
    both = SeveralStores([Place("first", kit.store), Place("second", second)], "first,second")
    old = both.install(old_key, old_cert, chain, FRIENDLY)
    assert old.has_private_key  # in both, with its key
    new_key, new_cert = issue(ca)
    second.new = fingerprint(new_cert)

    with pytest.raises(EcmtError) as caught:
        install_replacing(
            both,
            new_key,
            new_cert,
            chain,
            FRIENDLY,
            both.list(profile(ca)),
            SupersededPolicy.REMOVE,
        )

    expected = ErrorCode.INSTALL_NOT_VERIFIED if how == "not-verified" else ErrorCode.STORE_ERROR
    assert caught.value.code is expected
    for store in (kit.store, second.store):
        assert store.find(fingerprint(new_cert)) is None
        (left,) = store.list(profile(ca))
        assert left.fingerprint == old.fingerprint
        assert left.has_private_key
        assert store.load_identity(old.fingerprint).key.public_key() == old_key.public_key()


def test_two_stores_replace_everywhere_then_remove_the_old_from_each(kit, tmp_path):
    ca = kit.ca()
    chain = [ca.issuing, ca.root]
    second = FileStore(tmp_path / "second", MemorySecrets())
    both = SeveralStores([Place("first", kit.store), Place("second", second)], "first,second")
    old = both.install(*issue(ca), chain, FRIENDLY)
    new_key, new_cert = issue(ca)

    outcome = install_replacing(
        both, new_key, new_cert, chain, FRIENDLY, both.list(profile(ca)), SupersededPolicy.REMOVE
    )

    assert outcome.installed.has_private_key
    assert [s.fingerprint for s in outcome.removed] == [old.fingerprint]
    for store in (kit.store, second):
        (left,) = store.list(profile(ca))
        assert left.fingerprint == fingerprint(new_cert)
        assert store.load_identity(left.fingerprint).key.public_key() == new_key.public_key()
