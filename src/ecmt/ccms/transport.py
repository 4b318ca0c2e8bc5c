"""The one HTTPS transport to the CCMS: TLS from `tls.py`, proxies, timeouts, request ids,
and every failure translated into an `EcmtError` at this boundary.
"""

from __future__ import annotations

import base64
import logging
import platform
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
import requests.adapters
import requests.auth
from requests.structures import CaseInsensitiveDict

from .. import __version__
from ..config import EcmtSettings
from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import ClientIdentity, PinCredentials
from .network_errors import translate_exception
from .problems import error_from_response
from .tls import make_context

log = logging.getLogger(__name__)
USER_AGENT = f"ecmt/{__version__} ({platform.system()} {platform.release()})"


class _ContextAdapter(requests.adapters.HTTPAdapter):
    """Use our SSLContext for every connection; `verify` and REQUESTS_CA_BUNDLE cannot
    replace it (requests' documented way to bring a custom context)."""

    def __init__(self, context: Any) -> None:
        self._context = context
        super().__init__(max_retries=0)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> Any:
        host, pool = super().build_connection_pool_key_attributes(request, True, None)
        kwargs: dict[str, Any] = {
            k: v
            for k, v in pool.items()
            if k not in {"ca_certs", "ca_cert_dir", "cert_file", "key_file"}
        }
        kwargs["ssl_context"] = self._context
        kwargs["cert_reqs"] = "CERT_REQUIRED"
        return host, kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        """requests would set the pool's `ca_certs` to REQUESTS_CA_BUNDLE (or certifi), and
        urllib3 would then load that bundle into our context: trust comes from it alone."""
        conn.cert_reqs = "CERT_REQUIRED"
        conn.ca_certs = None
        conn.ca_cert_dir = None


class _Basic(requests.auth.AuthBase):
    """HTTP Basic in UTF-8, as the server decodes it (requests would use Latin-1 and fail on
    any other character a user types into the PIN field)."""

    def __init__(self, credentials: PinCredentials) -> None:
        pair = f"{credentials.epoc}:{credentials.pin.get_secret_value()}".encode()
        self._header = "Basic " + base64.b64encode(pair).decode("ascii")

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = self._header
        return request


class _NoAuth(requests.auth.AuthBase):
    """An explicit "no credentials": requests would otherwise add ~/.netrc's for the host,
    and a certificate-authenticated call would turn into a password logon."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


_NO_AUTH = _NoAuth()


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str]  # case-insensitive, as HTTP header names are
    request_id: str


class Transport:
    """HTTPS to one CCMS; optionally authenticated by a client certificate."""

    def __init__(self, settings: EcmtSettings, identity: ClientIdentity | None = None) -> None:
        self.base_url = settings.server_url
        self._timeout = (settings.connect_timeout, settings.read_timeout)
        self._identity = identity
        self._session = requests.Session()
        self._session.mount(
            "https://", _ContextAdapter(make_context(settings.trust_anchors, identity))
        )
        self._session.headers["User-Agent"] = USER_AGENT
        if settings.proxy:
            self._session.proxies = {"https": settings.proxy}
            self._session.trust_env = False  # an explicit proxy beats the environment's
        self.last_request_id: str | None = None

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def has_identity(self) -> bool:
        return self._identity is not None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        credentials: PinCredentials | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> Reply:
        """Send one request; a status outside `ok` becomes the matching EcmtError."""
        request_id = str(uuid.uuid4())
        self.last_request_id = request_id
        headers = {"X-Request-ID": request_id}
        if content_type:
            headers["Content-Type"] = content_type
        auth = _Basic(credentials) if credentials else _NO_AUTH
        try:
            reply = self._send(method, path, body, headers, auth, request_id)
        except requests.RequestException as exc:
            raise translate_exception(exc, request_id, self.has_identity) from None
        log.info("%s %s -> %d rid=%s", method, path, reply.status, reply.request_id)
        if reply.status not in ok:
            raise error_from_response(
                reply.status, reply.content_type, reply.body, reply.headers, reply.request_id
            )
        return reply

    def _send(
        self,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
        auth: requests.auth.AuthBase,
        request_id: str,
    ) -> Reply:
        """The `requests.Response` stays in this frame: an error raised by `request` keeps its
        traceback, and a response alive in it would hold the connection's socket open."""
        with self._session.request(
            method,
            self.base_url + path,
            data=body,
            headers=headers,
            auth=auth,
            timeout=self._timeout,
            allow_redirects=False,
        ) as response:
            return Reply(
                status=response.status_code,
                content_type=response.headers.get("Content-Type", ""),
                body=response.content,
                headers=CaseInsensitiveDict(response.headers),
                request_id=response.headers.get("X-Request-ID", request_id),
            )


def require(condition: bool, detail: str, reply: Reply) -> None:
    """A response that breaks the contract: RESPONSE_INVALID with the request's reference."""
    if not condition:
        raise EcmtError(ErrorCode.RESPONSE_INVALID, detail, reference=reply.request_id)
