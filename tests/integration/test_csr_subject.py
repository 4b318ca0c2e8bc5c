"""The subject `ecmt renew` puts in its CSR, read off the wire: built from the logon's answer
(CN, serialNumber, OU, O) so that an EST CA requiring a commonName gets one, and the same
CSR again when an unfinished renewal is resumed from the journal."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from client_cli import ecmt
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from ccms_protocol.wire import (
    API_PREFIX,
    EST_PREFIX,
    MEDIA_JSON,
    MEDIA_PKCS7_CERTS,
    MEDIA_PROBLEM,
    client_subject,
)
from hostile_server import Behaviour, HostileServer, Request

EPOC = "7654321"
ACCOUNT = {
    "epoc": EPOC,
    "display_name": "Dr Aileen Mac Giolla Bhríde",
    "organisation": "Harbour Street Pharmacy",
    "role": "Pharmacist",
    "terms_accepted_version": "1",
    "pin": None,
    "certificates": [],
    "renewal_window_days": 30,
}
TERMS = {"version": "1", "title": "Acceptable Use Policy", "text": "Be good.", "sha256": "0" * 64}
UNAVAILABLE = {"title": "Maintenance", "status": 503, "code": "CCMS-UNAVAILABLE"}


class EnrolmentEndsInMaintenance:
    """A CCMS as far as the enrolment, which it refuses with 503: the CSR stays on record
    and the client keeps its request for the next run."""

    def __init__(self, ca_pem: bytes) -> None:
        ca = x509.load_pem_x509_certificate(ca_pem)
        self.cacerts = base64.encodebytes(
            pkcs7.serialize_certificates([ca], serialization.Encoding.DER)
        )

    def __call__(self, request: Request) -> Behaviour:
        path = request.path
        if path == API_PREFIX + "account":
            return json_answer(ACCOUNT)
        if path == API_PREFIX + "terms":
            return json_answer(TERMS)
        if path == EST_PREFIX + "cacerts":
            return Behaviour(headers=[("Content-Type", MEDIA_PKCS7_CERTS)], body=self.cacerts)
        return Behaviour(
            status=503,
            headers=[("Content-Type", MEDIA_PROBLEM)],
            body=json.dumps(UNAVAILABLE).encode(),
        )


def json_answer(value: object) -> Behaviour:
    return Behaviour(headers=[("Content-Type", MEDIA_JSON)], body=json.dumps(value).encode())


@pytest.fixture
def ccms() -> Iterator[HostileServer]:
    holder: list[EnrolmentEndsInMaintenance] = []
    peer = HostileServer(lambda request: holder[0](request))
    holder.append(EnrolmentEndsInMaintenance(peer.trust_anchor.read_bytes()))
    with peer:
        yield peer


def renew(peer: HostileServer, home: Path) -> str:
    result = ecmt(
        "renew",
        "--server",
        peer.url,
        "--trust-anchor",
        str(peer.trust_anchor),
        "--store",
        f"files:{home / 'store'}",
        "--epoc",
        EPOC,
        "--pin-stdin",
        home=home,
        stdin="K7QM-4X9R-T3HP\n",
    )
    assert result.returncode == 5, result.stderr  # the 503
    assert "ECMT-SERVICE-UNAVAILABLE" in result.stderr
    return result.stderr


def sent_csrs(peer: HostileServer) -> list[x509.CertificateSigningRequest]:
    return [
        x509.load_der_x509_csr(base64.b64decode(s.request.body))
        for s in peer.served
        if s.request.path == EST_PREFIX + "simpleenroll"
    ]


def test_the_csr_names_the_account_and_a_resume_sends_it_again(ccms, tmp_path):
    renew(ccms, tmp_path)
    (csr,) = sent_csrs(ccms)
    subject = csr.subject
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ACCOUNT["display_name"]
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == EPOC
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == "Pharmacist"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "Harbour Street Pharmacy"
    )
    # exactly the subject the reference CCMS issues, attribute order included
    assert subject == client_subject(
        ACCOUNT["display_name"], EPOC, ACCOUNT["role"], ACCOUNT["organisation"]
    )
    assert csr.is_signature_valid

    stderr = renew(ccms, tmp_path)  # the journal kept the request: the same CSR
    assert "Resuming the earlier renewal" in stderr
    first, again = sent_csrs(ccms)
    assert again.public_bytes(serialization.Encoding.DER) == first.public_bytes(
        serialization.Encoding.DER
    )
    # the 503 issued nothing, so the PIN is unused and the resume logs on again (and would
    # accept terms that changed in between)
    logons = [s for s in ccms.served if s.request.path == API_PREFIX + "account"]
    assert len(logons) == 2
