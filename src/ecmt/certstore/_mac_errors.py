"""OSStatus codes of the Security framework as STORE_* codes, with the number and macOS's
own words (SecCopyErrorMessageString), so the helpdesk can search for them:
`SecPKCS12Import: OSStatus -25308 errSecInteractionNotAllowed: User interaction is not
allowed.` One operation may read a code its own way (`IMPORT`, `EXPORT`), as on Windows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ..domain.errors import EcmtError, ErrorCode

errSecSuccess = 0
errSecWrPerm = -61
errSecUserCanceled = -128
errSecPkcs12VerifyFailure = -25264
errSecPassphraseRequired = -25260
errSecUnknownFormat = -25257
errSecUnsupportedFormat = -25256
errSecNotAvailable = -25291
errSecReadOnly = -25292
errSecAuthFailed = -25293
errSecNoSuchKeychain = -25294
errSecInvalidKeychain = -25295
errSecDuplicateItem = -25299
errSecItemNotFound = -25300
errSecNoDefaultKeychain = -25307
errSecInteractionNotAllowed = -25308
errSecInteractionRequired = -25315
errSecDataNotAvailable = -25316
errSecDecode = -26275
errSecMissingEntitlement = -34018

NAMES = {value: name for name, value in globals().items() if name.startswith("errSec")}

_CODES: dict[int, ErrorCode] = {
    errSecWrPerm: ErrorCode.STORE_ELEVATION_REQUIRED,
    errSecReadOnly: ErrorCode.STORE_ELEVATION_REQUIRED,
    errSecUserCanceled: ErrorCode.STORE_ACCESS_REFUSED,
    errSecAuthFailed: ErrorCode.STORE_WRONG_PASSWORD,
    errSecPkcs12VerifyFailure: ErrorCode.STORE_UNSUPPORTED_FORMAT,
    errSecUnknownFormat: ErrorCode.STORE_UNSUPPORTED_FORMAT,
    errSecUnsupportedFormat: ErrorCode.STORE_UNSUPPORTED_FORMAT,
    errSecDecode: ErrorCode.STORE_UNSUPPORTED_FORMAT,
    errSecItemNotFound: ErrorCode.STORE_NOT_FOUND,
    errSecNotAvailable: ErrorCode.STORE_UNAVAILABLE,
    errSecNoSuchKeychain: ErrorCode.STORE_UNAVAILABLE,
    errSecInvalidKeychain: ErrorCode.STORE_UNAVAILABLE,
    errSecNoDefaultKeychain: ErrorCode.STORE_UNAVAILABLE,
    errSecMissingEntitlement: ErrorCode.STORE_UNAVAILABLE,
    errSecInteractionNotAllowed: ErrorCode.STORE_LOCKED,
    errSecInteractionRequired: ErrorCode.STORE_LOCKED,
}

# SecPKCS12Import of the PKCS#12 we built under our own one-time password: a "wrong
# password" or a failed MAC means this macOS cannot read the format
IMPORT = {errSecAuthFailed: ErrorCode.STORE_UNSUPPORTED_FORMAT}
# SecItemExport of an installed key: the key may not leave the keychain
EXPORT = {
    errSecDataNotAvailable: ErrorCode.BACKUP_NO_KEY,
    errSecPassphraseRequired: ErrorCode.BACKUP_NO_KEY,
}


class SecurityError(Exception):
    """A Security framework call that answered with an OSStatus other than errSecSuccess."""

    def __init__(self, function: str, status: int) -> None:
        super().__init__(f"{function}: OSStatus {status}")
        self.function = function
        self.status = status


def code_for(status: int, overrides: Mapping[int, ErrorCode] | None = None) -> ErrorCode:
    if overrides and status in overrides:
        return overrides[status]
    return _CODES.get(status, ErrorCode.STORE_ERROR)


def store_error(
    error: SecurityError,
    describe: Callable[[int], str | None],
    overrides: Mapping[int, ErrorCode] | None = None,
    context: str | None = None,
) -> EcmtError:
    name = NAMES.get(error.status)
    try:
        words = describe(error.status) or ""
    except Exception:
        words = ""
    head = f"{error.function}: OSStatus {error.status}" + (f" {name}" if name else "")
    detail = f"{head}: {words}" if words else head
    return EcmtError(
        code_for(error.status, overrides), f"{context}: {detail}" if context else detail
    )
