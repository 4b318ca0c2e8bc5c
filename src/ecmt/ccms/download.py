"""Streaming download of a release package, over the same TLS settings as the CCMS.

The transport caps every protocol answer at 1 MiB; a package is tens of megabytes, so it
streams to a file instead, capped at the size the signed manifest states, reporting
progress and stopping when cancelled. Integrity is checked by the caller (the SHA-256 in
the signed manifest): this only moves bytes and names failures by their codes.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import BinaryIO

import requests

from ..config import EcmtSettings
from ..domain.errors import EcmtError, ErrorCode
from .deadline import Deadline
from .network_errors import translate_exception
from .problems import error_from_response, request_id_or
from .tls import make_context
from .transport import _NO_AUTH, MAX_ERROR_BODY, USER_AGENT, _ContextAdapter

log = logging.getLogger(__name__)
CHUNK = 64 * 1024
# The slowest line a download is allowed on: the deadline is request_deadline plus the
# signed size at this rate (a 60 MB package gets about 16 minutes).
MIN_RATE = 64 * 1024
MAX_REDIRECTS = 5

Progress = Callable[[int, int], None]  # (bytes so far, bytes expected)


def _session(settings: EcmtSettings) -> requests.Session:
    session = requests.Session()
    session.mount("https://", _ContextAdapter(make_context(settings.trust_anchors, None)))
    session.headers["User-Agent"] = USER_AGENT
    session.headers["Accept-Encoding"] = "identity"  # the size cap is on the wire
    session.max_redirects = MAX_REDIRECTS
    if settings.proxy:
        session.proxies = {"https": settings.proxy}
        session.trust_env = False
    return session


def tampered(detail: str, reference: str | None = None) -> EcmtError:
    return EcmtError(ErrorCode.UPDATE_TAMPERED, detail, reference=reference)


def download(
    settings: EcmtSettings,
    url: str,
    target: BinaryIO,
    *,
    size: int,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> int:
    """Write the body at `url` to `target`; at most `size` bytes (more is UPDATE_TAMPERED),
    https only, also after redirects. Returns the number of bytes written."""
    if not url.startswith("https://"):
        raise tampered(f"the package address is not https: {url[:80]}")
    request_id = str(uuid.uuid4())
    deadline = Deadline(settings.request_deadline + size / MIN_RATE)
    with _session(settings) as session:
        outcome = _get(session, settings, url, target, size, progress, cancel, deadline, request_id)
    if isinstance(outcome, EcmtError):
        raise outcome  # raised here, so its traceback holds no response or socket
    return outcome


def _get(
    session: requests.Session,
    settings: EcmtSettings,
    url: str,
    target: BinaryIO,
    size: int,
    progress: Progress | None,
    cancel: threading.Event | None,
    deadline: Deadline,
    request_id: str,
) -> int | EcmtError:
    """The response lives and dies in this frame; a failure comes back as a value."""
    timeout = (settings.connect_timeout, settings.read_timeout)
    try:
        with (
            deadline,
            session.get(
                url,
                headers={"X-Request-ID": request_id},
                auth=_NO_AUTH,
                timeout=timeout,
                stream=True,
            ) as response,
        ):
            rid = request_id_or(response.headers.get("X-Request-ID"), request_id)
            return _stream(response, target, size, progress, cancel, deadline, rid)
    except EcmtError as error:
        return error.with_traceback(None)  # nor does its own
    except requests.RequestException as exc:
        if deadline.passed:
            return EcmtError(
                ErrorCode.NETWORK_TIMEOUT,
                f"the package did not arrive within {deadline.seconds:.0f} s",
                reference=request_id,
            )
        return translate_exception(exc, request_id, False)


def _stream(
    response: requests.Response,
    target: BinaryIO,
    size: int,
    progress: Progress | None,
    cancel: threading.Event | None,
    deadline: Deadline,
    request_id: str,
) -> int:
    if not response.url.startswith("https://"):
        raise tampered(f"redirected away from https to {response.url[:80]}", request_id)
    if response.status_code != 200:
        body = response.raw.read(MAX_ERROR_BODY, decode_content=False) or b""
        raise error_from_response(
            response.status_code,
            response.headers.get("Content-Type", ""),
            body,
            response.headers,
            request_id,
            sent="none",
        )
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) != size:
        raise tampered(f"the package is {declared} bytes, the signed size is {size}", request_id)
    received = 0
    for chunk in response.iter_content(CHUNK):
        if cancel is not None and cancel.is_set():
            raise EcmtError(ErrorCode.CANCELLED, "download cancelled", reference=request_id)
        if deadline.passed:
            raise EcmtError(ErrorCode.NETWORK_TIMEOUT, "the package came too slowly")
        received += len(chunk)
        if received > size:
            raise tampered(f"the package runs past its signed size of {size} bytes", request_id)
        target.write(chunk)
        if progress is not None:
            progress(received, size)
    log.info("downloaded %d bytes from %s rid=%s", received, response.url, request_id)
    return received
