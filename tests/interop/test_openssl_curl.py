"""The reference server driven by `openssl` and `curl` alone, as an operator would by hand.

Every protocol step (key and CSR generation, base64, HTTP, TLS, client authentication,
PKCS#7 unpacking, chain verification) is done by the two binaries. Python only moves
bytes between them and checks the outcome.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from interop_support import (
    assert_cacerts_chain,
    assert_client_certificate,
    load_certs,
    require_tool,
    run,
    spki,
    write_secret,
)

from support import API, EST, Harness

pytestmark = pytest.mark.interop

# The contract's literal values (not imported from ccms_protocol.wire: these tests check the wire).
MEDIA_PKCS7 = "application/pkcs7-mime"
MEDIA_CERTS_ONLY = "application/pkcs7-mime; smime-type=certs-only"
MEDIA_PROBLEM = "application/problem+json"
PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n", re.S)
CURL_SSL_CACERT = 60  # "Peer certificate cannot be authenticated with known CA certificates"


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes

    def problem_code(self) -> str:
        assert self.content_type == MEDIA_PROBLEM, self
        return str(json.loads(self.body)["code"])


@dataclass(frozen=True)
class Curl:
    """curl against one server, trusting only the given anchor, in its own work folder."""

    base_url: str
    cacert: Path
    folder: Path

    def argv(self, path: str, *options: str | Path) -> list[str | Path]:
        # -q first: ignore any ~/.curlrc. --noproxy: loopback, whatever the environment says.
        # --cacert is explicit because the environment sets CURL_CA_BUNDLE.
        return [
            "curl", "-q", "--silent", "--show-error", "--noproxy", "*",
            "--cacert", self.cacert, *options, self.base_url + path,
        ]  # fmt: skip

    def __call__(self, path: str, *options: str | Path) -> Reply:
        out = self.folder / "curl-response.bin"
        out.unlink(missing_ok=True)
        report = ["--output", out, "--write-out", "%{http_code}\n%{content_type}"]
        result = run(self.argv(path, *report, *options))
        status, _, content_type = result.stdout.decode().partition("\n")
        return Reply(int(status), content_type, out.read_bytes() if out.exists() else b"")

    def post(self, path: str, body_file: Path, media_type: str, *options: str | Path) -> Reply:
        return self(
            path, "--header", f"Content-Type: {media_type}", "--data-binary", f"@{body_file}",
            *options,
        )  # fmt: skip


@dataclass(frozen=True)
class Chain:
    """The cacerts answer, split the way `openssl verify` wants it."""

    root: Path
    issuing: Path


@pytest.fixture
def curl(server: Harness, tmp_path: Path) -> Curl:
    require_tool("curl")
    require_tool("openssl")
    return Curl(server.url, server.trust_anchor, tmp_path)


def basic_auth_config(folder: Path, epoc: str, pin: str) -> Path:
    """A curl --config file with the credentials, so the PIN never appears in argv."""
    return write_secret(folder / f"auth-{epoc}.curlrc", f'user = "{epoc}:{pin}"\n')


def openssl_certs_from_est(body: bytes, out: Path) -> list[x509.Certificate]:
    """`openssl base64 -d | openssl pkcs7 -inform DER -print_certs`, into a PEM file."""
    pkcs7_der = run(["openssl", "base64", "-d"], stdin=body).stdout
    assert pkcs7_der, "the body did not decode as base64"
    run(["openssl", "pkcs7", "-inform", "DER", "-print_certs", "-out", out], stdin=pkcs7_der)
    return load_certs(out)


def fetch_chain(curl: Curl, server: Harness) -> Chain:
    reply = curl(EST + "cacerts")
    assert reply.status == 200, reply
    assert reply.content_type == MEDIA_PKCS7
    certs = openssl_certs_from_est(reply.body, curl.folder / "cacerts.pem")
    assert_cacerts_chain(certs, server)
    blocks = PEM_CERTIFICATE.findall((curl.folder / "cacerts.pem").read_text())
    chain = Chain(curl.folder / "chain-root.pem", curl.folder / "chain-issuing.pem")
    for cert, block in zip(certs, blocks, strict=True):
        target = chain.root if cert.subject == cert.issuer else chain.issuing
        target.write_text(block)
    return chain


def new_key_and_csr(folder: Path, name: str, subj: str = "/CN=ignored") -> tuple[Path, Path]:
    """`openssl req -new -newkey rsa:2048 -nodes ... -outform DER`: KEY.pem and CSR.der."""
    key, csr = folder / f"{name}.key.pem", folder / f"{name}.csr.der"
    run(
        [
            "openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
            "-subj", subj, "-outform", "DER", "-out", csr,
        ]
    )  # fmt: skip
    return key, csr


def wrapped_base64(csr: Path) -> bytes:
    """`openssl base64`: 64-character lines."""
    return run(["openssl", "base64", "-in", csr]).stdout


def pubkey_of_key(key: Path) -> bytes:
    return run(["openssl", "pkey", "-in", key, "-pubout"]).stdout


def pubkey_of_csr(csr: Path) -> bytes:
    return run(["openssl", "req", "-inform", "DER", "-in", csr, "-noout", "-pubkey"]).stdout


def pubkey_of_cert(cert: Path) -> bytes:
    return run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"]).stdout


def openssl_verify(chain: Chain, cert: Path) -> None:
    """Chain to the root from cacerts, and fit for TLS client authentication."""
    result = run(
        [
            "openssl", "verify", "-CAfile", chain.root, "-untrusted", chain.issuing,
            "-purpose", "sslclient", cert,
        ]
    )  # fmt: skip
    assert result.stdout.decode().strip() == f"{cert}: OK"


def simpleenroll(curl: Curl, auth: Path, body: bytes, name: str) -> Reply:
    body_file = curl.folder / f"{name}.b64"
    body_file.write_bytes(body)
    return curl.post(EST + "simpleenroll", body_file, "application/pkcs10", "--config", auth)


def accept_terms(curl: Curl, auth: Path) -> None:
    reply = curl(API + "terms")
    assert reply.status == 200, reply
    terms = json.loads(reply.body)
    assert hashlib.sha256(terms["text"].encode()).hexdigest() == terms["sha256"]
    acceptance = curl.folder / "acceptance.json"
    acceptance.write_text(json.dumps({"version": terms["version"], "sha256": terms["sha256"]}))
    reply = curl.post(API + "terms/acceptances", acceptance, "application/json", "--config", auth)
    assert reply.status == 204, reply
    assert reply.body == b""


def enroll_with_curl(curl: Curl, server: Harness, epoc: str) -> tuple[Path, Path]:
    """A PIN enrolment with terms already accepted: (KEY.pem, CERT.pem)."""
    auth = basic_auth_config(curl.folder, epoc, server.issue_pin(epoc))
    key, csr = new_key_and_csr(curl.folder, "first")
    reply = simpleenroll(curl, auth, wrapped_base64(csr), "first")
    assert reply.status == 200, reply
    cert = curl.folder / "first.cert.pem"
    openssl_certs_from_est(reply.body, cert)
    return key, cert


def subject_for_req(cert: Path) -> str:
    """The certificate's subject as `openssl req -subj` takes it, e.g. /O=../OU=../CN=.."""
    out = run(["openssl", "x509", "-in", cert, "-noout", "-subject", "-nameopt", "compat"])
    return out.stdout.decode().strip().removeprefix("subject=")


def test_cacerts_unpacks_with_openssl_to_the_trust_anchor_and_issuing_ca(
    curl: Curl, server: Harness
) -> None:
    reply = curl(EST + "cacerts")

    assert reply.status == 200
    assert reply.content_type == MEDIA_PKCS7
    certs = openssl_certs_from_est(reply.body, curl.folder / "cacerts.pem")
    assert_cacerts_chain(certs, server)


def test_terms_then_simpleenroll_with_openssl_csr(curl: Curl, server: Harness) -> None:
    epoc = server.add_account(accept_terms=False)
    auth = basic_auth_config(curl.folder, epoc, server.issue_pin(epoc))
    key, csr = new_key_and_csr(curl.folder, "enroll")
    body = wrapped_base64(csr)

    refused = simpleenroll(curl, auth, body, "before-terms")
    assert refused.status == 403, refused
    assert refused.problem_code() == "CCMS-TERMS-REQUIRED"

    accept_terms(curl, auth)
    reply = simpleenroll(curl, auth, body, "after-terms")

    assert reply.status == 200, reply
    assert reply.content_type == MEDIA_CERTS_ONLY
    cert_pem = curl.folder / "enroll.cert.pem"
    (cert,) = openssl_certs_from_est(reply.body, cert_pem)
    subject = run(["openssl", "x509", "-in", cert_pem, "-noout", "-subject", "-nameopt", "RFC2253"])
    assert f",serialNumber={epoc}," in subject.stdout.decode()
    eku = run(["openssl", "x509", "-in", cert_pem, "-noout", "-ext", "extendedKeyUsage"])
    assert "TLS Web Client Authentication" in eku.stdout.decode()
    assert_client_certificate(cert, epoc, server)
    openssl_verify(fetch_chain(curl, server), cert_pem)
    assert pubkey_of_cert(cert_pem) == pubkey_of_csr(csr) == pubkey_of_key(key)


def test_logon_token_from_curl_then_terms_and_simpleenroll_with_bearer(
    curl: Curl, server: Harness
) -> None:
    """Log on with Basic, then send the logon token from the account answer as
    `Authorization: Bearer` (from a 0600 curl config file, like the PIN)."""
    epoc = server.add_account(accept_terms=False)
    basic = basic_auth_config(curl.folder, epoc, server.issue_pin(epoc))
    logon = curl(API + "account", "--config", basic)
    assert logon.status == 200, logon
    token = json.loads(logon.body)["logon_token"]["token"]
    bearer = write_secret(
        curl.folder / "bearer.curlrc", f'header = "Authorization: Bearer {token}"\n'
    )
    accept_terms(curl, bearer)
    key, csr = new_key_and_csr(curl.folder, "bearer")

    reply = simpleenroll(curl, bearer, wrapped_base64(csr), "bearer")

    assert reply.status == 200, reply
    cert_pem = curl.folder / "bearer.cert.pem"
    (cert,) = openssl_certs_from_est(reply.body, cert_pem)
    assert_client_certificate(cert, epoc, server)
    assert pubkey_of_cert(cert_pem) == pubkey_of_csr(csr) == pubkey_of_key(key)
    # one renewal per token: the PIN behind it is used now
    _, other = new_key_and_csr(curl.folder, "bearer-again")
    again = simpleenroll(curl, bearer, wrapped_base64(other), "bearer-again")
    assert again.status == 401, again
    assert again.problem_code() == "CCMS-PIN-USED"
    garbled = write_secret(curl.folder / "garbled.curlrc", 'header = "Authorization: Bearer x.y"\n')
    refused = simpleenroll(curl, garbled, wrapped_base64(other), "garbled")
    assert refused.status == 401, refused
    assert refused.problem_code() == "CCMS-TOKEN-INVALID"


def test_simplereenroll_with_curl_client_certificate(curl: Curl, server: Harness) -> None:
    epoc = server.add_account()
    old_key, old_cert_pem = enroll_with_curl(curl, server, epoc)
    (old_cert,) = load_certs(old_cert_pem)
    subj = subject_for_req(old_cert_pem)
    o, ou, serial_number, cn = (attr.value for attr in old_cert.subject)  # the DER order
    assert subj == f"/O={o}/OU={ou}/serialNumber={serial_number}/CN={cn}"
    new_key, csr = new_key_and_csr(curl.folder, "renew", subj)

    body_file = curl.folder / "renew.b64"
    body_file.write_bytes(wrapped_base64(csr))
    reply = curl.post(
        EST + "simplereenroll", body_file, "application/pkcs10",
        "--cert", old_cert_pem, "--key", old_key,
    )  # fmt: skip

    assert reply.status == 200, reply
    assert reply.content_type == MEDIA_CERTS_ONLY
    new_cert_pem = curl.folder / "renew.cert.pem"
    (new_cert,) = openssl_certs_from_est(reply.body, new_cert_pem)
    assert new_cert.subject == old_cert.subject
    assert new_cert.serial_number != old_cert.serial_number
    assert spki(new_cert) != spki(old_cert)
    assert pubkey_of_cert(new_cert_pem) == pubkey_of_key(new_key)
    assert pubkey_of_cert(new_cert_pem) != pubkey_of_key(old_key)
    assert_client_certificate(new_cert, epoc, server)
    openssl_verify(fetch_chain(curl, server), new_cert_pem)


@pytest.mark.parametrize("layout", ["wrapped", "single-line-with-trailing-whitespace"])
def test_simpleenroll_accepts_both_base64_layouts(curl: Curl, server: Harness, layout: str) -> None:
    epoc = server.add_account()
    auth = basic_auth_config(curl.folder, epoc, server.issue_pin(epoc))
    key, csr = new_key_and_csr(curl.folder, layout)
    if layout == "wrapped":
        body = wrapped_base64(csr)
        lines = body.decode().splitlines()
        assert len(lines) > 1
        assert all(len(line) == 64 for line in lines[:-1])
    else:
        body = run(["openssl", "base64", "-A", "-in", csr]).stdout + b" \t\r\n\n"
        assert body.count(b"\n") == 2  # only in the trailing whitespace

    reply = simpleenroll(curl, auth, body, layout)

    assert reply.status == 200, reply
    cert_pem = curl.folder / f"{layout}.cert.pem"
    (cert,) = openssl_certs_from_est(reply.body, cert_pem)
    assert_client_certificate(cert, epoc, server)
    assert pubkey_of_cert(cert_pem) == pubkey_of_key(key)


def test_curl_refuses_server_not_signed_by_its_trust_anchor(
    curl: Curl, foreign_trust_anchor: Path
) -> None:
    out = curl.folder / "never-written.bin"
    argv = Curl(curl.base_url, foreign_trust_anchor, curl.folder).argv(
        EST + "cacerts", "--output", out
    )

    result = run(argv, expect_exit=CURL_SSL_CACERT)

    assert not out.exists()
    assert b"certificate" in result.stderr.lower()
