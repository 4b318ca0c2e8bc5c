"""What the CLI prints: progress and errors for people on stderr, JSON for scripts on stdout.

Text that came from the network is cleaned where it enters (ccms/), and again here, so no
control character or escape sequence ever reaches the terminal or a script.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from ..domain.errors import EcmtError, ErrorCode
from ..domain.text import clean_lines, clean_text

_EXIT: dict[int, set[ErrorCode]] = {
    3: {
        ErrorCode.AUTH_INVALID,
        ErrorCode.AUTH_REQUIRED,
        ErrorCode.PIN_SUPERSEDED,
        ErrorCode.PIN_EXPIRED,
        ErrorCode.PIN_USED,
        ErrorCode.ACCOUNT_LOCKED,
        ErrorCode.CERT_NOT_ACCEPTED,
        ErrorCode.NO_CURRENT_CERT,
        ErrorCode.CERT_RENEWAL_DUE,
        ErrorCode.CERT_EXPIRED,
        ErrorCode.CERT_WRONG_CA,
        ErrorCode.EPOC_INVALID,
        ErrorCode.EPOC_MISSING,
        ErrorCode.PIN_MISSING,
    },
    4: {ErrorCode.TERMS_REQUIRED, ErrorCode.TERMS_STALE},
    5: {
        ErrorCode.NETWORK_DNS,
        ErrorCode.NETWORK_CONNECT,
        ErrorCode.NETWORK_TIMEOUT,
        ErrorCode.PROXY_AUTH,
        ErrorCode.PROXY_ERROR,
        ErrorCode.TLS_UNTRUSTED,
        ErrorCode.TLS_HOSTNAME,
        ErrorCode.TLS_CLOCK,
        ErrorCode.TLS_ERROR,
        ErrorCode.TLS_INTERCEPTED,
        ErrorCode.CLOCK_SKEW,
        ErrorCode.SERVICE_UNAVAILABLE,
        ErrorCode.RATE_LIMITED,
        ErrorCode.SERVER_ERROR,
        ErrorCode.PROTOCOL_ERROR,
        ErrorCode.RESPONSE_INVALID,
        ErrorCode.RESPONSE_TOO_LARGE,
    },
    6: {
        ErrorCode.STORE_UNAVAILABLE,
        ErrorCode.STORE_ELEVATION_REQUIRED,
        ErrorCode.STORE_WRONG_PASSWORD,
        ErrorCode.STORE_UNSUPPORTED_FORMAT,
        ErrorCode.STORE_NOT_FOUND,
        ErrorCode.STORE_ERROR,
        ErrorCode.INSTALL_NOT_VERIFIED,
        ErrorCode.KEYRING_UNAVAILABLE,
        ErrorCode.JOURNAL_UNREADABLE,
        ErrorCode.STORE_LEGACY_KEY,
        ErrorCode.STORE_BROWSER_RUNNING,
        ErrorCode.STORE_LOCKED,
        ErrorCode.STORE_ACCESS_REFUSED,
    },
    7: {ErrorCode.RELEASE_BLOCKED},
    8: {
        ErrorCode.BACKUP_PASSWORD_POLICY,
        ErrorCode.BACKUP_PASSWORD_MISMATCH,
        ErrorCode.BACKUP_EXISTS,
        ErrorCode.BACKUP_NAME_INVALID,
        ErrorCode.BACKUP_WRITE_FAILED,
        ErrorCode.BACKUP_NOT_VERIFIED,
        ErrorCode.BACKUP_NO_KEY,
    },
    9: {ErrorCode.APPROVAL_TIMEOUT},
    10: {
        ErrorCode.CERT_KEY_MISMATCH,
        ErrorCode.CERT_CHAIN_UNTRUSTED,
        ErrorCode.CERT_NOT_VALID,
        ErrorCode.CERT_NO_CLIENT_AUTH,
        ErrorCode.CERT_WRONG_EPOC,
        ErrorCode.CSR_REFUSED,
    },
    11: {
        ErrorCode.RELEASE_UNVERIFIED,
        ErrorCode.RELEASE_EXPIRED,
        ErrorCode.RELEASE_ROLLBACK,
        ErrorCode.RELEASE_UNAVAILABLE,
    },
    13: {ErrorCode.AUTO_RENEW_TRIED_TODAY, ErrorCode.AUTO_RENEW_STOPPED},
    14: {ErrorCode.SCHEDULER_UNAVAILABLE, ErrorCode.SCHEDULER_FAILED},
    130: {ErrorCode.CANCELLED},
}
EXIT_CODES = {code: status for status, codes in _EXIT.items() for code in codes}
NOT_DUE = 12  # `renew --if-expiring-within`: the certificate is not inside the window
DETAIL_LIMIT = 1000  # server text is already cut to 300 where it enters; this is the net


def exit_code_for(code: ErrorCode) -> int:
    return EXIT_CODES.get(code, 1)


class Output:
    def __init__(self, json_mode: bool) -> None:
        self.json_mode = json_mode

    def say(self, text: str) -> None:
        print(clean_lines(text), file=sys.stderr, flush=True)

    def result(self, payload: dict[str, Any], human: str) -> None:
        if self.json_mode:
            body = _cleaned(json.loads(json.dumps(payload, default=str)))
            print(json.dumps({"status": "ok", **body}, indent=2))
        else:
            print(clean_lines(human))

    def error(self, error: EcmtError) -> None:
        detail = clean_text(error.detail, DETAIL_LIMIT) if error.detail else None
        reference = clean_text(error.reference, 64) if error.reference else None
        if self.json_mode:
            print(
                json.dumps(
                    {
                        "status": "error",
                        "code": error.code.value,
                        "title": error.title,
                        "advice": error.advice,
                        "detail": detail,
                        "reference": reference,
                        "attempts_remaining": error.attempts_remaining,
                    },
                    indent=2,
                )
            )
        lines = [f"ecmt: {error.code}: {error.title}", f"  What to do: {error.advice}"]
        if error.attempts_remaining is not None:
            lines.append(f"  Attempts left before the account locks: {error.attempts_remaining}")
        if reference:
            lines.append(f"  Reference for the helpdesk: {reference}")
        if detail:
            lines.append(f"  Detail: {detail}")
        self.say("\n".join(lines))


def _cleaned(value: Any) -> Any:
    """Every string in a JSON value without control characters (line breaks stay)."""
    if isinstance(value, str):
        return clean_lines(value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {clean_lines(str(k)): _cleaned(v) for k, v in value.items()}
    return value
