"""The install-time checks of an issued certificate (ecmt.domain.certcheck), one by one,
with certificates built here: no server."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ecmt.domain.certcheck import CLOCK_SKEW, chains_to, check_issued
from ecmt.domain.errors import EcmtError, ErrorCode

EPOC = "1234567"
NOW = datetime.now(UTC).replace(microsecond=0)  # certificates keep whole seconds

Key = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class Ca:
    key: Key
    cert: x509.Certificate


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn: str, issuer: Ca | None = None, key: Key | None = None) -> Ca:
    """A self-signed root, or a CA certificate for `key` (new if None) signed by `issuer`."""
    key = key or ec_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer.cert.subject if issuer else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=10))
        .not_valid_after(NOW + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(issuer.key if issuer else key, hashes.SHA256())
    )
    return Ca(key, cert)


def subject(epoc: str | None = EPOC) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Practice")]
    if epoc is not None:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, epoc))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, "Dr Test Person"))
    return x509.Name(attributes)


def issue(
    issuer: Ca,
    key: Key,
    *,
    name: x509.Name | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    usages: list[x509.ObjectIdentifier] | None = None,
    eku: bool = True,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(name if name is not None else subject())
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(minutes=1))
        .not_valid_after(not_after or NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if eku:
        oids = usages if usages is not None else [ExtendedKeyUsageOID.CLIENT_AUTH]
        builder = builder.add_extension(x509.ExtendedKeyUsage(oids), critical=False)
    return builder.sign(issuer.key, hashes.SHA256())


@pytest.fixture(scope="module")
def root() -> Ca:
    return make_ca("Test Root CA")


@pytest.fixture(scope="module")
def issuing(root: Ca) -> Ca:
    return make_ca("Test Issuing CA", root)


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec_key()


def refused(code: ErrorCode, *args: object) -> EcmtError:
    with pytest.raises(EcmtError) as caught:
        check_issued(*args)  # type: ignore[arg-type]
    assert caught.value.code is code, caught.value
    return caught.value


# --- what passes -------------------------------------------------------------------------


def test_a_good_certificate_passes(root, issuing, key):
    check_issued(issue(issuing, key), key, [issuing.cert, root.cert], EPOC, NOW)


def test_an_rsa_key_passes_too(root, issuing):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    check_issued(issue(issuing, rsa_key), rsa_key, [issuing.cert, root.cert], EPOC, NOW)


@pytest.mark.parametrize("order", list(itertools.permutations(range(2))))
def test_cacerts_in_any_order(root, issuing, key, order):
    cas = [[issuing.cert, root.cert][i] for i in order]
    check_issued(issue(issuing, key), key, cas, EPOC, NOW)


def test_chain_with_intermediate_and_root(root, key):
    policy = make_ca("Test Policy CA", root)
    issuing = make_ca("Test Issuing CA 2", policy)
    cert = issue(issuing, key)
    check_issued(cert, key, [root.cert, issuing.cert, policy.cert], EPOC, NOW)
    check_issued(cert, key, [issuing.cert, policy.cert], EPOC, NOW)  # no root: top of cacerts


def test_cacerts_with_only_the_issuing_ca_still_passes(issuing, key):
    check_issued(issue(issuing, key), key, [issuing.cert], EPOC, NOW)


def test_a_certificate_straight_from_a_root(root, key):
    check_issued(issue(root, key), key, [root.cert], EPOC, NOW)


def test_cacerts_during_a_root_rollover_with_cross_certificates(key):
    """RFC 7030 4.1.3: during a root key rollover cacerts also holds the cross-certificates
    OldWithNew and NewWithOld; the chain must still be found, whatever their order."""
    old = make_ca("Test Root CA")
    new = make_ca("Test Root CA G2")
    old_with_new = make_ca("Test Root CA", new, key=old.key)  # old key, signed by the new
    new_with_old = make_ca("Test Root CA G2", old, key=new.key)  # new key, signed by the old
    issuing = make_ca("Test Issuing CA", new)
    cert = issue(issuing, key)
    others = [old.cert, new.cert, old_with_new.cert, new_with_old.cert]
    for order in itertools.permutations(others):
        check_issued(cert, key, [issuing.cert, *order], EPOC, NOW)


def test_cross_certificates_without_a_root_end_the_walk(key):
    """Two CAs that certify each other: the walk must stop, and the certificate does link
    into cacerts."""
    a_key, b_key = ec_key(), ec_key()
    a_self = make_ca("CA A", key=a_key)
    b = make_ca("CA B", a_self, key=b_key)
    a = make_ca("CA A", b, key=a_key)  # A certified by B
    cert = issue(a, key)
    assert chains_to(cert, [a.cert, b.cert])


# --- the public key ---------------------------------------------------------------------


def test_certificate_for_another_key(root, issuing, key):
    other = issue(issuing, ec_key())
    refused(ErrorCode.CERT_KEY_MISMATCH, other, key, [issuing.cert, root.cert], EPOC, NOW)


def test_the_key_check_comes_first(root, issuing, key):
    stranger = make_ca("Stranger CA")
    bad = issue(stranger, ec_key(), name=subject("999"), eku=False)
    refused(ErrorCode.CERT_KEY_MISMATCH, bad, key, [issuing.cert, root.cert], EPOC, NOW)


# --- the chain --------------------------------------------------------------------------


def test_issued_by_another_ca(root, issuing, key):
    stranger = make_ca("Stranger CA")
    cert = issue(stranger, key)
    refused(ErrorCode.CERT_CHAIN_UNTRUSTED, cert, key, [issuing.cert, root.cert], EPOC, NOW)


def test_another_ca_with_the_same_name_is_not_ours(root, issuing, key):
    """Names match, signatures do not: only the signature counts."""
    impostor = make_ca("Test Issuing CA", make_ca("Test Root CA"))
    cert = issue(impostor, key)
    refused(ErrorCode.CERT_CHAIN_UNTRUSTED, cert, key, [issuing.cert, root.cert], EPOC, NOW)


def test_empty_cacerts(issuing, key):
    refused(ErrorCode.CERT_CHAIN_UNTRUSTED, issue(issuing, key), key, [], EPOC, NOW)


def test_cacerts_with_only_the_root_miss_the_issuing_ca(root, issuing, key):
    refused(ErrorCode.CERT_CHAIN_UNTRUSTED, issue(issuing, key), key, [root.cert], EPOC, NOW)


# --- validity ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("not_before", "not_after"),
    [
        (NOW - timedelta(days=400), NOW - timedelta(seconds=1)),  # expired
        (NOW - timedelta(days=400), NOW - timedelta(days=30)),
        (NOW + CLOCK_SKEW + timedelta(seconds=1), NOW + timedelta(days=365)),  # not yet
        (NOW + timedelta(days=1), NOW + timedelta(days=365)),
    ],
)
def test_not_valid_now(root, issuing, key, not_before, not_after):
    cert = issue(issuing, key, not_before=not_before, not_after=not_after)
    error = refused(ErrorCode.CERT_NOT_VALID, cert, key, [issuing.cert, root.cert], EPOC, NOW)
    assert "UTC" in (error.detail or "")


@pytest.mark.parametrize(
    "not_before",
    [NOW + timedelta(minutes=1), NOW + CLOCK_SKEW - timedelta(seconds=1), NOW + CLOCK_SKEW],
)
def test_a_few_minutes_of_clock_skew_are_tolerated(root, issuing, key, not_before):
    """The CA's clock may run a little ahead of ours."""
    cert = issue(issuing, key, not_before=not_before)
    check_issued(cert, key, [issuing.cert, root.cert], EPOC, NOW)


def test_valid_until_the_last_second(root, issuing, key):
    cert = issue(issuing, key, not_after=NOW)
    check_issued(cert, key, [issuing.cert, root.cert], EPOC, NOW)


# --- extended key usage ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("eku", "usages"),
    [
        (False, None),
        (True, [ExtendedKeyUsageOID.SERVER_AUTH]),
        (True, [ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CODE_SIGNING]),
    ],
)
def test_no_client_auth(root, issuing, key, eku, usages):
    cert = issue(issuing, key, eku=eku, usages=usages)
    refused(ErrorCode.CERT_NO_CLIENT_AUTH, cert, key, [issuing.cert, root.cert], EPOC, NOW)


def test_client_auth_among_other_usages(root, issuing, key):
    usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    check_issued(issue(issuing, key, usages=usages), key, [issuing.cert, root.cert], EPOC, NOW)


# --- the EPOC in serialNumber --------------------------------------------------------------


@pytest.mark.parametrize("epoc", ["7654321", "12345678", None])
def test_wrong_or_missing_epoc(root, issuing, key, epoc):
    cert = issue(issuing, key, name=subject(epoc))
    error = refused(ErrorCode.CERT_WRONG_EPOC, cert, key, [issuing.cert, root.cert], EPOC, NOW)
    assert EPOC in (error.detail or "")


def test_epoc_is_compared_exactly(root, issuing, key):
    cert = issue(issuing, key, name=subject("0" + EPOC))
    refused(ErrorCode.CERT_WRONG_EPOC, cert, key, [issuing.cert, root.cert], EPOC, NOW)
