"""One SQLite database, several processes: a running server and the admin commands beside it.

Every write the server makes must reach the database file that the next process opens and
that the next start reads, and the write-ahead log must stay the one the server writes to.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from support import (
    API,
    EST,
    FAST_ARGON2,
    SERVER_BIN,
    certs_from_body,
    csr_body,
    rsa_key,
    start_process,
    stop_process,
)

EPOC = "7000001"

# Reads the database as a third process would, with nothing of the server's code.
_READ = """
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
epoc = sys.argv[2]
failed = db.execute("SELECT failed_attempts FROM accounts WHERE epoc = ?", (epoc,)).fetchone()
actions = [a for (a,) in db.execute(
    "SELECT action FROM audit_log WHERE target = ? OR actor = ? ORDER BY id",
    (epoc, "epoc:" + epoc))]
attempts = [o for (o,) in db.execute(
    "SELECT outcome FROM auth_attempts JOIN accounts ON accounts.id = account_id"
    " WHERE epoc = ? ORDER BY auth_attempts.id", (epoc,))]
certs = [s for (s,) in db.execute(
    "SELECT serial FROM certificates JOIN accounts ON accounts.id = account_id"
    " WHERE epoc = ?", (epoc,))]
used = db.execute(
    "SELECT count(*) FROM pins JOIN accounts ON accounts.id = account_id"
    " WHERE epoc = ? AND used_at IS NOT NULL", (epoc,)).fetchone()[0]
db.close()
print(json.dumps({"failed": failed[0] if failed else None, "actions": actions,
                  "attempts": attempts, "certs": certs, "used_pins": used}))
"""


@pytest.fixture
def fast_server_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings every `ccms-server` process started by the test reads from its environment."""
    for name, value in {**FAST_ARGON2, "rate_limit_per_minute": 0}.items():
        monkeypatch.setenv(f"CCMS_{name.upper()}", str(value))


def _admin(*args: str) -> str:
    result = subprocess.run(
        [str(SERVER_BIN), *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _third_process_view(database: Path, epoc: str) -> dict[str, object]:
    result = subprocess.run(
        [sys.executable, "-c", _READ, str(database), epoc],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    view: dict[str, object] = json.loads(result.stdout)
    return view


def _open_files(pid: int) -> dict[str, os.stat_result]:
    """What the process has open: link text (with " (deleted)" for unlinked files) -> stat."""
    opened = {}
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            opened[str(fd.readlink())] = fd.stat()
        except OSError:
            continue
    return opened


def _http(anchor: Path) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(anchor)
    return session


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see open files")
@pytest.mark.usefixtures("fast_server_env")
def test_server_writes_survive_admin_commands_in_other_processes(tmp_path):
    data = tmp_path / "data"
    database = data / "ccms.sqlite3"
    wal = Path(f"{database}-wal")
    proc, line = start_process(["demo", "--data-dir", str(data)])
    try:
        demo = json.loads(line)
        http = _http(Path(demo["trust_anchor"]))
        url = demo["url"]

        # Two admin commands, each its own process, while the server runs.
        _admin(
            "account",
            "add",
            "--data-dir",
            str(data),
            "--epoc",
            EPOC,
            "--name",
            "Dr Store Test",
            "--organisation",
            "Test Practice",
            "--role",
            "GP",
        )
        pin = _admin("pin", "issue", "--data-dir", str(data), "--epoc", EPOC).strip()

        # The server's own writes: a logon, the terms, a certificate, a wrong PIN.
        account = http.get(url + API + "account", auth=(EPOC, pin), timeout=30)
        assert account.status_code == 200, account.text
        terms = http.get(url + API + "terms", timeout=30).json()
        accepted = http.post(
            url + API + "terms/acceptances",
            json={"version": terms["version"], "sha256": terms["sha256"]},
            auth=(EPOC, pin),
            timeout=30,
        )
        assert accepted.status_code == 204, accepted.text
        enrolled = http.post(
            url + EST + "simpleenroll",
            data=csr_body(rsa_key()),
            auth=(EPOC, pin),
            headers={"Content-Type": "application/pkcs10"},
            timeout=30,
        )
        assert enrolled.status_code == 200, enrolled.text
        serial = format(certs_from_body(enrolled.content)[0].serial_number, "x")
        wrong = http.get(url + API + "account", auth=(EPOC, "AAAA-AAAA-AAAA"), timeout=30)
        assert wrong.json()["attempts_remaining"] == 4

        # More admin commands beside it; the server still answers and still writes.
        _admin("pin", "issue", "--data-dir", str(data), "--epoc", demo["epoc"])
        assert serial in _admin("certs", "list", "--data-dir", str(data), "--epoc", EPOC)
        again = http.get(url + API + "account", auth=(EPOC, "AAAA-AAAA-AAAA"), timeout=30)
        assert again.status_code == 401, again.text
        assert again.json()["attempts_remaining"] == 3

        view = _third_process_view(database, EPOC)
        assert view["failed"] == 2
        assert view["certs"] == [serial]
        assert view["used_pins"] == 1
        assert view["attempts"] == ["ok", "ok", "ok", "wrong-pin", "wrong-pin"]
        assert view["actions"] == [
            "account.added",
            "pin.issued",
            "terms.accepted",
            "certificate.issued",
        ]

        # The log the server writes to is the one on disk, not an unlinked copy.
        opened = _open_files(proc.pid)
        gone = [name for name in opened if "ccms.sqlite3" in name and name.endswith("(deleted)")]
        assert not gone, gone
        assert wal.exists()
        assert wal.stat().st_ino in {
            st.st_ino for name, st in opened.items() if name.endswith("-wal")
        }
    finally:
        assert stop_process(proc) == 0

    # A restart reads everything back.
    proc, line = start_process(["serve", "--data-dir", str(data), "--port", "0"])
    try:
        match = re.fullmatch(r"listening on (https://\S+)\n", line)
        assert match, line
        http = _http(data / "trust-anchor.pem")
        wrong = http.get(
            match.group(1) + API + "account", auth=(EPOC, "AAAA-AAAA-AAAA"), timeout=30
        )
        assert wrong.json()["attempts_remaining"] == 2
        used = http.get(match.group(1) + API + "account", auth=(EPOC, pin), timeout=30)
        assert used.json()["code"] == "CCMS-PIN-USED"
    finally:
        assert stop_process(proc) == 0
    view = _third_process_view(database, EPOC)
    assert view["failed"] == 3
    assert view["certs"] == [serial]
