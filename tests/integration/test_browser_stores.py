"""`ecmt renew` as a real process into the NSS databases browsers read, in a home of the
test's own: Chromium's current path in a fresh home, its old path where that exists,
Chrome and Firefox at once, and a two-store renewal that fails in the second store."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from client_cli import ecmt
from cryptography import x509

from ecmt.domain.models import epoc_of, fingerprint
from support import require_tool

pytestmark = [
    pytest.mark.posix,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="browsers' NSS on Linux"),
]
CHROMIUM_NEW = Path(".local/share/pki/nssdb")
CHROMIUM_OLD = Path(".pki/nssdb")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    require_tool("certutil")
    require_tool("pk12util")
    made = tmp_path / "home"
    made.mkdir()
    return made


def new_db(folder: Path) -> Path:
    folder.mkdir(parents=True, mode=0o700)
    subprocess.run(
        ["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"],
        check=True, capture_output=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    return folder


def firefox_profile(home: Path, name: str = "default-release") -> Path:
    """A profile as Firefox leaves it after its first start: listed, with a database."""
    root = home / ".mozilla/firefox"
    folder = new_db(root / f"k3xq1m0v.{name}")
    (root / "profiles.ini").write_text(
        f"[Profile0]\nName={name}\nIsRelative=1\nPath={folder.name}\nDefault=1\n\n"
        "[General]\nStartWithLastProfile=1\nVersion=2\n"
    )
    return folder


def ours(db: Path) -> dict[str, x509.Certificate]:
    """Every certificate with an EPOC in the database, by fingerprint (certutil itself)."""
    listing = subprocess.run(
        ["certutil", "-L", "-d", f"sql:{db}"], capture_output=True, text=True, check=True
    ).stdout
    names = [line[:60].rstrip() for line in listing.splitlines()[4:] if line.strip()]
    found: dict[str, x509.Certificate] = {}
    for name in dict.fromkeys(names):
        pem = subprocess.run(
            ["certutil", "-L", "-d", f"sql:{db}", "-n", name, "-a"], capture_output=True, check=True
        ).stdout
        for cert in x509.load_pem_x509_certificates(pem):
            if epoc_of(cert):
                found[fingerprint(cert)] = cert
    return found


def key_count(db: Path) -> int:
    keys = subprocess.run(
        ["certutil", "-K", "-d", f"sql:{db}", "-f", "/dev/null"], capture_output=True, text=True
    ).stdout
    return sum(1 for line in keys.splitlines() if line.startswith("<"))


def server_options(server) -> list[str]:
    return ["--server", server.url, "--trust-anchor", str(server.trust_anchor)]


def renew_with_pin(server, home: Path, *store: str, epoc: str | None = None):
    epoc = epoc or server.add_account(name="Dr Browser")
    return ecmt(
        "renew",
        *server_options(server),
        *store,
        "--epoc",
        epoc,
        "--pin-stdin",
        "--json",
        home=home,
        stdin=server.issue_pin(epoc) + "\n",
    )


def test_a_fresh_home_gets_the_certificate_where_chromium_reads_it(server, home):
    run = renew_with_pin(server, home)  # no store configured: the default

    assert run.returncode == 0, run.stderr
    db = home / CHROMIUM_NEW
    (installed,) = ours(db).values()
    assert fingerprint(installed) == run.json["certificate"]["fingerprint"]
    assert db.stat().st_mode & 0o777 == 0o700
    assert not (home / ".pki").exists()  # Chromium would read the old path if it existed
    status = ecmt("status", "--json", home=home)
    assert status.returncode == 0, status.stderr
    assert status.json["store"] == "NSS database ~/.local/share/pki/nssdb"
    assert status.json["stores"] == [
        {
            "store": "nss",
            "where": "the certificate store Chrome and Edge use on this computer",
            "location": "NSS database ~/.local/share/pki/nssdb",
        }
    ]
    text = ecmt("status", home=home)
    assert text.stdout.startswith("Certificates in NSS database ~/.local/share/pki/nssdb")


def test_where_the_old_database_exists_it_stays_the_one(server, home):
    old = new_db(home / CHROMIUM_OLD)

    run = renew_with_pin(server, home, "--store", "nss")

    assert run.returncode == 0, run.stderr
    assert len(ours(old)) == 1
    assert not (home / CHROMIUM_NEW).exists()
    status = ecmt("status", "--json", "--store", "nss", home=home)
    assert status.json["store"] == "NSS database ~/.pki/nssdb"


def test_chrome_and_firefox_get_it_both_and_a_renewal_replaces_it_in_both(server, home):
    profile = firefox_profile(home)

    first = renew_with_pin(server, home, "--store", "nss,firefox")

    assert first.returncode == 0, first.stderr
    chrome = home / CHROMIUM_NEW
    (old,) = ours(chrome)
    assert list(ours(profile)) == [old]
    assert key_count(profile) == 1
    status = ecmt("status", "--json", "--store", "nss,firefox", home=home)
    (entry,) = status.json["certificates"]
    assert entry["where"] == "the certificate stores of Chrome and Edge, and Firefox"
    assert [(p["store"], p["has_private_key"]) for p in entry["places"]] == [
        ("nss", True),
        ("firefox", True),
    ]
    assert entry["places"][1]["location"] == (
        f"Firefox profile default-release (NSS database ~/{profile.relative_to(home)})"
    )

    again = ecmt(
        "renew", *server_options(server), "--store", "nss,firefox", "--with-current-cert",
        "--json", home=home,
    )  # fmt: skip

    assert again.returncode == 0, again.stderr
    new = again.json["certificate"]["fingerprint"]
    assert new != old
    assert list(ours(chrome)) == [new]
    assert list(ours(profile)) == [new]
    assert key_count(chrome) == key_count(profile) == 1


def test_firefox_open_during_a_two_store_renewal_leaves_both_stores_as_they_were(
    server, home, tmp_path
):
    profile = firefox_profile(home)
    assert renew_with_pin(server, home, "--store", "nss,firefox").returncode == 0
    chrome = home / CHROMIUM_NEW
    before = (set(ours(chrome)), set(ours(profile)), key_count(chrome), key_count(profile))
    (old,) = before[0]
    config = tmp_path / "wait.toml"
    config.write_text("firefox_wait_seconds = 1\n")
    firefox = tmp_path / "bin" / "firefox"  # a process named firefox, holding the profile
    firefox.parent.mkdir()
    firefox.symlink_to(sys.executable)
    running = subprocess.Popen(
        [str(firefox), "-c", "import time; time.sleep(120)"], stdin=subprocess.DEVNULL
    )
    comm = Path(f"/proc/{running.pid}/comm")
    while comm.read_text().strip() != "firefox":  # Popen may return just before the exec
        time.sleep(0.01)
    (profile / "lock").symlink_to(f"127.0.1.1:+{running.pid}")
    options = [*server_options(server), "--config", str(config), "--store", "nss,firefox"]
    try:
        began = time.monotonic()
        failed = ecmt("renew", *options, "--with-current-cert", "--json", home=home)
        waited = time.monotonic() - began
    finally:
        running.kill()
        running.wait(10)

    assert failed.returncode == 6, failed.stderr
    error = json.loads(failed.stdout)
    assert error["code"] == "ECMT-STORE-BROWSER-RUNNING"
    assert f"process {running.pid}" in error["detail"]
    assert waited >= 1
    after = (set(ours(chrome)), set(ours(profile)), key_count(chrome), key_count(profile))
    assert after == before  # the new one went into Chrome's store, and out again

    retried = ecmt("renew", *options, "--with-current-cert", "--json", home=home)

    assert retried.returncode == 0, retried.stderr
    new = retried.json["certificate"]["fingerprint"]
    assert new != old
    assert set(ours(chrome)) == set(ours(profile)) == {new}
