"""What one renewal costs the service: PIN checks (argon2) and connections (TLS handshakes),
counted in the server, which runs in this process, for `ecmt renew` as a real process and
for the services the desktop app calls."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from client_cli import ecmt
from pydantic import SecretStr

from ccms_server.http.connection import Connection
from ccms_server.tokens import LogonTokens
from ecmt.app import build_app
from ecmt.ccms import transport as transport_module
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


def test_ecmt_renew_goes_over_one_connection(server, tmp_path, counts):
    epoc = server.add_account(accept_terms=False)
    pin = server.issue_pin(epoc)
    run = ecmt(
        *renew_args(server, tmp_path, "--epoc", epoc, "--pin-stdin", "--accept-terms"),
        home=tmp_path,
        stdin=pin,
    )
    assert run.returncode == 0, run.stderr
    assert run.json["certificate"]["epoc"] == epoc
    assert counts.connections == 1
    rows = requests_of(server, epoc)
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("GET account", "200", "pin"),
        ("GET terms", "200", "-"),
        ("POST acceptances", "204", "pin"),
        ("GET cacerts", "200", "-"),
        ("POST simpleenroll", "200", "pin"),
    ]
    assert len({r[4] for r in rows}) == 1
    assert counts.argon2 == 3 * (1 + server.settings.superseded_pins_checked)


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


def test_the_desktop_services_go_over_one_connection(server, walk, counts):
    epoc = server.add_account(accept_terms=False)
    _app, _credentials, result = walk(epoc, server.issue_pin(epoc))
    assert result.installed.epoc == epoc
    assert counts.connections == 1


def test_a_connection_left_idle_is_not_used_again(server, walk, counts, monkeypatch):
    """A connection idle past IDLE_REUSE_SECONDS may be closing at the server's end: the
    next request opens a new one (here every request, with the limit below zero)."""
    monkeypatch.setattr(transport_module, "IDLE_REUSE_SECONDS", -1.0)
    epoc = server.add_account()
    walk(epoc, server.issue_pin(epoc))
    rows = requests_of(server, epoc)
    assert counts.connections == len(rows) == len({r[4] for r in rows}) == 4
