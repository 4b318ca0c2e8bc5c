"""EST (RFC 7030) routes under /.well-known/est/."""

from __future__ import annotations

import asyncio

from aiohttp import web
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from ccms_protocol.wire import (
    EST_PREFIX,
    MEDIA_CSRATTRS,
    MEDIA_PKCS7,
    MEDIA_PKCS7_CERTS,
    MEDIA_PKCS10,
    ProblemCode,
)

from ..bootstrap import Services
from ..csr import CheckedCsr, check_csr, decode_base64_body
from ..csrattrs import csr_attributes
from ..enrollment import Pending
from ..problems import ProblemError
from .auth import basic_credentials as basic_credentials  # the fuzzing campaign's target
from .auth import context, pin_caller, pin_credentials
from .middleware import AUTH, EPOC
from .peer import peer_certificate
from .responses import base64_response as _base64

SERVICES = web.AppKey("services", Services)


async def read_csr(request: web.Request, services: Services) -> CheckedCsr:
    if request.content_type != MEDIA_PKCS10:
        raise ProblemError(ProblemCode.MEDIA_TYPE_UNSUPPORTED, f"send the CSR as {MEDIA_PKCS10}")
    limit = services.settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise ProblemError(ProblemCode.REQUEST_TOO_LARGE, f"at most {limit} bytes")
    body = await request.read()
    return check_csr(decode_base64_body(body), services.settings.min_rsa_bits)


def certs_only(certs: list[object]) -> bytes:
    return pkcs7.serialize_certificates(certs, Encoding.DER)  # type: ignore[arg-type]


class EstRoutes:
    def __init__(self, services: Services) -> None:
        self._s = services
        self._cacerts = certs_only(list(services.ca.chain()))
        self._csrattrs = csr_attributes(services.settings.csr_key_wish)

    def add_to(self, app: web.Application) -> None:
        app.router.add_get(EST_PREFIX + "cacerts", self.cacerts)
        app.router.add_get(EST_PREFIX + "csrattrs", self.csrattrs)
        app.router.add_post(EST_PREFIX + "simpleenroll", self.simpleenroll)
        app.router.add_post(EST_PREFIX + "simplereenroll", self.simplereenroll)

    async def cacerts(self, request: web.Request) -> web.Response:
        return _base64(self._cacerts, MEDIA_PKCS7)

    async def csrattrs(self, request: web.Request) -> web.Response:
        if self._csrattrs is None:
            return web.Response(status=204)
        return _base64(self._csrattrs, MEDIA_CSRATTRS)

    async def simpleenroll(self, request: web.Request) -> web.Response:
        offered = pin_credentials(request)
        csr = await read_csr(request, self._s)
        caller = await pin_caller(request, self._s, offered)
        result = await asyncio.to_thread(self._s.enrollment.enroll, caller, csr, context(request))
        if isinstance(result, Pending):
            return web.Response(status=202, headers={"Retry-After": str(result.retry_after)})
        return _base64(certs_only([result]), MEDIA_PKCS7_CERTS)

    async def simplereenroll(self, request: web.Request) -> web.Response:
        der = peer_certificate(request, self._s.settings)
        csr = await read_csr(request, self._s)
        ctx = context(request)
        request[AUTH] = "certificate"
        caller = await asyncio.to_thread(self._s.authn.check_certificate, der)
        request[EPOC] = caller.epoc
        cert = await asyncio.to_thread(self._s.enrollment.reenroll, caller, csr, ctx)
        return _base64(certs_only([cert]), MEDIA_PKCS7_CERTS)
