"""Fault-injection campaign: a real `ecmt renew` against the real reference server, through
a TLS reverse proxy (tests/campaigns/rig.py) that meets one protocol stage with one fault:
a refused connection, a reset before or during the answer, a stall, 500, 503, 202, 429,
a proxy's 407, a truncated or oversized body, a captive portal's page.

For every case: the run ends with a documented code and its exit status; nothing that was
not verified is installed; when the server issued, the journal holds the key it issued
for; and a second run, the fault gone, completes with one certificate issued in all.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from campaign_cli import Client, Run, exit_status_matches, issued_serials, scan_for_secrets
from campaign_support import stop_server
from rig import FAULT, FAULTS, Fault, Rig

from ecmt import keys
from support import FAST_ARGON2, Harness, make_template, start_harness

pytestmark = pytest.mark.timeout(900)  # the first case runs the whole campaign

PIN_STAGES = ["account", "terms", "terms/acceptances", "cacerts", "simpleenroll"]
CERT_STAGES = ["simplereenroll"]
WORKERS = 3
CASE_LIMIT = 120  # seconds: a bound on a hung case, not a speed requirement
TIMEOUTS = {"ECMT_CONNECT_TIMEOUT": "3", "ECMT_READ_TIMEOUT": "2", "ECMT_REQUEST_DEADLINE": "8"}

# What each fault must end in, when the run does not complete. Where a stage is named, the
# code for that stage; "ok" means the client rides it out within the same run.
EXPECTED: dict[str, dict[str, str]] = {
    "refused": {"*": "ECMT-NETWORK-CONNECT"},
    # On a connection that presented the current certificate, a drop before any answer is
    # read as the service refusing that certificate (how TLS 1.3 servers often refuse one),
    # so the advice is to log on with a PIN; the journal keeps the request all the same.
    "reset-before-answer": {
        "*": "ECMT-NETWORK-CONNECT",
        "simplereenroll": "ECMT-CERT-NOT-ACCEPTED",
    },
    "reset-mid-response": {"*": "ECMT-NETWORK-CONNECT"},
    "stall": {"*": "ECMT-NETWORK-TIMEOUT"},
    "server-error-500": {"*": "ECMT-SERVER-ERROR"},
    "unavailable-503": {"*": "ECMT-SERVICE-UNAVAILABLE"},
    "accepted-202": {"*": "ECMT-PROTOCOL-ERROR", "simpleenroll": "ok", "simplereenroll": "ok"},
    "rate-limited-429": {"*": "ECMT-RATE-LIMITED"},
    "proxy-407": {"*": "ECMT-PROXY-AUTH"},
    "truncated-body": {"*": "ECMT-RESPONSE-INVALID", "terms/acceptances": "ok"},
    "too-large-body": {"*": "ECMT-RESPONSE-TOO-LARGE"},
    "wrong-content-type": {"*": "ECMT-RESPONSE-INVALID"},
}


def expected(fault: str, stage: str) -> str:
    return EXPECTED[fault].get(stage, EXPECTED[fault]["*"])


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """The reference server behind its TLS proxy: plain HTTP, trusting 127.0.0.1 only."""
    template = make_template(tmp_path_factory.mktemp("fault-template") / "data")
    harness = start_harness(
        template,
        tmp_path_factory.mktemp("fault-server") / "data",
        tls=False,
        trusted_proxies=["127.0.0.1/32"],
        **FAST_ARGON2,
    )
    yield harness
    stop_server(harness)


def renew_args(rig: Rig, client: Client, fault: Fault | None, epoc: str, pin: bool) -> list[str]:
    behind_proxy = fault is not None and fault.level == "proxy-407"
    args = [
        "renew",
        "--server",
        rig.url_behind_proxy if behind_proxy else rig.url,
        "--trust-anchor",
        rig.proxy.trust_anchor,
        "--store",
        client.store,
        "--epoc",
        epoc,
        "--json",
    ]
    return [*args, "--pin-stdin", "--accept-terms"] if pin else [*args, "--with-current-cert"]


def renew(rig: Rig, client: Client, fault: Fault | None, epoc: str, pin: str | None) -> Run:
    env = dict(TIMEOUTS)
    if fault is not None and fault.level == "proxy-407":
        env["ECMT_PROXY"] = rig.proxy_url
    return client.run(*renew_args(rig, client, fault, epoc, pin is not None), stdin=pin, **env)


def calibrate(upstream: Harness, home: Path) -> dict[str, list[str]]:
    """The requests of a clean run of each kind, in order: which request a stage is."""
    rig = Rig(upstream)
    try:
        client = Client(home, f"files:{home / 'store'}")
        epoc = upstream.add_account(accept_terms=False)
        rig.disarm()
        with_pin = renew(rig, client, None, epoc, upstream.issue_pin(epoc))
        assert with_pin.returncode == 0, with_pin.stderr
        pin_paths = [s.path for s in rig.proxy.seen]
        rig.disarm()
        with_cert = renew(rig, client, None, epoc, None)
        assert with_cert.returncode == 0, with_cert.stderr
        cert_paths = [s.path for s in rig.proxy.seen]
    finally:
        rig.stop()
    return {"pin": _stages(pin_paths), "cert": _stages(cert_paths)}


def _stages(paths: list[str]) -> list[str]:
    return [p.removeprefix("/ccms/v1/").removeprefix("/.well-known/est/") for p in paths]


CASES = [(stage, f.name) for stage in PIN_STAGES + CERT_STAGES for f in FAULTS]


def run_case(
    stage: str, fault_name: str, upstream: Harness, order: dict[str, list[str]], home: Path
) -> dict[str, Any]:
    """One case from start to end, on its own rig; its row of the table, or an assertion."""
    rig = Rig(upstream)
    try:
        return _case(stage, fault_name, upstream, rig, order, home)
    finally:
        rig.stop()


def _case(
    stage: str,
    fault_name: str,
    upstream: Harness,
    rig: Rig,
    stage_order: dict[str, list[str]],
    tmp_path: Path,
) -> dict[str, Any]:
    fault = FAULT[fault_name]
    client = Client(tmp_path, f"files:{tmp_path / 'store'}")
    with_pin = stage in PIN_STAGES
    epoc = upstream.add_account(accept_terms=not with_pin)
    pin = upstream.issue_pin(epoc)
    runs: list[Run] = []
    before: list[dict[str, Any]] = []
    if not with_pin:  # a current certificate to renew with, installed by a clean run
        rig.disarm()
        setup = renew(rig, client, None, epoc, pin)
        assert setup.returncode == 0, setup.stderr
        runs.append(setup)
        before = client.usable(epoc)
        assert len(before) == 1
    issued_before = len(issued_serials(upstream, epoc))
    order = stage_order["pin" if with_pin else "cert"]
    rig.arm(fault, stage, order.index(stage))

    first = renew(rig, client, fault, epoc, pin if with_pin else None)
    runs.append(first)
    assert rig.proxy.fired or fault.level != "http", "the fault never met its request"
    issued_first = issued_serials(upstream, epoc)[issued_before:]
    want = expected(fault.name, stage)
    assert first.code == want, first.stderr
    assert exit_status_matches(first), (first.returncode, first.code)
    assert "Traceback" not in first.stderr

    # lost nothing: the store as before unless the run completed; the journal when issued
    after_first = client.usable(epoc)
    if first.returncode == 0:
        assert len(after_first) == 1
        assert [c["serial"] for c in after_first] != [c["serial"] for c in before]
    else:
        assert [c["fingerprint"] for c in client.certificates(epoc)] == [
            c["fingerprint"] for c in before
        ], "something was installed by a run that failed"
    pending = client.pending(epoc)
    if first.returncode != 0 and issued_first:
        assert pending is not None, "the server issued but the journal lost the key"
        cert = upstream.admin.list_certificates(epoc)[-1]
        assert cert["serial"] == issued_first[-1]
        assert keys.same_public_key(pending.key, _certificate(upstream, cert["serial"]))

    # the fault gone, a second run completes, and the server issued one certificate in all
    rig.disarm()
    second = first
    if first.returncode != 0:
        second = renew(rig, client, None, epoc, pin if with_pin else None)
        runs.append(second)
        assert second.returncode == 0, second.stderr
        assert second.json["recovered"] is (pending is not None)
    issued = issued_serials(upstream, epoc)[issued_before:]
    assert len(issued) == 1, issued
    final = client.usable(epoc)
    assert len(final) == 1
    assert final[0]["serial"] == issued[0]
    assert not client.journal_file(epoc).exists()

    # the client's home, and the server's data folder: its log, database, everything
    roots = [tmp_path, upstream.data_dir]
    scan, hits = scan_for_secrets(roots, [pin, pin.replace("-", "")], runs)
    assert not hits, hits
    return {
        "stage": stage,
        "fault": fault.label,
        "code": first.code,
        "exit": first.returncode,
        "issued_in_first_run": len(issued_first),
        "journal_kept": pending is not None,
        "second_run": "not needed" if second is first else second.code,
        "recovered": bool(second.json.get("recovered")),
        "issued": len(issued),
        "in_store": len(final),
        "lost_nothing": True,
        "secrets_found": scan.found,
        "files_scanned": scan.files,
        "argv_lines": scan.argv_lines,
    }


@pytest.fixture(scope="module")
def results(
    request: pytest.FixtureRequest, upstream: Harness, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Any]:
    """Every selected case, run WORKERS at a time (each client is its own process, each case
    its own account, folders and rig); a case's test then reports its own result."""
    selected = [
        (item.callspec.params["stage"], item.callspec.params["fault_name"])
        for item in request.session.items
        if item.originalname == "test_fault" and hasattr(item, "callspec")
    ]
    order = calibrate(upstream, tmp_path_factory.mktemp("calibration"))
    outcome: dict[tuple[str, str], Any] = {}
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="fault-case") as pool:
        futures = {
            case: pool.submit(
                run_case, *case, upstream, order, tmp_path_factory.mktemp("fault-case")
            )
            for case in selected
        }
        for case, future in futures.items():
            try:
                outcome[case] = future.result(timeout=CASE_LIMIT)
            except BaseException as exc:  # reported by the case's own test
                outcome[case] = exc
    return outcome


@pytest.mark.parametrize(("stage", "fault_name"), CASES, ids=[f"{s}-{f}" for s, f in CASES])
def test_fault(
    stage: str,
    fault_name: str,
    results: dict[tuple[str, str], Any],
    figures: dict[str, Any],
) -> None:
    result = results[(stage, fault_name)]
    if isinstance(result, BaseException):
        raise result
    figures.setdefault("faults", {})[f"{stage}/{fault_name}"] = {
        **result,
        "index": CASES.index((stage, fault_name)),
    }


def _certificate(server: Harness, serial: str) -> Any:
    from cryptography import x509
    from sqlalchemy import select

    from ccms_server.db.models import IssuedCertificate

    with server.services.sessions() as session:
        row = session.scalars(
            select(IssuedCertificate).where(IssuedCertificate.serial == serial)
        ).one()
        return x509.load_der_x509_certificate(row.der)


def test_terms_changed_while_a_request_waits(upstream: Harness, tmp_path: Path) -> None:
    """The request is saved and refused (nothing issued); the service then publishes new
    terms. A second run with --accept-terms accepts them and completes: it logs on again
    (the PIN was not used) instead of resuming the refused request without the terms."""
    rig = Rig(upstream)
    try:
        client = Client(tmp_path, f"files:{tmp_path / 'store'}")
        epoc = upstream.add_account()
        pin = upstream.issue_pin(epoc)
        rig.arm(FAULT["server-error-500"], "simpleenroll", None)
        first = renew(rig, client, None, epoc, pin)
        assert first.code == "ECMT-SERVER-ERROR", first.stderr
        assert client.pending(epoc) is not None
        upstream.admin.publish_terms("2", "Acceptable Use Policy", "New terms.\n")
        rig.disarm()
        second = renew(rig, client, None, epoc, pin)
    finally:
        rig.stop()
    assert second.returncode == 0, second.stderr
    assert 'Accepted "Acceptable Use Policy" version 2.' in second.stderr
    assert second.json["recovered"] is True  # the same key and request, sent again
    assert len(issued_serials(upstream, epoc)) == 1
