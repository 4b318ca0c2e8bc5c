"""`ecmt` end to end against the real reference server over TLS, into real stores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from client_cli import ECMT, client_env, ecmt
from cryptography import x509

from ecmt.domain.models import epoc_of
from support import publish_release, release_keys, require_tool


def nss_certs(db: Path) -> list[x509.Certificate]:
    listing = subprocess.run(
        ["certutil", "-L", "-d", f"sql:{db}"], capture_output=True, text=True, check=True
    ).stdout
    names = [line[:60].rstrip() for line in listing.splitlines()[4:] if line.strip()]
    certs: list[x509.Certificate] = []
    for name in dict.fromkeys(names):
        pem = subprocess.run(
            ["certutil", "-L", "-d", f"sql:{db}", "-n", name, "-a"], capture_output=True, check=True
        ).stdout
        certs.extend(x509.load_pem_x509_certificates(pem))
    return [c for c in dict.fromkeys(certs) if epoc_of(c)]


@pytest.fixture
def nss_db(tmp_path) -> Path:
    require_tool("certutil")
    require_tool("pk12util")
    db = tmp_path / "nssdb"
    db.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    return db


def common(server, store: str) -> list[str]:
    return ["--server", server.url, "--trust-anchor", str(server.trust_anchor), "--store", store]


def test_renew_with_pin_into_nss_then_status(server, nss_db, tmp_path):
    epoc = server.add_account(name="Dr Nss", accept_terms=False)
    pin = server.issue_pin(epoc)
    run = ecmt(
        "renew",
        *common(server, f"nss:{nss_db}"),
        "--epoc",
        epoc,
        "--pin-stdin",
        "--accept-terms",
        "--json",
        home=tmp_path,
        stdin=pin + "\n",
    )
    assert run.returncode == 0, run.stderr
    result = run.json
    assert result["status"] == "ok"
    assert result["certificate"]["epoc"] == epoc
    assert "PCR and PCRUA" in result["notices"][0]
    assert "[1/7] generating key" in run.stderr
    (cert,) = nss_certs(nss_db)
    assert epoc_of(cert) == epoc
    status = ecmt("status", "--json", "--store", f"nss:{nss_db}", home=tmp_path)
    assert status.returncode == 0, status.stderr
    (entry,) = status.json["certificates"]
    assert entry["epoc"] == epoc
    assert entry["days_left"] in (364, 365)
    assert entry["state"] == "valid"
    assert status.json["epoc"] == epoc


def first_renewal(server, nss_db: Path, home: Path) -> x509.Certificate:
    """A PIN renewal into the NSS database; the one certificate it installed."""
    epoc = server.add_account()
    run = ecmt(
        "renew",
        *common(server, f"nss:{nss_db}"),
        "--epoc",
        epoc,
        "--pin-stdin",
        home=home,
        stdin=server.issue_pin(epoc),
    )
    assert run.returncode == 0, run.stderr
    (installed,) = nss_certs(nss_db)
    return installed


def test_renew_with_current_certificate_replaces_the_old(server, nss_db, tmp_path):
    old = first_renewal(server, nss_db, tmp_path)
    again = ecmt(
        "renew", *common(server, f"nss:{nss_db}"), "--with-current-cert", "--json", home=tmp_path
    )
    assert again.returncode == 0, again.stderr
    (new,) = nss_certs(nss_db)
    assert new.serial_number != old.serial_number
    assert new.subject == old.subject
    assert again.json["removed"] != []
    keys = subprocess.run(
        ["certutil", "-K", "-d", f"sql:{nss_db}", "-f", "/dev/null"], capture_output=True, text=True
    ).stdout
    assert keys.count("rsa") == 1  # the old key went with the old certificate


@pytest.mark.parametrize(
    ("setup", "code", "exit_code"),
    [
        ("wrong", "ECMT-AUTH-INVALID", 3),
        ("superseded", "ECMT-PIN-SUPERSEDED", 3),
        ("used", "ECMT-PIN-USED", 3),
        ("locked", "ECMT-ACCOUNT-LOCKED", 3),
        ("terms", "ECMT-TERMS-REQUIRED", 4),
    ],
)
def test_logon_failures_have_codes_and_exit_statuses(server, tmp_path, setup, code, exit_code):
    epoc = server.add_account(accept_terms=setup != "terms")
    pin = server.issue_pin(epoc)
    if setup == "wrong":
        pin = "WRNG-WRNG-WRNG"
    elif setup == "superseded":
        server.issue_pin(epoc)
    elif setup == "used":
        assert server.enroll(epoc, pin).status_code == 200
    elif setup == "locked":
        for _ in range(5):
            server.http().get(server.url + "/ccms/v1/account", auth=(epoc, "BAD"))
    run = ecmt(
        "renew",
        *common(server, f"files:{tmp_path / 'store'}"),
        "--epoc",
        epoc,
        "--pin-stdin",
        "--json",
        home=tmp_path,
        stdin=pin,
    )
    assert run.returncode == exit_code, run.stderr
    assert run.json["code"] == code
    if setup == "wrong":
        assert run.json["attempts_remaining"] == 4
        assert "Attempts left before the account locks: 4" in run.stderr
    if setup != "terms":  # refused by the server: the helpdesk reference comes with it
        assert run.json["reference"]
    assert not list((tmp_path / "store").glob("*.p12"))


def test_wrong_trust_anchor_is_refused(server, tmp_path):
    from fakes import MiniCA
    from support import pem

    other = tmp_path / "other-root.pem"
    other.write_bytes(pem(MiniCA().root))
    epoc = server.add_account()
    run = ecmt(
        "renew",
        "--server",
        server.url,
        "--trust-anchor",
        str(other),
        "--store",
        f"files:{tmp_path / 'store'}",
        "--epoc",
        epoc,
        "--pin-stdin",
        home=tmp_path,
        stdin=server.issue_pin(epoc),
    )
    assert run.returncode == 5
    assert "ECMT-TLS-UNTRUSTED" in run.stderr


def test_pin_is_never_an_argument(tmp_path):
    run = ecmt("renew", "--pin", "1234", home=tmp_path)
    assert run.returncode == 2


def fake_tool(folder: Path, name: str, script: str) -> None:
    folder.mkdir(exist_ok=True)
    tool = folder / name
    tool.write_text("#!/bin/sh\n" + script)
    tool.chmod(0o755)


def test_failure_mid_install_leaves_the_old_certificate(server, nss_db, tmp_path):
    old = first_renewal(server, nss_db, tmp_path)
    broken = tmp_path / "broken-bin"
    fake_tool(broken, "pk12util", "echo 'pk12util: simulated failure' >&2\nexit 255\n")
    run = ecmt(
        "renew",
        *common(server, f"nss:{nss_db}"),
        "--with-current-cert",
        home=tmp_path,
        path_prefix=broken,
    )
    assert run.returncode == 6, run.stderr
    assert "ECMT-STORE-ERROR" in run.stderr
    assert nss_certs(nss_db) == [old]


def test_lost_response_is_recovered_from_the_journal(server, nss_db, tmp_path):
    """Kill the client after the server issued and before the install finished."""
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    hanging = tmp_path / "hanging-bin"
    fake_tool(hanging, "pk12util", "sleep 600\n")
    args = [str(ECMT), "renew", *common(server, f"nss:{nss_db}"), "--epoc", epoc, "--pin-stdin"]
    proc = subprocess.Popen(
        args,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=client_env(tmp_path, hanging),
        start_new_session=True,
    )
    assert proc.stdin is not None
    proc.stdin.write(pin + "\n")
    proc.stdin.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.admin.list_certificates(epoc) == []:
        time.sleep(0.2)
    issued = server.admin.list_certificates(epoc)
    assert len(issued) == 1, "the server never issued"
    time.sleep(1.0)  # let the client reach the (hanging) install
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    assert nss_certs(nss_db) == []

    again = ecmt(
        "renew",
        *common(server, f"nss:{nss_db}"),
        "--epoc",
        epoc,
        "--pin-stdin",
        "--json",
        home=tmp_path,
        stdin=pin,
    )
    assert again.returncode == 0, again.stderr
    assert again.json["recovered"] is True
    (installed,) = nss_certs(nss_db)
    assert format(installed.serial_number, "x") == issued[0]["serial"]
    assert len(server.admin.list_certificates(epoc)) == 1  # the same certificate, not a new one


def test_secrets_never_leak(server, nss_db, tmp_path):
    """A whole renewal with a backup: neither the PIN nor the backup password appears in the
    log, the settings, the journal or the argv of any child process."""
    epoc = server.add_account(accept_terms=False)
    pin = server.issue_pin(epoc)
    password = "Backup-Passw0rd-Kept"
    secret_file = tmp_path / "backup-password"
    secret_file.write_text(password + "\n")
    spy = tmp_path / "spy-bin"
    argv_log = tmp_path / "child-argv.log"
    for tool in ("certutil", "pk12util", "openssl"):
        real = subprocess.run(
            ["sh", "-c", f"command -v {tool}"], capture_output=True, text=True
        ).stdout.strip()
        if real:
            fake_tool(spy, tool, f'echo "{tool} $*" >> "{argv_log}"\nexec "{real}" "$@"\n')
    run = ecmt(
        "renew",
        *common(server, f"nss:{nss_db}"),
        "--epoc",
        epoc,
        "--pin-stdin",
        "--accept-terms",
        "--backup",
        str(tmp_path / "out" / "backup.p12"),
        "--backup-password-file",
        str(secret_file),
        "--backup-format",
        "modern",
        "--json",
        home=tmp_path,
        stdin=pin,
        path_prefix=spy,
    )
    assert run.returncode == 0, run.stderr
    assert run.json["backup"]["format"] == "modern"
    assert argv_log.read_text().count("pk12util") >= 1
    for secret in (pin, pin.replace("-", ""), password):
        for path in tmp_path.rglob("*"):
            if path.is_file() and path != secret_file and path.suffix != ".p12":
                assert secret.encode() not in path.read_bytes(), path
        assert secret not in run.stdout + run.stderr
    logs = list((tmp_path / ".local" / "state").rglob("*.log"))
    assert logs, "the client wrote no log file"
    assert "simpleenroll -> 200" in "".join(p.read_text() for p in logs)


def test_demo_server_then_renew_into_nss_then_status(nss_db, tmp_path):
    """The whole story with the two published commands: `ccms-server demo`, `ecmt renew`."""
    from support import start_process, stop_process

    proc, line = start_process(["demo", "--data-dir", str(tmp_path / "demo")])
    try:
        demo = json.loads(line)
        run = ecmt(
            "renew",
            "--server",
            demo["url"],
            "--trust-anchor",
            demo["trust_anchor"],
            "--store",
            f"nss:{nss_db}",
            "--epoc",
            demo["epoc"],
            "--pin-stdin",
            "--accept-terms",
            home=tmp_path,
            stdin=demo["pin"] + "\n",
        )
        assert run.returncode == 0, run.stderr
        assert 'Accepted "Acceptable Use Policy" version 1.' in run.stderr
        (cert,) = nss_certs(nss_db)
        assert epoc_of(cert) == demo["epoc"]
        status = ecmt("status", "--json", "--store", f"nss:{nss_db}", home=tmp_path)
        (entry,) = status.json["certificates"]
        assert entry["epoc"] == demo["epoc"]
        assert entry["days_left"] >= 364
    finally:
        assert stop_process(proc) == 0


def test_weak_backup_password_stops_before_anything_is_sent(server, tmp_path):
    epoc = server.add_account()
    weak = tmp_path / "weak"
    weak.write_text("password\n")
    run = ecmt(
        "renew",
        *common(server, f"files:{tmp_path / 'store'}"),
        "--epoc",
        epoc,
        "--pin-stdin",
        "--backup",
        str(tmp_path / "b.p12"),
        "--backup-password-file",
        str(weak),
        home=tmp_path,
        stdin=server.issue_pin(epoc),
    )
    assert run.returncode == 8
    assert "ECMT-BACKUP-PASSWORD-POLICY" in run.stderr
    assert server.admin.list_certificates(epoc) == []
    assert "password" not in run.stderr.split("Detail:")[-1]


def test_configuration_mistakes_are_config_invalid(tmp_path):
    config = tmp_path / "broken.toml"
    config.write_text("server_url = [\n")
    run = ecmt("status", "--config", str(config), "--json", home=tmp_path)
    assert run.returncode == 1
    assert run.json["code"] == "ECMT-CONFIG-INVALID"
    assert "Traceback" not in run.stderr


def test_check_release_fine_offer_block(server, tmp_path):
    import tomli_w

    config = tmp_path / "release.toml"
    config.write_text(tomli_w.dumps({"release_keys": release_keys(server)}))
    args = [
        "check-release",
        "--config",
        str(config),
        "--server",
        server.url,
        "--trust-anchor",
        str(server.trust_anchor),
        "--json",
    ]
    publish_release(server, 1, "0.0.1", "0.0.1")
    fine = ecmt(*args, home=tmp_path)
    assert (fine.returncode, fine.json["verdict"]) == (0, "fine"), fine.stderr
    publish_release(server, 2, "999.0.0", "0.0.1")
    offer = ecmt(*args, home=tmp_path)
    assert (offer.returncode, offer.json["verdict"]) == (0, "offer")
    publish_release(server, 3, "999.0.0", "999.0.0")
    block = ecmt(*args, home=tmp_path)
    assert block.returncode == 7
    assert block.json["status"] == "blocked"
    assert block.json["install_page"] == "https://example.invalid/install.html"
    human = ecmt(*args[:-1], home=tmp_path)
    assert human.returncode == 7
    assert "ECMT-RELEASE-BLOCKED" in human.stderr
