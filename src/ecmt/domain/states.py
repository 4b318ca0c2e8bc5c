"""The plain enumerations: a certificate's state, the stages of a renewal, the backup
formats. No imports beyond the standard library: the desktop app's first window uses them
before cryptography or pydantic are loaded."""

from __future__ import annotations

from enum import StrEnum


class CertState(StrEnum):
    VALID = "valid"
    RENEWAL_DUE = "renewal-due"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"


class BackupFormat(StrEnum):
    """PKCS#12 encryption, offered to users in plain words."""

    LEGACY = "legacy"  # 3DES + SHA-1 MAC: opens on every Windows and Mac version
    MODERN = "modern"  # AES-256 + SHA-256 MAC: Windows 10 1709+, recent macOS

    @property
    def plain_words(self) -> str:
        if self is BackupFormat.LEGACY:
            return "Works on all Windows and Mac versions"
        return "Modern (stronger; needs Windows 10 or newer, or a recent Mac)"


class SupersededPolicy(StrEnum):
    REMOVE = "remove"
    KEEP_UNTIL_EXPIRY = "keep-until-expiry"


class RenewalStage(StrEnum):
    GENERATING_KEY = "generating key"
    SENDING_REQUEST = "sending request"
    WAITING_FOR_APPROVAL = "waiting for approval"
    DOWNLOADING = "downloading"
    CHECKING = "checking the certificate"
    INSTALLING = "installing"
    VERIFYING = "verifying the install"
