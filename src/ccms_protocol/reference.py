"""The short reference a person reads out over the phone, derived from a request id.

Apart from wire.py so that the desktop app can show a reference without loading the
wire models (pydantic, cryptography)."""

from __future__ import annotations

import hashlib

_READABLE = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O or U


def short_reference(request_id: str) -> str:
    """Eight characters that name one request over the phone ("7K3M-9QXA"): the request
    id's 36 characters are hard to read out. Both sides derive it from the id, so the
    server's log carries it beside the full id and the helpdesk can search either."""
    number = int.from_bytes(hashlib.sha256(request_id.encode()).digest()[:5], "big")
    chars = "".join(_READABLE[(number >> shift) & 31] for shift in range(35, -1, -5))
    return f"{chars[:4]}-{chars[4:]}"
