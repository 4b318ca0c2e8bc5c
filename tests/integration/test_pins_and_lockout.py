"""PIN rules over HTTP: wrong PINs count, five lock, superseded/expired/used have own codes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import update

from ccms_server.db.models import Pin, utcnow
from support import API


def logon(server, epoc, pin):
    with server.http() as http:
        return http.get(server.url + API + "account", auth=(epoc, pin), timeout=30)


def test_logon_shows_the_account_without_using_the_pin(server):
    epoc = server.add_account(name="Dr Logon")
    pin = server.issue_pin(epoc)
    for _ in range(2):
        response = logon(server, epoc, pin)
        assert response.status_code == 200, response.text
    body = response.json()
    assert body["epoc"] == epoc
    assert body["display_name"] == "Dr Logon"
    assert body["pin"]["expires_at"] > body["pin"]["issued_at"]
    assert body["certificates"] == []
    assert body["renewal_window_days"] == 30
    assert server.enroll(epoc, pin).status_code == 200


def test_pin_is_typed_loosely(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    assert logon(server, epoc, pin.replace("-", " ").lower()).status_code == 200


def test_wrong_pins_count_down_then_lock(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    remaining = []
    for _ in range(4):
        response = logon(server, epoc, "WRONG-PIN-0000")
        assert response.status_code == 401
        assert response.json()["code"] == "CCMS-AUTH-INVALID"
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        remaining.append(response.json()["attempts_remaining"])
    assert remaining == [4, 3, 2, 1]
    fifth = logon(server, epoc, "WRONG-PIN-0000")
    assert fifth.status_code == 403
    assert fifth.json()["code"] == "CCMS-ACCOUNT-LOCKED"
    # the right PIN does not open a locked account, and is not even checked
    assert logon(server, epoc, pin).json()["code"] == "CCMS-ACCOUNT-LOCKED"
    assert server.enroll(epoc, pin).json()["code"] == "CCMS-ACCOUNT-LOCKED"
    server.admin.unlock(epoc)
    assert logon(server, epoc, pin).status_code == 200


def test_a_good_logon_resets_the_count(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    for _ in range(4):
        logon(server, epoc, "WRONG")
    assert logon(server, epoc, pin).status_code == 200
    assert logon(server, epoc, "WRONG").json()["attempts_remaining"] == 4


def test_parallel_guesses_never_exceed_the_limit(server):
    epoc = server.add_account()
    server.issue_pin(epoc)
    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda _: logon(server, epoc, "GUESS").json()["code"], range(12)))
    assert codes.count("CCMS-AUTH-INVALID") == 4
    assert codes.count("CCMS-ACCOUNT-LOCKED") == 8
    attempts = server.db_snapshot()["auth_attempts"]
    assert len(attempts) == 5  # only five PINs were ever verified


def test_superseded_pin_has_its_own_code_and_does_not_count(server):
    epoc = server.add_account()
    old = server.issue_pin(epoc)
    new = server.issue_pin(epoc)
    for _ in range(6):
        response = logon(server, epoc, old)
        assert response.status_code == 401
        assert response.json()["code"] == "CCMS-PIN-SUPERSEDED"
    assert server.account_row(epoc).failed_attempts == 0
    assert server.enroll(epoc, old).json()["code"] == "CCMS-PIN-SUPERSEDED"
    assert logon(server, epoc, new).status_code == 200


def test_expired_pin(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    with server.services.sessions.begin() as session:
        session.execute(update(Pin).values(expires_at=utcnow() - timedelta(minutes=1)))
    response = logon(server, epoc, pin)
    assert response.status_code == 401
    assert response.json()["code"] == "CCMS-PIN-EXPIRED"
    assert server.enroll(epoc, pin).json()["code"] == "CCMS-PIN-EXPIRED"


def test_used_pin(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    assert server.enroll(epoc, pin).status_code == 200
    response = logon(server, epoc, pin)
    assert response.status_code == 401
    assert response.json()["code"] == "CCMS-PIN-USED"


def test_unknown_epoc_changes_nothing(server):
    server.add_account()
    before = server.db_snapshot()
    response = logon(server, "4040404", "ANY-PIN")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "CCMS-AUTH-INVALID"
    assert "attempts_remaining" not in body
    assert server.db_snapshot() == before


def test_pins_are_stored_only_as_argon2id_hashes(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    rows = server.db_snapshot()["pins"]
    assert len(rows) == 1
    flat = repr(rows)
    assert pin not in flat
    assert pin.replace("-", "") not in flat
    assert "$argon2id$" in flat


def test_every_pin_check_costs_the_same_number_of_argon2_verifications(server, monkeypatch):
    """Timing must not tell an unknown EPOC from a wrong PIN, nor how many PINs an account
    has had: each check runs exactly 1 + superseded_pins_checked argon2 verifications."""
    from argon2 import PasswordHasher

    calls: list[int] = []
    real_verify = PasswordHasher.verify

    def counting(self, hash, password):
        calls.append(1)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    wrong = "AAAA-BBBB-CCCC"
    one = server.add_account()
    one_pin = server.issue_pin(one)
    many = server.add_account()
    many_pins = [server.issue_pin(many) for _ in range(6)]
    none = server.add_account()
    cases = {
        "unknown EPOC": ("4040404", wrong, "CCMS-AUTH-INVALID"),
        "account without a PIN": (none, wrong, "CCMS-AUTH-INVALID"),
        "wrong PIN, one PIN": (one, wrong, "CCMS-AUTH-INVALID"),
        "wrong PIN, six PINs": (many, wrong, "CCMS-AUTH-INVALID"),
        "superseded PIN": (many, many_pins[-2], "CCMS-PIN-SUPERSEDED"),
        "PIN superseded too long ago": (many, many_pins[0], "CCMS-AUTH-INVALID"),
        "current PIN": (one, one_pin, None),
    }
    spent = {}
    for name, (epoc, pin, code) in cases.items():
        calls.clear()
        response = logon(server, epoc, pin)
        assert response.status_code == (200 if code is None else 401), name
        if code is not None:
            assert response.json()["code"] == code, name
        spent[name] = len(calls)
    expected = 1 + server.settings.superseded_pins_checked
    assert spent == dict.fromkeys(cases, expected)
