"""The admin CLI as an operator runs it: real processes, real files, real exit codes."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
import requests
from cryptography import x509

from support import SERVER_BIN as BIN
from support import start_process, stop_process

PIN_PATTERN = re.compile(
    r"^[346789ABCDEFGHJKMNPQRTUVWXY]{4}(-[346789ABCDEFGHJKMNPQRTUVWXY]{4}){2}$"
)


def ccms(*args: str, check: bool = True, env: dict[str, str] | None = None):
    result = subprocess.run(
        [str(BIN), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {result.stderr}")
    return result


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "data"
    ccms("init", "--data-dir", str(folder), "--key-type", "ec-p256", "--hostname", "ccms.test")
    return folder


@pytest.mark.posix
def test_init_lays_out_private_files(data_dir):
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "private").stat().st_mode) == 0o700
    keys = sorted(p.name for p in (data_dir / "private").iterdir())
    assert keys == [
        "issuing-ca.key.pem",
        "logon-token.key.pem",
        "release-signing.key.pem",
        "root-ca.key.pem",
        "tls-server.key.pem",
    ]
    for key in (data_dir / "private").iterdir():
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    anchor = x509.load_pem_x509_certificate((data_dir / "trust-anchor.pem").read_bytes())
    assert anchor.subject == anchor.issuer
    tls = x509.load_pem_x509_certificates((data_dir / "tls" / "server-chain.pem").read_bytes())[0]
    names = tls.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"localhost", "ccms.test"} <= set(names.get_values_for_type(x509.DNSName))
    assert [str(ip) for ip in names.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    assert not list(data_dir.rglob(".*.pem.*")), "temporary files left behind"


def test_init_refuses_to_replace_keys(data_dir):
    before = (data_dir / "private" / "root-ca.key.pem").read_bytes()
    result = ccms("init", "--data-dir", str(data_dir), check=False)
    assert result.returncode == 1
    assert "already initialised" in result.stderr
    assert (data_dir / "private" / "root-ca.key.pem").read_bytes() == before


def test_passphrase_encrypts_keys_and_is_needed_to_serve(tmp_path):
    secret = tmp_path / "passphrase"
    secret.write_text("correct horse battery staple\n")
    folder = tmp_path / "data"
    ccms(
        "init", "--data-dir", str(folder), "--key-type", "ec-p256", "--passphrase-file", str(secret)
    )
    for key in (folder / "private").iterdir():
        assert key.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    result = ccms("serve", "--data-dir", str(folder), "--port", "0", check=False)
    assert result.returncode == 1
    assert "passphrase is wrong or missing" in result.stderr
    assert "correct horse" not in result.stderr + result.stdout
    pin = ccms("pin", "issue", "--data-dir", str(folder), "--epoc", "1234", check=False)
    assert pin.returncode == 1  # no such account: a plain error, not a traceback
    assert "no account with EPOC 1234" in pin.stderr


def test_accounts_pins_and_errors(data_dir):
    ccms(
        "account",
        "add",
        "--data-dir",
        str(data_dir),
        "--epoc",
        "7654321",
        "--name",
        "Dr Cli",
        "--organisation",
        "Cli Practice",
        "--role",
        "GP",
    )
    first = ccms("pin", "issue", "--data-dir", str(data_dir), "--epoc", "7654321").stdout.strip()
    second = ccms("pin", "issue", "--data-dir", str(data_dir), "--epoc", "7654321").stdout.strip()
    assert PIN_PATTERN.match(first)
    assert PIN_PATTERN.match(second)
    assert first != second
    again = ccms(
        "account",
        "add",
        "--data-dir",
        str(data_dir),
        "--epoc",
        "7654321",
        "--name",
        "X",
        "--organisation",
        "Y",
        "--role",
        "Z",
        check=False,
    )
    assert again.returncode == 1
    assert "already exists" in again.stderr
    bad = ccms(
        "account",
        "add",
        "--data-dir",
        str(data_dir),
        "--epoc",
        "12ab",
        "--name",
        "X",
        "--organisation",
        "Y",
        "--role",
        "Z",
        check=False,
    )
    assert bad.returncode == 1
    assert "does not match" in bad.stderr
    usage = ccms("account", "add", "--data-dir", str(data_dir), check=False)
    assert usage.returncode == 2


def test_release_sign_and_publish_refuses_rollback(data_dir, tmp_path):
    manifest = tmp_path / "release.json"
    ccms(
        "release",
        "sign",
        "--data-dir",
        str(data_dir),
        "--latest-version",
        "4.2.0",
        "--minimum-version",
        "4.1.0",
        "--serial",
        "5",
        "--out",
        str(manifest),
        "--artifact",
        "windows-x64,msi,https://example.invalid/e.msi," + "a" * 64 + ",123",
    )
    body = json.loads(manifest.read_text())
    assert body["signed"]["artifacts"][0]["size"] == 123
    assert ccms("release", "publish", "--data-dir", str(data_dir), str(manifest)).returncode == 0
    older = tmp_path / "older.json"
    ccms("release", "sign", "--data-dir", str(data_dir), "--serial", "4", "--out", str(older))
    result = ccms("release", "publish", "--data-dir", str(data_dir), str(older), check=False)
    assert result.returncode == 1
    assert "not above the published serial 5" in result.stderr
    tampered = json.loads(manifest.read_text())
    tampered["signed"]["minimum_version"] = "0.0.1"
    tampered["signed"]["serial"] = 9
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    result = ccms(
        "release",
        "publish",
        "--data-dir",
        str(data_dir),
        str(tmp_path / "tampered.json"),
        check=False,
    )
    assert result.returncode == 1
    assert "no signature by a trusted release key" in result.stderr


def test_terms_requests_certs_maintenance(data_dir, tmp_path):
    terms = tmp_path / "terms.txt"
    terms.write_text("Version two of the terms.\n")
    out = ccms(
        "terms", "publish", "--data-dir", str(data_dir), "--version", "2", "--file", str(terms)
    ).stdout
    assert "published terms version 2" in out
    assert json.loads(ccms("requests", "list", "--data-dir", str(data_dir)).stdout) == []
    missing = ccms("requests", "approve", "--data-dir", str(data_dir), "99", check=False)
    assert missing.returncode == 1
    assert json.loads(ccms("certs", "list", "--data-dir", str(data_dir)).stdout) == []
    ccms("maintenance", "--data-dir", str(data_dir), "on", "--retry-after", "60")
    assert (data_dir / "maintenance").read_text().strip() == "60"
    ccms("maintenance", "--data-dir", str(data_dir), "off")
    assert not (data_dir / "maintenance").exists()


def _http(anchor: Path) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(anchor)
    return session


@pytest.mark.posix  # stopped with SIGTERM
def test_serve_prints_its_url_and_stops_on_sigterm(data_dir):
    proc, line = start_process(["serve", "--data-dir", str(data_dir), "--port", "0"])
    try:
        match = re.fullmatch(r"listening on (https://127\.0\.0\.1:(\d+))\n", line)
        assert match, line
        response = _http(data_dir / "trust-anchor.pem").get(
            match.group(1) + "/.well-known/est/cacerts", timeout=10
        )
        assert response.status_code == 200
    finally:
        assert stop_process(proc) == 0
    assert "GET /.well-known/est/cacerts" in (data_dir / "logs" / "ccms-server.log").read_text()


@pytest.mark.posix  # stopped with SIGTERM
def test_demo_prints_one_json_line_and_cleans_up(tmp_path):
    proc, line = start_process(["demo"])
    try:
        demo = json.loads(line)
        assert sorted(demo) == ["data_dir", "epoc", "pin", "trust_anchor", "url"]
        assert PIN_PATTERN.match(demo["pin"])
        session = _http(Path(demo["trust_anchor"]))
        account = session.get(
            demo["url"] + "/ccms/v1/account", auth=(demo["epoc"], demo["pin"]), timeout=10
        )
        assert account.status_code == 200
        assert account.json()["terms_accepted_version"] is None
        release = session.get(demo["url"] + "/ccms/v1/client-release", timeout=10).json()
        assert release["signed"]["product"] == "ecmt"
    finally:
        assert stop_process(proc) == 0
    assert not Path(demo["data_dir"]).exists()


@pytest.mark.posix  # stopped with SIGTERM
def test_demo_in_a_kept_folder_issues_a_fresh_pin_each_run(tmp_path):
    folder = tmp_path / "demo"
    pins = []
    for _ in range(2):
        proc, line = start_process(["demo", "--data-dir", str(folder)])
        stop_process(proc)
        pins.append(json.loads(line)["pin"])
    assert pins[0] != pins[1]
    assert (folder / "trust-anchor.pem").exists()


@pytest.mark.posix
def test_database_file_is_private(data_dir):
    assert stat.S_IMODE((data_dir / "ccms.sqlite3").stat().st_mode) == 0o600


def test_tls_issue_remembers_new_host_names(tmp_path):
    folder = tmp_path / "data"
    ccms("init", "--data-dir", str(folder), "--key-type", "ec-p256")
    ccms("tls", "issue", "--data-dir", str(folder), "--hostname", "one.test")
    ccms("tls", "issue", "--data-dir", str(folder), "--hostname", "two.test")
    tls = x509.load_pem_x509_certificates((folder / "tls" / "server-chain.pem").read_bytes())[0]
    names = tls.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {"one.test", "two.test"} <= set(names.get_values_for_type(x509.DNSName))


def test_release_sign_keeps_the_published_minimum(tmp_path):
    folder = tmp_path / "data"
    ccms("init", "--data-dir", str(folder), "--key-type", "ec-p256")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    ccms(
        "release",
        "sign",
        "--data-dir",
        str(folder),
        "--latest-version",
        "4.1.0",
        "--minimum-version",
        "4.0.0",
        "--out",
        str(first),
    )
    ccms("release", "publish", "--data-dir", str(folder), str(first))
    ccms(
        "release",
        "sign",
        "--data-dir",
        str(folder),
        "--latest-version",
        "4.2.0",
        "--out",
        str(second),
    )
    signed = json.loads(second.read_text())["signed"]
    assert (signed["serial"], signed["latest_version"], signed["minimum_version"]) == (
        2,
        "4.2.0",
        "4.0.0",
    )


def test_configuration_mistakes_are_plain_errors(tmp_path):
    folder = tmp_path / "data"
    ccms("init", "--data-dir", str(folder), "--key-type", "ec-p256")
    with (folder / "ccms-server.toml").open("a") as config:
        config.write("pin_validty_days = 3\n")
    result = ccms("pin", "issue", "--data-dir", str(folder), "--epoc", "1234", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith("ccms-server: error: configuration: pin_validty_days")
    assert "Traceback" not in result.stderr
    missing = ccms(
        "release", "publish", "--data-dir", str(folder), str(tmp_path / "nope.json"), check=False
    )
    assert missing.returncode == 1
    assert "Traceback" not in missing.stderr
    zero = ccms(
        "pin",
        "issue",
        "--data-dir",
        str(folder),
        "--epoc",
        "1234",
        "--valid-days",
        "0",
        check=False,
    )
    assert zero.returncode == 2
