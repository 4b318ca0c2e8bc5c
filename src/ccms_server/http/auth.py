"""The Authorization header of a PIN-authenticated request: `Basic EPOC:PIN`, as any EST
client sends it, or `Bearer <logon token>` from an earlier PIN logon (see tokens.py)."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field

from aiohttp import web

from ccms_protocol.wire import ProblemCode

from ..authn import Caller
from ..bootstrap import Services
from ..problems import ProblemError, RequestContext
from ..tokens import MAX_TOKEN_LENGTH, refused
from .middleware import AUTH, CLIENT, EPOC, REQUEST_ID


@dataclass(frozen=True)
class PinLogon:
    epoc: str
    pin: str = field(repr=False)


@dataclass(frozen=True)
class TokenLogon:
    token: str = field(repr=False)


def context(request: web.Request) -> RequestContext:
    return RequestContext(request_id=request[REQUEST_ID], remote=request[CLIENT])


def basic_credentials(request: web.Request) -> tuple[str, str]:
    """EPOC and PIN from `Authorization: Basic`; a missing header asks for them."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        raise ProblemError(ProblemCode.AUTH_REQUIRED, "log on with your EPOC number and PIN")
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except ValueError:  # not base64 (binascii.Error), not ASCII, not UTF-8
        raise ProblemError(ProblemCode.AUTH_INVALID, "malformed credentials") from None
    epoc, sep, pin = decoded.partition(":")
    if not sep or not epoc or not pin or len(epoc) > 32:
        raise ProblemError(ProblemCode.AUTH_INVALID, "malformed credentials")
    request[EPOC] = epoc
    return epoc, pin


def pin_credentials(request: web.Request) -> PinLogon | TokenLogon:
    """What the request offers in place of a certificate; read before the body is."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        token = value.strip()
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise refused(ProblemCode.TOKEN_INVALID)
        return TokenLogon(token)
    return PinLogon(*basic_credentials(request))


async def pin_caller(
    request: web.Request, services: Services, offered: PinLogon | TokenLogon
) -> Caller:
    """Check what `pin_credentials` read: a token with one HMAC, a PIN with argon2."""
    if isinstance(offered, TokenLogon):
        request[AUTH] = "token"
        caller = await asyncio.to_thread(services.authn.check_token, offered.token)
        request[EPOC] = caller.epoc
        return caller
    request[AUTH] = "pin"
    return await asyncio.to_thread(
        services.authn.check_pin, offered.epoc, offered.pin, context(request)
    )
