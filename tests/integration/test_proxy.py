"""Behind a TLS-terminating proxy: plain HTTP, certificate and address from trusted hops only."""

from __future__ import annotations

from urllib.parse import quote

import requests

from support import API, EST, csr_body, pem, rsa_key


def _plain(server) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def test_forwarded_certificate_from_a_trusted_proxy(server_factory):
    proxied = server_factory(tls=False, trusted_proxies=["127.0.0.1/32"])
    identity = proxied_identity(proxied)
    header = quote(pem(identity.cert).decode())
    key = rsa_key()
    response = _plain(proxied).post(
        proxied.url + EST + "simplereenroll",
        data=csr_body(key, identity.cert.subject),
        headers={
            "Content-Type": "application/pkcs10",
            "X-SSL-Client-Cert": header,
            "X-Forwarded-For": "203.0.113.9",
        },
    )
    assert response.status_code == 200, response.text
    assert 'client=203.0.113.9 "POST /.well-known/est/simplereenroll" 200' in (
        proxied.log_file.read_text()
    )


def proxied_identity(server):
    """Enrol through the plain-HTTP listener, as the proxy would forward it."""
    from support import Identity, certs_from_body

    epoc = server.add_account()
    key = rsa_key()
    response = _plain(server).post(
        server.url + EST + "simpleenroll",
        data=csr_body(key),
        auth=(epoc, server.issue_pin(epoc)),
        headers={"Content-Type": "application/pkcs10"},
    )
    assert response.status_code == 200, response.text
    return Identity(key, certs_from_body(response.content)[0], server.data_dir)


def test_plain_http_from_an_untrusted_address_is_refused(server_factory):
    server = server_factory(tls=False, trusted_proxies=["192.0.2.0/24"])
    response = _plain(server).get(server.url + API + "terms")
    assert response.status_code == 403
    assert response.json()["code"] == "CCMS-TLS-REQUIRED"


def test_certificate_header_ignored_from_untrusted_clients(server):
    identity = server.new_identity()
    header = quote(pem(identity.cert).decode())
    with server.http() as http:  # TLS, but no client certificate: only the header
        response = http.post(
            server.url + EST + "simplereenroll",
            data=csr_body(rsa_key(), identity.cert.subject),
            headers={"Content-Type": "application/pkcs10", "X-SSL-Client-Cert": header},
        )
    assert response.status_code == 401
    assert response.json()["code"] == "CCMS-AUTH-REQUIRED"
    assert "ignored X-SSL-Client-Cert from untrusted address" in server.log_file.read_text()
