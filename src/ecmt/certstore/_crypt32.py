"""ctypes declarations for crypt32, ncrypt and advapi32: types, structures, flags, prototypes.

Integer types are fixed-width (`DWORD = c_uint32`, not `ctypes.wintypes.DWORD`, which is 8
bytes on Linux), so the structure layouts below are the Win64 ones on any 64-bit system and
tests can assert their sizes anywhere. Wide-string fields are plain pointers decoded as
UTF-16LE by `read_wide`, because `c_wchar` is 4 bytes off Windows.

Every function is described once in `PROTOTYPES` (DLL, result type, argument types, how it
reports failure). `load()` binds them on Windows with an `errcheck` that raises
`Win32Error` carrying the API's own code, as truststore does; a test binds the same table
to a fake with `bind`, so both go through one checking path.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable
from ctypes import POINTER, Structure, c_int32, c_size_t, c_ubyte, c_uint32, c_void_p, c_wchar_p
from dataclasses import dataclass
from typing import Any, Protocol, cast

DWORD = c_uint32
BOOL = c_int32
LONG = c_int32  # SECURITY_STATUS
HANDLE = c_void_p  # HCERTSTORE
ULONG_PTR = c_size_t  # NCRYPT_*_HANDLE, HCRYPTPROV


class CRYPT_DATA_BLOB(Structure):
    _fields_ = (("cbData", DWORD), ("pbData", POINTER(c_ubyte)))


class CERT_CONTEXT(Structure):
    _fields_ = (
        ("dwCertEncodingType", DWORD),
        ("pbCertEncoded", POINTER(c_ubyte)),
        ("cbCertEncoded", DWORD),
        ("pCertInfo", c_void_p),
        ("hCertStore", HANDLE),
    )


class CRYPT_KEY_PROV_INFO(Structure):
    _fields_ = (
        ("pwszContainerName", c_void_p),  # LPWSTR
        ("pwszProvName", c_void_p),  # LPWSTR
        ("dwProvType", DWORD),  # 0: a CNG key storage provider
        ("dwFlags", DWORD),
        ("cProvParam", DWORD),
        ("rgProvParam", c_void_p),
        ("dwKeySpec", DWORD),
    )


PCCERT_CONTEXT = POINTER(CERT_CONTEXT)

# --- flags and identifiers (wincrypt.h, ncrypt.h, winnt.h) ------------------------------
ENCODING = 0x00010001  # X509_ASN_ENCODING | PKCS_7_ASN_ENCODING
CERT_STORE_PROV_MEMORY = 2
CERT_STORE_PROV_SYSTEM_W = 10
CERT_SYSTEM_STORE_CURRENT_USER = 0x00010000
CERT_SYSTEM_STORE_LOCAL_MACHINE = 0x00020000
CERT_STORE_READONLY_FLAG = 0x00008000
CERT_STORE_ADD_NEW = 1
CERT_STORE_ADD_REPLACE_EXISTING = 3
CERT_STORE_ADD_ALWAYS = 4
CERT_KEY_PROV_INFO_PROP_ID = 2
CERT_FRIENDLY_NAME_PROP_ID = 11
CERT_NAME_ATTR_TYPE = 3
CERT_NCRYPT_KEY_SPEC = 0xFFFFFFFF
OID_SUBJECT_SERIAL_NUMBER = b"2.5.4.5\0"  # szOID_DEVICE_SERIAL_NUMBER, an LPCSTR

CRYPT_EXPORTABLE = 0x0001
CRYPT_MACHINE_KEYSET = 0x0020
CRYPT_USER_KEYSET = 0x1000
PKCS12_PREFER_CNG_KSP = 0x0100
PKCS12_ALWAYS_CNG_KSP = 0x0200
PKCS12_ALLOW_OVERWRITE_KEY = 0x4000
PKCS12_NO_PERSIST_KEY = 0x8000
REPORT_NO_PRIVATE_KEY = 0x0001
REPORT_NOT_ABLE_TO_EXPORT_PRIVATE_KEY = 0x0002
EXPORT_PRIVATE_KEYS = 0x0004

CRYPT_DELETEKEYSET = 0x0010
CRYPT_SILENT = 0x0040
NCRYPT_MACHINE_KEY_FLAG = 0x0020
NCRYPT_SILENT_FLAG = 0x0040
NCRYPT_SECURITY_DESCR_PROPERTY = "Security Descr"
DACL_SECURITY_INFORMATION = 0x0004
AT_KEYEXCHANGE, AT_SIGNATURE = 1, 2
MS_KEY_STORAGE_PROVIDER = "Microsoft Software Key Storage Provider"

# --- error codes ------------------------------------------------------------------------
ERROR_FILE_NOT_FOUND = 2
ERROR_ACCESS_DENIED = 5
ERROR_NO_MORE_FILES = 18
ERROR_INVALID_PARAMETER = 87
ERROR_INSUFFICIENT_BUFFER = 122
ERROR_MORE_DATA = 234
ERROR_NONE_MAPPED = 1332
E_ACCESSDENIED = 0x80070005
ERROR_INVALID_PASSWORD_HR = 0x80070056  # "The specified network password is not correct."
NTE_BAD_DATA = 0x80090005
NTE_BAD_FLAGS = 0x80090009
NTE_BAD_KEY_STATE = 0x8009000B
NTE_PERM = 0x80090010
NTE_NOT_FOUND = 0x80090011
NTE_BAD_KEYSET = 0x80090016
NTE_PROV_TYPE_NOT_DEF = 0x80090017
NTE_KEYSET_NOT_DEF = 0x80090019
NTE_PROVIDER_DLL_FAIL = 0x8009001D
NTE_PROV_DLL_NOT_FOUND = 0x8009001E
NTE_NOT_SUPPORTED = 0x80090029
CRYPT_E_BAD_ENCODE = 0x80092002
CRYPT_E_NOT_FOUND = 0x80092004
CRYPT_E_EXISTS = 0x80092005
CRYPT_E_ASN1_FIRST, CRYPT_E_ASN1_LAST = 0x80093100, 0x800931FF

ERROR_NAMES = {
    ERROR_FILE_NOT_FOUND: "ERROR_FILE_NOT_FOUND",
    ERROR_ACCESS_DENIED: "ERROR_ACCESS_DENIED",
    ERROR_INVALID_PARAMETER: "ERROR_INVALID_PARAMETER",
    ERROR_INSUFFICIENT_BUFFER: "ERROR_INSUFFICIENT_BUFFER",
    ERROR_MORE_DATA: "ERROR_MORE_DATA",
    ERROR_NONE_MAPPED: "ERROR_NONE_MAPPED",
    E_ACCESSDENIED: "E_ACCESSDENIED",
    ERROR_INVALID_PASSWORD_HR: "ERROR_INVALID_PASSWORD",
    NTE_BAD_DATA: "NTE_BAD_DATA",
    NTE_BAD_FLAGS: "NTE_BAD_FLAGS",
    NTE_BAD_KEY_STATE: "NTE_BAD_KEY_STATE",
    NTE_PERM: "NTE_PERM",
    NTE_NOT_FOUND: "NTE_NOT_FOUND",
    NTE_BAD_KEYSET: "NTE_BAD_KEYSET",
    NTE_PROV_TYPE_NOT_DEF: "NTE_PROV_TYPE_NOT_DEF",
    NTE_KEYSET_NOT_DEF: "NTE_KEYSET_NOT_DEF",
    NTE_PROVIDER_DLL_FAIL: "NTE_PROVIDER_DLL_FAIL",
    NTE_PROV_DLL_NOT_FOUND: "NTE_PROV_DLL_NOT_FOUND",
    NTE_NOT_SUPPORTED: "NTE_NOT_SUPPORTED",
    CRYPT_E_BAD_ENCODE: "CRYPT_E_BAD_ENCODE",
    CRYPT_E_NOT_FOUND: "CRYPT_E_NOT_FOUND",
    CRYPT_E_EXISTS: "CRYPT_E_EXISTS",
}


def as_hresult(code: int) -> int:
    """One form for both ways Windows reports: a Win32 error (5) or its HRESULT (0x80070005)."""
    code &= 0xFFFFFFFF
    return 0x80070000 | code if 0 < code <= 0xFFFF else code


class Win32Error(OSError):
    """A failed call, with the API's own code (unsigned) and the function's name."""

    def __init__(self, code: int, function: str) -> None:
        self.code = code & 0xFFFFFFFF
        self.function = function
        super().__init__(f"{function} failed: 0x{self.code:08X}")

    @property
    def hresult(self) -> int:
        return as_hresult(self.code)

    def is_(self, *codes: int) -> bool:
        return self.hresult in {as_hresult(c) for c in codes}


# --- prototypes ---------------------------------------------------------------------------
# check: "bool" fails on 0, "handle" on NULL, "status" on non-zero (NCrypt returns it),
# "enum" returns NULL at the end (CRYPT_E_NOT_FOUND) and fails on any other error, "none".


@dataclass(frozen=True)
class Prototype:
    dll: str
    restype: Any
    argtypes: tuple[Any, ...]
    check: str


_P = POINTER
PROTOTYPES: dict[str, Prototype] = {
    "PFXImportCertStore": Prototype(
        "crypt32", HANDLE, (_P(CRYPT_DATA_BLOB), c_wchar_p, DWORD), "handle"
    ),
    "PFXExportCertStoreEx": Prototype(
        "crypt32", BOOL, (HANDLE, _P(CRYPT_DATA_BLOB), c_wchar_p, c_void_p, DWORD), "bool"
    ),
    "CertOpenStore": Prototype(
        "crypt32", HANDLE, (c_void_p, DWORD, ULONG_PTR, DWORD, c_wchar_p), "handle"
    ),
    "CertCloseStore": Prototype("crypt32", BOOL, (HANDLE, DWORD), "bool"),
    "CertEnumCertificatesInStore": Prototype(
        "crypt32", PCCERT_CONTEXT, (HANDLE, PCCERT_CONTEXT), "enum"
    ),
    "CertDuplicateCertificateContext": Prototype(
        "crypt32", PCCERT_CONTEXT, (PCCERT_CONTEXT,), "none"
    ),
    "CertFreeCertificateContext": Prototype("crypt32", BOOL, (PCCERT_CONTEXT,), "none"),
    "CertAddCertificateContextToStore": Prototype(
        "crypt32", BOOL, (HANDLE, PCCERT_CONTEXT, DWORD, _P(PCCERT_CONTEXT)), "bool"
    ),
    "CertDeleteCertificateFromStore": Prototype("crypt32", BOOL, (PCCERT_CONTEXT,), "bool"),
    "CertGetCertificateContextProperty": Prototype(
        "crypt32", BOOL, (PCCERT_CONTEXT, DWORD, c_void_p, _P(DWORD)), "bool"
    ),
    "CertSetCertificateContextProperty": Prototype(
        "crypt32", BOOL, (PCCERT_CONTEXT, DWORD, DWORD, c_void_p), "bool"
    ),
    "CertGetNameStringW": Prototype(
        "crypt32", DWORD, (PCCERT_CONTEXT, DWORD, DWORD, c_void_p, c_void_p, DWORD), "none"
    ),
    "NCryptOpenStorageProvider": Prototype(
        "ncrypt", LONG, (_P(ULONG_PTR), c_wchar_p, DWORD), "status"
    ),
    "NCryptOpenKey": Prototype(
        "ncrypt", LONG, (ULONG_PTR, _P(ULONG_PTR), c_wchar_p, DWORD, DWORD), "status"
    ),
    "NCryptDeleteKey": Prototype("ncrypt", LONG, (ULONG_PTR, DWORD), "status"),
    "NCryptFreeObject": Prototype("ncrypt", LONG, (ULONG_PTR,), "status"),
    "NCryptGetProperty": Prototype(
        "ncrypt", LONG, (ULONG_PTR, c_wchar_p, c_void_p, DWORD, _P(DWORD), DWORD), "status"
    ),
    "NCryptSetProperty": Prototype(
        "ncrypt", LONG, (ULONG_PTR, c_wchar_p, c_void_p, DWORD, DWORD), "status"
    ),
    "CryptAcquireContextW": Prototype(
        "advapi32", BOOL, (_P(ULONG_PTR), c_wchar_p, c_wchar_p, DWORD, DWORD), "bool"
    ),
    "LookupAccountNameW": Prototype(
        "advapi32",
        BOOL,
        (c_wchar_p, c_wchar_p, c_void_p, _P(DWORD), c_void_p, _P(DWORD), _P(DWORD)),
        "bool",
    ),
    "LookupAccountSidW": Prototype(
        "advapi32",
        BOOL,
        (c_wchar_p, c_void_p, c_void_p, _P(DWORD), c_void_p, _P(DWORD), _P(DWORD)),
        "bool",
    ),
}
_END_OF_ENUMERATION = {as_hresult(CRYPT_E_NOT_FOUND), as_hresult(ERROR_NO_MORE_FILES)}


def errcheck(name: str, check: str, last_error: Callable[[], int]) -> Callable[..., Any]:
    """A ctypes `errcheck` for one function: raise Win32Error with the API's own code."""

    def checked(result: Any, _func: Any, _args: Any) -> Any:
        if check == "status":
            if result:
                raise Win32Error(int(result), name)
        elif check == "enum":
            if not result:
                code = last_error()
                if as_hresult(code) not in _END_OF_ENUMERATION:
                    raise Win32Error(code, name)
        elif check in {"bool", "handle"} and not result:
            raise Win32Error(last_error(), name)
        return result

    return checked


class Win32Api(Protocol):
    """The calls the adapter makes, under their Windows names (see PROTOTYPES)."""

    def PFXImportCertStore(self, pfx: Any, password: str, flags: int) -> int: ...
    def PFXExportCertStoreEx(
        self, store: int, pfx: Any, password: str, reserved: None, flags: int
    ) -> int: ...
    def CertOpenStore(
        self, provider: int, encoding: int, prov: int, flags: int, para: str | None
    ) -> int: ...
    def CertCloseStore(self, store: int, flags: int) -> int: ...
    def CertEnumCertificatesInStore(self, store: int, previous: Any) -> Any: ...
    def CertDuplicateCertificateContext(self, context: Any) -> Any: ...
    def CertFreeCertificateContext(self, context: Any) -> int: ...
    def CertAddCertificateContextToStore(
        self, store: int, context: Any, disposition: int, added: Any
    ) -> int: ...
    def CertDeleteCertificateFromStore(self, context: Any) -> int: ...
    def CertGetCertificateContextProperty(
        self, context: Any, prop_id: int, data: Any, size: Any
    ) -> int: ...
    def CertSetCertificateContextProperty(
        self, context: Any, prop_id: int, flags: int, data: Any
    ) -> int: ...
    def CertGetNameStringW(
        self, context: Any, kind: int, flags: int, type_para: Any, name: Any, chars: int
    ) -> int: ...
    def NCryptOpenStorageProvider(self, provider: Any, name: str, flags: int) -> int: ...
    def NCryptOpenKey(
        self, provider: int, key: Any, name: str, legacy_spec: int, flags: int
    ) -> int: ...
    def NCryptDeleteKey(self, key: int, flags: int) -> int: ...
    def NCryptFreeObject(self, handle: int) -> int: ...
    def NCryptGetProperty(
        self, handle: int, name: str, output: Any, size: int, result: Any, flags: int
    ) -> int: ...
    def NCryptSetProperty(
        self, handle: int, name: str, data: Any, size: int, flags: int
    ) -> int: ...
    def CryptAcquireContextW(
        self, prov: Any, container: str, provider: str, prov_type: int, flags: int
    ) -> int: ...
    def LookupAccountNameW(
        self,
        system: None,
        name: str,
        sid: Any,
        sid_size: Any,
        domain: Any,
        domain_size: Any,
        use: Any,
    ) -> int: ...
    def LookupAccountSidW(
        self,
        system: None,
        sid: Any,
        name: Any,
        name_size: Any,
        domain: Any,
        domain_size: Any,
        use: Any,
    ) -> int: ...
    def describe(self, code: int) -> str:
        """FormatMessageW's text for an error code."""
        ...


def bind(raw: Any, last_error: Callable[[], int]) -> Win32Api:
    """The same calling convention over another implementation (a fake): arguments are
    converted as ctypes would (`from_param`), and results go through `errcheck`."""
    bound = _Api(raw.describe)
    for name, proto in PROTOTYPES.items():
        setattr(bound, name, _converting(name, proto, getattr(raw, name), last_error))
    return cast(Win32Api, bound)


class _Api:
    def __init__(self, describe: Callable[[int], str]) -> None:
        self.describe = describe


def _converting(
    name: str, proto: Prototype, function: Callable[..., Any], last_error: Callable[[], int]
) -> Callable[..., Any]:
    check = errcheck(name, proto.check, last_error)

    def call(*args: Any) -> Any:
        if len(args) != len(proto.argtypes):
            raise TypeError(f"{name} takes {len(proto.argtypes)} arguments ({len(args)} given)")
        for argtype, arg in zip(proto.argtypes, args, strict=True):
            argtype.from_param(arg)  # ctypes.ArgumentError where the real call would fail
        return check(function(*args), function, args)

    return call


def load() -> Win32Api:
    """The real DLLs, bound once; OSError where there are none (not Windows)."""
    if sys.platform == "win32":
        get_last_error = ctypes.get_last_error
        dlls = {n: ctypes.WinDLL(n, use_last_error=True) for n in ("crypt32", "ncrypt", "advapi32")}
        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        api = _Api(lambda code: _format_message(kernel32.FormatMessageW, code))
        for name, proto in PROTOTYPES.items():
            function = getattr(dlls[proto.dll], name)
            function.restype = proto.restype
            function.argtypes = proto.argtypes
            function.errcheck = errcheck(name, proto.check, get_last_error)
            setattr(api, name, function)
        return cast(Win32Api, api)
    raise OSError("crypt32 and ncrypt exist only on Windows")


def _format_message(function: Any, code: int) -> str:
    """FormatMessageW's text for a code (Win32 error, HRESULT, NTE_* and CRYPT_E_*)."""
    function.restype = DWORD
    function.argtypes = (DWORD, c_void_p, DWORD, DWORD, c_void_p, DWORD, c_void_p)
    size = 512
    buffer = ctypes.create_string_buffer(size * 2)
    flags = 0x1000 | 0x200  # FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS
    length = function(flags, None, code & 0xFFFFFFFF, 0, buffer, size, None)
    return str(buffer.raw[: length * 2].decode("utf-16-le", "replace").strip())


def read_wide(address: int | None) -> str:
    """A NUL-terminated UTF-16LE string at `address` (an LPWSTR field)."""
    if not address:
        return ""
    chunks = bytearray()
    while True:
        pair = ctypes.string_at(address + len(chunks), 2)
        if pair == b"\0\0":
            return chunks.decode("utf-16-le", "replace")
        chunks += pair


def wide(text: str) -> bytes:
    """UTF-16LE with the terminating NUL, as a property value or an LPWSTR buffer holds it."""
    return text.encode("utf-16-le") + b"\0\0"
