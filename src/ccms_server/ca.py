"""The certificate authority: a root, an issuing CA for client certificates, the TLS identity.

`init_ca` lays out DATA_DIR once; `CertificateAuthority` loads it and signs client
certificates whose subject comes from the account, never from the request.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ccms_protocol.files import private_dir, write_atomic

from .keys import KeyType, SigningKey, generate_key, load_signing_key, save_key, signature_hash

CLOCK_SKEW = timedelta(minutes=5)
ROOT_VALIDITY = timedelta(days=20 * 365)
ISSUING_VALIDITY = timedelta(days=10 * 365)
TLS_VALIDITY = timedelta(days=397)

IssuablePublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


class CaLayoutError(Exception):
    """DATA_DIR is not initialised, or is initialised already."""


@dataclass(frozen=True)
class CaPaths:
    """Where each CA file lives inside DATA_DIR."""

    data_dir: Path

    @property
    def private(self) -> Path:
        return self.data_dir / "private"

    @property
    def root_cert(self) -> Path:
        return self.data_dir / "ca" / "root-ca.pem"

    @property
    def root_key(self) -> Path:
        return self.private / "root-ca.key.pem"

    @property
    def issuing_cert(self) -> Path:
        return self.data_dir / "ca" / "issuing-ca.pem"

    @property
    def issuing_key(self) -> Path:
        return self.private / "issuing-ca.key.pem"

    @property
    def tls_chain(self) -> Path:
        return self.data_dir / "tls" / "server-chain.pem"

    @property
    def tls_key(self) -> Path:
        return self.private / "tls-server.key.pem"

    @property
    def trust_anchor(self) -> Path:
        return self.data_dir / "trust-anchor.pem"

    @property
    def release_key(self) -> Path:
        return self.private / "release-signing.key.pem"

    @property
    def logon_token_key(self) -> Path:
        return self.private / "logon-token.key.pem"

    @property
    def release_public_key(self) -> Path:
        return self.data_dir / "release-public-key.json"

    def is_initialised(self) -> bool:
        return self.issuing_cert.exists() and self.issuing_key.exists()


def _now() -> datetime:
    return datetime.now(UTC)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _ca_cert(
    subject: x509.Name,
    key: SigningKey,
    issuer: x509.Certificate | None,
    issuer_key: SigningKey,
    validity: timedelta,
    path_length: int | None,
) -> x509.Certificate:
    now = _now()
    issuer_name = issuer.subject if issuer else subject
    aki_source = issuer.public_key() if issuer else key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(aki_source),  # type: ignore[arg-type]
            critical=False,
        )
    )
    return builder.sign(issuer_key, signature_hash(issuer_key))


def _tls_cert(
    hostnames: list[str], key: SigningKey, root: x509.Certificate, root_key: SigningKey
) -> x509.Certificate:
    names: list[x509.GeneralName] = []
    for name in dict.fromkeys(["localhost", "127.0.0.1", *hostnames]):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            names.append(x509.DNSName(name))
    now = _now()
    first_dns = next((n.value for n in names if isinstance(n, x509.DNSName)), "localhost")
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, first_dns)]))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(min(now + TLS_VALIDITY, root.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(root_key, signature_hash(root_key))
    )


def _org_name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def init_ca(
    data_dir: Path,
    hostnames: list[str],
    passphrase: bytes | None,
    key_type: KeyType = "rsa3072",
    organisation: str = "CCMS Reference",
) -> CaPaths:
    """Create root, issuing CA, TLS identity, release signing key and the trust anchor."""
    paths = CaPaths(data_dir)
    if paths.is_initialised():
        raise CaLayoutError(f"{data_dir} is already initialised; refusing to replace its keys")
    private_dir(data_dir)
    private_dir(paths.private)
    root_key = generate_key(key_type)
    root = _ca_cert(
        _org_name(f"{organisation} Root CA", organisation),
        root_key,
        None,
        root_key,
        ROOT_VALIDITY,
        1,
    )
    issuing_key = generate_key(key_type)
    issuing = _ca_cert(
        _org_name(f"{organisation} Client Issuing CA", organisation),
        issuing_key,
        root,
        root_key,
        ISSUING_VALIDITY,
        0,
    )
    save_key(paths.root_key, root_key, passphrase)
    save_key(paths.issuing_key, issuing_key, passphrase)
    write_atomic(paths.root_cert, _pem(root), mode=0o644)
    write_atomic(paths.issuing_cert, _pem(issuing), mode=0o644)
    write_atomic(paths.trust_anchor, _pem(root), mode=0o644)
    issue_tls_identity(paths, hostnames, passphrase)
    return paths


def issue_tls_identity(paths: CaPaths, hostnames: list[str], passphrase: bytes | None) -> None:
    """(Re)issue the TLS server certificate for `hostnames` with the root key."""
    root = x509.load_pem_x509_certificate(paths.root_cert.read_bytes())
    root_key = load_signing_key(paths.root_key, passphrase)
    tls_key = generate_key("ec-p256")
    tls = _tls_cert(hostnames, tls_key, root, root_key)
    save_key(paths.tls_key, tls_key, passphrase)
    write_atomic(paths.tls_chain, _pem(tls) + _pem(root), mode=0o644)


def spki_sha256(public_key: IssuablePublicKey | ed25519.Ed25519PublicKey) -> str:
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def fingerprint_sha256(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


class CertificateAuthority:
    """The loaded issuing CA: signs client certificates and recognises its own."""

    def __init__(self, paths: CaPaths, passphrase: bytes | None) -> None:
        if not paths.is_initialised():
            raise CaLayoutError(f"{paths.data_dir} is not initialised: run `ccms-server init`")
        self.paths = paths
        self.root = x509.load_pem_x509_certificate(paths.root_cert.read_bytes())
        self.issuing = x509.load_pem_x509_certificate(paths.issuing_cert.read_bytes())
        self._key = load_signing_key(paths.issuing_key, passphrase)

    def chain(self) -> list[x509.Certificate]:
        """What `cacerts` serves: the issuing CA, then the root."""
        return [self.issuing, self.root]

    def issue_client(
        self, public_key: IssuablePublicKey, subject: x509.Name, validity_days: int
    ) -> x509.Certificate:
        now = _now()
        not_after = min(now + timedelta(days=validity_days), self.issuing.not_valid_after_utc)
        is_rsa = isinstance(public_key, rsa.RSAPublicKey)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.issuing.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=is_rsa,
                    data_encipherment=False,
                    key_agreement=not is_rsa,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            .sign(self._key, signature_hash(self._key))
        )

    def issued_this(self, cert: x509.Certificate) -> bool:
        """True when `cert` names our issuing CA and its signature verifies with our key."""
        if cert.issuer != self.issuing.subject:
            return False
        try:
            cert.verify_directly_issued_by(self.issuing)
        except (ValueError, TypeError, InvalidSignature):
            return False
        return True
