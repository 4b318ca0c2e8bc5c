"""Logon tokens on their own: the server's HMAC and expiry with a clock of its own, the key
file, and the client's holder, which hands a token out only for the credentials it came with."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from ccms_protocol.wire import AccountInfo, LogonToken, ProblemCode
from ccms_server.problems import ProblemError
from ccms_server.tokens import LogonTokens, create_key, load_secret
from ecmt.ccms.logon_token import LogonTokens as HeldTokens
from ecmt.domain.models import PinCredentials

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def code_of(tokens: LogonTokens, token: str) -> ProblemCode:
    with pytest.raises(ProblemError) as caught:
        tokens.verify(token)
    return caught.value.code


def test_a_token_names_its_epoc_and_pin_until_it_expires():
    clock = Clock()
    tokens = LogonTokens(b"k" * 32, timedelta(minutes=10), clock)
    made = tokens.issue("1234567", 42)
    assert made.expires_at == NOW + timedelta(minutes=10)
    claims = tokens.verify(made.token.get_secret_value())
    assert (claims.epoc, claims.pin_id) == ("1234567", 42)
    clock.now = NOW + timedelta(minutes=9, seconds=59)
    assert tokens.verify(made.token.get_secret_value()) == claims
    clock.now = NOW + timedelta(minutes=10)
    assert code_of(tokens, made.token.get_secret_value()) is ProblemCode.TOKEN_EXPIRED


def test_another_key_refuses_it():
    made = LogonTokens(b"a" * 32, timedelta(minutes=10)).issue("1234567", 1)
    other = LogonTokens(b"b" * 32, timedelta(minutes=10))
    assert code_of(other, made.token.get_secret_value()) is ProblemCode.TOKEN_INVALID


@pytest.mark.parametrize("token", ["", ".", "a.b.c", "x" * 600, "=.=", "é.é", "abc.def"])
def test_malformed_tokens_are_invalid(token):
    tokens = LogonTokens(b"k" * 32, timedelta(minutes=10))
    assert code_of(tokens, token) is ProblemCode.TOKEN_INVALID


def test_an_expired_token_is_refused_only_once_its_mac_is_right():
    """The expiry is read only from a token this key made: a forged one is just invalid."""
    clock = Clock()
    tokens = LogonTokens(b"k" * 32, timedelta(minutes=10), clock)
    payload, mac = tokens.issue("1234567", 1).token.get_secret_value().split(".")
    clock.now = NOW + timedelta(hours=1)
    assert code_of(tokens, f"{payload}.{mac[::-1]}") is ProblemCode.TOKEN_INVALID


def test_the_key_file_is_private_and_rotation_changes_the_key(tmp_path):
    path = tmp_path / "private" / "logon-token.key.pem"
    first = load_secret(path, None)  # made when missing
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret(path, None) == first
    create_key(path, b"passphrase")
    assert path.read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert load_secret(path, b"passphrase") != first
    assert len(first) == 32


def test_the_token_never_shows_in_repr_but_goes_on_the_wire():
    token = LogonToken(token=SecretStr("s3cret.mac"), expires_at=NOW)
    assert "s3cret" not in repr(token)
    assert '"token":"s3cret.mac"' in token.model_dump_json()
    info = AccountInfo.model_validate_json(
        '{"epoc": "1", "display_name": "d", "organisation": "o", "role": "r",'
        ' "terms_accepted_version": null, "pin": null, "certificates": [],'
        ' "renewal_window_days": 30}'
    )
    assert info.logon_token is None  # an older server sends none


# --- the client's holder -------------------------------------------------------------------------


def test_the_client_hands_the_token_out_only_for_the_same_credentials():
    clock = Clock()
    held = HeldTokens(clock)
    mine = PinCredentials("1234567", SecretStr("K7QM-4X9R-T3HP"))
    token = LogonToken(token=SecretStr("t.m"), expires_at=NOW + timedelta(minutes=10))
    assert held.bearer(mine) is None
    held.keep(mine, token)
    assert held.bearer(PinCredentials("1234567", SecretStr("K7QM-4X9R-T3HP"))) == "t.m"
    assert held.bearer(PinCredentials("1234567", SecretStr("OTHER-PIN"))) is None
    assert held.bearer(PinCredentials("7654321", SecretStr("K7QM-4X9R-T3HP"))) is None
    clock.now = NOW + timedelta(minutes=9, seconds=31)  # within the margin of its end
    assert held.bearer(mine) is None
    clock.now = NOW
    held.forget(PinCredentials("7654321", SecretStr("x")))
    assert held.bearer(mine) == "t.m"
    held.forget(mine)
    assert held.bearer(mine) is None
