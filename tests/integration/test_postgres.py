"""PostgreSQL storage: the same rules hold, also across several server processes."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import tomli_w
from sqlalchemy import create_engine, text

from ccms_server.admin import Admin
from ccms_server.bootstrap import make_hasher
from ccms_server.db.engine import make_sessions
from ccms_server.settings import load_settings
from support import (
    API,
    FAST_ARGON2,
    IN_CI,
    certs_from_body,
    csr_body,
    rsa_key,
    start_process,
    stop_process,
)

pytestmark = pytest.mark.postgres
ADMIN_URL = os.environ.get("CCMS_TEST_POSTGRES_URL")


@pytest.fixture
def database_url() -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    if not ADMIN_URL:
        message = "CCMS_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    name = f"ccms_{secrets.token_hex(6)}"
    engine = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, _ = ADMIN_URL.rpartition("/")
    yield f"{base}/{name}"
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    engine.dispose()


def settings_url(folder: Path) -> str:
    return load_settings(folder).effective_database_url


def _publish_terms(server) -> None:
    server.admin.publish_terms("1", "Acceptable Use Policy", "Terms for the PostgreSQL tests.")


def test_whole_flow_on_postgresql(server_factory, database_url):
    server = server_factory(database_url=database_url)
    assert server.services.sessions.kw["bind"].dialect.name == "postgresql"
    _publish_terms(server)
    identity = server.new_identity()
    assert server.reenroll(identity).status_code == 200
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    with server.http() as http:
        codes = [
            http.get(server.url + API + "account", auth=(epoc, "WRONG"), timeout=30).json()["code"]
            for _ in range(5)
        ]
    assert codes == ["CCMS-AUTH-INVALID"] * 4 + ["CCMS-ACCOUNT-LOCKED"]
    assert server.enroll(epoc, pin).json()["code"] == "CCMS-ACCOUNT-LOCKED"
    server.admin.unlock(epoc)
    key = rsa_key()
    first, again = server.enroll(epoc, pin, key), server.enroll(epoc, pin, key)
    assert certs_from_body(first.content) == certs_from_body(again.content)


@pytest.fixture
def two_processes(template_dir, tmp_path, database_url) -> Iterator[tuple[list[str], Path, Admin]]:
    """Two `ccms-server serve` processes sharing one data folder and one PostgreSQL database."""
    import shutil

    folder = tmp_path / "shared"
    shutil.copytree(template_dir, folder)
    (folder / "ccms.sqlite3").unlink()
    config = {"database_url": database_url, "rate_limit_per_minute": 0, **FAST_ARGON2}
    (folder / "ccms-server.toml").write_text(tomli_w.dumps(config))
    settings = load_settings(folder)
    sessions = make_sessions(database_url)
    admin = Admin(sessions, settings, make_hasher(settings))
    admin.publish_terms("1", "Acceptable Use Policy", "Shared terms.")
    procs, urls = [], []
    try:
        for _ in range(2):
            proc, line = start_process(["serve", "--data-dir", str(folder), "--port", "0"])
            procs.append(proc)
            assert line.startswith("listening on "), line
            urls.append(line.split()[-1])
        yield urls, folder, admin
    finally:
        for proc in procs:
            stop_process(proc)
        sessions.kw["bind"].dispose()


def test_lockout_and_pin_use_hold_across_processes(two_processes):
    (url_a, url_b), folder, admin = two_processes
    admin.add_account("6100001", "Dr Shared", "Shared Practice", "GP")
    admin.add_account("6100002", "Dr Parallel", "Shared Practice", "GP")
    http = requests.Session()
    http.trust_env = False
    http.verify = str(folder / "trust-anchor.pem")

    def logon(url: str, epoc: str, pin: str) -> str:
        return (
            http.get(url + API + "account", auth=(epoc, pin), timeout=30).json().get("code", "ok")
        )

    pin = admin.issue_pin("6100001")
    codes = [logon(url_a if i % 2 else url_b, "6100001", "WRONG") for i in range(5)]
    assert codes == ["CCMS-AUTH-INVALID"] * 4 + ["CCMS-ACCOUNT-LOCKED"]
    assert logon(url_a, "6100001", pin) == "CCMS-ACCOUNT-LOCKED"

    admin.issue_pin("6100002")
    with ThreadPoolExecutor(10) as pool:
        parallel = list(
            pool.map(lambda i: logon(url_a if i % 2 else url_b, "6100002", "GUESS"), range(10))
        )
    assert parallel.count("CCMS-AUTH-INVALID") == 4

    admin.unlock("6100001")
    fresh = admin.issue_pin("6100001")
    engine = create_engine(settings_url(folder))
    with engine.begin() as conn:
        conn.execute(text("UPDATE accounts SET terms_accepted_version = '1'"))
    engine.dispose()
    body = csr_body(rsa_key())
    headers = {"Content-Type": "application/pkcs10"}
    first = http.post(
        url_a + "/.well-known/est/simpleenroll",
        data=body,
        auth=("6100001", fresh),
        headers=headers,
        timeout=30,
    )
    other = http.post(
        url_b + "/.well-known/est/simpleenroll",
        data=csr_body(rsa_key()),
        auth=("6100001", fresh),
        headers=headers,
        timeout=30,
    )
    assert first.status_code == 200
    assert other.json()["code"] == "CCMS-PIN-USED"
