"""One certificate store contract, every adapter: a `kit` per adapter gives the store, a
way to put a certificate without its key into it, and the adapter's own after-test checks.

- nss: the real certutil and pk12util in a temporary database (Linux);
- files: a temporary folder, its password in memory;
- windows-fake-user, windows-fake-machine: the Windows adapter over tests/fakes_windows.py,
  checked after each test for leaked handles and contexts and for keys left without a
  certificate;
- windows-user, windows-machine: the real CurrentUser\\My and LocalMachine\\My (Windows
  only, marked `windows`); everything a test put there is removed after it;
- macos-fake: the keychain adapter over tests/fakes_macos.py, checked after each test:
  no key left without its certificate, every PKCS#12 handed over 3DES/SHA-1, every key
  given an access list naming this program and the browsers installed, and no process
  started (so no password can reach a command line);
- macos-keychain: a real keychain made for the test with `security create-keychain`,
  unlocked, added to the search list and deleted afterwards (macOS only, marked `macos`);
- two-stores: an NSS database and a file store behind one composite store.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12

from ecmt.certstore._files import FileStore, _pem_file
from ecmt.certstore._nss import NssStore
from ecmt.certstore.port import CertStore
from ecmt.domain.models import Profile, fingerprint
from fakes import MemorySecrets, MiniCA
from support import require_tool

ON_WINDOWS = sys.platform == "win32"
ON_LINUX = sys.platform.startswith("linux")
ON_MACOS = sys.platform == "darwin"
real_windows = pytest.mark.skipif(not ON_WINDOWS, reason="the real Windows stores")
real_macos = pytest.mark.skipif(not ON_MACOS, reason="a real macOS keychain")
nss_tools = pytest.mark.skipif(not ON_LINUX, reason="the NSS tools are tested on Linux")


@dataclass
class Kit:
    name: str
    store: CertStore
    add_without_key: Callable[[x509.Certificate], None]
    checks: list[Callable[[], None]] = field(default_factory=list)
    cas: list[MiniCA] = field(default_factory=list)

    def ca(self, name: str = "Fake") -> MiniCA:
        """A CA made for this test (removed from a real store afterwards)."""
        made = MiniCA(name)
        self.cas.append(made)
        return made


@pytest.fixture(
    params=[
        pytest.param("nss", marks=nss_tools),
        "files",
        "windows-fake-user",
        "windows-fake-machine",
        pytest.param("windows-user", marks=[pytest.mark.windows, real_windows]),
        pytest.param("windows-machine", marks=[pytest.mark.windows, real_windows]),
        "macos-fake",
        pytest.param("macos-keychain", marks=[pytest.mark.macos, real_macos]),
        pytest.param("two-stores", marks=nss_tools),
    ]
)
def kit(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Kit]:
    name = request.param
    made = {
        "nss": _nss_kit,
        "files": _files_kit,
        "windows-fake-user": _fake_windows_kit,
        "windows-fake-machine": _fake_windows_kit,
        "windows-user": _windows_kit,
        "windows-machine": _windows_kit,
        "macos-fake": _fake_macos_kit,
        "macos-keychain": _macos_kit,
        "two-stores": _two_stores_kit,
    }[name](name, tmp_path, monkeypatch)
    yield made
    for check in made.checks:
        check()


def _nss_kit(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kit:
    require_tool("certutil")
    require_tool("pk12util")
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    db = tmp_path / "nssdb"
    store = NssStore(db)

    def add_without_key(cert: x509.Certificate) -> None:
        pem = tmp_path / "only.pem"
        pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        empty = tmp_path / "empty.pw"
        empty.touch()
        if not (db / "cert9.db").exists():
            db.mkdir(mode=0o700, exist_ok=True)
            subprocess.run(
                ["certutil", "-N", "-d", f"sql:{db}", "--empty-password"],
                check=True, capture_output=True, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{db}", "-n", f"no key {fingerprint(cert)[:8]}",
             "-t", ",,", "-i", str(pem), "-f", str(empty)],
            check=True, capture_output=True, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    def no_session_folders_left() -> None:
        assert list(runtime.iterdir()) == []

    return Kit(name, store, add_without_key, [no_session_folders_left])


def _two_stores_kit(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kit:
    from ecmt.certstore import Place, SeveralStores

    nss = _nss_kit("nss", tmp_path, monkeypatch)
    files = _files_kit("files", tmp_path, monkeypatch)
    store = SeveralStores([Place("nss", nss.store), Place("files", files.store)], "nss,files")

    def add_without_key(cert: x509.Certificate) -> None:
        nss.add_without_key(cert)
        files.add_without_key(cert)

    return Kit(name, store, add_without_key, nss.checks + files.checks)


def _files_kit(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kit:
    folder = tmp_path / "certificates"
    store = FileStore(folder, MemorySecrets())

    def add_without_key(cert: x509.Certificate) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{fingerprint(cert)}.pem").write_bytes(_pem_file(cert, [], "no key"))

    return Kit(name, store, add_without_key)


def _fake_windows_kit(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kit:
    from ecmt.certstore._windows import WindowsStore
    from fakes_windows import Element, FakeWindows

    fake = FakeWindows()
    location = name.rsplit("-", 1)[1]
    store = WindowsStore(location, api=fake.api)

    def add_without_key(cert: x509.Certificate) -> None:
        fake.store(location).append(Element(cert.public_bytes(serialization.Encoding.DER)))

    def nothing_leaked() -> None:
        fake.assert_released()
        assert fake.orphaned_keys() == []

    kit = Kit(name, store, add_without_key, [nothing_leaked])
    kit.fake = fake  # type: ignore[attr-defined]
    return kit


def _fake_macos_kit(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kit:
    from ecmt import pkcs12
    from ecmt.certstore._macos import MacosStore
    from fakes_macos import SELF, FakeSecurity

    fake = FakeSecurity()
    keychain = tmp_path / "login.keychain-db"
    fake.create_keychain(keychain)
    apps = tmp_path / "Applications"
    installed = [apps / "Safari.app", apps / "Google Chrome.app"]
    for app in installed:
        app.mkdir(parents=True)
    browsers = [*map(str, installed), str(apps / "Microsoft Edge.app")]  # Edge: not here
    store = MacosStore("login", keychain=keychain, api=fake, browsers=browsers)
    started: list[object] = []

    def no_process(*args: object, **kwargs: object) -> object:
        started.append(args)
        raise AssertionError(f"the keychain adapter started a process: {args}")

    monkeypatch.setattr(subprocess, "Popen", no_process)

    def add_without_key(cert: x509.Certificate) -> None:
        fake.add_certificate(keychain, cert)

    def clean_and_contract_kept() -> None:
        assert started == []
        assert fake.orphaned_keys(keychain) == []
        for data in fake.imported:
            assert pkcs12.OID_PBE_SHA1_3DES in data
            assert pkcs12.OID_SHA1 in data
            assert pkcs12.OID_PBES2 not in data
        for call in fake.called("SecPKCS12Import"):
            options = call.args[1]
            assert options["keychain"].path == keychain
            apps_named = [a.path for a in options["access"].apps]
            assert apps_named == [SELF, *map(str, installed)]
        for key in fake.items(keychain, "keys"):
            assert key.access is not None

    kit = Kit(name, store, add_without_key, [clean_and_contract_kept])
    kit.fake = fake  # type: ignore[attr-defined]
    return kit


def _macos_kit(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kit:
    """A keychain of the test's own (its password is a throwaway, on argv only here)."""
    import secrets

    from ecmt.certstore._macos import MacosStore

    def security(*args: str) -> str:
        done = subprocess.run(
            ["security", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        assert done.returncode == 0, f"security {args[0]}: {done.stderr.strip()}"
        return done.stdout

    password = secrets.token_hex(16)
    keychain = tmp_path / "ecmt-test.keychain"
    security("create-keychain", "-p", password, str(keychain))
    if not keychain.exists():  # macOS names the file NAME.keychain-db
        keychain = keychain.with_name(keychain.name + "-db")
    searched = [
        line.strip().strip('"') for line in security("list-keychains", "-d", "user").splitlines()
    ]
    security("set-keychain-settings", str(keychain))  # no timeout: never locks mid-test
    security("unlock-keychain", "-p", password, str(keychain))
    security("list-keychains", "-d", "user", "-s", str(keychain), *filter(None, searched))
    store = MacosStore("login", keychain=keychain)

    def add_without_key(cert: x509.Certificate) -> None:
        pem = tmp_path / f"{fingerprint(cert)[:8]}.pem"
        pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        security("add-certificates", "-k", str(keychain), str(pem))

    def delete_keychain() -> None:
        security("list-keychains", "-d", "user", "-s", *filter(None, searched))
        security("delete-keychain", str(keychain))

    return Kit(name, store, add_without_key, [delete_keychain])


def _windows_kit(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Kit:
    from ecmt.certstore._windows import WindowsStore

    location = name.rsplit("-", 1)[1]
    store = WindowsStore(location)

    def add_without_key(cert: x509.Certificate) -> None:
        _add_certificate_only(store, cert)

    kit = Kit(name, store, add_without_key)
    kit.checks.append(lambda: _clean_real_store(store, kit.cas))
    return kit


def _add_certificate_only(store: Any, cert: x509.Certificate) -> None:
    """Through a PKCS#12 that holds only the certificate, as `certutil -addstore` would."""
    from ecmt.certstore import _crypt32 as w
    from ecmt.certstore import _win_contexts as ctx

    encryption = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .key_cert_algorithm(crypto_pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())  # noqa: S303 - what every Windows reads
        .build(b"certificate only")
    )
    data = crypto_pkcs12.serialize_key_and_certificates(None, None, cert, None, encryption)
    api = store.api
    with (
        ctx.imported_pfx(api, data, "certificate only", store.import_flags) as temp,
        ctx.system_store(api, store._store_flag, "MY", readonly=False) as my,
        ctx.held(api, temp, fingerprint(cert)) as context,
    ):
        api.CertAddCertificateContextToStore(my, context, w.CERT_STORE_ADD_ALWAYS, None)


def _clean_real_store(store: Any, cas: list[MiniCA]) -> None:
    """Remove every certificate (and key) our test CAs issued, and the CAs themselves."""
    from ecmt.certstore import _win_contexts as ctx

    issuers = {ca.issuing.subject for ca in cas}
    for stored in store.list(Profile()):
        if stored.certificate.issuer in issuers:
            store.remove(stored.fingerprint)
    api = store.api
    with ctx.system_store(api, store._store_flag, "CA", readonly=False) as ca_store:
        for ca in cas:
            for cert in (ca.issuing, ca.root):
                with ctx.held(api, ca_store, fingerprint(cert)) as context:
                    if context:
                        ctx.delete(api, context)
