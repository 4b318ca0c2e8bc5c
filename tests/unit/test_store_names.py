"""Stores named in a user's words, and which ones only an administrator may change."""

from __future__ import annotations

import pytest

from ecmt.certstore.names import is_machine_wide, plain_store_name

CHROME = "the certificate store Chrome and Edge use on this computer"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("windows:machine", "this computer's certificate store"),
        ("windows:user", "your Windows certificate store"),
        ("macos:login", "your login keychain"),
        ("nss", CHROME),
        ("nss:~/.pki/nssdb", CHROME),
        (
            "nss:~/.local/share/pki/nssdb",
            "the certificate store Chrome and Edge use on this computer",
        ),
        ("nss:/srv/app/nssdb", "a browser certificate database on this computer"),
        ("files:/tmp/x", "this program's own certificate folder"),
        ("files", "this program's own certificate folder"),
        ("firefox", "Firefox on this computer"),
        ("firefox:work", "Firefox (profile work) on this computer"),
        ("nss,firefox", "the certificate stores of Chrome and Edge, and Firefox"),
        (
            "nss, firefox:work, firefox:home",
            "the certificate stores of Chrome and Edge, Firefox (profile work), "
            "and Firefox (profile home)",
        ),
        (
            "nss,files",
            "the certificate store Chrome and Edge use on this computer, "
            "and this program's own certificate folder",
        ),
    ],
)
def test_plain_names(value: str, words: str) -> None:
    assert plain_store_name(value) == words


@pytest.mark.parametrize(
    ("value", "machine_wide"),
    [
        ("windows:machine", True),
        ("macos:system", True),
        ("nss:/etc/pki/nssdb", True),
        ("windows:user", False),
        ("nss:~/.pki/nssdb", False),
        ("files", False),
        ("firefox", False),
        ("nss,firefox", False),
        ("nss,nss:/etc/pki/nssdb", True),
    ],
)
def test_machine_wide_stores(value: str, machine_wide: bool) -> None:
    assert is_machine_wide(value) is machine_wide
