"""CCMS JSON extensions under /ccms/v1/: release manifest, terms, account, acceptances."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp import web
from pydantic import ValidationError

from ccms_protocol.wire import API_PREFIX, MEDIA_JSON, ProblemCode, TermsAcceptance

from ..authn import Caller
from ..bootstrap import Services
from ..problems import ProblemError
from .auth import context, pin_caller, pin_credentials
from .json_body import load_json
from .middleware import AUTH, EPOC
from .peer import peer_certificate
from .responses import json_response


def parse_acceptance(body: bytes) -> TermsAcceptance:
    """The body of POST terms/acceptances; anything else is REQUEST_INVALID."""
    try:
        return TermsAcceptance.model_validate(load_json(body))
    except (ValueError, ValidationError):
        raise ProblemError(
            ProblemCode.REQUEST_INVALID, 'send {"version": ..., "sha256": ...}'
        ) from None


class ApiRoutes:
    def __init__(self, services: Services, release_file: Path) -> None:
        self._s = services
        self._release_file = release_file

    def add_to(self, app: web.Application) -> None:
        app.router.add_get(API_PREFIX + "client-release", self.client_release)
        app.router.add_get(API_PREFIX + "terms", self.terms)
        app.router.add_get(API_PREFIX + "account", self.account)
        app.router.add_post(API_PREFIX + "terms/acceptances", self.accept_terms)

    async def client_release(self, request: web.Request) -> web.Response:
        try:
            body = await asyncio.to_thread(self._release_file.read_bytes)
        except FileNotFoundError:
            raise ProblemError(ProblemCode.NOT_FOUND, "no release manifest is published") from None
        return json_response(body)

    async def terms(self, request: web.Request) -> web.Response:
        terms = await asyncio.to_thread(self._s.accounts.current_terms)
        return json_response(terms.model_dump_json())

    async def account(self, request: web.Request) -> web.Response:
        """The logon. After a PIN, the answer carries a logon token for the rest of the
        renewal, so that the service checks the PIN with argon2 only once."""
        caller = await self._caller(request)
        info = await asyncio.to_thread(self._s.accounts.overview, caller)
        token = self._s.authn.issue_token(caller)
        if token is not None:
            info = info.model_copy(update={"logon_token": token})
        return json_response(info.model_dump_json())

    async def accept_terms(self, request: web.Request) -> web.Response:
        if request.content_type != MEDIA_JSON:
            raise ProblemError(ProblemCode.MEDIA_TYPE_UNSUPPORTED, f"send {MEDIA_JSON}")
        acceptance = parse_acceptance(await request.read())
        caller = await self._caller(request)
        await asyncio.to_thread(self._s.accounts.accept_terms, caller, acceptance, context(request))
        return web.Response(status=204)

    async def _caller(self, request: web.Request) -> Caller:
        """EPOC:PIN or a logon token when an Authorization header is sent, else the TLS
        certificate."""
        if "Authorization" in request.headers:
            caller = await pin_caller(request, self._s, pin_credentials(request))
            caller.require_usable_pin()
            return caller
        der = peer_certificate(request, self._s.settings)
        request[AUTH] = "certificate"
        caller = await asyncio.to_thread(self._s.authn.check_certificate, der)
        request[EPOC] = caller.epoc
        return caller
