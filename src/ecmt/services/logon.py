"""Logon (`GET account`) with EPOC + PIN or the current certificate, and the terms of use."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import SecretStr

from ccms_protocol.wire import AccountInfo, TermsDocument

from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import ClientIdentity, PinCredentials

if TYPE_CHECKING:
    from ..ccms.api import ApiClient


def validate_epoc(value: str, pattern: str) -> str:
    epoc = value.strip()
    if not re.fullmatch(pattern, epoc):
        raise EcmtError(ErrorCode.EPOC_INVALID, f"{epoc!r} does not match {pattern}")
    return epoc


class LogonService:
    def __init__(
        self, api_for: Callable[[ClientIdentity | None], ApiClient], epoc_pattern: str
    ) -> None:
        self._api_for = api_for
        self._pattern = epoc_pattern

    def credentials(self, epoc: str, pin: SecretStr) -> PinCredentials:
        if not pin.get_secret_value().strip():
            raise EcmtError(ErrorCode.PIN_MISSING)
        return PinCredentials(validate_epoc(epoc, self._pattern), pin)

    def logon(self, credentials: PinCredentials) -> AccountInfo:
        """Checks EPOC and PIN without using the PIN up; a wrong PIN counts toward lockout."""
        with self._api_for(None) as api:
            return api.account(credentials)

    def logon_with_certificate(self, identity: ClientIdentity) -> AccountInfo:
        with self._api_for(identity) as api:
            return api.account(None)


class TermsService:
    def __init__(self, api_for: Callable[[ClientIdentity | None], ApiClient]) -> None:
        self._api_for = api_for

    def current(self) -> TermsDocument:
        with self._api_for(None) as api:
            return api.terms()

    @staticmethod
    def needs_acceptance(account: AccountInfo, terms: TermsDocument) -> bool:
        return account.terms_accepted_version != terms.version

    def accept(
        self,
        terms: TermsDocument,
        credentials: PinCredentials | None,
        identity: ClientIdentity | None = None,
    ) -> None:
        """Record acceptance of exactly the version and text the user was shown."""
        with self._api_for(identity) as api:
            api.accept_terms(credentials, terms)
