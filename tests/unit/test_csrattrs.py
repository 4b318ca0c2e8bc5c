from __future__ import annotations

import subprocess

import pytest

from ccms_server.csrattrs import csr_attributes


def _parse(der: bytes) -> str:
    return subprocess.run(
        ["openssl", "asn1parse", "-inform", "DER"], input=der, capture_output=True, check=True
    ).stdout.decode()


def test_rsa_wish_names_the_key_size():
    text = _parse(csr_attributes("rsa3072"))
    assert "rsaEncryption" in text
    assert ":0C00" in text  # INTEGER 3072
    assert "sha256WithRSAEncryption" in text


@pytest.mark.parametrize(
    ("wish", "curve", "hash_name"),
    [
        ("ec-p256", "prime256v1", "ecdsa-with-SHA256"),
        ("ec-p384", "secp384r1", "ecdsa-with-SHA384"),
    ],
)
def test_ec_wish_names_the_curve(wish, curve, hash_name):
    text = _parse(csr_attributes(wish))
    assert "id-ecPublicKey" in text
    assert curve in text
    assert hash_name in text


def test_no_wish():
    assert csr_attributes("none") is None
