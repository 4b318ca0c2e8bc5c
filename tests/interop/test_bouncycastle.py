"""The reference server driven by the Bouncy Castle EST client (org.bouncycastle.est).

java/BcEstDriver.java is a thin command-line wrapper around BC's ESTService; this module
compiles it once per session and checks, with Python's `cryptography`, what it wrote.

Authentication: the driver's default `--auth-mode preemptive` sends `Authorization: Basic`
on the first request. BC 1.72's own challenge handling (HttpAuth: send nothing, wait for
401 + WWW-Authenticate, resend) fails when the 401 carries a body: it closes the unread
response and ESTResponse.close() throws "Stream closed before limit fully read" (cf.
bc-java issue #781). Our protocol requires a problem+json body on every 401, so the
challenge mode cannot work against a conforming server with that BC version.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from interop_support import (
    TOOL_TIMEOUT,
    assert_cacerts_chain,
    assert_client_certificate,
    file_mode,
    load_certs,
    require_file,
    require_tool,
    run,
    spki,
    write_secret,
)

from support import Harness

pytestmark = pytest.mark.interop

DRIVER_SOURCE = Path(__file__).parent / "java" / "BcEstDriver.java"
JARS = [Path("/usr/share/java") / f"{name}.jar" for name in ("bcprov", "bcpkix", "bcutil")]


@dataclass(frozen=True)
class BcDriver:
    java: str
    classpath: str

    def __call__(
        self, command: str, server: Harness, *options: str | Path, expect_exit: int = 0
    ) -> subprocess.CompletedProcess[bytes]:
        return self.run(command, server.url, server.trust_anchor, *options, expect_exit=expect_exit)

    def run(
        self,
        command: str,
        url: str,
        anchor: Path,
        *options: str | Path,
        expect_exit: int = 0,
    ) -> subprocess.CompletedProcess[bytes]:
        return run(
            [
                self.java, "-cp", self.classpath, "BcEstDriver", command,
                "--server", url, "--trust-anchor", anchor, *options,
            ],
            expect_exit=expect_exit,
        )  # fmt: skip


@pytest.fixture(scope="session")
def bc_driver(tmp_path_factory: pytest.TempPathFactory) -> BcDriver:
    javac = require_tool("javac")
    java = require_tool("java")
    jars = [str(require_file(jar)) for jar in JARS]
    classes = tmp_path_factory.mktemp("bc-est-driver")
    compiled = subprocess.run(
        [javac, "-d", str(classes), "-cp", ":".join(jars), str(DRIVER_SOURCE)],
        capture_output=True,
        timeout=TOOL_TIMEOUT,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stderr.decode(errors="replace")
    return BcDriver(java, ":".join([str(classes), *jars]))


def enroll_with_bc(
    bc_driver: BcDriver,
    server: Harness,
    folder: Path,
    epoc: str,
    pin: str,
    expect_exit: int = 0,
) -> tuple[subprocess.CompletedProcess[bytes], Path, Path]:
    """`enroll` with the PIN in a file only its owner can read: (result, KEY.pem, CERT.pem)."""
    pin_file = write_secret(folder / f"pin-{epoc}.txt", pin + "\n")
    key, cert = folder / f"{epoc}.key.pem", folder / f"{epoc}.cert.pem"
    result = bc_driver(
        "enroll", server,
        "--epoc", epoc, "--pin-file", pin_file, "--key-out", key, "--cert-out", cert,
        expect_exit=expect_exit,
    )  # fmt: skip
    return result, key, cert


def public_key_of(key_pem: Path) -> bytes:
    key = serialization.load_pem_private_key(key_pem.read_bytes(), password=None)
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_bc_cacerts(bc_driver: BcDriver, server: Harness, tmp_path: Path) -> None:
    out = tmp_path / "cacerts.pem"

    result = bc_driver("cacerts", server, "--out", out)

    assert result.stdout.decode().strip() == "cacerts 2"
    assert_cacerts_chain(load_certs(out), server)


def test_bc_enroll_with_basic_auth(bc_driver: BcDriver, server: Harness, tmp_path: Path) -> None:
    epoc = server.add_account()

    result, key, cert_pem = enroll_with_bc(
        bc_driver, server, tmp_path, epoc, server.issue_pin(epoc)
    )

    (cert,) = load_certs(cert_pem)
    assert result.stdout.decode().startswith("enrolled ")
    assert_client_certificate(cert, epoc, server)
    assert spki(cert) == public_key_of(key)
    assert file_mode(key) == 0o600


def test_bc_reenroll_with_issued_certificate(
    bc_driver: BcDriver, server: Harness, tmp_path: Path
) -> None:
    epoc = server.add_account()
    _, old_key, old_cert_pem = enroll_with_bc(
        bc_driver, server, tmp_path, epoc, server.issue_pin(epoc)
    )
    (old_cert,) = load_certs(old_cert_pem)
    new_key, new_cert_pem = tmp_path / "renewed.key.pem", tmp_path / "renewed.cert.pem"

    result = bc_driver(
        "reenroll", server,
        "--cert", old_cert_pem, "--key", old_key, "--key-out", new_key, "--cert-out", new_cert_pem,
    )  # fmt: skip

    (new_cert,) = load_certs(new_cert_pem)
    assert result.stdout.decode().startswith("reenrolled ")
    assert new_cert.subject == old_cert.subject
    assert new_cert.serial_number != old_cert.serial_number
    assert spki(new_cert) == public_key_of(new_key)
    assert spki(new_cert) != spki(old_cert)
    assert_client_certificate(new_cert, epoc, server)


def test_bc_enroll_with_wrong_pin_fails_with_401(
    bc_driver: BcDriver, server: Harness, tmp_path: Path
) -> None:
    epoc = server.add_account()
    server.issue_pin(epoc)

    result, key, cert = enroll_with_bc(
        bc_driver, server, tmp_path, epoc, "WRONG-PIN-0000", expect_exit=1
    )

    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert "401" in stderr, stderr
    assert "CCMS-AUTH-INVALID" in stderr, stderr
    assert not key.exists()
    assert not cert.exists()


def test_bc_refuses_server_not_signed_by_its_trust_anchor(
    bc_driver: BcDriver, server: Harness, tmp_path: Path, foreign_trust_anchor: Path
) -> None:
    out = tmp_path / "cacerts.pem"

    result = bc_driver.run("cacerts", server.url, foreign_trust_anchor, "--out", out, expect_exit=1)

    assert not out.exists()
    assert "certification path" in result.stderr.decode().lower(), result.stderr
