"""Operator-facing behaviour: approval (202), rate limits, maintenance, the log."""

from __future__ import annotations

import re

from ccms_protocol.wire import short_reference
from support import API, EST, Identity, certs_from_body, rsa_key


def test_pending_approval_then_issued_with_the_same_csr(server_factory):
    server = server_factory(enroll_requires_approval=True, approval_retry_after_seconds=7)
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    key = rsa_key()
    for _ in range(2):
        response = server.enroll(epoc, pin, key)
        assert response.status_code == 202
        assert response.headers["Retry-After"] == "7"
        assert response.content == b""
    (pending,) = server.admin.list_requests("pending")
    assert pending["epoc"] == epoc
    assert server.account_row(epoc).failed_attempts == 0
    assert server.admin.list_certificates(epoc) == []

    server.admin.approve_request(int(pending["id"]))
    response = server.enroll(epoc, pin, key)
    assert response.status_code == 200
    assert certs_from_body(response.content)[0].public_key() == key.public_key()
    assert server.admin.list_requests(None)[0]["status"] == "issued"
    # the PIN was consumed at issuance, not before
    assert server.enroll(epoc, pin, rsa_key()).json()["code"] == "CCMS-PIN-USED"


def test_reenrolment_is_not_held_for_approval(server_factory):
    server = server_factory(enroll_requires_approval=True)
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    key = rsa_key()
    assert server.enroll(epoc, pin, key).status_code == 202
    server.admin.approve_request(int(server.admin.list_requests("pending")[0]["id"]))
    response = server.enroll(epoc, pin, key)
    identity = Identity(key, certs_from_body(response.content)[0], server.data_dir)
    assert server.reenroll(identity).status_code == 200
    assert len(server.admin.list_requests(None)) == 1


def test_rate_limit_answers_429_with_retry_after(server_factory):
    server = server_factory(rate_limit_per_minute=60, rate_limit_burst=3)
    statuses = [server.get(API + "terms") for _ in range(5)]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    limited = statuses[3]
    assert limited.status_code == 429
    assert limited.json()["code"] == "CCMS-RATE-LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 2


def test_maintenance_mode_is_503(server):
    (server.data_dir / "maintenance").write_text("120\n")
    response = server.get(EST + "cacerts")
    assert response.status_code == 503
    assert response.json()["code"] == "CCMS-UNAVAILABLE"
    assert response.headers["Retry-After"] == "120"
    (server.data_dir / "maintenance").unlink()
    assert server.get(EST + "cacerts").status_code == 200


def test_every_request_logged_with_its_id_and_never_a_pin(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    wrong = "WXYZ-WXYZ-WXYZ"
    with server.http() as http:
        http.get(server.url + API + "account", auth=(epoc, wrong), timeout=30)
        ok = http.get(
            server.url + API + "account",
            auth=(epoc, pin),
            headers={"X-Request-ID": "helpdesk-ref-42"},
            timeout=30,
        )
    assert server.enroll(epoc, pin).status_code == 200
    server.new_identity()
    log = server.log_file.read_text()
    assert ok.status_code == 200
    assert 'rid=helpdesk-ref-42 client=127.0.0.1 "GET /ccms/v1/account" 200' in log
    # the short reference a user reads out over the phone finds the same line
    (line,) = [x for x in log.splitlines() if f"ref={short_reference('helpdesk-ref-42')}" in x]
    assert "rid=helpdesk-ref-42 " in line
    assert '"GET /ccms/v1/account" 401' in log
    assert f"epoc={epoc} code=CCMS-AUTH-INVALID" in log
    assert len(re.findall(r"rid=\S+ client=", log)) == 4
    for secret in (pin, pin.replace("-", ""), wrong, wrong.replace("-", "")):
        assert secret not in log
    assert "Authorization" not in log
    assert "Basic " not in log
