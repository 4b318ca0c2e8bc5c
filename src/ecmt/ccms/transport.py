"""The one HTTPS transport to the CCMS: TLS from `tls.py`, proxies, timeouts, a deadline and
a size limit for every answer, request ids, and every failure translated into an
`EcmtError` at this boundary.

One transport keeps its connection alive from request to request, so that a renewal's
logon, terms and enrolment cost one TLS handshake; after a PIN logon it sends the logon
token in place of the PIN (`logon_token.py`).
"""

from __future__ import annotations

import base64
import json
import logging
import platform
import time
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
from .deadline import Deadline, WatchedPool
from .logon_token import REFUSED, LogonTokens
from .network_errors import translate_exception
from .problems import error_from_response, request_id_or
from .tls import make_context

log = logging.getLogger(__name__)
USER_AGENT = f"ecmt/{__version__} ({platform.system()} {platform.release()})"
# Every answer the CCMS sends is small (a certificate is a few KB): anything larger is a
# fault or an attack, and is not read further. An error answer is only quoted, so it is
# cut rather than refused.
MAX_BODY = 1024 * 1024
MAX_ERROR_BODY = 64 * 1024
_CHUNK = 16 * 1024
# A connection idle for longer is not used again: a server may close it at any moment after
# its own keep-alive time (ours after read_timeout_seconds, 15 s; Apache's after 5 s), and a
# request sent just as it does would be lost.
IDLE_REUSE_SECONDS = 4.0


class _ContextAdapter(requests.adapters.HTTPAdapter):
    """Use our SSLContext for every connection; `verify` and REQUESTS_CA_BUNDLE cannot
    replace it (requests' documented way to bring a custom context)."""

    def __init__(self, context: Any) -> None:
        self._context = context
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            **self.poolmanager.pool_classes_by_scheme,
            "https": WatchedPool,
        }

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = {**manager.pool_classes_by_scheme, "https": WatchedPool}
        return manager

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


class _Bearer(requests.auth.AuthBase):
    """The logon token from `GET account`, in place of the PIN (the server's tokens.py)."""

    def __init__(self, token: str) -> None:
        self._header = "Bearer " + token

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
        if not settings.server_url:  # the composition root says so first; this keeps it true
            raise EcmtError(ErrorCode.SERVER_NOT_CONFIGURED, "no server_url")
        self.base_url = settings.server_url
        self._deadline = settings.request_deadline
        self._timeout = (
            min(settings.connect_timeout, self._deadline),
            min(settings.read_timeout, self._deadline),
        )
        self._identity = identity
        self._session = requests.Session()
        self._session.mount(
            "https://", _ContextAdapter(make_context(settings.trust_anchors, identity))
        )
        self._session.headers["User-Agent"] = USER_AGENT
        self._session.headers["Accept-Encoding"] = "identity"  # the size limit is on the wire
        if settings.proxy:
            self._session.proxies = {"https": settings.proxy}
            self._session.trust_env = False  # an explicit proxy beats the environment's
        self.last_request_id: str | None = None
        self.tokens = LogonTokens()
        self._idle_since: float | None = None

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
        use_token: bool = True,
    ) -> Reply:
        """Send one request; a status outside `ok` becomes the matching EcmtError.

        With `credentials`, a logon token held for them goes in place of the PIN (unless
        `use_token` is off, as for the logon itself); one the service refuses is dropped
        and this request alone is sent again with the PIN."""
        token = self.tokens.bearer(credentials) if credentials and use_token else None
        auth: requests.auth.AuthBase = _NO_AUTH
        if token is not None:
            auth = _Bearer(token)
        elif credentials is not None:
            auth = _Basic(credentials)
        reply = self._attempt(method, path, body, content_type, auth, ok)
        if token is not None and credentials is not None and _token_refused(reply):
            self.tokens.forget(credentials)
            log.info("%s %s: logon token refused, sending the PIN instead", method, path)
            reply = self._attempt(method, path, body, content_type, _Basic(credentials), ok)
        if reply.status not in ok:
            answered = error_from_response(
                reply.status,
                reply.content_type,
                reply.body,
                reply.headers,
                reply.request_id,
                sent="pin" if credentials else "certificate" if self.has_identity else "none",
            )
            raise self._failed(method, path, answered)
        return reply

    def _attempt(
        self,
        method: str,
        path: str,
        body: bytes | None,
        content_type: str | None,
        auth: requests.auth.AuthBase,
        ok: tuple[int, ...],
    ) -> Reply:
        """One exchange with its own request id and deadline; any answer comes back."""
        request_id = str(uuid.uuid4())
        self.last_request_id = request_id
        headers = {"X-Request-ID": request_id}
        if content_type:
            headers["Content-Type"] = content_type
        if (
            self._idle_since is not None
            and time.monotonic() - self._idle_since > IDLE_REUSE_SECONDS
        ):
            self._session.close()  # the pools empty; the next connection is a new one
        deadline = Deadline(self._deadline)
        try:
            with deadline:
                reply = self._send(method, path, body, headers, auth, request_id, ok, deadline)
        except requests.RequestException as exc:
            if deadline.passed:
                raise self._failed(method, path, _too_slow(deadline, request_id)) from None
            failure = translate_exception(exc, request_id, self.has_identity)
            raise self._failed(method, path, failure) from None
        except EcmtError as refused:
            raise self._failed(method, path, refused) from None
        finally:
            self._idle_since = time.monotonic()
        log.info("%s %s -> %d rid=%s", method, path, reply.status, reply.request_id)
        return reply

    @staticmethod
    def _failed(method: str, path: str, error: EcmtError) -> EcmtError:
        log.warning("%s %s failed rid=%s: %s", method, path, error.reference, error)
        return error

    def _send(
        self,
        method: str,
        path: str,
        body: bytes | None,
        headers: dict[str, str],
        auth: requests.auth.AuthBase,
        request_id: str,
        ok: tuple[int, ...],
        deadline: Deadline,
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
            stream=True,
        ) as response:
            rid = request_id_or(response.headers.get("X-Request-ID"), request_id)
            return Reply(
                status=response.status_code,
                content_type=response.headers.get("Content-Type", ""),
                body=_read_body(response, response.status_code in ok, deadline, rid),
                headers=CaseInsensitiveDict(response.headers),
                request_id=rid,
            )


def _read_body(
    response: requests.Response, wanted: bool, deadline: Deadline, request_id: str
) -> bytes:
    """At most MAX_BODY bytes of an answer that is wanted (more is refused, early when the
    Content-Length says so), the first MAX_ERROR_BODY bytes of an error answer."""
    limit = MAX_BODY if wanted else MAX_ERROR_BODY
    declared = response.headers.get("Content-Length", "").strip()
    if wanted and declared.isdigit() and int(declared) > limit:
        raise _too_large(f"the answer announces {int(declared)} bytes", request_id)
    body = bytearray()
    for chunk in response.iter_content(_CHUNK):
        if deadline.passed:
            raise _too_slow(deadline, request_id)
        body += chunk
        if len(body) > limit:
            if not wanted:
                return bytes(body[:limit])
            raise _too_large(f"the answer was still going after {limit} bytes", request_id)
    return bytes(body)


def _too_large(detail: str, request_id: str) -> EcmtError:
    return EcmtError(
        ErrorCode.RESPONSE_TOO_LARGE, f"{detail}; the limit is {MAX_BODY}", reference=request_id
    )


def _too_slow(deadline: Deadline, request_id: str) -> EcmtError:
    return EcmtError(
        ErrorCode.NETWORK_TIMEOUT,
        f"the service answered too slowly: no complete answer within {deadline.seconds:g} s "
        "(request_deadline)",
        reference=request_id,
    )


def _token_refused(reply: Reply) -> bool:
    """401 with CCMS-TOKEN-INVALID or -EXPIRED: the PIN itself may still be good."""
    if reply.status != 401:
        return False
    try:
        code = json.loads(reply.body).get("code")
    except (ValueError, AttributeError, RecursionError):
        return False
    return code in REFUSED


def require(condition: bool, detail: str, reply: Reply) -> None:
    """A response that breaks the contract: RESPONSE_INVALID with the request's reference."""
    if not condition:
        raise EcmtError(ErrorCode.RESPONSE_INVALID, detail, reference=reply.request_id)
