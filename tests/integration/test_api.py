"""CCMS JSON extensions: terms, acceptances, account by certificate, release manifest."""

from __future__ import annotations

import hashlib
import json

from ccms_server import release
from support import API


def test_terms_document_and_its_hash(server):
    response = server.get(API + "terms")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    terms = response.json()
    assert terms["version"] == "1"
    assert "Acceptable Use Policy" in terms["text"]
    assert terms["sha256"] == hashlib.sha256(terms["text"].encode()).hexdigest()


def _accept(server, epoc, pin, body, content_type="application/json"):
    with server.http() as http:
        return http.post(
            server.url + API + "terms/acceptances",
            data=body,
            auth=(epoc, pin),
            headers={"Content-Type": content_type},
            timeout=30,
        )


def test_accepting_terms_unlocks_enrolment(server):
    epoc = server.add_account(accept_terms=False)
    pin = server.issue_pin(epoc)
    assert server.enroll(epoc, pin).json()["code"] == "CCMS-TERMS-REQUIRED"
    terms = server.get(API + "terms").json()
    body = json.dumps({"version": terms["version"], "sha256": terms["sha256"]})
    response = _accept(server, epoc, pin, body)
    assert response.status_code == 204
    assert response.content == b""
    assert server.account_row(epoc).terms_accepted_version == "1"
    assert server.enroll(epoc, pin).status_code == 200
    audit = [row for row in server.db_snapshot()["audit_log"] if row[3] == "terms.accepted"]
    assert len(audit) == 1


def test_stale_terms_are_409(server):
    epoc = server.add_account(accept_terms=False)
    pin = server.issue_pin(epoc)
    old = server.get(API + "terms").json()
    server.admin.publish_terms("2", "Acceptable Use Policy", "Revised terms.")
    response = _accept(server, epoc, pin, json.dumps({"version": "1", "sha256": old["sha256"]}))
    assert response.status_code == 409
    assert response.json()["code"] == "CCMS-TERMS-STALE"
    assert response.json()["current_version"] == "2"
    wrong_hash = json.dumps({"version": "2", "sha256": old["sha256"]})
    assert _accept(server, epoc, pin, wrong_hash).json()["code"] == "CCMS-TERMS-STALE"
    assert server.account_row(epoc).terms_accepted_version is None


def test_account_by_client_certificate(server):
    identity = server.new_identity()
    with server.http(identity) as http:
        response = http.get(server.url + API + "account", timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["pin"] is None  # consumed by the enrolment
    (cert,) = body["certificates"]
    assert cert["serial"] == format(identity.cert.serial_number, "x")
    assert cert["status"] == "valid"
    server.admin.revoke(cert["serial"], "superseded")
    assert server.get(API + "account").json()["code"] == "CCMS-AUTH-REQUIRED"


def test_account_lists_revoked_certificates(server):
    identity = server.new_identity()
    renewed = server.reenroll(identity)
    assert renewed.status_code == 200
    server.admin.revoke(format(identity.cert.serial_number, "x"), "superseded")
    epoc = server.admin.list_certificates(None)[0]["epoc"]
    pin = server.issue_pin(epoc)
    with server.http() as http:
        body = http.get(server.url + API + "account", auth=(epoc, pin), timeout=30).json()
    assert sorted(c["status"] for c in body["certificates"]) == ["revoked", "valid"]


def test_client_release_is_404_until_published_then_served_verbatim(server):
    response = server.get(API + "client-release")
    assert response.status_code == 404
    assert response.json()["code"] == "CCMS-NOT-FOUND"

    paths = server.services.paths
    key = release.load_signing_key(paths.release_key, None)
    signed = {
        "schema": 1,
        "product": "ecmt",
        "channel": "stable",
        "serial": 7,
        "issued": "2026-11-28T12:00:00Z",
        "expires": "2099-01-01T00:00:00Z",
        "latest_version": "4.2.0",
        "minimum_version": "4.1.0",
        "install_page": "https://example.invalid/install.html",
        "release_notes": "",
        "artifacts": [],
    }
    release.publish(
        release.sign(signed, key), server.data_dir / "release.json", paths.release_public_key
    )
    served = server.get(API + "client-release").json()
    body = release.verify(served, release.trusted_keys(paths.release_public_key))
    assert body.serial == 7
    assert body.minimum_version == "4.1.0"
