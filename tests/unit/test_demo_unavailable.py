"""A build made without the reference server (installer/build.sh --no-demo) says so
when `ecmt --demo` is asked for, with its own code, instead of a crash."""

from __future__ import annotations

import sys

import pytest

from ecmt.domain.errors import EcmtError, ErrorCode


def test_without_ccms_server_the_demo_is_unavailable(monkeypatch):
    for name in ("ccms_server", "ccms_server.bootstrap", "ccms_server.demo", "ccms_server.server"):
        monkeypatch.setitem(sys.modules, name, None)  # import raises ModuleNotFoundError
    from ecmt.ui.demo import start_demo

    with pytest.raises(EcmtError) as caught:
        start_demo()
    assert caught.value.code is ErrorCode.DEMO_UNAVAILABLE
