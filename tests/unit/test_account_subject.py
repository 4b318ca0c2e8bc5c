"""The CSR subject: the account's (CN, serialNumber, OU, O) for a first enrolment, the
current certificate's exactly for a re-enrolment, the EPOC alone when nothing else is known."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from ccms_protocol.wire import AccountInfo, client_subject
from ecmt.domain.models import ClientIdentity, PinCredentials
from ecmt.keys import account_subject, build_csr, generate
from ecmt.services.renewal import RenewalRequest
from fakes import MiniCA

EPOC = "1234567"
PIN = PinCredentials(EPOC, SecretStr("K7QM-4X9R-T3HP"))


def account(**changes: object) -> AccountInfo:
    values: dict[str, object] = {
        "epoc": EPOC,
        "display_name": "Dr Test Person",
        "organisation": "Test Practice",
        "role": "GP",
        "terms_accepted_version": "1",
        "pin": None,
        "certificates": [],
        "renewal_window_days": 30,
        **changes,
    }
    return AccountInfo.model_validate(values)


def value(name: x509.Name, oid: x509.ObjectIdentifier) -> str | bytes | None:
    found = name.get_attributes_for_oid(oid)
    return found[0].value if found else None


def test_the_subject_is_the_one_the_ccms_issues():
    assert account_subject(EPOC, "Dr Test Person", "Test Practice", "GP") == client_subject(
        "Dr Test Person", EPOC, "GP", "Test Practice"
    )


def test_empty_parts_are_left_out_and_long_ones_cut():
    name = account_subject(EPOC, "N" * 200, "", "  ")
    assert value(name, NameOID.COMMON_NAME) == "N" * 64
    assert value(name, NameOID.ORGANIZATION_NAME) is None
    assert value(name, NameOID.ORGANIZATIONAL_UNIT_NAME) is None
    assert value(name, NameOID.SERIAL_NUMBER) == EPOC


def test_a_first_enrolment_names_the_account():
    request = RenewalRequest(EPOC, credentials=PIN, account=account())
    subject = request.csr_subject
    assert subject is not None
    assert value(subject, NameOID.COMMON_NAME) == "Dr Test Person"
    csr = x509.load_der_x509_csr(build_csr(generate("ec-p256"), subject, EPOC))
    assert csr.subject == subject


def test_a_re_enrolment_uses_the_current_subject_exactly():
    ca = MiniCA()
    key = generate("ec-p256")
    cert = ca.issue(key.public_key(), EPOC, days=20)
    current = ClientIdentity(cert, key)
    other = account(display_name="Someone Renamed")
    assert RenewalRequest(EPOC, current=current, account=other).csr_subject == cert.subject


def test_without_an_account_the_epoc_alone():
    assert RenewalRequest(EPOC, credentials=PIN).csr_subject is None
    csr = x509.load_der_x509_csr(build_csr(generate("ec-p256"), None, EPOC))
    assert csr.subject == x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, EPOC)])


def test_an_explicit_subject_wins_over_the_account():
    chosen = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chosen")])
    request = RenewalRequest(EPOC, credentials=PIN, subject=chosen, account=account())
    assert request.csr_subject == chosen
