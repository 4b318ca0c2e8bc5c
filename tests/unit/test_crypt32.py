"""The ctypes layer under the Windows store: structure layouts (Win64), errcheck, error
mapping, and the security-descriptor bytes that say who may read a key."""

from __future__ import annotations

import ctypes
import struct
import sys

import pytest

from ecmt.certstore import _crypt32 as w
from ecmt.certstore import _win_security as sec
from ecmt.certstore._win_errors import EXPORT, IMPORT, code_for, store_error
from ecmt.domain.errors import ErrorCode
from fakes_windows import (
    DEFAULT_KEY_SD,
    MESSAGES,
    SID_ADMINISTRATORS,
    SID_NETWORK_SERVICE,
    SID_PMR_SERVICE,
    SID_SYSTEM,
)

win64 = pytest.mark.skipif(ctypes.sizeof(ctypes.c_void_p) != 8, reason="64-bit layout")


@win64
@pytest.mark.parametrize(
    ("structure", "size", "offsets"),
    [
        (
            w.CERT_CONTEXT,
            40,
            {"pbCertEncoded": 8, "cbCertEncoded": 16, "pCertInfo": 24, "hCertStore": 32},
        ),
        (
            w.CRYPT_KEY_PROV_INFO,
            48,
            {
                "pwszProvName": 8,
                "dwProvType": 16,
                "dwFlags": 20,
                "rgProvParam": 32,
                "dwKeySpec": 40,
            },
        ),
        (w.CRYPT_DATA_BLOB, 16, {"cbData": 0, "pbData": 8}),
    ],
)
def test_structures_have_the_win64_layout(structure, size, offsets):
    assert ctypes.sizeof(structure) == size
    for name, offset in offsets.items():
        assert getattr(structure, name).offset == offset


def test_integer_types_are_fixed_width():
    assert ctypes.sizeof(w.DWORD) == 4  # ctypes.wintypes.DWORD is 8 bytes on Linux
    assert ctypes.sizeof(w.LONG) == 4
    assert ctypes.sizeof(w.ULONG_PTR) == ctypes.sizeof(ctypes.c_void_p)


def test_flags_are_windows_values():
    assert (w.CERT_STORE_PROV_SYSTEM_W, w.CERT_STORE_PROV_MEMORY) == (10, 2)
    assert (w.CERT_SYSTEM_STORE_CURRENT_USER, w.CERT_SYSTEM_STORE_LOCAL_MACHINE) == (
        0x10000,
        0x20000,
    )
    assert (w.CRYPT_EXPORTABLE, w.CRYPT_MACHINE_KEYSET, w.CRYPT_USER_KEYSET) == (1, 0x20, 0x1000)
    assert (w.PKCS12_PREFER_CNG_KSP, w.PKCS12_NO_PERSIST_KEY) == (0x100, 0x8000)
    assert (w.CERT_STORE_ADD_REPLACE_EXISTING, w.CERT_KEY_PROV_INFO_PROP_ID) == (3, 2)
    assert (w.CERT_FRIENDLY_NAME_PROP_ID, w.CERT_NAME_ATTR_TYPE) == (11, 3)
    assert (w.CRYPT_E_EXISTS, w.CRYPT_E_NOT_FOUND) == (0x80092005, 0x80092004)


@pytest.mark.skipif(sys.platform == "win32", reason="the DLLs are there")
def test_no_dlls_off_windows():
    with pytest.raises(OSError, match="only on Windows"):
        w.load()


def test_errcheck_raises_with_the_apis_own_code():
    last = {"error": w.ERROR_ACCESS_DENIED}
    for check, failed in [("bool", 0), ("handle", None)]:
        with pytest.raises(w.Win32Error) as caught:
            w.errcheck("F", check, lambda: last["error"])(failed, None, ())
        assert (caught.value.code, caught.value.function) == (5, "F")
        assert w.errcheck("F", check, lambda: 0)(7, None, ()) == 7
    with pytest.raises(w.Win32Error) as caught:
        w.errcheck("NCryptOpenKey", "status", lambda: 0)(-2146893802, None, ())  # NTE_BAD_KEYSET
    assert caught.value.code == w.NTE_BAD_KEYSET
    assert w.errcheck("N", "status", lambda: 0)(0, None, ()) == 0


def test_enumeration_ends_quietly_and_fails_loudly():
    end = w.errcheck("CertEnumCertificatesInStore", "enum", lambda: w.CRYPT_E_NOT_FOUND)
    assert not end(w.PCCERT_CONTEXT(), None, ())
    broken = w.errcheck("CertEnumCertificatesInStore", "enum", lambda: w.ERROR_ACCESS_DENIED)
    with pytest.raises(w.Win32Error):
        broken(w.PCCERT_CONTEXT(), None, ())


def test_bound_calls_convert_arguments_as_ctypes_does():
    class Raw:
        def describe(self, code: int) -> str:
            return ""

        def __getattr__(self, name):
            return lambda *args: 1

    api = w.bind(Raw(), lambda: 0)
    assert api.CertCloseStore(5, 0) == 1
    with pytest.raises(TypeError):
        api.CertCloseStore(5, "no flags")  # a DWORD: ctypes refuses a str
    with pytest.raises(TypeError):
        api.CertGetCertificateContextProperty(w.CRYPT_DATA_BLOB(), 2, None, w.DWORD())
    with pytest.raises(TypeError, match="takes 2 arguments"):
        api.CertCloseStore(5)


def test_win32_and_hresult_forms_are_one_code():
    assert w.as_hresult(5) == w.E_ACCESSDENIED
    assert w.Win32Error(5, "F").is_(w.E_ACCESSDENIED)
    assert w.Win32Error(w.E_ACCESSDENIED, "F").is_(w.ERROR_ACCESS_DENIED)
    assert w.as_hresult(w.CRYPT_E_NOT_FOUND) == w.CRYPT_E_NOT_FOUND


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (5, ErrorCode.STORE_ELEVATION_REQUIRED),
        (0x80070005, ErrorCode.STORE_ELEVATION_REQUIRED),
        (w.NTE_PERM, ErrorCode.STORE_ELEVATION_REQUIRED),
        (0x80070056, ErrorCode.STORE_WRONG_PASSWORD),
        (w.CRYPT_E_NOT_FOUND, ErrorCode.STORE_NOT_FOUND),
        (w.NTE_BAD_KEYSET, ErrorCode.STORE_NOT_FOUND),
        (w.CRYPT_E_EXISTS, ErrorCode.STORE_ERROR),
        (w.NTE_BAD_DATA, ErrorCode.STORE_UNSUPPORTED_FORMAT),
        (0x8009310B, ErrorCode.STORE_UNSUPPORTED_FORMAT),  # CRYPT_E_ASN1_BADTAG
        (w.NTE_PROV_DLL_NOT_FOUND, ErrorCode.STORE_UNAVAILABLE),
        (w.NTE_BAD_KEY_STATE, ErrorCode.STORE_ERROR),
        (0x8009000E, ErrorCode.STORE_ERROR),  # NTE_NO_MEMORY: anything else
    ],
)
def test_error_codes_map_to_store_codes(code, expected):
    assert code_for(w.Win32Error(code, "F")) is expected


def test_an_operation_reads_some_codes_its_own_way():
    wrong_password = w.Win32Error(0x80070056, "PFXImportCertStore")
    assert code_for(wrong_password, IMPORT) is ErrorCode.STORE_UNSUPPORTED_FORMAT
    for code in (w.NTE_BAD_KEY_STATE, w.NTE_NOT_SUPPORTED):
        assert (
            code_for(w.Win32Error(code, "PFXExportCertStoreEx"), EXPORT) is ErrorCode.BACKUP_NO_KEY
        )


def test_detail_has_the_code_in_hex_its_name_and_windows_words():
    error = store_error(w.Win32Error(0x80070056, "PFXImportCertStore"), MESSAGES.get, IMPORT)
    assert error.detail == (
        "PFXImportCertStore: 0x80070056 ERROR_INVALID_PASSWORD: "
        "The specified network password is not correct."
    )
    unknown = store_error(w.Win32Error(0x8009000E, "NCryptOpenKey"), lambda _c: "", None, "ctx")
    assert unknown.detail == "ctx: NCryptOpenKey: 0x8009000E"


# --- security descriptors ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sid"),
    [
        ("S-1-5-18", SID_SYSTEM),
        ("S-1-5-32-544", SID_ADMINISTRATORS),
        ("s-1-5-20", SID_NETWORK_SERVICE),
        ("S-1-5-21-1004336348-1177238915-682003330-1105", SID_PMR_SERVICE),
    ],
)
def test_sid_text_and_bytes(text, sid):
    assert sec.sid_from_text(text) == sid
    assert sec.sid_to_text(sid) == text.upper()


@pytest.mark.parametrize("text", ["NETWORK SERVICE", "S-1-", "S-2-5-18", "S-1-5-99999999999"])
def test_not_sids(text):
    assert sec.sid_from_text(text) is None


def test_reading_a_keys_dacl():
    assert sec.readers(DEFAULT_KEY_SD) == [SID_SYSTEM, SID_ADMINISTRATORS]
    aces = sec.dacl_aces(DEFAULT_KEY_SD)
    assert [(a.type, a.mask) for a in aces] == [(0, 0x10000000), (0, 0x10000000)]


def test_granting_read_appends_explicit_allow_aces_once():
    updated = sec.grant_read(DEFAULT_KEY_SD, [SID_NETWORK_SERVICE, SID_SYSTEM, SID_NETWORK_SERVICE])
    assert updated is not None
    assert sec.readers(updated) == [SID_SYSTEM, SID_ADMINISTRATORS, SID_NETWORK_SERVICE]
    added = sec.dacl_aces(updated)[-1]
    assert (added.type, added.flags, added.mask) == (0, 0, 0x80120089)
    revision, _sbz, control, owner, group, sacl, dacl = struct.unpack_from("<BBHIIII", updated)
    assert (revision, control, owner, group, sacl, dacl) == (1, 0x8004, 0, 0, 0, 20)
    acl_size, count = struct.unpack_from("<HH", updated, 22)
    assert (acl_size, count) == (len(updated) - 20, 3)
    assert sec.grant_read(updated, [SID_NETWORK_SERVICE]) is None  # nothing to change


def test_new_aces_go_before_inherited_ones():
    inherited = (
        struct.pack("<BBHI", 0, sec.INHERITED_ACE, 8 + len(SID_PMR_SERVICE), 0x1) + SID_PMR_SERVICE
    )
    deny = struct.pack("<BBHI", 1, 0, 8 + len(SID_SYSTEM), 0x2) + SID_SYSTEM
    body = deny + inherited
    acl = struct.pack("<BBHHH", 2, 0, 8 + len(body), 2, 0) + body
    descriptor = struct.pack("<BBHIIII", 1, 0, 0x8004, 0, 0, 0, 20) + acl

    updated = sec.grant_read(descriptor, [SID_NETWORK_SERVICE])

    assert [a.sid for a in sec.dacl_aces(updated)] == [
        SID_SYSTEM,
        SID_NETWORK_SERVICE,
        SID_PMR_SERVICE,
    ]


def test_no_dacl_means_everyone_and_nothing_to_grant():
    no_dacl = struct.pack("<BBHIIII", 1, 0, 0x8000, 0, 0, 0, 0)
    assert sec.readers(no_dacl) == [sec.EVERYONE]
    assert sec.grant_read(no_dacl, [SID_NETWORK_SERVICE]) is None


@pytest.mark.parametrize(
    "damaged",
    [
        DEFAULT_KEY_SD[:10],
        DEFAULT_KEY_SD[:40],
        bytes([1, 0, 4, 0]) + DEFAULT_KEY_SD[4:],  # absolute, not self-relative
    ],
)
def test_damaged_descriptors_are_refused(damaged):
    with pytest.raises(sec.SecurityFormatError):
        sec.readers(damaged)
