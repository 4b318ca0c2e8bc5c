"""PKCS#10 requests as EST carries them: lenient base64 in, checked key and signature out."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ccms_protocol.wire import ProblemCode

from .ca import IssuablePublicKey, spki_sha256
from .problems import ProblemError

_WHITESPACE = re.compile(rb"\s+")
_PEM_ARMOUR = re.compile(rb"-----(BEGIN|END) [A-Z0-9 ]+-----")
ALLOWED_CURVES = {"secp256r1": 256, "secp384r1": 384, "secp521r1": 521}
MAX_RSA_BITS = 8192


def decode_base64_body(body: bytes) -> bytes:
    """Base64 as EST clients send it: wrapped or one line, trailing whitespace, PEM armour."""
    text = _WHITESPACE.sub(b"", _PEM_ARMOUR.sub(b"", body))
    if not text:
        raise ProblemError(ProblemCode.CSR_INVALID, "the request body is empty")
    text += b"=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProblemError(ProblemCode.CSR_INVALID, "the body is not base64") from None


def encode_base64_body(der: bytes) -> bytes:
    """Base64 in 64-character lines, as `openssl base64 -d` and EST clients expect."""
    text = base64.b64encode(der)
    return b"".join(text[i : i + 64] + b"\n" for i in range(0, len(text), 64))


@dataclass(frozen=True)
class CheckedCsr:
    csr: x509.CertificateSigningRequest
    public_key: IssuablePublicKey
    spki_sha256: str


def check_csr(der: bytes, min_rsa_bits: int) -> CheckedCsr:
    """Parse and check a CSR: signature valid, key RSA >= min bits or a NIST curve >= P-256."""
    try:
        csr = x509.load_der_x509_csr(der)
        public_key = csr.public_key()
        signature_ok = csr.is_signature_valid
    except (ValueError, TypeError):
        raise ProblemError(ProblemCode.CSR_INVALID, "the CSR cannot be parsed") from None
    except Exception:  # unsupported algorithms surface as UnsupportedAlgorithm
        raise ProblemError(
            ProblemCode.CSR_INVALID, "the CSR uses an unsupported algorithm"
        ) from None
    if not signature_ok:
        raise ProblemError(ProblemCode.CSR_INVALID, "the CSR signature does not verify")
    if isinstance(public_key, rsa.RSAPublicKey):
        if not min_rsa_bits <= public_key.key_size <= MAX_RSA_BITS:
            raise ProblemError(
                ProblemCode.CSR_INVALID,
                f"RSA keys must be {min_rsa_bits} to {MAX_RSA_BITS} bits, "
                f"not {public_key.key_size}",
            )
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in ALLOWED_CURVES:
            raise ProblemError(
                ProblemCode.CSR_INVALID,
                f"the curve {public_key.curve.name} is not accepted; use P-256 or stronger",
            )
    else:
        raise ProblemError(ProblemCode.CSR_INVALID, "only RSA and NIST P-curve keys are accepted")
    return CheckedCsr(csr=csr, public_key=public_key, spki_sha256=spki_sha256(public_key))
