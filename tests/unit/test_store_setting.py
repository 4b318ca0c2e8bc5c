"""The `store` setting takes one store value or several: a TOML list, a JSON list in
ECMT_STORE, or comma-separated text (--store, ECMT_STORE)."""

from __future__ import annotations

import pytest

from ecmt.config import load_settings
from ecmt.domain.errors import EcmtError, ErrorCode


def test_a_toml_list(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('store = ["nss", "firefox:work"]\nfirefox_wait_seconds = 30\n')
    settings = load_settings(files=[config])
    assert settings.store == "nss,firefox:work"
    assert settings.firefox_wait_seconds == 30


def test_one_value_in_toml_stays_as_it_is(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('store = "nss:~/.pki/nssdb"\n')
    assert load_settings(files=[config]).store == "nss:~/.pki/nssdb"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("nss,firefox", "nss,firefox"), ('["nss", "firefox"]', "nss,firefox"), ("files", "files")],
)
def test_ecmt_store_as_text_or_json(monkeypatch, text, expected):
    monkeypatch.setenv("ECMT_STORE", text)
    assert load_settings(files=[]).store == expected


def test_the_flag_wins(monkeypatch):
    monkeypatch.setenv("ECMT_STORE", "files")
    assert load_settings(files=[], store="nss,firefox").store == "nss,firefox"


@pytest.mark.parametrize("toml", ['store = ["nss", "files:/a,b"]', 'store = "[nss"'])
def test_a_list_that_cannot_be_read_is_a_configuration_error(tmp_path, toml):
    config = tmp_path / "config.toml"
    config.write_text(toml + "\n")
    with pytest.raises(EcmtError) as caught:
        load_settings(files=[config])
    assert caught.value.code is ErrorCode.CONFIG_INVALID
    assert "store" in (caught.value.detail or "")


def test_a_negative_wait_is_a_configuration_error():
    with pytest.raises(EcmtError) as caught:
        load_settings(files=[], firefox_wait_seconds=-1)
    assert caught.value.code is ErrorCode.CONFIG_INVALID
