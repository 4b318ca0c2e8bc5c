"""One error type with a stable code; the code's plain-English title and advice.

Every failure a user can meet has its own `ErrorCode`, documented in docs/helpdesk.md.
Adapters translate their own failures (requests, ssl, certutil, Win32) into these at the
boundary; callers and tests branch on `code`, never on text.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # the server refused the credentials or the request (from its problem codes)
    AUTH_INVALID = "ECMT-AUTH-INVALID"
    AUTH_REQUIRED = "ECMT-AUTH-REQUIRED"
    PIN_SUPERSEDED = "ECMT-PIN-SUPERSEDED"
    PIN_EXPIRED = "ECMT-PIN-EXPIRED"
    PIN_USED = "ECMT-PIN-USED"
    ACCOUNT_LOCKED = "ECMT-ACCOUNT-LOCKED"
    TERMS_REQUIRED = "ECMT-TERMS-REQUIRED"
    TERMS_STALE = "ECMT-TERMS-STALE"
    CERT_NOT_ACCEPTED = "ECMT-CERT-NOT-ACCEPTED"
    CSR_REFUSED = "ECMT-CSR-REFUSED"
    RATE_LIMITED = "ECMT-RATE-LIMITED"
    SERVICE_UNAVAILABLE = "ECMT-SERVICE-UNAVAILABLE"
    SERVER_ERROR = "ECMT-SERVER-ERROR"
    PROTOCOL_ERROR = "ECMT-PROTOCOL-ERROR"
    # the network between us and the server
    NETWORK_DNS = "ECMT-NETWORK-DNS"
    NETWORK_CONNECT = "ECMT-NETWORK-CONNECT"
    NETWORK_TIMEOUT = "ECMT-NETWORK-TIMEOUT"
    PROXY_AUTH = "ECMT-PROXY-AUTH"
    PROXY_ERROR = "ECMT-PROXY-ERROR"
    TLS_UNTRUSTED = "ECMT-TLS-UNTRUSTED"
    TLS_HOSTNAME = "ECMT-TLS-HOSTNAME"
    TLS_CLOCK = "ECMT-TLS-CLOCK"
    TLS_ERROR = "ECMT-TLS-ERROR"
    # the request and the issued certificate
    APPROVAL_TIMEOUT = "ECMT-APPROVAL-TIMEOUT"
    CANCELLED = "ECMT-CANCELLED"
    RESPONSE_INVALID = "ECMT-RESPONSE-INVALID"
    RESPONSE_TOO_LARGE = "ECMT-RESPONSE-TOO-LARGE"
    CERT_KEY_MISMATCH = "ECMT-CERT-KEY-MISMATCH"
    CERT_CHAIN_UNTRUSTED = "ECMT-CERT-CHAIN-UNTRUSTED"
    CERT_NOT_VALID = "ECMT-CERT-NOT-VALID"
    CERT_NO_CLIENT_AUTH = "ECMT-CERT-NO-CLIENT-AUTH"
    CERT_WRONG_EPOC = "ECMT-CERT-WRONG-EPOC"
    NO_CURRENT_CERT = "ECMT-NO-CURRENT-CERT"
    # certificate stores
    STORE_UNAVAILABLE = "ECMT-STORE-UNAVAILABLE"
    STORE_ELEVATION_REQUIRED = "ECMT-STORE-ELEVATION-REQUIRED"
    STORE_WRONG_PASSWORD = "ECMT-STORE-WRONG-PASSWORD"
    STORE_UNSUPPORTED_FORMAT = "ECMT-STORE-UNSUPPORTED-FORMAT"
    STORE_NOT_FOUND = "ECMT-STORE-NOT-FOUND"
    STORE_ERROR = "ECMT-STORE-ERROR"
    INSTALL_NOT_VERIFIED = "ECMT-INSTALL-NOT-VERIFIED"
    # backups
    BACKUP_PASSWORD_POLICY = "ECMT-BACKUP-PASSWORD-POLICY"
    BACKUP_PASSWORD_MISMATCH = "ECMT-BACKUP-PASSWORD-MISMATCH"
    BACKUP_EXISTS = "ECMT-BACKUP-EXISTS"
    BACKUP_NAME_INVALID = "ECMT-BACKUP-NAME-INVALID"
    BACKUP_WRITE_FAILED = "ECMT-BACKUP-WRITE-FAILED"
    BACKUP_NOT_VERIFIED = "ECMT-BACKUP-NOT-VERIFIED"
    BACKUP_NO_KEY = "ECMT-BACKUP-NO-KEY"
    # the client's own release
    RELEASE_BLOCKED = "ECMT-RELEASE-BLOCKED"
    RELEASE_UNVERIFIED = "ECMT-RELEASE-UNVERIFIED"
    RELEASE_EXPIRED = "ECMT-RELEASE-EXPIRED"
    RELEASE_ROLLBACK = "ECMT-RELEASE-ROLLBACK"
    RELEASE_UNAVAILABLE = "ECMT-RELEASE-UNAVAILABLE"
    # input, configuration, this computer
    EPOC_INVALID = "ECMT-EPOC-INVALID"
    EPOC_MISSING = "ECMT-EPOC-MISSING"
    PIN_MISSING = "ECMT-PIN-MISSING"
    SERVER_NOT_CONFIGURED = "ECMT-SERVER-NOT-CONFIGURED"
    CONFIG_INVALID = "ECMT-CONFIG-INVALID"
    KEYRING_UNAVAILABLE = "ECMT-KEYRING-UNAVAILABLE"
    JOURNAL_UNREADABLE = "ECMT-JOURNAL-UNREADABLE"
    UNEXPECTED = "ECMT-UNEXPECTED"
    # the Windows certificate store
    STORE_LEGACY_KEY = "ECMT-STORE-LEGACY-KEY"
    # reminders, unattended renewal and the connection check
    SCHEDULER_UNAVAILABLE = "ECMT-SCHEDULER-UNAVAILABLE"
    SCHEDULER_FAILED = "ECMT-SCHEDULER-FAILED"
    AUTO_RENEW_TRIED_TODAY = "ECMT-AUTO-RENEW-TRIED-TODAY"
    AUTO_RENEW_STOPPED = "ECMT-AUTO-RENEW-STOPPED"
    TLS_INTERCEPTED = "ECMT-TLS-INTERCEPTED"
    CLOCK_SKEW = "ECMT-CLOCK-SKEW"
    CERT_RENEWAL_DUE = "ECMT-CERT-RENEWAL-DUE"
    CERT_EXPIRED = "ECMT-CERT-EXPIRED"
    CERT_WRONG_CA = "ECMT-CERT-WRONG-CA"
    # browsers' stores and the macOS keychain
    STORE_BROWSER_RUNNING = "ECMT-STORE-BROWSER-RUNNING"
    STORE_LOCKED = "ECMT-STORE-LOCKED"
    STORE_ACCESS_REFUSED = "ECMT-STORE-ACCESS-REFUSED"
    # installing a newer version of this program
    UPDATE_TAMPERED = "ECMT-UPDATE-TAMPERED"
    UPDATE_NOT_STARTED = "ECMT-UPDATE-NOT-STARTED"
    DEMO_UNAVAILABLE = "ECMT-DEMO-UNAVAILABLE"


class EcmtError(Exception):
    """A failure the user can meet: a stable code, technical detail, the server's reference.

    `detail` is for the log and support details; it must never hold a PIN, a password or
    key material.
    """

    def __init__(
        self,
        code: ErrorCode,
        detail: str | None = None,
        *,
        reference: str | None = None,
        attempts_remaining: int | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail
        self.reference = reference
        self.attempts_remaining = attempts_remaining
        self.retry_after = retry_after

    @property
    def title(self) -> str:
        return MESSAGES[self.code][0]

    @property
    def advice(self) -> str:
        return MESSAGES[self.code][1]

    def __str__(self) -> str:
        text = f"{self.code}: {self.title}"
        return f"{text} ({self.detail})" if self.detail else text


HELPDESK = "Call the ePractitioner helpdesk and give them the code and reference."
NETWORK = "Check that this computer is online. If your practice uses a proxy, ask your IT."

MESSAGES: dict[ErrorCode, tuple[str, str]] = {
    ErrorCode.AUTH_INVALID: (
        "The EPOC number or PIN is not right",
        "Check the EPOC number, then type the PIN from your most recent PIN letter again.",
    ),
    ErrorCode.AUTH_REQUIRED: (
        "The service asked you to log on",
        "Log on with your EPOC number and PIN, or renew with your current certificate.",
    ),
    ErrorCode.PIN_SUPERSEDED: (
        "A newer PIN has been sent to you",
        "Use the PIN from your most recent PIN letter.",
    ),
    ErrorCode.PIN_EXPIRED: ("This PIN has expired", "Ask the helpdesk for a new PIN letter."),
    ErrorCode.PIN_USED: (
        "This PIN has already been used",
        "If your certificate is still valid, renew with it. Otherwise ask for a new PIN.",
    ),
    ErrorCode.ACCOUNT_LOCKED: (
        "Your account is locked after too many wrong PINs",
        "Call the ePractitioner helpdesk to unlock it. Do not try again until then.",
    ),
    ErrorCode.TERMS_REQUIRED: (
        "The terms of use need your acceptance",
        "Read and accept the Acceptable Use Policy, then carry on.",
    ),
    ErrorCode.TERMS_STALE: (
        "The terms of use changed while you were reading them",
        "Read the new version and accept it.",
    ),
    ErrorCode.CERT_NOT_ACCEPTED: (
        "Your current certificate cannot be used to renew",
        "Log on with your EPOC number and PIN instead.",
    ),
    ErrorCode.CSR_REFUSED: ("The service refused the certificate request", HELPDESK),
    ErrorCode.RATE_LIMITED: (
        "Too many attempts in a short time",
        "Wait a minute, then try again.",
    ),
    ErrorCode.SERVICE_UNAVAILABLE: (
        "The certificate service is down for maintenance",
        "Try again later. Your current certificate keeps working until it expires.",
    ),
    ErrorCode.SERVER_ERROR: ("The certificate service met an error", "Try again. " + HELPDESK),
    ErrorCode.PROTOCOL_ERROR: ("The service did not understand this program", HELPDESK),
    ErrorCode.NETWORK_DNS: (
        "The certificate service's address cannot be found",
        NETWORK,
    ),
    ErrorCode.NETWORK_CONNECT: ("The certificate service cannot be reached", NETWORK),
    ErrorCode.NETWORK_TIMEOUT: (
        "The certificate service took too long to answer",
        "Try again. If it keeps happening, check your connection or ask your IT.",
    ),
    ErrorCode.PROXY_AUTH: (
        "Your network's proxy asks for a password",
        "Ask your IT to set up the proxy for this program.",
    ),
    ErrorCode.PROXY_ERROR: ("The proxy could not connect to the service", "Ask your IT."),
    ErrorCode.TLS_UNTRUSTED: (
        "The service's identity could not be confirmed",
        "Do not carry on. Your network may be intercepting secure connections. Ask your IT.",
    ),
    ErrorCode.TLS_HOSTNAME: (
        "The service's certificate is for a different address",
        "Check the service address in the settings, or ask your IT.",
    ),
    ErrorCode.TLS_CLOCK: (
        "This computer's date or time looks wrong",
        "Set the correct date and time, then try again.",
    ),
    ErrorCode.TLS_ERROR: ("A secure connection could not be made", NETWORK),
    ErrorCode.APPROVAL_TIMEOUT: (
        "Your request is still waiting for approval",
        "Run the renewal again later: your request is kept and will be picked up.",
    ),
    ErrorCode.CANCELLED: (
        "You cancelled the renewal",
        "Nothing was changed. Start again any time.",
    ),
    ErrorCode.RESPONSE_INVALID: ("The service sent an answer that makes no sense", HELPDESK),
    ErrorCode.RESPONSE_TOO_LARGE: (
        "The service's answer was far larger than expected",
        "Try again later. If it happens again, " + HELPDESK[0].lower() + HELPDESK[1:],
    ),
    ErrorCode.CERT_KEY_MISMATCH: (
        "The new certificate does not match this computer's key",
        "Nothing was installed. " + HELPDESK,
    ),
    ErrorCode.CERT_CHAIN_UNTRUSTED: (
        "The new certificate was not issued by the expected authority",
        "Nothing was installed. " + HELPDESK,
    ),
    ErrorCode.CERT_NOT_VALID: (
        "The new certificate is not valid at this date",
        "Check this computer's date and time. Nothing was installed.",
    ),
    ErrorCode.CERT_NO_CLIENT_AUTH: (
        "The new certificate cannot be used to log on to clinical systems",
        "Nothing was installed. " + HELPDESK,
    ),
    ErrorCode.CERT_WRONG_EPOC: (
        "The new certificate is for a different EPOC number",
        "Nothing was installed. " + HELPDESK,
    ),
    ErrorCode.NO_CURRENT_CERT: (
        "No valid current certificate was found on this computer",
        "Log on with your EPOC number and PIN instead.",
    ),
    ErrorCode.STORE_UNAVAILABLE: (
        "The certificate store cannot be opened",
        "Check the store setting, or ask your IT.",
    ),
    ErrorCode.STORE_ELEVATION_REQUIRED: (
        "Administrator rights are needed for this certificate store",
        "Restart the program as administrator.",
    ),
    ErrorCode.STORE_WRONG_PASSWORD: (
        "The certificate store's password is not right",
        "Ask your IT for the store password.",
    ),
    ErrorCode.STORE_UNSUPPORTED_FORMAT: (
        "The certificate store cannot read this file format",
        "Choose the format that works on all Windows and Mac versions.",
    ),
    ErrorCode.STORE_NOT_FOUND: ("The certificate is not in the store", HELPDESK),
    ErrorCode.STORE_ERROR: ("The certificate store reported an error", HELPDESK),
    ErrorCode.INSTALL_NOT_VERIFIED: (
        "The new certificate could not be confirmed after installing",
        "Your old certificate was kept. " + HELPDESK,
    ),
    ErrorCode.BACKUP_PASSWORD_POLICY: (
        "The backup password is too weak",
        "Use at least 8 characters with an upper-case letter, a lower-case letter and a digit.",
    ),
    ErrorCode.BACKUP_PASSWORD_MISMATCH: (
        "The two passwords are different",
        "Type the same password in both boxes.",
    ),
    ErrorCode.BACKUP_EXISTS: (
        "A file with that name already exists",
        "Choose another name, or confirm that you want to replace it.",
    ),
    ErrorCode.BACKUP_NAME_INVALID: (
        "That file name cannot be used",
        "Use a plain name without slashes or colons, for example ePractitioner-2026.",
    ),
    ErrorCode.BACKUP_WRITE_FAILED: (
        "The backup file could not be saved",
        "Choose another folder (for example your Documents) and try again.",
    ),
    ErrorCode.BACKUP_NOT_VERIFIED: (
        "The backup could not be read back",
        "The file was removed. Try again, perhaps in another folder.",
    ),
    ErrorCode.BACKUP_NO_KEY: (
        "This certificate's key is not available for a backup",
        "Back up straight after a renewal, while the key is at hand.",
    ),
    ErrorCode.RELEASE_BLOCKED: (
        "This version of the program is too old",
        "Download and install the new version from the download page, then start again.",
    ),
    ErrorCode.RELEASE_UNVERIFIED: (
        "The update information could not be verified",
        "Do not download anything it points to. " + HELPDESK,
    ),
    ErrorCode.RELEASE_EXPIRED: ("The update information is out of date", HELPDESK),
    ErrorCode.RELEASE_ROLLBACK: ("The update information is older than before", HELPDESK),
    ErrorCode.RELEASE_UNAVAILABLE: (
        "The update information is not available",
        "You can carry on. The check will be repeated next time.",
    ),
    ErrorCode.EPOC_INVALID: (
        "That does not look like an EPOC number",
        "Type the EPOC number as it is on your PIN letter.",
    ),
    ErrorCode.EPOC_MISSING: (
        "The EPOC number is missing",
        "Give the EPOC number from your PIN letter: type it in, or use --epoc.",
    ),
    ErrorCode.PIN_MISSING: ("No PIN was given", "Type the PIN from your most recent PIN letter."),
    ErrorCode.SERVER_NOT_CONFIGURED: (
        "No server is configured",
        "Set `server_url` in the settings file, or use --server. Your IT team has the address.",
    ),
    ErrorCode.CONFIG_INVALID: ("The program's settings are not valid", "Ask your IT."),
    ErrorCode.KEYRING_UNAVAILABLE: (
        "This computer's password store is not available",
        "Ask your IT to set up a keyring, or see the configuration guide.",
    ),
    ErrorCode.JOURNAL_UNREADABLE: (
        "An unfinished renewal from before cannot be resumed",
        "Start a new renewal. " + HELPDESK,
    ),
    ErrorCode.UNEXPECTED: (
        "Something unexpected went wrong",
        "Try again. If it happens again, " + HELPDESK[0].lower() + HELPDESK[1:],
    ),
    ErrorCode.STORE_LEGACY_KEY: (
        "Windows stored the key in an old kind of key store",
        "Nothing was installed. Ask your IT to check this computer's key storage settings.",
    ),
    ErrorCode.SCHEDULER_UNAVAILABLE: (
        "Reminders cannot be set up on this computer",
        "Ask your IT to set up the daily check, or check the certificate's date yourself.",
    ),
    ErrorCode.SCHEDULER_FAILED: (
        "The computer's scheduler refused the daily check",
        "Try again. If it happens again, ask your IT and give them the detail line.",
    ),
    ErrorCode.AUTO_RENEW_TRIED_TODAY: (
        "Automatic renewal was already tried today",
        "Nothing was sent. It is tried again tomorrow, or renew now in the program.",
    ),
    ErrorCode.AUTO_RENEW_STOPPED: (
        "Automatic renewal has stopped",
        "The service did not accept the current certificate. Renew in the program with "
        "your PIN letter; automatic renewal starts again after that.",
    ),
    ErrorCode.TLS_INTERCEPTED: (
        "Your network is inspecting secure connections to the service",
        "Do not carry on. Ask your IT to exempt the service's address from HTTPS inspection.",
    ),
    ErrorCode.CLOCK_SKEW: (
        "This computer's clock is wrong by more than 5 minutes",
        "Set the correct date and time (or ask your IT to), then try again.",
    ),
    ErrorCode.CERT_RENEWAL_DUE: (
        "Your certificate expires soon",
        "Renew it now: open the program and choose Renew.",
    ),
    ErrorCode.CERT_EXPIRED: (
        "Your certificate has expired",
        "Renew it in the program with the PIN from your most recent PIN letter.",
    ),
    ErrorCode.CERT_WRONG_CA: (
        "Your certificate was not issued by this service",
        "Check the service address in the settings, or ask your IT.",
    ),
    ErrorCode.STORE_BROWSER_RUNNING: (
        "Firefox needs to be closed first",
        "Close every Firefox window, wait a few seconds, then try again.",
    ),
    ErrorCode.STORE_LOCKED: (
        "The keychain is locked",
        "Unlock it (log in to this Mac again, or unlock it in Keychain Access), then try again.",
    ),
    ErrorCode.STORE_ACCESS_REFUSED: (
        "The Mac did not allow this program to use the keychain",
        "Try again, and when the Mac asks, type your login password and choose Allow.",
    ),
    ErrorCode.UPDATE_TAMPERED: (
        "The downloaded update is not the one that was announced",
        "It was deleted and nothing was installed. " + HELPDESK,
    ),
    ErrorCode.UPDATE_NOT_STARTED: (
        "The new version's installer could not be started",
        "Download it from the download page instead, or ask your IT to install it.",
    ),
    ErrorCode.DEMO_UNAVAILABLE: (
        "This copy of the program has no demo",
        "Ask your IT for the full installer, or use the program with your service.",
    ),
}
