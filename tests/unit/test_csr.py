from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ccms_protocol.wire import ProblemCode
from ccms_server.csr import check_csr, decode_base64_body, encode_base64_body
from ccms_server.problems import ProblemError
from support import csr_der, rsa_key


def _code(call) -> ProblemCode:
    with pytest.raises(ProblemError) as caught:
        call()
    return caught.value.code


def test_base64_round_trip_in_64_character_lines():
    der = bytes(range(256)) * 3
    body = encode_base64_body(der)
    assert all(len(line) <= 64 for line in body.splitlines())
    assert body.endswith(b"\n")
    assert decode_base64_body(body) == der


@pytest.mark.parametrize(
    "mangle",
    [
        lambda b: b,
        lambda b: b.replace(b"\n", b"\r\n") + b"   \t\n",
        lambda b: b.replace(b"\n", b""),
        lambda b: b.replace(b"\n", b"").rstrip(b"="),
        lambda b: (
            b"-----BEGIN CERTIFICATE REQUEST-----\n" + b + b"-----END CERTIFICATE REQUEST-----\n"
        ),
    ],
)
def test_lenient_base64(mangle):
    der = csr_der(rsa_key())
    assert decode_base64_body(mangle(base64.encodebytes(der))) == der


def test_garbage_and_empty_bodies():
    assert _code(lambda: decode_base64_body(b"%%%")) is ProblemCode.CSR_INVALID
    assert _code(lambda: decode_base64_body(b" \n ")) is ProblemCode.CSR_INVALID


def test_accepts_rsa_2048_and_nist_curves():
    for key in (
        rsa_key(2048),
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP384R1()),
    ):
        checked = check_csr(csr_der(key), 2048)
        assert len(checked.spki_sha256) == 64


@pytest.mark.parametrize(
    "key",
    [
        rsa_key(1024),
        ec.generate_private_key(ec.SECP256K1()),
        ec.generate_private_key(ec.SECP224R1()),
    ],
    ids=["rsa1024", "secp256k1", "p224"],
)
def test_refuses_weak_keys(key):
    assert _code(lambda: check_csr(csr_der(key), 2048)) is ProblemCode.CSR_INVALID


def test_refuses_rsa_below_the_configured_minimum():
    with pytest.raises(ProblemError, match="3072"):
        check_csr(csr_der(rsa_key(2048)), 3072)


def test_refuses_ed25519_and_broken_signatures():
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    ed = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")])
    ed_csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(ed, None)
    der = ed_csr.public_bytes(serialization.Encoding.DER)
    assert _code(lambda: check_csr(der, 2048)) is ProblemCode.CSR_INVALID
    broken = bytearray(csr_der(rsa_key()))
    broken[-3] ^= 0x01
    with pytest.raises(ProblemError, match="signature"):
        check_csr(bytes(broken), 2048)
    assert _code(lambda: check_csr(b"\x30\x00", 2048)) is ProblemCode.CSR_INVALID
