"""Fixtures for the interop tests; helpers live in interop_support.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from interop_support import require_tool, run


@pytest.fixture
def foreign_trust_anchor(tmp_path: Path) -> Path:
    """A self-made CA certificate (openssl) that did not sign the server's TLS identity."""
    require_tool("openssl")
    folder = tmp_path / "foreign-ca"
    folder.mkdir()
    cert = folder / "foreign-root.pem"
    run(
        [
            "openssl", "req", "-x509", "-nodes", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", folder / "foreign-root.key",
            "-subj", "/O=Somebody Else/CN=Somebody Else Root CA", "-days", "2", "-out", cert,
        ]
    )  # fmt: skip
    return cert
