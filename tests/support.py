"""Shared test helpers: a real server on loopback, CSRs, EST body parsing."""

from __future__ import annotations

import base64
import itertools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from ccms_server.admin import Admin
from ccms_server.bootstrap import Services, build_services
from ccms_server.logsetup import configure_logging
from ccms_server.server import ServerThread
from ccms_server.settings import ServerSettings, load_settings

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
EST = "/.well-known/est/"
API = "/ccms/v1/"
FAST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8192, "argon2_parallelism": 1}
_epocs = itertools.count(5_000_001)

RsaOrEcKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def csr_der(key: RsaOrEcKey, subject: x509.Name | None = None) -> bytes:
    name = subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ignored")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.DER)


def csr_body(key: RsaOrEcKey, subject: x509.Name | None = None) -> bytes:
    return base64.encodebytes(csr_der(key, subject))


def certs_from_body(body: bytes) -> list[x509.Certificate]:
    return pkcs7.load_der_pkcs7_certificates(base64.b64decode(b"".join(body.split())))


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: RsaOrEcKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass
class Identity:
    """A client certificate and its key, written out for `requests`' `cert=`."""

    key: RsaOrEcKey
    cert: x509.Certificate
    folder: Path

    @property
    def files(self) -> tuple[str, str]:
        cert_file = self.folder / f"{self.cert.serial_number:x}.crt"
        key_file = self.folder / f"{self.cert.serial_number:x}.key"
        cert_file.write_bytes(pem(self.cert))
        key_file.write_bytes(key_pem(self.key))
        key_file.chmod(0o600)
        return str(cert_file), str(key_file)


@dataclass
class Harness:
    """One reference server over real TLS on 127.0.0.1, with its own data folder."""

    data_dir: Path
    settings: ServerSettings
    services: Services
    thread: ServerThread
    _work: Path = field(init=False)

    def __post_init__(self) -> None:
        self._work = self.data_dir / "client-files"
        self._work.mkdir(exist_ok=True)

    @property
    def url(self) -> str:
        return self.thread.url

    @property
    def trust_anchor(self) -> Path:
        return self.services.paths.trust_anchor

    @property
    def log_file(self) -> Path:
        return self.settings.effective_log_file

    @property
    def admin(self) -> Admin:
        return Admin(self.services.sessions, self.settings, self.services.hasher)

    def http(self, cert: Identity | None = None) -> requests.Session:
        session = requests.Session()
        session.trust_env = False  # REQUESTS_CA_BUNDLE would silently replace `verify`
        session.verify = str(self.trust_anchor)
        if cert is not None:
            session.cert = cert.files
        return session

    def add_account(self, name: str = "Dr Test Person", accept_terms: bool = True) -> str:
        epoc = str(next(_epocs))
        self.admin.add_account(epoc, name, "Test Practice", "GP")
        if accept_terms:
            self.accept_terms_directly(epoc)
        return epoc

    def accept_terms_directly(self, epoc: str) -> None:
        from sqlalchemy import select

        from ccms_server.db.models import Account, Terms

        with self.services.sessions.begin() as session:
            account = session.scalars(select(Account).where(Account.epoc == epoc)).one()
            current = session.scalars(select(Terms).order_by(Terms.id.desc())).first()
            account.terms_accepted_version = current.version if current else None

    def db_snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table, to prove that a refused request changed nothing."""
        from sqlalchemy import select

        from ccms_server.db.models import Base

        with self.services.sessions() as session:
            return {
                name: [tuple(row) for row in session.execute(select(table)).all()]
                for name, table in Base.metadata.tables.items()
            }

    def account_row(self, epoc: str) -> Any:
        from sqlalchemy import select

        from ccms_server.db.models import Account

        with self.services.sessions() as session:
            return session.scalars(select(Account).where(Account.epoc == epoc)).one()

    def issue_pin(self, epoc: str) -> str:
        return self.admin.issue_pin(epoc)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        with self.http() as session:
            return session.get(self.url + path, timeout=30, **kwargs)

    def enroll(self, epoc: str, pin: str, key: RsaOrEcKey | None = None) -> requests.Response:
        key = key or rsa_key()
        with self.http() as session:
            return session.post(
                self.url + EST + "simpleenroll",
                data=csr_body(key),
                auth=(epoc, pin),
                headers={"Content-Type": "application/pkcs10"},
                timeout=30,
            )

    def new_identity(self, epoc: str | None = None) -> Identity:
        """An account with terms accepted and a certificate issued through simpleenroll."""
        epoc = epoc or self.add_account()
        key = rsa_key()
        response = self.enroll(epoc, self.issue_pin(epoc), key)
        assert response.status_code == 200, response.text
        return Identity(key, certs_from_body(response.content)[0], self._work)

    def reenroll(
        self, identity: Identity, key: RsaOrEcKey | None = None, subject: x509.Name | None = None
    ) -> requests.Response:
        key = key or rsa_key()
        with self.http(identity) as session:
            return session.post(
                self.url + EST + "simplereenroll",
                data=csr_body(key, subject or identity.cert.subject),
                headers={"Content-Type": "application/pkcs10"},
                timeout=30,
            )


def make_template(folder: Path) -> Path:
    """An initialised data folder (fast EC keys) that tests copy instead of re-creating."""
    from importlib import resources

    from ccms_server import release
    from ccms_server.bootstrap import make_hasher
    from ccms_server.ca import CaPaths, init_ca
    from ccms_server.db.engine import make_sessions

    paths = init_ca(folder, ["localhost", "127.0.0.1"], None, "ec-p256", "CCMS Test")
    release.create_signing_key(paths.release_key, paths.release_public_key, None)
    settings = load_settings(folder, **FAST_ARGON2)
    admin = Admin(make_sessions(settings.effective_database_url), settings, make_hasher(settings))
    text = resources.files("ccms_server").joinpath("resources/terms.md").read_text()
    admin.publish_terms("1", "Acceptable Use Policy", text)
    assert CaPaths(folder).is_initialised()
    return folder


def start_harness(template: Path, folder: Path, tls: bool = True, **overrides: Any) -> Harness:
    shutil.copytree(template, folder)
    values = {**FAST_ARGON2, "rate_limit_per_minute": 0, **overrides}
    settings = load_settings(folder, **values)
    configure_logging(settings.effective_log_file)
    services = build_services(settings)
    thread = ServerThread(services, tls=tls).start()
    return Harness(folder, settings, services, thread)


SERVER_BIN = Path(sys.executable).parent / "ccms-server"


def start_process(args: list[str]) -> tuple[subprocess.Popen[str], str]:
    """Start a long-running `ccms-server` command; return it and its first stdout line."""
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(
            [str(SERVER_BIN), *args],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            stdin=subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line:
            stop_process(proc)
            errors.seek(0)
            raise AssertionError(f"ccms-server {args[0]} printed nothing: {errors.read()}")
    return proc, line


def stop_process(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    return proc.returncode


def _missing(message: str) -> None:
    """In CI a missing tool fails the test on Linux (the Debian job installs them all);
    on a developer's machine, and in the Windows and macOS jobs, it skips it."""
    if IN_CI and sys.platform.startswith("linux"):
        pytest.fail(message)
    pytest.skip(message)


NSS_TOOLS = {"certutil", "pk12util"}  # Windows has a certutil.exe of its own: another tool


def require_tool(name: str) -> str:
    if not sys.platform.startswith("linux") and name in NSS_TOOLS:
        pytest.skip("the NSS tools are tested on Linux")
    path = shutil.which(name)
    if path is None:
        _missing(f"{name} is not installed (.ci/run installs it)")
    assert path is not None
    return path


def require_file(path: Path) -> Path:
    """Like `require_tool`, for a file a Debian package installs (e.g. a jar)."""
    if not path.is_file():
        _missing(f"{path} is missing (.ci/run installs it)")
    return path


def client_settings(harness: Harness, folder: Path, **overrides: Any) -> Any:
    """EcmtSettings for a client of `harness`, with every per-user folder inside `folder`.

    No configuration file is read (not even the packaged defaults), so the developer's own
    files cannot leak into a test.
    """
    from ecmt.config import load_settings as load_client_settings

    values: dict[str, Any] = {
        "server_url": harness.url,
        "trust_anchors": [harness.trust_anchor],
        "data_dir": folder / "data",
        "log_dir": folder / "logs",
        "state_dir": folder / "state",
        "store": f"files:{folder / 'store'}",
        **overrides,
    }
    return load_client_settings(files=[], **values)


def release_keys(harness: Harness) -> list[dict[str, str]]:
    """The server's release public keys, as `release_keys` in the client settings."""
    import json

    keys: list[dict[str, str]] = json.loads(harness.services.paths.release_public_key.read_text())[
        "keys"
    ]
    return keys


def publish_release(
    harness: Harness,
    serial: int,
    latest: str,
    minimum: str,
    artifacts: list[dict[str, Any]] | None = None,
    notes: str = "Faster start.\nClearer messages.",
) -> None:
    """A real manifest, signed with the server's release key and served from now on."""
    from ccms_server import release

    paths = harness.services.paths
    signed = release.manifest_body(
        serial=serial,
        latest=latest,
        minimum=minimum,
        install_page="https://example.invalid/install.html",
        notes=notes,
        artifacts=artifacts,
        days=7,
    )
    envelope = release.sign(signed, release.load_signing_key(paths.release_key, None))
    release.publish(envelope, harness.data_dir / "release.json", paths.release_public_key)
