"""Renewal without a person against the real reference server (`ccms-server demo`, run as an
operator runs it), through the real `ecmt` process: it renews inside the window, does
nothing outside it, and refuses safely: already tried today, a revoked certificate, a
store that needs rights the task lacks. The daily check's notifications go through a
`notify-send` on PATH that records its argv (no notification daemon runs here)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from client_cli import ecmt
from pydantic import SecretStr

from ecmt.app import build_app
from ecmt.cli.scheduled import unattended_for
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import PinCredentials
from ecmt.services.renewal import RenewalRequest
from support import client_settings

CCMS_SERVER = Path(sys.executable).parent / "ccms-server"


@pytest.fixture
def demo(tmp_path) -> Iterator[dict[str, str]]:
    data_dir = tmp_path / "demo"
    process = subprocess.Popen(
        [str(CCMS_SERVER), "demo", "--data-dir", str(data_dir), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        yield json.loads(process.stdout.readline())
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture
def notify_send(tmp_path) -> Path:
    """A `notify-send` that writes each call's arguments, one per line, and is not clicked."""
    folder = tmp_path / "bin"
    folder.mkdir()
    record = tmp_path / "notifications.txt"
    script = folder / "notify-send"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" "--end--" >> "{record}"\n')
    script.chmod(0o755)
    return folder


def notifications(tmp_path: Path) -> list[list[str]]:
    record = tmp_path / "notifications.txt"
    if not record.exists():
        return []
    calls = record.read_text().split("--end--\n")
    return [call.splitlines() for call in calls if call]


def test_unattended_renewal_and_its_refusals(demo, tmp_path, notify_send):
    store = f"files:{tmp_path / 'store'}"
    common = ["--server", demo["url"], "--trust-anchor", demo["trust_anchor"], "--store", store]
    home = tmp_path / "home"
    config = tmp_path / "auto.toml"
    config.write_text("auto_renew = true\n")

    first = ecmt(
        "renew", *common, "--epoc", demo["epoc"], "--pin-stdin", "--accept-terms",
        home=home, stdin=demo["pin"] + "\n",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr

    # outside the window: nothing sent, exit code 12
    not_due = ecmt("renew", *common, "--current", "--if-expiring-within", "30d", "--json",
                   home=home)  # fmt: skip
    assert not_due.returncode == 12, not_due.stderr
    assert not_due.json["status"] == "not-due"
    assert not_due.json["days_left"] >= 364

    # inside the window (a year's certificate is within 400 days): renewed, exit code 0
    renewed = ecmt("renew", *common, "--current", "--if-expiring-within", "400d", "--json",
                   home=home)  # fmt: skip
    assert renewed.returncode == 0, renewed.stderr
    assert renewed.json["unattended"] is True
    assert renewed.json["removed"]  # the old certificate made way for the new one
    serial = renewed.json["certificate"]["serial"]

    # once a day only
    again = ecmt("renew", *common, "--current", "--if-expiring-within", "400d", "--json",
                 home=home)  # fmt: skip
    assert again.returncode == 13
    assert again.json["code"] == "ECMT-AUTO-RENEW-TRIED-TODAY"

    # the next reminder says it was renewed and asks for a backup
    check = ecmt("--config", str(config), "remind", "run", *common, home=home,
                 path_prefix=notify_send)  # fmt: skip
    assert check.returncode == 0, check.stderr
    (shown,) = notifications(tmp_path)
    assert shown[:5] == [
        "--app-name=ePractitioner certificate",
        "--urgency=normal",
        "--icon=dialog-information",
        "--action=default=Open the program",
        "--",
    ]
    assert shown[5] == "Your ePractitioner certificate was renewed"
    assert "make a new backup" in shown[6]

    # the operator revokes the new certificate; a day later the check tries again
    revoked = subprocess.run(
        [str(CCMS_SERVER), "certs", "revoke", "--data-dir", demo["data_dir"], serial],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert revoked.returncode == 0, revoked.stderr
    state_file = home / ".local" / "state" / "ecmt" / "reminders.json"
    state = json.loads(state_file.read_text())
    state["last_attempt"] = (date.fromisoformat(state["last_attempt"]) - timedelta(1)).isoformat()
    state_file.write_text(json.dumps(state))
    other = home
    refused = ecmt("renew", *common, "--current", "--if-expiring-within", "400d", "--json",
                   home=other)  # fmt: skip
    assert refused.returncode == 13, refused.stderr
    assert refused.json["code"] == "ECMT-AUTO-RENEW-STOPPED"
    assert refused.json["reference"]  # the service's refusal, for the helpdesk
    still = ecmt("renew", *common, "--current", "--if-expiring-within", "400d", "--json",
                 home=other)  # fmt: skip
    assert still.json["code"] == "ECMT-AUTO-RENEW-STOPPED"

    # the daily check says once that automatic renewal stopped, and sends nothing
    check = ecmt("--config", str(config), "remind", "run", *common, home=other,
                 path_prefix=notify_send)  # fmt: skip
    assert check.returncode == 0, check.stderr
    stopped = notifications(tmp_path)[-1]
    assert stopped[1] == "--urgency=critical"
    assert stopped[5] == "Automatic renewal of your ePractitioner certificate has stopped"
    assert all("PIN" not in " ".join(call) for call in notifications(tmp_path))
    log = (other / ".local" / "state" / "ecmt" / "log" / "ecmt.log").read_text()
    assert log.count("remind run: ") == 2  # two runs, one line each
    assert "stopped reminder shown" in log


def test_unattended_renewal_never_runs_where_the_store_needs_elevation(
    server, tmp_path, monkeypatch
):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    app = build_app(client_settings(server, tmp_path / "client"))
    epoc = server.add_account()
    credentials = PinCredentials(epoc, SecretStr(server.issue_pin(epoc)))
    app.renewal.renew(RenewalRequest(epoc, credentials=credentials))
    app.close()  # its kept-alive connection, before the server stops
    before = server.db_snapshot()
    monkeypatch.setattr(app.store, "needs_elevation", lambda: True)  # a store we cannot write
    with pytest.raises(EcmtError) as raised:
        unattended_for(app).run(400)
    assert raised.value.code is ErrorCode.STORE_ELEVATION_REQUIRED
    assert server.db_snapshot() == before  # nothing reached the service
    assert not (tmp_path / "client" / "state" / "reminders.json").exists()  # no attempt used


def test_pin_options_are_refused_with_the_unattended_path(tmp_path):
    run = ecmt("renew", "--pin-stdin", "--if-expiring-within", "30d", "--json",
               home=tmp_path, stdin="1234\n")  # fmt: skip
    assert run.returncode == 1
    assert run.json["code"] == "ECMT-CONFIG-INVALID"
    assert os.environ.get("ECMT_PIN") is None
