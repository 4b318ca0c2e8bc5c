"""Logon tokens over HTTP: a PIN logon answers with one; terms and enrolment take it in place
of the PIN with no argon2; a token is worth no more than its PIN, and a bad one is refused
with its own code without counting as a wrong PIN."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.x509.oid import NameOID
from sqlalchemy import select, update

from ccms_server.db.models import Pin, utcnow
from support import (
    API,
    EST,
    SERVER_BIN,
    certs_from_body,
    csr_body,
    rsa_key,
    start_process,
    stop_process,
)

PKCS10 = {"Content-Type": "application/pkcs10"}


@pytest.fixture
def argon2_calls(monkeypatch) -> list[int]:
    """One entry per argon2 verification the server makes (it runs in this process)."""
    from argon2 import PasswordHasher

    calls: list[int] = []
    real_verify = PasswordHasher.verify

    def counting(self, hash, password):
        calls.append(1)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return calls


def logon(server, epoc, pin):
    with server.http() as http:
        return http.get(server.url + API + "account", auth=(epoc, pin), timeout=30)


def token_of(server, epoc, pin) -> str:
    response = logon(server, epoc, pin)
    assert response.status_code == 200, response.text
    return str(response.json()["logon_token"]["token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def enroll(server, token, key=None):
    with server.http() as http:
        return http.post(
            server.url + EST + "simpleenroll",
            data=csr_body(key or rsa_key()),
            headers={**PKCS10, **bearer(token)},
            timeout=30,
        )


def accept_terms(server, token):
    with server.http() as http:
        terms = http.get(server.url + API + "terms", timeout=30).json()
        return http.post(
            server.url + API + "terms/acceptances",
            json={"version": terms["version"], "sha256": terms["sha256"]},
            headers=bearer(token),
            timeout=30,
        )


def account_with(server, token):
    with server.http() as http:
        return http.get(server.url + API + "account", headers=bearer(token), timeout=30)


def pin_id(server, epoc) -> int:
    from ccms_server.db.models import Account

    with server.services.sessions() as session:
        account = session.scalars(select(Account).where(Account.epoc == epoc)).one()
        return max(p.id for p in account.pins)


def refused(response, code):
    assert response.status_code == 401, response.text
    assert response.json()["code"] == code
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- the token and what it saves ---------------------------------------------------------------


def test_a_pin_logon_answers_with_a_short_lived_token(server):
    epoc = server.add_account()
    before = datetime.now(UTC)
    body = logon(server, epoc, server.issue_pin(epoc)).json()
    token = body["logon_token"]
    expires = datetime.fromisoformat(token["expires_at"])
    assert before + timedelta(minutes=9) < expires <= datetime.now(UTC) + timedelta(minutes=10)
    assert len(token["token"]) <= 512
    assert epoc not in token["token"]  # encoded, not spelled out; still not a secret
    # a logon with the token is no PIN check, so it earns no new token
    again = account_with(server, token["token"])
    assert again.status_code == 200, again.text
    assert again.json()["epoc"] == epoc
    assert again.json()["logon_token"] is None


def test_a_certificate_logon_gets_no_token(server):
    identity = server.new_identity()
    with server.http(identity) as http:
        body = http.get(server.url + API + "account", timeout=30).json()
    assert body["logon_token"] is None


def test_a_renewal_with_the_token_checks_the_pin_once(server, argon2_calls):
    """Logon (the one PIN check), terms acceptance and enrolment with the token."""
    epoc = server.add_account(accept_terms=False)
    pin = server.issue_pin(epoc)
    token = token_of(server, epoc, pin)
    assert len(argon2_calls) == 1 + server.settings.superseded_pins_checked
    argon2_calls.clear()
    assert accept_terms(server, token).status_code == 204
    response = enroll(server, token)
    assert response.status_code == 200, response.text
    assert argon2_calls == []
    (cert,) = certs_from_body(response.content)
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)] == [epoc]
    # the PIN is spent exactly as with Basic: the next logon says so
    assert logon(server, epoc, pin).json()["code"] == "CCMS-PIN-USED"


def test_basic_keeps_working_beside_tokens(server, argon2_calls):
    epoc = server.add_account()
    response = server.enroll(epoc, server.issue_pin(epoc))
    assert response.status_code == 200, response.text
    assert len(argon2_calls) == 1 + server.settings.superseded_pins_checked


def test_the_server_log_names_how_each_request_was_authenticated(server):
    epoc = server.add_account(accept_terms=False)
    token = token_of(server, epoc, server.issue_pin(epoc))
    accept_terms(server, token)
    enroll(server, token)
    log = server.log_file.read_text()
    assert token not in log
    assert token.split(".")[1] not in log
    lines = [line for line in log.splitlines() if f"epoc={epoc}" in line]
    assert [line.split(" auth=")[1].split()[0] for line in lines] == ["pin", "token", "token"]


# --- a token is worth no more than its PIN -----------------------------------------------------


def test_used_pin_refuses_a_new_key_but_returns_the_same_certificate(server):
    """Single renewal: once the PIN is used, the token gets nothing new; the idempotent
    retry of the same key within 24 hours still collects the certificate."""
    epoc = server.add_account()
    token = token_of(server, epoc, server.issue_pin(epoc))
    key = rsa_key()
    first = enroll(server, token, key)
    assert first.status_code == 200, first.text
    refused_new = enroll(server, token)
    assert refused_new.status_code == 401
    assert refused_new.json()["code"] == "CCMS-PIN-USED"
    again = enroll(server, token, key)
    assert again.status_code == 200, again.text
    assert certs_from_body(again.content) == certs_from_body(first.content)
    assert accept_terms(server, token).json()["code"] == "CCMS-PIN-USED"


def test_a_pin_superseded_after_the_logon_voids_its_token(server):
    epoc = server.add_account(accept_terms=False)
    token = token_of(server, epoc, server.issue_pin(epoc))
    server.issue_pin(epoc)
    assert accept_terms(server, token).json()["code"] == "CCMS-PIN-SUPERSEDED"
    assert enroll(server, token).json()["code"] == "CCMS-PIN-SUPERSEDED"
    assert account_with(server, token).json()["code"] == "CCMS-PIN-SUPERSEDED"


def test_a_pin_that_expires_after_the_logon_voids_its_token(server):
    epoc = server.add_account()
    token = token_of(server, epoc, server.issue_pin(epoc))
    with server.services.sessions.begin() as session:
        session.execute(update(Pin).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert enroll(server, token).json()["code"] == "CCMS-PIN-EXPIRED"


def test_a_locked_account_refuses_its_token(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    token = token_of(server, epoc, pin)
    for _ in range(server.settings.max_failed_pins):
        logon(server, epoc, "WRONG-PIN-0000")
    response = enroll(server, token)
    assert response.status_code == 403
    assert response.json()["code"] == "CCMS-ACCOUNT-LOCKED"


# --- bad tokens ----------------------------------------------------------------------------------


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def tampered(token: str) -> dict[str, str]:
    payload, mac = token.split(".")
    version, epoc, pin, expires = json.loads(_unb64(payload))

    def again(*claims: object) -> str:
        return _b64(json.dumps(list(claims), separators=(",", ":")).encode()) + "." + mac

    flipped = mac[:5] + ("A" if mac[5] != "A" else "B") + mac[6:]
    return {
        "another MAC": f"{payload}.{flipped}",
        "later expiry": again(version, epoc, pin, expires + 3600),
        "another PIN": again(version, epoc, pin + 1, expires),
        "another EPOC": again(version, str(int(epoc) + 1), pin, expires),
        "no MAC": payload,
        "not base64": f"{payload}.!!!!",
        "three parts": f"{token}.{mac}",
        "empty MAC": f"{payload}.",
        "too long": token + "A" * 600,
    }


def test_tampered_tokens_are_refused_and_are_no_pin_guess(server, argon2_calls):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    server.add_account()  # the EPOC one above, so "another EPOC" names a real account
    token = token_of(server, epoc, pin)
    argon2_calls.clear()
    before = server.db_snapshot()
    for name, bad in tampered(token).items():
        response = enroll(server, bad)
        assert response.status_code == 401, name
        assert response.json()["code"] == "CCMS-TOKEN-INVALID", name
        assert response.headers["WWW-Authenticate"].startswith("Bearer"), name
        assert bad not in server.log_file.read_text(), name
    assert argon2_calls == []
    assert server.db_snapshot() == before  # no attempt counted, nothing issued
    assert enroll(server, token).status_code == 200


def test_a_token_for_another_epoc_is_refused(server):
    """A token whose MAC is right (made with the server's own key) but which names a PIN of
    another account: the PIN must belong to the EPOC the token names."""
    mine, other = server.add_account(), server.add_account()
    server.issue_pin(mine)
    server.issue_pin(other)
    forged = server.services.tokens.issue(other, pin_id(server, mine))
    refused(enroll(server, forged.token.get_secret_value()), "CCMS-TOKEN-INVALID")
    unknown = server.services.tokens.issue("4040404", pin_id(server, mine))
    refused(enroll(server, unknown.token.get_secret_value()), "CCMS-TOKEN-INVALID")


def test_an_expired_token_has_its_own_code(server, monkeypatch):
    epoc = server.add_account(accept_terms=False)
    token = token_of(server, epoc, server.issue_pin(epoc))
    later = datetime.now(UTC) + timedelta(minutes=10, seconds=1)
    monkeypatch.setattr(server.services.tokens, "_clock", lambda: later)
    refused(enroll(server, token), "CCMS-TOKEN-EXPIRED")
    refused(accept_terms(server, token), "CCMS-TOKEN-EXPIRED")
    assert server.account_row(epoc).failed_attempts == 0


def test_wrong_tokens_never_lock_the_account(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    token = token_of(server, epoc, pin)
    bad = tampered(token)["another MAC"]
    for _ in range(3 * server.settings.max_failed_pins):
        refused(enroll(server, bad), "CCMS-TOKEN-INVALID")
    assert server.account_row(epoc).failed_attempts == 0
    assert server.account_row(epoc).locked_at is None
    assert logon(server, epoc, pin).status_code == 200


def test_wrong_tokens_are_rate_limited(server_factory):
    server = server_factory(rate_limit_per_minute=1, rate_limit_burst=3)
    codes = [enroll(server, "bm90.aXQ").status_code for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429]


def test_tokens_can_be_turned_off(server_factory):
    server = server_factory(logon_token_minutes=0)
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    assert logon(server, epoc, pin).json()["logon_token"] is None
    made_anyway = server.services.tokens.issue(epoc, pin_id(server, epoc))
    refused(enroll(server, made_anyway.token.get_secret_value()), "CCMS-TOKEN-INVALID")
    assert server.enroll(epoc, pin).status_code == 200


def test_a_rotated_key_refuses_the_tokens_made_before(server):
    """`ccms-server logon-token rotate`, then `serve` again: older tokens are refused."""
    epoc = server.add_account()
    token = token_of(server, epoc, server.issue_pin(epoc))
    key_file = server.services.paths.logon_token_key
    before = key_file.read_bytes()
    result = subprocess.run(
        [str(SERVER_BIN), "logon-token", "rotate", "--data-dir", str(server.data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert key_file.read_bytes() != before
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert enroll(server, token).status_code == 200  # the running server keeps its key
    server.thread.stop()
    proc, line = start_process(["serve", "--data-dir", str(server.data_dir), "--port", "0"])
    try:
        url = line.split()[-1]
        with server.http() as http:
            response = http.post(
                url + API + "terms/acceptances",
                json={"version": "1", "sha256": "0" * 64},
                headers=bearer(token),
                timeout=30,
            )
        refused(response, "CCMS-TOKEN-INVALID")
    finally:
        stop_process(proc)
