"""Client services against the real server in-process: approval wait, logon, terms."""

from __future__ import annotations

import threading
import time

import pytest
from pydantic import SecretStr

from ecmt.ccms.api import ApiClient
from ecmt.ccms.est import EstClient
from ecmt.ccms.transport import Transport
from ecmt.certstore._files import FileStore
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.models import PinCredentials, RenewalStage
from ecmt.services.journal import Journal
from ecmt.services.logon import LogonService, TermsService
from ecmt.services.renewal import RenewalRequest, RenewalService
from fakes import MemorySecrets
from support import client_settings


def services(server, tmp_path, **overrides):
    settings = client_settings(server, tmp_path, **overrides)

    def est_for(identity):
        return EstClient(Transport(settings, identity))

    def api_for(identity):
        return ApiClient(Transport(settings, identity))

    secrets = MemorySecrets()
    store = FileStore(tmp_path / "store", secrets)
    renewal = RenewalService(settings, store, Journal(tmp_path / "journal", secrets), est_for)
    return renewal, LogonService(api_for, settings.epoc_pattern), TermsService(api_for), store


def test_pending_approval_is_waited_for_then_installed(server_factory, tmp_path):
    server = server_factory(enroll_requires_approval=True, approval_retry_after_seconds=1)
    renewal, _logon, _terms, store = services(server, tmp_path, approval_deadline_seconds=60)
    epoc = server.add_account()
    credentials = PinCredentials(epoc, SecretStr(server.issue_pin(epoc)))
    stages: list[RenewalStage] = []

    def approve_when_asked() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pending = server.admin.list_requests("pending")
            if pending:
                server.admin.approve_request(int(pending[0]["id"]))
                return
            time.sleep(0.1)

    approver = threading.Thread(target=approve_when_asked)
    approver.start()
    result = renewal.renew(
        RenewalRequest(epoc, credentials=credentials), lambda stage, _note: stages.append(stage)
    )
    approver.join()
    assert RenewalStage.WAITING_FOR_APPROVAL in stages
    assert store.find(result.installed.fingerprint) is not None
    assert server.admin.list_requests(None)[0]["status"] == "issued"


def test_approval_deadline_keeps_the_request_for_next_time(server_factory, tmp_path):
    server = server_factory(enroll_requires_approval=True, approval_retry_after_seconds=1)
    renewal, *_ = services(server, tmp_path, approval_deadline_seconds=0)
    epoc = server.add_account()
    credentials = PinCredentials(epoc, SecretStr(server.issue_pin(epoc)))
    with pytest.raises(EcmtError) as caught:
        renewal.renew(RenewalRequest(epoc, credentials=credentials))
    assert caught.value.code is ErrorCode.APPROVAL_TIMEOUT
    assert renewal.has_pending(epoc, "enroll")
    server.admin.approve_request(int(server.admin.list_requests("pending")[0]["id"]))
    result = renewal.renew(RenewalRequest(epoc, credentials=credentials))
    assert result.recovered


def test_logon_and_terms(server, tmp_path):
    _renewal, logon, terms, _store = services(server, tmp_path)
    epoc = server.add_account(name="Dr Terms", accept_terms=False)
    credentials = logon.credentials(f" {epoc} ", SecretStr(server.issue_pin(epoc)))
    account = logon.logon(credentials)
    assert account.display_name == "Dr Terms"
    document = terms.current()
    assert terms.needs_acceptance(account, document)
    terms.accept(document, credentials)
    assert not terms.needs_acceptance(logon.logon(credentials), document)
    with pytest.raises(EcmtError) as caught:
        logon.credentials("12ab", SecretStr("x"))
    assert caught.value.code is ErrorCode.EPOC_INVALID
    with pytest.raises(EcmtError) as caught:
        logon.credentials(epoc, SecretStr("  "))
    assert caught.value.code is ErrorCode.PIN_MISSING
