"""The Windows store adapter's own contract with crypt32 and ncrypt, over the fake
(tests/fakes_windows.py): the flags it passes, the CNG check, elevation before import,
clean-up on every failure, key readers, and non-exportable keys. What every store does
is in tests/contract."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ecmt import pkcs12
from ecmt.certstore import _crypt32 as w
from ecmt.certstore._windows import WindowsStore
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import Profile, fingerprint
from ecmt.services.status import StatusService
from fakes import MiniCA
from fakes_windows import (
    KSP,
    LEGACY_CSP,
    SID_ADMINISTRATORS,
    SID_NETWORK_SERVICE,
    SID_PMR_SERVICE,
    SID_SYSTEM,
    Element,
    FakeWindows,
    ProvInfo,
)
from support import rsa_key

NAME = "ePractitioner Dr Test Person"
PMR = "S-1-5-21-1004336348-1177238915-682003330-1105"


@pytest.fixture
def fake() -> Iterator[FakeWindows]:
    made = FakeWindows()
    yield made
    made.assert_released()  # every store handle closed, every context and NCrypt handle freed


@pytest.fixture
def ca() -> MiniCA:
    return MiniCA()


def install(store: WindowsStore, ca: MiniCA, epoc: str = "5400001"):
    key = rsa_key()
    cert = ca.issue(key.public_key(), epoc)
    return key, cert, store.install(key, cert, [ca.issuing, ca.root], NAME)


def import_flags(fake: FakeWindows) -> int:
    (call,) = fake.called("PFXImportCertStore")
    return call.args[2]


@pytest.mark.parametrize(
    ("location", "exportable", "expected"),
    [
        ("user", True, w.PKCS12_PREFER_CNG_KSP | w.CRYPT_USER_KEYSET | w.CRYPT_EXPORTABLE),
        ("user", False, w.PKCS12_PREFER_CNG_KSP | w.CRYPT_USER_KEYSET),
        ("machine", True, w.PKCS12_PREFER_CNG_KSP | w.CRYPT_MACHINE_KEYSET | w.CRYPT_EXPORTABLE),
        ("machine", False, w.PKCS12_PREFER_CNG_KSP | w.CRYPT_MACHINE_KEYSET),
    ],
)
def test_import_flags(fake, ca, location, exportable, expected):
    store = WindowsStore(location, api=fake.api, exportable_keys=exportable)
    install(store, ca)

    flags = import_flags(fake)
    assert flags == expected
    assert not flags & w.PKCS12_NO_PERSIST_KEY
    target = {
        "user": w.CERT_SYSTEM_STORE_CURRENT_USER,
        "machine": w.CERT_SYSTEM_STORE_LOCAL_MACHINE,
    }
    opened = [c.args for c in fake.called("CertOpenStore") if c.args[4] == "MY"]
    assert (w.CERT_STORE_PROV_SYSTEM_W, 0, 0, target[location], "MY") in opened
    (element,) = fake.store(location)
    assert element.prov is not None
    assert (element.prov.provider, element.prov.prov_type) == (KSP, 0)
    assert fake.key_of(element).exportable is exportable


def test_the_pkcs12_is_legacy_with_a_one_time_password(fake, ca):
    store = WindowsStore("user", api=fake.api)
    install(store, ca)
    install(store, ca)

    first, second = (c.args[1] for c in fake.called("PFXImportCertStore"))
    assert first != second
    assert len(first) >= 32
    for data in fake.imported:
        assert pkcs12.OID_PBE_SHA1_3DES in data
        assert pkcs12.OID_PBES2 not in data


def test_our_certificate_is_taken_from_the_import_not_the_first(fake, ca):
    store = WindowsStore("user", api=fake.api)
    _key, cert, stored = install(store, ca)

    (element,) = fake.store("user", "MY")  # the fake lists the chain first
    assert fingerprint(cert) == stored.fingerprint
    assert element.der == cert.public_bytes(w_der())
    adds = fake.called("CertAddCertificateContextToStore")
    assert adds[0].args[2] == w.CERT_STORE_ADD_REPLACE_EXISTING
    named = [c.args[1] for c in fake.called("CertSetCertificateContextProperty")]
    assert named == [w.CERT_FRIENDLY_NAME_PROP_ID]
    assert element.props[w.CERT_FRIENDLY_NAME_PROP_ID] == w.wide(NAME)


def w_der():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def test_the_issuing_ca_goes_to_the_ca_store_once_and_the_root_never(fake, ca):
    store = WindowsStore("user", api=fake.api)
    install(store, ca)
    install(store, ca)

    assert [e.der for e in fake.store("user", "CA")] == [ca.issuing.public_bytes(w_der())]
    assert fake.store("user", "ROOT") == []
    news = [c for c in fake.called("CertAddCertificateContextToStore") if c.args[2] == 1]
    assert len(news) == 2  # CERT_STORE_ADD_NEW; the second met CRYPT_E_EXISTS


def test_a_key_in_a_legacy_provider_is_refused_and_removed(ca):
    fake = FakeWindows(honours_cng=False)
    store = WindowsStore("user", api=fake.api)

    with pytest.raises(EcmtError) as caught:
        install(store, ca)

    assert caught.value.code is ErrorCode.STORE_LEGACY_KEY
    assert LEGACY_CSP in caught.value.detail
    assert fake.store("user") == []
    assert fake.keys == {}  # deleted with CryptAcquireContext(CRYPT_DELETEKEYSET)
    (delete,) = fake.called("CryptAcquireContextW")
    assert delete.args[4] & w.CRYPT_DELETEKEYSET
    fake.assert_released()


def test_local_machine_without_elevation_stops_before_any_key_is_made(ca):
    fake = FakeWindows(elevated=False)
    machine = WindowsStore("machine", api=fake.api)
    user = WindowsStore("user", api=fake.api)

    assert machine.needs_elevation()
    assert not user.needs_elevation()
    with pytest.raises(EcmtError) as caught:
        install(machine, ca)

    assert caught.value.code is ErrorCode.STORE_ELEVATION_REQUIRED
    assert fake.called("PFXImportCertStore") == []
    assert fake.keys == {}
    assert machine.list(Profile()) == []  # reading needs no elevation
    install(user, ca)
    fake.assert_released()


def test_elevated_machine_store_needs_nothing_more(fake):
    assert not WindowsStore("machine", api=fake.api).needs_elevation()


@pytest.mark.parametrize(
    ("function", "code", "expected"),
    [
        (
            "CertAddCertificateContextToStore",
            w.ERROR_ACCESS_DENIED,
            ErrorCode.STORE_ELEVATION_REQUIRED,
        ),
        ("CertSetCertificateContextProperty", 0x8009000E, ErrorCode.STORE_ERROR),
        ("CertOpenStore", w.ERROR_ACCESS_DENIED, ErrorCode.STORE_ELEVATION_REQUIRED),
        ("PFXImportCertStore", w.ERROR_INVALID_PASSWORD_HR, ErrorCode.STORE_UNSUPPORTED_FORMAT),
        ("PFXImportCertStore", w.NTE_BAD_DATA, ErrorCode.STORE_UNSUPPORTED_FORMAT),
    ],
)
def test_a_failed_step_leaves_no_certificate_and_no_key(fake, ca, function, code, expected):
    store = WindowsStore("user", api=fake.api)
    fake.fail_next[function] = code

    with pytest.raises(EcmtError) as caught:
        install(store, ca)

    assert caught.value.code is expected
    assert f"{function}: 0x{code:08X}" in caught.value.detail
    assert fake.store("user") == []
    assert fake.keys == {}


def test_installing_the_same_certificate_again_keeps_one_copy_and_one_key(fake, ca):
    store = WindowsStore("user", api=fake.api)
    key, cert, first = install(store, ca)

    again = store.install(key, cert, [ca.issuing], NAME)

    assert again.fingerprint == first.fingerprint
    (element,) = fake.store("user")
    assert list(fake.keys) == [("user", KSP, element.prov.container)]


def test_remove_deletes_the_cng_key_then_the_certificate(fake, ca):
    store = WindowsStore("machine", api=fake.api)
    _key, _cert, stored = install(store, ca)
    (element,) = fake.store("machine")

    store.remove(stored.fingerprint)

    assert fake.store("machine") == []
    assert fake.keys == {}
    opened = fake.called("NCryptOpenKey")[0]  # then again: the check that it is gone
    assert opened.args[2] == element.prov.container
    assert opened.args[4] & w.NCRYPT_MACHINE_KEY_FLAG
    names = [c.name for c in fake.calls]
    assert names.index("NCryptDeleteKey") < names.index("CertDeleteCertificateFromStore")


def test_a_key_two_certificates_share_stays_until_the_last_goes(fake, ca):
    store = WindowsStore("user", api=fake.api)
    key, _cert, first = install(store, ca)
    second = ca.issue(key.public_key(), "5400001")
    (element,) = fake.store("user")
    fake.store("user").append(Element(second.public_bytes(w_der()), prov=element.prov))

    store.remove(first.fingerprint)
    assert len(fake.keys) == 1
    store.remove(fingerprint(second))
    assert fake.keys == {}


def test_a_legacy_key_is_deleted_with_cryptacquirecontext(fake, ca):
    store = WindowsStore("user", api=fake.api)
    key = rsa_key()
    cert = ca.issue(key.public_key(), "5400002")
    fake.keys[("user", LEGACY_CSP, "old-container")] = object()  # type: ignore[assignment]
    prov = ProvInfo("old-container", LEGACY_CSP, 1, 0, w.AT_KEYEXCHANGE)
    fake.store("user").append(Element(cert.public_bytes(w_der()), prov=prov))

    store.remove(fingerprint(cert))

    assert fake.keys == {}
    assert fake.store("user") == []
    (call,) = fake.called("CryptAcquireContextW")
    assert call.args[1:4] == ("old-container", LEGACY_CSP, 1)


def test_a_non_exportable_key_cannot_be_loaded(fake, ca):
    store = WindowsStore("user", api=fake.api, exportable_keys=False)
    _key, _cert, stored = install(store, ca)

    with pytest.raises(EcmtError) as caught:
        store.load_identity(stored.fingerprint)

    assert caught.value.code is ErrorCode.BACKUP_NO_KEY
    assert "0x8009000B NTE_BAD_KEY_STATE" in caught.value.detail
    assert store.find(stored.fingerprint).has_private_key  # still there, still usable


def test_list_asks_for_the_subject_serial_number_before_parsing(fake, ca):
    store = WindowsStore("user", api=fake.api)
    install(store, ca, "5400003")
    install(store, ca, "5400004")
    fake.calls.clear()

    (found,) = store.list(Profile(epoc="5400004"))

    assert found.epoc == "5400004"
    asked = fake.called("CertGetNameStringW")
    assert asked
    assert all(c.args[1:4] == (3, 0, b"2.5.4.5\0") for c in asked)
    props = [c.args[1] for c in fake.called("CertGetCertificateContextProperty")]
    assert len(props) == 4  # two properties, size then data, for the one match only


def test_key_readers_are_granted_read_and_reported(fake, ca, tmp_path):
    readers = ["NT AUTHORITY\\NETWORK SERVICE", PMR]
    store = WindowsStore("machine", api=fake.api, key_readers=readers)
    _key, _cert, stored = install(store, ca)

    (element,) = fake.store("machine")
    from ecmt.certstore import _win_security as sec

    assert sec.readers(fake.key_of(element).security) == [
        SID_SYSTEM,
        SID_ADMINISTRATORS,
        SID_NETWORK_SERVICE,
        SID_PMR_SERVICE,
    ]
    (granted,) = fake.called("NCryptSetProperty")
    assert (granted.args[1], granted.args[4]) == ("Security Descr", 4)  # DACL_SECURITY_INFO
    names = store.key_readers_of(stored.fingerprint)
    assert names == [
        "NT AUTHORITY\\SYSTEM",
        "BUILTIN\\Administrators",
        "NT AUTHORITY\\NETWORK SERVICE",
        "PRACTICE\\svc-pmr",
    ]
    status = StatusService(store, 30, tmp_path / "none.pem", lambda: datetime.now(UTC))
    (line,) = status.certificates()
    assert line.as_json()["key_readers"] == names


def test_an_unknown_reader_is_a_settings_error_before_anything_changes(fake, ca):
    store = WindowsStore("machine", api=fake.api, key_readers=["PRACTICE\\nobody"])

    with pytest.raises(EcmtError) as caught:
        install(store, ca)

    assert caught.value.code is ErrorCode.CONFIG_INVALID
    assert "PRACTICE\\\\nobody" in caught.value.detail
    assert fake.called("PFXImportCertStore") == []
    assert fake.keys == {}


def test_key_readers_apply_to_the_machine_store_only(fake, ca):
    store = WindowsStore("user", api=fake.api, key_readers=["PRACTICE\\nobody"])
    install(store, ca)
    assert fake.called("LookupAccountNameW") == []
    assert fake.called("NCryptSetProperty") == []


def test_without_windows_the_store_is_unavailable():
    store = WindowsStore("user")
    if not hasattr(__import__("ctypes"), "WinDLL"):
        assert not store.available()
        with pytest.raises(EcmtError) as caught:
            store.list(Profile())
        assert caught.value.code is ErrorCode.STORE_UNAVAILABLE
