"""`ecmt doctor` names the right cause for each injected fault: an intercepting CA, a skewed
clock, a proxy that wants a sign-in (407), a refused port, a name that cannot resolve; and
all is well against the real reference server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from client_cli import ecmt

from ecmt import __version__
from ecmt.domain.errors import ErrorCode
from ecmt.services.doctor import Doctor
from ecmt.services.findings import Level, release_words
from ecmt.services.release import ReleaseCheck
from hostile_server import Behaviour, HostileServer
from support import client_settings, publish_release, release_keys


@pytest.fixture(autouse=True)
def _no_proxy_from_the_environment(monkeypatch):
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def doctor_for(settings, tmp_path) -> Doctor:
    return Doctor(
        settings,
        certificates=lambda: [],
        store_name="the test store",
        release=release_words(ReleaseCheck(settings.release_keys, tmp_path / "release.json")),
    )


def settings_for(url: str, trust_anchor, tmp_path, **overrides):
    class Peer:
        pass

    peer = Peer()
    peer.url = url  # type: ignore[attr-defined]
    peer.trust_anchor = trust_anchor  # type: ignore[attr-defined]
    if trust_anchor is None:
        overrides["trust_anchors"] = []
    return client_settings(
        peer, tmp_path / "client", connect_timeout=5, read_timeout=5, **overrides
    )


def by_check(findings) -> dict[str, list]:
    found: dict[str, list] = {}
    for finding in findings:
        found.setdefault(finding.check, []).append(finding)
    return found


def test_all_well_against_the_reference_server(server, tmp_path):
    publish_release(server, 1, __version__, __version__)
    settings = settings_for(
        server.url, server.trust_anchor, tmp_path, release_keys=release_keys(server)
    )
    findings = doctor_for(settings, tmp_path).run()
    assert [f.check for f in findings if f.level is not Level.OK] == ["certificate"]
    checks = by_check(findings)
    assert "configured trust anchor" in checks["tls"][0].words
    assert "signed by a trusted key" in checks["service"][0].words
    assert checks["clock"][0].level is Level.OK


def test_an_intercepting_ca_is_named_with_the_host_to_exempt(server, tmp_path):
    with HostileServer(Behaviour(body=b"{}")) as peer:  # its own CA, not the service's
        settings = settings_for(peer.url, server.trust_anchor, tmp_path)
        findings = doctor_for(settings, tmp_path).run()
    (tls,) = by_check(findings)["tls"]
    assert tls.level is Level.PROBLEM
    assert tls.code is ErrorCode.TLS_INTERCEPTED
    assert '"Hostile Server Test CA"' in tls.words
    assert "exempt 127.0.0.1 from HTTPS inspection" in tls.words
    assert "clock" not in by_check(findings)  # nothing after a failed handshake


def test_a_skewed_clock_is_a_plain_warning(tmp_path):
    skewed = format_datetime(datetime.now(UTC) - timedelta(hours=3), usegmt=True)
    with HostileServer(Behaviour(status=404, headers=[("Date", skewed)])) as peer:
        settings = settings_for(peer.url, peer.trust_anchor, tmp_path)
        findings = doctor_for(settings, tmp_path).run()
    (clock,) = by_check(findings)["clock"]
    assert clock.level is Level.WARNING
    assert clock.code is ErrorCode.CLOCK_SKEW
    assert "3 hours ahead of the service's" in clock.words
    assert by_check(findings)["tls"][0].level is Level.OK


@pytest.fixture
def proxy_407() -> Iterator[int]:
    """A proxy on loopback that answers every CONNECT with 407."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    seen: list[bytes] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                seen.append(data)
                conn.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="practice"\r\nContent-Length: 0\r\n\r\n'
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()
    assert seen
    assert seen[0].startswith(b"CONNECT ccms.example.invalid:443 HTTP/1.1\r\n")


def test_a_proxy_that_wants_a_sign_in_names_the_setting(proxy_407, tmp_path):
    settings = settings_for(
        "https://ccms.example.invalid", None, tmp_path, proxy=f"http://127.0.0.1:{proxy_407}"
    )
    findings = doctor_for(settings, tmp_path).run()
    proxy = by_check(findings)["proxy"]
    assert "from the `proxy` setting" in proxy[0].words
    assert proxy[-1].code is ErrorCode.PROXY_AUTH
    assert "(HTTP 407)" in proxy[-1].words
    assert "`proxy` setting" in proxy[-1].words


def test_a_refused_port(tmp_path):
    spare = socket.create_server(("127.0.0.1", 0))
    port = spare.getsockname()[1]
    spare.close()
    settings = settings_for(f"https://127.0.0.1:{port}", None, tmp_path)
    (tcp,) = by_check(doctor_for(settings, tmp_path).run())["tcp"]
    assert tcp.code is ErrorCode.NETWORK_CONNECT
    assert "refused" in tcp.words


def test_a_name_that_cannot_resolve_through_the_real_command(tmp_path):
    run = ecmt("doctor", "--server", "https://nonexistent.invalid", "--json", home=tmp_path)
    assert run.returncode == 5, run.stderr
    findings = run.json["findings"]
    dns = next(f for f in findings if f["check"] == "dns")
    assert dns["code"] == "ECMT-NETWORK-DNS"
    assert "nonexistent.invalid" in dns["words"]
    assert run.json["result"] == "problem"
    assert [f["check"] for f in findings] == ["proxy", "dns", "certificate"]
