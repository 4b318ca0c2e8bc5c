"""Bad input everywhere: the right status and problem code, and nothing changes in the DB."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from support import API, EST, csr_body, csr_der, rsa_key


def _check_problem(response, status, code):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["title"]
    assert body["reference"] == response.headers["X-Request-ID"]
    assert response.headers["Server"] == "ccms-server"
    assert int(response.headers["Content-Length"]) == len(response.content)


def _tampered_signature() -> bytes:
    der = bytearray(csr_der(rsa_key()))
    der[-5] ^= 0xFF  # inside the signature BIT STRING
    return base64.encodebytes(bytes(der))


BAD_CSRS = {
    "not base64": b"this is not base64 at all!",
    "empty": b"   \n",
    "not a csr": base64.encodebytes(b"\x30\x03\x02\x01\x01"),
    "bad signature": _tampered_signature(),
    "rsa 1024": csr_body(rsa_key(1024)),
    "secp256k1": csr_body(ec.generate_private_key(ec.SECP256K1())),
    "p192": csr_body(ec.generate_private_key(ec.SECP192R1())),
}


@pytest.mark.parametrize("name", sorted(BAD_CSRS))
def test_malformed_or_weak_csr(server, name):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    before = server.db_snapshot()
    with server.http() as http:
        response = http.post(
            server.url + EST + "simpleenroll",
            data=BAD_CSRS[name],
            auth=(epoc, pin),
            headers={"Content-Type": "application/pkcs10"},
        )
    _check_problem(response, 400, "CCMS-CSR-INVALID")
    assert server.db_snapshot() == before


def test_base64_variants_are_accepted(server):
    der = csr_der(rsa_key())
    one_line = base64.b64encode(der) + b"\r\n\r\n  "
    for body in (one_line, base64.encodebytes(der), base64.b64encode(der).rstrip(b"=")):
        epoc = server.add_account()
        response = server.http().post(
            server.url + EST + "simpleenroll",
            data=body,
            auth=(epoc, server.issue_pin(epoc)),
            headers={"Content-Type": "application/pkcs10"},
        )
        assert response.status_code == 200, response.text


def test_wrong_content_type(server):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    before = server.db_snapshot()
    response = server.http().post(
        server.url + EST + "simpleenroll",
        data=csr_body(rsa_key()),
        auth=(epoc, pin),
        headers={"Content-Type": "text/plain"},
    )
    _check_problem(response, 415, "CCMS-MEDIA-TYPE-UNSUPPORTED")
    response = server.http().post(
        server.url + API + "terms/acceptances",
        data="{}",
        auth=(epoc, pin),
        headers={"Content-Type": "text/plain"},
    )
    _check_problem(response, 415, "CCMS-MEDIA-TYPE-UNSUPPORTED")
    assert server.db_snapshot() == before


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_body(server, chunked):
    epoc = server.add_account()
    pin = server.issue_pin(epoc)
    before = server.db_snapshot()
    big = b"A" * (server.settings.max_body_bytes + 10)
    data = iter([big[:1000], big[1000:]]) if chunked else big
    response = server.http().post(
        server.url + EST + "simpleenroll",
        data=data,
        auth=(epoc, pin),
        headers={"Content-Type": "application/pkcs10"},
    )
    _check_problem(response, 413, "CCMS-REQUEST-TOO-LARGE")
    assert server.db_snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"version": "1"}',
        '{"version": "1", "sha256": "xyz"}',
        '{"version": "1", "sha256": "' + "0" * 64 + '", "extra": 1}',
    ],
)
def test_bad_json(server, body):
    epoc = server.add_account(accept_terms=False)
    pin = server.issue_pin(epoc)
    before = server.db_snapshot()
    response = server.http().post(
        server.url + API + "terms/acceptances",
        data=body,
        auth=(epoc, pin),
        headers={"Content-Type": "application/json"},
    )
    _check_problem(response, 400, "CCMS-REQUEST-INVALID")
    assert server.db_snapshot() == before


def test_missing_or_malformed_credentials(server):
    before = server.db_snapshot()
    response = server.http().post(
        server.url + EST + "simpleenroll",
        data=csr_body(rsa_key()),
        headers={"Content-Type": "application/pkcs10"},
    )
    _check_problem(response, 401, "CCMS-AUTH-REQUIRED")
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="CCMS"')
    cases = {
        "Basic !!!": "CCMS-AUTH-INVALID",
        "Basic " + base64.b64encode(b"no-colon").decode(): "CCMS-AUTH-INVALID",
        "Bearer x": "CCMS-TOKEN-INVALID",  # not a logon token this service made
        "Bearer ": "CCMS-TOKEN-INVALID",
        "Negotiate abc": "CCMS-AUTH-REQUIRED",
    }
    for header, code in cases.items():
        response = server.http().get(
            server.url + API + "account", headers={"Authorization": header}
        )
        assert response.status_code == 401
        assert response.json()["code"] == code, header
    assert server.db_snapshot() == before


def test_unknown_path_and_wrong_method(server):
    _check_problem(server.get("/nothing-here"), 404, "CCMS-NOT-FOUND")
    response = server.get(EST + "simpleenroll")
    _check_problem(response, 405, "CCMS-METHOD-NOT-ALLOWED")
    assert response.headers["Allow"] == "POST"


def test_request_id_is_echoed_or_made(server):
    response = server.get(API + "terms", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    response = server.get(API + "terms", headers={"X-Request-ID": "bad id;" * 20})
    assert "bad id" not in response.headers["X-Request-ID"]
    assert len(response.headers["X-Request-ID"]) == 36


@pytest.mark.parametrize(
    "body",
    [
        "[" * 30_000 + "]" * 30_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
    ],
    ids=["arrays", "objects"],
)
def test_deeply_nested_json_is_refused_before_parsing(server, body):
    epoc = server.add_account(accept_terms=False)
    pin = server.issue_pin(epoc)
    before = server.db_snapshot()
    assert len(body) < server.settings.max_body_bytes
    response = server.http().post(
        server.url + API + "terms/acceptances",
        data=body,
        auth=(epoc, pin),
        headers={"Content-Type": "application/json"},
    )
    _check_problem(response, 400, "CCMS-REQUEST-INVALID")
    assert server.db_snapshot() == before
    log = server.log_file.read_text()
    assert "Traceback" not in log
    assert "unexpected error" not in log
