"""The one HTTPS transport to the CCMS: TLS from `tls.py`, proxies, timeouts, request ids,
and every failure translated into an `EcmtError` at this boundary.
"""

from __future__ import annotations

import logging
import platform
import uuid
from dataclasses import dataclass
from typing import Any

import requests
import requests.adapters

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


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes
    headers: dict[str, str]
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
        auth = (credentials.epoc, credentials.pin.get_secret_value()) if credentials else None
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                data=body,
                headers=headers,
                auth=auth,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise translate_exception(exc, request_id, self.has_identity) from None
        reply = Reply(
            status=response.status_code,
            content_type=response.headers.get("Content-Type", ""),
            body=response.content,
            headers=dict(response.headers),
            request_id=response.headers.get("X-Request-ID", request_id),
        )
        log.info("%s %s -> %d rid=%s", method, path, reply.status, reply.request_id)
        if reply.status not in ok:
            raise error_from_response(
                reply.status, reply.content_type, reply.body, reply.headers, reply.request_id
            )
        return reply


def require(condition: bool, detail: str, reply: Reply) -> None:
    """A response that breaks the contract: RESPONSE_INVALID with the request's reference."""
    if not condition:
        raise EcmtError(ErrorCode.RESPONSE_INVALID, detail, reference=reply.request_id)
