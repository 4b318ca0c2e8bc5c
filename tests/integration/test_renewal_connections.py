"""What one renewal costs the service: PIN checks (argon2) and connections (TLS handshakes),
counted in the server, which runs in this process, for `ecmt renew` as a real process and
for the services the desktop app calls."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from client_cli import ecmt
from pydantic import SecretStr

from ccms_server.http.connection import Connection
from ccms_server.tokens import LogonTokens
from ecmt.app import build_app
from ecmt.ccms import transport as transport_module
from ecmt.domain.models import PinCredentials
from ecmt.services.renewal import RenewalRequest
from support import client_settings

ACCESS = re.compile(r'"(\w+) (\S+)" (\d{3}) .* code=(\S+) ref=\S+ auth=(\S+) conn=(\d+)')


@dataclass
class Counts:
    argon2: int = 0
    connections: int = 0
    tokens: list[str] = field(default_factory=list)


@pytest.fixture
def counts(monkeypatch) -> Counts:
    """argon2 verifications, accepted connections (one TLS handshake each) and the logon
    tokens the server made."""
    from argon2 import PasswordHasher

    seen = Counts()
    real_verify = PasswordHasher.verify
    real_made = Connection.connection_made
    real_issue = LogonTokens.issue

    def verify(self, hash, password):
        seen.argon2 += 1
        return real_verify(self, hash, password)

    def made(self, transport):
        seen.connections += 1
        return real_made(self, transport)

    def issue(self, epoc, pin_id):
        token = real_issue(self, epoc, pin_id)
        seen.tokens.append(token.token.get_secret_value())
        return token

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    monkeypatch.setattr(Connection, "connection_made", made)
    monkeypatch.setattr(LogonTokens, "issue", issue)
    return seen


def requests_of(server, epoc: str) -> list[tuple[str, str, str, str, str]]:
    """(request, status, code, auth, conn) of each access-log line naming EPOC, or the
    anonymous GETs (terms, cacerts) between them."""
    rows = []
    for line in server.log_file.read_text().splitlines():
        found = ACCESS.search(line)
        if found and (f"epoc={epoc} " in line or "epoc=- " in line):
            method, path, status, code, auth, conn = found.groups()
            rows.append((f"{method} {path.rsplit('/', 1)[-1]}", status, code, auth, conn))
    return rows


def renew_args(server, tmp_path, *more: str) -> list[str]:
    return [
        "renew",
        "--server",
        server.url,
        "--trust-anchor",
        str(server.trust_anchor),
        "--store",
        f"files:{tmp_path / 'store'}",
        "--json",
        *more,
    ]


def test_ecmt_renew_checks_the_pin_once_over_one_connection(server, tmp_path, counts):
    epoc = server.add_account(accept_terms=False)
    pin = server.issue_pin(epoc)
    run = ecmt(
        *renew_args(server, tmp_path, "--epoc", epoc, "--pin-stdin", "--accept-terms"),
        home=tmp_path,
        stdin=pin,
    )
    assert run.returncode == 0, run.stderr
    assert run.json["certificate"]["epoc"] == epoc
    assert counts.argon2 == 1 + server.settings.superseded_pins_checked
    assert counts.connections == 1
    rows = requests_of(server, epoc)
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("GET account", "200", "pin"),
        ("GET terms", "200", "-"),
        ("POST acceptances", "204", "token"),
        ("GET cacerts", "200", "-"),
        ("POST simpleenroll", "200", "token"),
    ]
    assert len({r[4] for r in rows}) == 1
    (token,) = counts.tokens
    for path in tmp_path.rglob("*"):  # the server's log and database, the client's files
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
    assert token not in run.stdout + run.stderr


def test_renewal_with_the_current_certificate_adds_one_connection(server, tmp_path, counts):
    """TLS client authentication belongs to its own connection; the anonymous requests
    (terms) go over another. No PIN is checked."""
    epoc = server.add_account()
    first = ecmt(
        *renew_args(server, tmp_path, "--epoc", epoc, "--pin-stdin"),
        home=tmp_path,
        stdin=server.issue_pin(epoc),
    )
    assert first.returncode == 0, first.stderr
    counts.argon2 = counts.connections = 0
    again = ecmt(*renew_args(server, tmp_path, "--with-current-cert"), home=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.json["certificate"]["fingerprint"] != first.json["certificate"]["fingerprint"]
    assert counts.argon2 == 0
    assert counts.connections == 2


# --- the services the desktop app calls ----------------------------------------------------------


@pytest.fixture
def walk(server, tmp_path):
    """R-3 logon, R-4 terms, R-6 request, with the calls the wizard's pages make; the app
    is closed after the test, so that its connection can still be looked at."""
    apps = []

    def run(epoc: str, pin: str, before_renewal=lambda: None):
        app = build_app(client_settings(server, tmp_path))
        apps.append(app)
        credentials = app.logon.credentials(epoc, SecretStr(pin))
        account = app.logon.logon(credentials)
        assert account.logon_token is None  # kept by the transport, not handed on
        terms = app.terms.current()
        if app.terms.needs_acceptance(account, terms):
            app.terms.accept(terms, credentials, None)
        before_renewal()
        result = app.renewal.renew(
            RenewalRequest(epoc=epoc, credentials=credentials, account=account)
        )
        return app, credentials, result

    yield run
    for app in apps:
        app.close()


def test_the_desktop_services_check_the_pin_once(server, walk, counts):
    epoc = server.add_account(accept_terms=False)
    _app, _credentials, result = walk(epoc, server.issue_pin(epoc))
    assert result.installed.epoc == epoc
    assert counts.argon2 == 1 + server.settings.superseded_pins_checked
    assert counts.connections == 1


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        ("rotate", "CCMS-TOKEN-INVALID"),
        ("expire", "CCMS-TOKEN-EXPIRED"),
    ],
)
def test_a_refused_token_is_followed_by_the_pin(server, walk, counts, monkeypatch, spoil, code):
    """The service stops accepting the token between logon and enrolment: the enrolment is
    sent once more with the PIN, and the token is not used again."""
    epoc = server.add_account()
    tokens = server.services.tokens

    def spoil_token() -> None:
        if spoil == "rotate":
            monkeypatch.setattr(tokens, "_secret", b"another key" * 3)
        else:
            later = datetime.now(UTC) + timedelta(minutes=11)
            monkeypatch.setattr(tokens, "_clock", lambda: later)

    app, credentials, result = walk(epoc, server.issue_pin(epoc), spoil_token)
    assert result.installed.epoc == epoc
    assert counts.argon2 == 2 * (1 + server.settings.superseded_pins_checked)
    rows = [(r[0], r[1], r[2], r[3]) for r in requests_of(server, epoc)]
    assert rows[-2:] == [
        ("POST simpleenroll", "401", code, "token"),
        ("POST simpleenroll", "200", "-", "pin"),
    ]
    transport = app.connections.transport(None)
    assert transport.tokens.bearer(credentials) is None
    assert counts.connections == 1


def test_a_token_near_its_end_is_not_sent(server, tmp_path, counts):
    """By the client's own clock the token has run out: the PIN goes at once."""
    epoc = server.add_account()
    app = build_app(client_settings(server, tmp_path))
    try:
        credentials = PinCredentials(epoc, SecretStr(server.issue_pin(epoc)))
        app.logon.logon(credentials)
        tokens = app.connections.transport(None).tokens
        assert tokens.bearer(credentials) is not None
        tokens._clock = lambda: datetime.now(UTC) + timedelta(minutes=10)
        assert tokens.bearer(credentials) is None
        app.renewal.renew(RenewalRequest(epoc=epoc, credentials=credentials))
    finally:
        app.close()
    enrolments = [r for r in requests_of(server, epoc) if r[0] == "POST simpleenroll"]
    assert [(r[1], r[3]) for r in enrolments] == [("200", "pin")]


def test_a_connection_left_idle_is_not_used_again(server, walk, counts, monkeypatch):
    """A connection idle past IDLE_REUSE_SECONDS may be closing at the server's end: the
    next request opens a new one (here every request, with the limit below zero)."""
    monkeypatch.setattr(transport_module, "IDLE_REUSE_SECONDS", -1.0)
    epoc = server.add_account()
    walk(epoc, server.issue_pin(epoc))
    rows = requests_of(server, epoc)
    assert counts.connections == len(rows) == len({r[4] for r in rows}) == 4
