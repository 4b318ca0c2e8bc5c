"""Private keys: generation by name, and PEM at rest (0600, encrypted when a passphrase is set)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from ccms_protocol.files import write_atomic

KeyType = Literal["rsa2048", "rsa3072", "rsa4096", "ec-p256", "ec-p384"]
SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
StoredKey = SigningKey | ed25519.Ed25519PrivateKey


class KeyFileError(Exception):
    """A key file is missing, unreadable, or the passphrase does not open it."""


def generate_key(key_type: KeyType) -> SigningKey:
    if key_type.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(key_type[3:]))
    curve: ec.EllipticCurve = ec.SECP256R1() if key_type == "ec-p256" else ec.SECP384R1()
    return ec.generate_private_key(curve)


def signature_hash(key: SigningKey) -> hashes.SHA256 | hashes.SHA384:
    """SHA-384 for P-384 keys, SHA-256 otherwise."""
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def save_key(path: Path, key: StoredKey, passphrase: bytes | None) -> None:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    write_atomic(path, pem, mode=0o600)


def load_key(path: Path, passphrase: bytes | None) -> StoredKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    encrypted = b"ENCRYPTED" in data.split(b"\n", 1)[0]
    try:
        key = serialization.load_pem_private_key(data, passphrase if encrypted else None)
    except (ValueError, TypeError):
        hint = "the key passphrase is wrong or missing" if encrypted else "it is not a PEM key"
        raise KeyFileError(f"cannot open key file {path}: {hint}") from None
    if not isinstance(
        key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    ):
        raise KeyFileError(f"unsupported key type in {path}")
    return key


def load_signing_key(path: Path, passphrase: bytes | None) -> SigningKey:
    key = load_key(path, passphrase)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds an Ed25519 key, not a CA key")
    return key
