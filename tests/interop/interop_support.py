"""Helpers shared by the interop tests: running foreign tools, and checking what they got.

The clients under test (openssl + curl, the Bouncy Castle EST client) do all protocol
work; Python's `cryptography` is used here only to check their results.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from support import IN_CI, Harness, require_file, require_tool

__all__ = ["IN_CI", "require_file", "require_tool"]


TOOL_TIMEOUT = 120  # seconds; a JVM start plus an RSA key generation fits easily


def run(
    args: Sequence[str | Path],
    *,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    expect_exit: int = 0,
) -> subprocess.CompletedProcess[bytes]:
    """Run a tool; fail with its full output unless it exits with `expect_exit`."""
    argv = [str(a) for a in args]
    result = subprocess.run(
        argv, input=stdin, capture_output=True, cwd=cwd, timeout=TOOL_TIMEOUT, check=False
    )
    if result.returncode != expect_exit:
        pytest.fail(
            f"{' '.join(argv)}\nexited {result.returncode}, expected {expect_exit}\n"
            f"stdout: {result.stdout.decode(errors='replace')}\n"
            f"stderr: {result.stderr.decode(errors='replace')}"
        )
    return result


def write_secret(path: Path, text: str) -> Path:
    """Create `path` readable by its owner only, before any secret is written to it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def file_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def load_certs(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def spki(cert_or_key: x509.Certificate | x509.CertificateSigningRequest) -> bytes:
    return cert_or_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def trust_anchor(server: Harness) -> x509.Certificate:
    (root,) = load_certs(server.trust_anchor)
    return root


def issuing_ca(server: Harness) -> x509.Certificate:
    """The server's client-issuing CA, read from its data folder."""
    (issuing,) = load_certs(server.services.paths.issuing_cert)
    return issuing


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def assert_cacerts_chain(certs: list[x509.Certificate], server: Harness) -> None:
    """Two certificates: the trust anchor itself, and the issuing CA that it signed."""
    assert len(certs) == 2, [c.subject.rfc4514_string() for c in certs]
    roots = [c for c in certs if is_self_signed(c)]
    assert len(roots) == 1, "exactly one self-signed root expected"
    (root,) = roots
    (issuing,) = (c for c in certs if c is not root)
    assert der(root) == der(trust_anchor(server))
    assert der(issuing) == der(issuing_ca(server))
    issuing.verify_directly_issued_by(root)


def assert_client_certificate(cert: x509.Certificate, epoc: str, server: Harness) -> None:
    """What the client must check before it installs a certificate (protocol, last section)."""
    (serial_number,) = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    assert serial_number.value == epoc
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku
    issuing = issuing_ca(server)
    assert cert.issuer == issuing.subject
    cert.verify_directly_issued_by(issuing)  # raises InvalidSignature if not
    now = datetime.now(UTC)
    assert cert.not_valid_before_utc <= now <= cert.not_valid_after_utc
