"""The `csrattrs` answer (RFC 7030 section 4.5, RFC 9908): which key the CA wants."""

from __future__ import annotations

from .settings import KeyWish

_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
_SHA256_WITH_RSA = "1.2.840.113549.1.1.11"
_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
_ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"
_ECDSA_WITH_SHA384 = "1.2.840.10045.4.3.3"
_CURVE = {"ec-p256": "1.2.840.10045.3.1.7", "ec-p384": "1.3.132.0.34"}


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def _oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _integer(value: int) -> bytes:
    raw = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return _tlv(0x02, raw)


def _attribute(type_oid: str, *values: bytes) -> bytes:
    return _tlv(0x30, _oid(type_oid) + _tlv(0x31, b"".join(values)))


def csr_attributes(wish: KeyWish) -> bytes | None:
    """DER `CsrAttrs` for the configured key wish, or None for "no wish" (HTTP 204)."""
    if wish == "none":
        return None
    if wish.startswith("rsa"):
        bits = int(wish[3:])
        items = _attribute(_RSA_ENCRYPTION, _integer(bits)) + _oid(_SHA256_WITH_RSA)
    else:
        signature = _ECDSA_WITH_SHA384 if wish == "ec-p384" else _ECDSA_WITH_SHA256
        items = _attribute(_EC_PUBLIC_KEY, _oid(_CURVE[wish])) + _oid(signature)
    return _tlv(0x30, items)
