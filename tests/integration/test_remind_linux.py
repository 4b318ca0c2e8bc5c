"""`ecmt remind install / status / remove` for real on Linux, as real processes:

- against a real systemd user manager (`systemd --user`), started for the test in a private
  mount namespace (`unshare -m`) where /run/systemd/system exists, so it runs on a machine
  or container whose PID 1 is not systemd; the timer is enabled and its service started
  once, which runs `ecmt remind run` under systemd;
- against the real `crontab`, in a private mount namespace whose crontab folder is a
  scratch folder, so the machine's own crontabs are never touched.

Both need root (for `unshare -m`) and the tools (Debian: systemd, cron); elsewhere they skip
and the unit tests check the same files and commands through a recording runner.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from client_cli import ECMT, client_env

pytestmark = pytest.mark.posix

SYSTEMD = Path("/lib/systemd/systemd")
CRONTABS = Path("/var/spool/cron/crontabs")


def _namespaces_work() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    done = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    return done.returncode == 0


def run_in_namespace(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["unshare", "-m", "bash", "-c", script],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_systemd_user_timer_installed_listed_run_and_removed(tmp_path):
    if not _namespaces_work() or not SYSTEMD.exists() or shutil.which("systemctl") is None:
        pytest.skip("needs root, unshare and systemd (Debian: systemd)")
    home = tmp_path / "home"
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = client_env(home)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    store = f"files:{tmp_path / 'store'}"
    script = f"""
set -u
mount -t tmpfs tmpfs /run/systemd && mkdir -p /run/systemd/system || exit 90
{SYSTEMD} --user > systemd.log 2>&1 &
manager=$!
trap 'kill $manager; wait $manager' EXIT
for _ in $(seq 200); do [ -S "$XDG_RUNTIME_DIR/systemd/private" ] && break; sleep 0.05; done
systemctl --user is-system-running --wait > /dev/null 2>&1
{ECMT} --store {store} remind install --json > install.json 2> install.err
echo "install=$?"
systemctl --user list-timers --all --no-pager > timers.txt
systemctl --user is-enabled ecmt-remind.timer > enabled.txt
systemctl --user start ecmt-remind.service
echo "start=$?"
systemctl --user show ecmt-remind.service -p Result -p ExecMainStatus > result.txt
{ECMT} remind status --json > status.json
{ECMT} remind remove --json > remove.json
echo "remove=$?"
{ECMT} remind status --json > after.json
test -e "$XDG_CONFIG_HOME/systemd/user/ecmt-remind.timer"; echo "timer-file=$?"
"""
    done = run_in_namespace(script, env, tmp_path)
    if "exit 90" in done.stderr or done.returncode == 90:
        pytest.skip("a private /run/systemd could not be mounted here")
    assert "install=0" in done.stdout, (done.stdout, done.stderr, _read(tmp_path, "install.err"))
    installed = json.loads(_read(tmp_path, "install.json"))["installed"]
    assert installed["scheduler"] == "systemd"
    assert installed["where"] == str(home / ".config/systemd/user/ecmt-remind.timer")
    assert "ecmt-remind.timer" in _read(tmp_path, "timers.txt")
    assert _read(tmp_path, "enabled.txt").strip() == "enabled"
    assert "start=0" in done.stdout
    assert _read(tmp_path, "result.txt").split() == ["Result=success", "ExecMainStatus=0"]
    listed = json.loads(_read(tmp_path, "status.json"))["installed"]
    assert [(i["scheduler"], i["active"]) for i in listed] == [("systemd", True)]
    assert json.loads(_read(tmp_path, "remove.json"))["removed"] == ["systemd"]
    assert json.loads(_read(tmp_path, "after.json"))["installed"] == []
    assert "timer-file=1" in done.stdout
    service = (home / ".config/systemd/user/ecmt-remind.service").exists()
    assert not service
    # the check ran under systemd and wrote its one line
    log = (home / ".local/state/ecmt/log/ecmt.log").read_text()
    assert "remind run: no ePractitioner certificate here; nothing due" in log


def test_crontab_keeps_the_users_lines(tmp_path):
    if not _namespaces_work() or shutil.which("crontab") is None or not CRONTABS.is_dir():
        pytest.skip("needs root, unshare and cron (Debian: cron)")
    before = _host_crontab()
    spool = tmp_path / "crontabs"
    spool.mkdir()
    home = tmp_path / "home"
    env = client_env(home)
    env.pop("XDG_RUNTIME_DIR", None)  # no systemd user session: cron is the fallback
    script = f"""
set -u
mount --bind {spool} {CRONTABS} || exit 90
printf 'MAILTO=alex\\n30 2 * * * /usr/local/bin/backup-photos\\n' | crontab -
{ECMT} remind install --hour 8 --json > install.json 2> install.err
echo "install=$?"
crontab -l > listed.txt
{ECMT} remind status --json > status.json
{ECMT} remind remove --json > remove.json
crontab -l > after.txt
"""
    done = run_in_namespace(script, env, tmp_path)
    if done.returncode == 90:
        pytest.skip("the crontab folder could not be replaced here")
    assert "install=0" in done.stdout, (done.stdout, done.stderr, _read(tmp_path, "install.err"))
    assert json.loads(_read(tmp_path, "install.json"))["installed"]["scheduler"] == "cron"
    listed = _read(tmp_path, "listed.txt").splitlines()
    assert listed[:2] == ["MAILTO=alex", "30 2 * * * /usr/local/bin/backup-photos"]
    assert listed[2].startswith("0 8 * * * DBUS_SESSION_BUS_ADDRESS=")
    assert listed[2].split("# ecmt-remind")[0].rstrip().endswith(f"{ECMT} remind run")
    status = json.loads(_read(tmp_path, "status.json"))["installed"]
    assert [i["scheduler"] for i in status] == ["cron"]
    assert json.loads(_read(tmp_path, "remove.json"))["removed"] == ["cron"]
    assert _read(tmp_path, "after.txt").splitlines() == listed[:2]
    assert _host_crontab() == before  # the machine's own crontab was never touched


def _host_crontab() -> bytes | None:
    path = CRONTABS / "root"
    return path.read_bytes() if path.exists() else None


def _read(folder: Path, name: str) -> str:
    path = folder / name
    return path.read_text() if path.exists() else ""
