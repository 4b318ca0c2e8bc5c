"""Crash-point campaign: a real `ecmt renew` into a real NSS database is killed with SIGKILL
at each stage of a renewal, then run again. After the second run the database holds exactly
one valid certificate (with its key) for the EPOC, the journal is gone, and the server has
issued one certificate in all: a second one only if the first was never issued.

The kill points (src/ecmt/crashpoint.py names them; ECMT_CRASH_AT picks one):

- key-generated, journal-saved, answer-received, installed-unverified, verified,
  before-journal-clear: the process kills itself there;
- request-sent: the server has issued, the answer is held back by the proxy in front of it,
  and the test kills the client while it waits;
- inside-import: pk12util has imported the new key and certificate into the database, and
  kills ecmt (its parent) before ecmt reads the database again.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from campaign_cli import ECMT, Client, Run, issued_serials, scan_for_secrets
from campaign_support import stop_server
from rig import FAULT, Rig

from support import FAST_ARGON2, Harness, make_template, require_tool, start_harness

pytestmark = pytest.mark.timeout(900)  # the first case runs the whole campaign

POINTS = [
    ("key-generated", "after key generation, before anything is saved"),
    ("journal-saved", "after the journal is saved, before sending"),
    ("request-sent", "after sending: issued, the answer not yet received"),
    ("answer-received", "after the answer, before the checks"),
    ("inside-import", "mid-install: inside the store's import"),
    ("installed-unverified", "mid-install: in the store, not yet verified"),
    ("verified", "after install: verified, the old one not yet removed"),
    ("before-journal-clear", "after install and clean-up, before the journal is cleared"),
]
MODES = {"pin": "with a PIN (simpleenroll)", "cert": "with the current certificate"}
CASES = [(mode, point) for mode in MODES for point, _ in POINTS]
WORKERS = 2
CASE_LIMIT = 180  # seconds: a bound on a hung case, not a speed requirement
WAIT_LIMIT = 60.0


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    template = make_template(tmp_path_factory.mktemp("crash-template") / "data")
    harness = start_harness(
        template,
        tmp_path_factory.mktemp("crash-server") / "data",
        tls=False,
        trusted_proxies=["127.0.0.1/32"],
        **FAST_ARGON2,
    )
    yield harness
    stop_server(harness)


def _args(rig: Rig, client: Client, epoc: str, pin: bool) -> list[str]:
    args = ["renew", "--server", rig.url, "--trust-anchor", rig.proxy.trust_anchor]
    args += ["--store", client.store, "--epoc", epoc, "--json"]
    return [*args, "--pin-stdin"] if pin else [*args, "--with-current-cert"]


def _killer_pk12util(folder: Path, real: str) -> Path:
    """pk12util that imports for real, then SIGKILLs the ecmt that ran it."""
    folder.mkdir()
    tool = folder / "pk12util"
    tool.write_text(
        "#!/bin/sh\n"
        f'"{real}" "$@"\nstatus=$?\n'
        'case " $* " in *" -i "*) kill -9 "$PPID" ;; esac\n'
        "exit $status\n"
    )
    tool.chmod(0o755)
    return folder


def _crash(
    rig: Rig,
    client: Client,
    upstream: Harness,
    point: str,
    args: list[str],
    stdin: str | None,
    epoc: str,
    issued_before: int,
) -> Run:
    """The first run, killed at `point`."""
    env: dict[str, str] = {}
    if point == "inside-import":  # the import runs through the spy, so argv is recorded
        spy = client.spies / "pk12util"
        killer = _killer_pk12util(client.home / "killer-bin", str(spy))
        env["PATH"] = f"{killer}{os.pathsep}{client.env()['PATH']}"
    elif point != "request-sent":
        env["ECMT_CRASH_AT"] = point
    if point != "request-sent":
        return client.run(*args, stdin=stdin, **env)
    # request-sent: hold the answer of the enrolment back, kill once the server has issued
    path = "simpleenroll" if stdin is not None else "simplereenroll"
    rig.arm(FAULT["stall"], path, None)
    proc = subprocess.Popen(
        [str(ECMT), *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=client.env(),
    )
    assert proc.stdin is not None
    if stdin is not None:
        proc.stdin.write(stdin + "\n")
    proc.stdin.close()
    deadline = time.monotonic() + WAIT_LIMIT
    while time.monotonic() < deadline and not (
        rig.proxy.fired and len(issued_serials(upstream, epoc)) > issued_before
    ):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(WAIT_LIMIT)
    assert proc.stdout is not None
    assert proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    rig.disarm()
    return Run(proc.returncode, out, err)


def run_case(mode: str, point: str, upstream: Harness, home: Path) -> dict[str, Any]:
    rig = Rig(upstream)
    try:
        return _case(mode, point, upstream, rig, home)
    finally:
        rig.stop()


def _case(mode: str, point: str, upstream: Harness, rig: Rig, home: Path) -> dict[str, Any]:
    db = home / "nssdb"
    db.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    client = Client(home, f"nss:{db}")
    epoc = upstream.add_account()
    pin = upstream.issue_pin(epoc)
    runs: list[Run] = []
    with_pin = mode == "pin"
    before: list[dict[str, Any]] = []
    if not with_pin:
        setup = client.run(*_args(rig, client, epoc, True), stdin=pin)
        assert setup.returncode == 0, setup.stderr
        runs.append(setup)
        before = client.usable(epoc)
        assert len(before) == 1
    issued_before = len(issued_serials(upstream, epoc))
    args = _args(rig, client, epoc, with_pin)
    stdin = pin if with_pin else None

    crashed = _crash(rig, client, upstream, point, args, stdin, epoc, issued_before)
    runs.append(crashed)
    assert crashed.returncode == -signal.SIGKILL, (crashed.returncode, crashed.stderr)
    issued_by_crashed = len(issued_serials(upstream, epoc)) - issued_before
    in_store_after_crash = len(client.usable(epoc))

    again = client.run(*args, stdin=stdin)
    runs.append(again)
    assert again.returncode == 0, again.stderr
    issued = issued_serials(upstream, epoc)[issued_before:]
    final = client.usable(epoc)
    record = {
        "mode": mode,
        "point": point,
        "issued_before_kill": issued_by_crashed,
        "in_store_after_kill": in_store_after_crash,
        "rerun": again.code,
        "recovered": bool(again.json.get("recovered")),
        "issued": len(issued),
        "in_store": len(final),
        "journal_left": client.journal_file(epoc).exists(),
        "left_in_temp": client.left_in_temp(),
    }
    assert len(issued) == 1, record  # a second issuance only if the first never happened
    assert len(final) == 1, record
    assert final[0]["serial"] == issued[0], record
    assert [c["serial"] for c in final] != [c["serial"] for c in before]
    assert not record["journal_left"], record
    assert not record["left_in_temp"], record  # a killed import's PKCS#12 and password
    assert record["recovered"] is (point not in {"key-generated"}), record
    # the client's home, and the server's data folder: its log, database, everything
    roots = [home, upstream.data_dir]
    scan, hits = scan_for_secrets(roots, [pin, pin.replace("-", "")], runs)
    assert not hits, hits
    record.update(
        {"secrets_found": scan.found, "files_scanned": scan.files, "argv_lines": scan.argv_lines}
    )
    return record


@pytest.fixture(scope="module")
def results(
    request: pytest.FixtureRequest, upstream: Harness, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Any]:
    require_tool("certutil")
    require_tool("pk12util")
    selected = [
        (item.callspec.params["mode"], item.callspec.params["point"])
        for item in request.session.items
        if item.originalname == "test_crash_point" and hasattr(item, "callspec")
    ]
    outcome: dict[tuple[str, str], Any] = {}
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="crash-case") as pool:
        futures = {
            case: pool.submit(run_case, *case, upstream, tmp_path_factory.mktemp("crash-case"))
            for case in selected
        }
        for case, future in futures.items():
            try:
                outcome[case] = future.result(timeout=CASE_LIMIT)
            except BaseException as exc:  # reported by the case's own test
                outcome[case] = exc
    return outcome


@pytest.mark.parametrize(("mode", "point"), CASES, ids=[f"{m}-{p}" for m, p in CASES])
def test_crash_point(
    mode: str, point: str, results: dict[tuple[str, str], Any], figures: dict[str, Any]
) -> None:
    result = results[(mode, point)]
    if isinstance(result, BaseException):
        raise result
    figures.setdefault("crash", {})[f"{mode}/{point}"] = {
        **result,
        "what": dict(POINTS)[point],
        "how": MODES[mode],
        "index": CASES.index((mode, point)),
    }
