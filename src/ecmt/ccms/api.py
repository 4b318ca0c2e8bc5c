"""The CCMS JSON extensions: release manifest, terms, account (the logon), acceptances."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import ValidationError

from ccms_protocol.wire import API_PREFIX, MEDIA_JSON, AccountInfo, TermsAcceptance, TermsDocument

from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import PinCredentials
from ..domain.text import clean_text
from .transport import Transport

_Body = TypeVar("_Body", TermsDocument, AccountInfo)


class ApiClient:
    def __init__(self, transport: Transport, *, owns_transport: bool = True) -> None:
        """`owns_transport` False: the transport outlives this client (the app keeps one
        connection for a whole renewal), and closing the client leaves it open."""
        self.transport = transport
        self._owns_transport = owns_transport

    def close(self) -> None:
        if self._owns_transport:
            self.transport.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def client_release(self) -> bytes:
        try:
            return self.transport.request("GET", API_PREFIX + "client-release").body
        except EcmtError as exc:
            if exc.code is ErrorCode.PROTOCOL_ERROR and (exc.detail or "").startswith("HTTP 404"):
                raise EcmtError(
                    ErrorCode.RELEASE_UNAVAILABLE, exc.detail, reference=exc.reference
                ) from None
            raise

    def terms(self) -> TermsDocument:
        reply = self.transport.request("GET", API_PREFIX + "terms")
        terms = self._parse(TermsDocument, reply.body, reply.request_id)
        try:  # accepting echoes version and digest: they must be ones the service takes
            TermsAcceptance(version=terms.version, sha256=terms.sha256)
        except ValidationError:
            raise EcmtError(
                ErrorCode.RESPONSE_INVALID,
                "the terms' version or digest cannot be acknowledged",
                reference=reply.request_id,
            ) from None
        return terms

    def account(self, credentials: PinCredentials | None) -> AccountInfo:
        """The logon: checks EPOC + PIN (not consuming it) or the client certificate. The
        logon token that may come with it stays with the transport, for the later requests
        with the same credentials, and is not handed on."""
        reply = self.transport.request(
            "GET", API_PREFIX + "account", credentials=credentials, use_token=False
        )
        account = self._parse(AccountInfo, reply.body, reply.request_id)
        if credentials is not None and account.logon_token is not None:
            self.transport.tokens.keep(credentials, account.logon_token)
        # shown on screen and put in the certificate request: one printable line each
        names = ("display_name", "organisation", "role")
        cleaned: dict[str, object] = {n: clean_text(getattr(account, n)) for n in names}
        return account.model_copy(update={**cleaned, "logon_token": None})

    def accept_terms(self, credentials: PinCredentials | None, terms: TermsDocument) -> None:
        body = TermsAcceptance(version=terms.version, sha256=terms.sha256).model_dump_json()
        reply = self.transport.request(
            "POST",
            API_PREFIX + "terms/acceptances",
            body=body.encode(),
            content_type=MEDIA_JSON,
            credentials=credentials,
            ok=(200, 204),
        )
        if reply.status == 200 and not reply.content_type.startswith(MEDIA_JSON):
            # a captive portal's or web filter's page: nothing recorded the acceptance
            raise EcmtError(
                ErrorCode.RESPONSE_INVALID,
                "the acceptance was answered by a page, not by the service",
                reference=reply.request_id,
            )

    @staticmethod
    def _parse(model: type[_Body], body: bytes, reference: str) -> _Body:
        try:
            return model.model_validate(json.loads(body))
        except (ValueError, ValidationError, RecursionError):  # RecursionError: deep nesting
            raise EcmtError(
                ErrorCode.RESPONSE_INVALID, f"not a {model.__name__}", reference=reference
            ) from None
