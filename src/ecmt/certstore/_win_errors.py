"""Win32, NTE_* and CRYPT_E_* codes as STORE_* codes, with the code and Windows' own words.

The detail reads like `PFXImportCertStore: 0x80070056 ERROR_INVALID_PASSWORD: The specified
network password is not correct.` so the helpdesk can search for it. One operation may
read a code its own way (`overrides`): a "wrong password" on our own one-time PKCS#12
means this Windows cannot read the format, and an export refused by the key's policy
means the key cannot leave the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..domain.errors import EcmtError, ErrorCode
from . import _crypt32 as w

_BY_HRESULT: dict[int, ErrorCode] = {
    w.as_hresult(w.ERROR_ACCESS_DENIED): ErrorCode.STORE_ELEVATION_REQUIRED,
    w.NTE_PERM: ErrorCode.STORE_ELEVATION_REQUIRED,
    w.ERROR_INVALID_PASSWORD_HR: ErrorCode.STORE_WRONG_PASSWORD,
    w.CRYPT_E_NOT_FOUND: ErrorCode.STORE_NOT_FOUND,
    w.NTE_BAD_KEYSET: ErrorCode.STORE_NOT_FOUND,
    w.NTE_NOT_FOUND: ErrorCode.STORE_NOT_FOUND,
    w.NTE_KEYSET_NOT_DEF: ErrorCode.STORE_NOT_FOUND,
    w.as_hresult(w.ERROR_FILE_NOT_FOUND): ErrorCode.STORE_UNAVAILABLE,
    w.NTE_PROV_TYPE_NOT_DEF: ErrorCode.STORE_UNAVAILABLE,
    w.NTE_PROVIDER_DLL_FAIL: ErrorCode.STORE_UNAVAILABLE,
    w.NTE_PROV_DLL_NOT_FOUND: ErrorCode.STORE_UNAVAILABLE,
    w.NTE_BAD_DATA: ErrorCode.STORE_UNSUPPORTED_FORMAT,
    w.CRYPT_E_BAD_ENCODE: ErrorCode.STORE_UNSUPPORTED_FORMAT,
    w.CRYPT_E_EXISTS: ErrorCode.STORE_ERROR,
}

# PFXImportCertStore of the PKCS#12 we built ourselves, under our own one-time password
IMPORT = {w.ERROR_INVALID_PASSWORD_HR: ErrorCode.STORE_UNSUPPORTED_FORMAT}
# PFXExportCertStoreEx of an installed key: the key's export policy says no
EXPORT = {
    w.NTE_BAD_KEY_STATE: ErrorCode.BACKUP_NO_KEY,
    w.NTE_NOT_SUPPORTED: ErrorCode.BACKUP_NO_KEY,
    w.NTE_PERM: ErrorCode.BACKUP_NO_KEY,
}


def code_for(error: w.Win32Error, overrides: Mapping[int, ErrorCode] | None = None) -> ErrorCode:
    hresult = error.hresult
    if overrides and hresult in overrides:
        return overrides[hresult]
    if w.CRYPT_E_ASN1_FIRST <= hresult <= w.CRYPT_E_ASN1_LAST:
        return ErrorCode.STORE_UNSUPPORTED_FORMAT
    return _BY_HRESULT.get(hresult, ErrorCode.STORE_ERROR)


def detail_for(error: w.Win32Error, describe: Callable[[int], str]) -> str:
    name = w.ERROR_NAMES.get(error.code) or w.ERROR_NAMES.get(error.hresult)
    try:
        words = describe(error.code)
    except OSError:
        words = ""
    head = f"{error.function}: 0x{error.code:08X}" + (f" {name}" if name else "")
    return f"{head}: {words}" if words else head


def store_error(
    error: w.Win32Error,
    describe: Callable[[int], str],
    overrides: Mapping[int, ErrorCode] | None = None,
    context: str | None = None,
) -> EcmtError:
    detail = detail_for(error, describe)
    return EcmtError(code_for(error, overrides), f"{context}: {detail}" if context else detail)
