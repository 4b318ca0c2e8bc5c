"""Chromium presents the certificate `ecmt renew` installed: a real headless Chromium (the
Debian package) with HOME set to the test's home, where the renewal went into Chromium's
current NSS path (~/.local/share/pki/nssdb) and a Firefox profile at once, connects to
`openssl s_server -Verify 1`. Chromium picks the certificate without a dialog through its
AutoSelectCertificateForUrls policy (/etc/chromium/policies/managed, root only).

The proof is on the server's side: s_server's verify lines name the peer certificate's
subject, and its status page (which Chromium loads and dumps) holds the certificate's PEM,
whose fingerprint must be the one ecmt installed. The same run with a home that lacks the
certificate presents nothing, so the policy alone proves nothing.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest
from client_cli import client_env, ecmt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ecmt.certstore import NssStore
from ecmt.domain.models import fingerprint
from support import IN_CI, require_tool

pytestmark = pytest.mark.posix
POLICIES = Path("/etc/chromium/policies/managed")
CHROMIUM_SECONDS = 90
PEM = re.compile(rb"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_identity(folder: Path) -> tuple[Path, Path]:
    """A throwaway TLS identity for 127.0.0.1 (Chromium is told to ignore who signed it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class SServer:
    """`openssl s_server -Verify 1 -www`: its output kept line by line as it comes."""

    def __init__(self, folder: Path, client_cas: Path) -> None:
        cert, key = server_identity(folder)
        for _attempt in range(3):  # another process may take the free port first
            self.port = free_port()
            self.lines: list[str] = []
            self.process = subprocess.Popen(
                ["openssl", "s_server", "-accept", f"127.0.0.1:{self.port}", "-cert", str(cert),
                 "-key", str(key), "-Verify", "1", "-CAfile", str(client_cas), "-www"],
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            )  # fmt: skip
            self._reader = threading.Thread(target=self._read, daemon=True)
            self._reader.start()
            if self._accepting():
                return
            self.stop()
        pytest.fail(f"s_server did not start: {self.lines}")

    def _accepting(self) -> bool:
        deadline = time.monotonic() + 20
        while "ACCEPT" not in self.lines:
            if self.process.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def stop(self) -> list[str]:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return self.lines


@contextlib.contextmanager
def policy(port: int, issuer_cn: str) -> Iterator[None]:
    """Chromium picks the certificate from this issuer for this one address by itself."""
    try:
        POLICIES.mkdir(parents=True, exist_ok=True)
        path = POLICIES / f"ecmt-test-{uuid.uuid4().hex}.json"
        rule = {"pattern": f"https://127.0.0.1:{port}", "filter": {"ISSUER": {"CN": issuer_cn}}}
        path.write_text(json.dumps({"AutoSelectCertificateForUrls": [json.dumps(rule)]}))
    except OSError as exc:
        message = f"Chromium's managed policy folder {POLICIES} is not writable: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def chromium_dump(url: str, home: Path, profile: Path) -> str:
    """The page as headless Chromium loaded it, with HOME=home; bounded in time."""
    env = client_env(home)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    process = subprocess.Popen(
        [require_tool("chromium"), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--password-store=basic", f"--user-data-dir={profile}",
         "--ignore-certificate-errors", "--dump-dom", url],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=CHROMIUM_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"Chromium did not finish within {CHROMIUM_SECONDS} s")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # helpers Chromium may leave behind
    assert process.returncode == 0, err.decode("utf-8", "replace")[-2000:]
    return out.decode("utf-8", "replace")


def firefox_profile(home: Path) -> Path:
    root = home / ".mozilla/firefox"
    folder = root / "k3xq1m0v.default-release"
    folder.mkdir(parents=True, mode=0o700)
    subprocess.run(
        ["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"],
        check=True, capture_output=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    (root / "profiles.ini").write_text(
        f"[Profile0]\nName=default-release\nIsRelative=1\nPath={folder.name}\nDefault=1\n"
    )
    return folder


def in_database(db: Path) -> str:
    return subprocess.run(
        ["certutil", "-L", "-d", f"sql:{db}"], capture_output=True, text=True, check=True
    ).stdout


def test_chromium_presents_the_certificate_ecmt_installed(server, tmp_path):
    for tool in ("chromium", "openssl", "certutil", "pk12util"):
        require_tool(tool)
    home = tmp_path / "home"
    home.mkdir()
    profile = firefox_profile(home)
    epoc = server.add_account(name="Dr Chromium Test")
    renewed = ecmt(
        "renew", "--server", server.url, "--trust-anchor", str(server.trust_anchor),
        "--store", "nss,firefox", "--epoc", epoc, "--pin-stdin", "--json",
        home=home, stdin=server.issue_pin(epoc) + "\n",
    )  # fmt: skip
    assert renewed.returncode == 0, renewed.stderr
    installed = renewed.json["certificate"]["fingerprint"]
    chrome_db = home / ".local/share/pki/nssdb"  # Chromium 146+ in a fresh home
    assert (chrome_db / "cert9.db").is_file()
    assert not (home / ".pki").exists()
    assert "ePractitioner" in in_database(profile)  # Firefox's profile has it too
    identity = NssStore(chrome_db).load_identity(installed)
    cas = tmp_path / "client-cas.pem"  # what s_server accepts client certificates from
    cas.write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in identity.chain)
        + server.trust_anchor.read_bytes()
    )
    issuer = identity.certificate.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value

    tls = SServer(tmp_path, cas)
    try:
        with policy(tls.port, str(issuer)):
            empty_home = tmp_path / "empty-home"
            empty_home.mkdir()
            control = chromium_dump(tls.url, empty_home, tmp_path / "chromium-control")
            page = chromium_dump(tls.url, home, tmp_path / "chromium")
    finally:
        output = tls.stop()

    assert "Client certificate" not in control  # nothing to present: the handshake fails
    assert any("peer did not return a certificate" in line for line in output), output
    peers = [line for line in output if line.startswith("depth=0 ")]  # the verified peer
    assert peers, output
    for peer in peers:
        assert f"serialNumber = {epoc}" in peer
        assert "CN = Dr Chromium Test" in peer
    shown = page.partition("Client certificate")[2]
    (pem,) = PEM.findall(shown.encode())
    presented = x509.load_pem_x509_certificate(pem)
    assert fingerprint(presented) == installed
