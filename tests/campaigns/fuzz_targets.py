"""The parsers under fuzz, each wrapped as `target(data) -> outcome`, with the outcomes it may
have: "accepted", or the documented EcmtError / problem code of a refusal. Anything else an
input makes a parser do (another exception, another code) is a failure.

The seeds are real wire bodies from the reference server (`Wire.collect`), so every mutant
starts from what a client or the server really receives.
"""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from ccms_protocol.wire import MEDIA_PKCS7_CERTS, MEDIA_PROBLEM, ProblemCode
from ccms_server import release as server_release
from ccms_server.csr import check_csr, decode_base64_body, encode_base64_body
from ccms_server.http.api import parse_acceptance
from ccms_server.http.est import basic_credentials
from ccms_server.http.middleware import EPOC
from ccms_server.http.peer import _decode_forwarded
from ccms_server.problems import ProblemError
from ecmt import keys
from ecmt.ccms.api import ApiClient
from ecmt.ccms.est import EstClient, decode_certs
from ecmt.ccms.problems import error_from_response
from ecmt.ccms.transport import Reply
from ecmt.config import ReleaseKey
from ecmt.domain.certcheck import check_issued
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.services.logon import TermsService
from ecmt.services.release import ReleaseCheck
from ecmt.services.renewal import friendly_name
from support import EST, Harness, csr_der, pem, publish_release, rsa_key

ACCEPTED = "accepted"
CORPUS = Path(__file__).parent / "corpus"


class StubTransport:
    """The transport port answering every request with one body: the fuzzed one."""

    def __init__(self, body: bytes, status: int = 200, content_type: str = "") -> None:
        self.reply = Reply(status, content_type, body, {}, "fuzz-request")
        self.sent: list[tuple[str, str, bytes | None]] = []

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        content_type: str | None = None,
        credentials: object = None,
        ok: tuple[int, ...] = (200,),
        **options: object,  # what else the transport takes (a session token, say)
    ) -> Reply:
        self.sent.append((method, path, body))
        return self.reply

    def close(self) -> None:
        pass


@dataclass
class Wire:
    """Real bodies and the client's context (key, CA chain, EPOC) from one real enrolment."""

    epoc: str
    key: Any
    cas: list[x509.Certificate]
    issued_der: bytes
    cacerts_der: bytes
    bodies: dict[str, bytes] = field(default_factory=dict)
    problems: list[bytes] = field(default_factory=list)
    release_key: ed25519.Ed25519PrivateKey | None = None
    release_keys: list[ReleaseKey] = field(default_factory=list)
    csrs: list[bytes] = field(default_factory=list)
    forwarded: list[bytes] = field(default_factory=list)
    release_state: Path = Path()

    def __getstate__(self) -> dict[str, Any]:
        """Keys and certificates as bytes, so a worker process can have the same Wire."""
        state = {k: v for k, v in self.__dict__.items() if k != "_issued"}
        state["key"] = self.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        state["cas"] = [c.public_bytes(serialization.Encoding.DER) for c in self.cas]
        if self.release_key is not None:
            state["release_key"] = self.release_key.private_bytes_raw()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        state["key"] = serialization.load_der_private_key(state["key"], None)
        state["cas"] = [x509.load_der_x509_certificate(c) for c in state["cas"]]
        if state.get("release_key") is not None:
            raw = state["release_key"]
            state["release_key"] = ed25519.Ed25519PrivateKey.from_private_bytes(raw)
        self.__dict__.update(state)

    @property
    def issued(self) -> x509.Certificate:
        if not hasattr(self, "_issued"):
            self._issued = decode_certs(Reply(200, "", self.issued_der, {}, "seed"))[0]
        return self._issued

    @classmethod
    def collect(cls, server: Harness) -> Wire:
        epoc = server.add_account(accept_terms=True)
        pin = server.issue_pin(epoc)
        with server.http() as http:
            account = http.get(server.url + "/ccms/v1/account", auth=(epoc, pin), timeout=30)
            terms = http.get(server.url + "/ccms/v1/terms", timeout=30)
            cacerts = http.get(server.url + EST + "cacerts", timeout=30)
            problems = [
                http.get(server.url + "/ccms/v1/account", auth=(epoc, "WRONG-PIN"), timeout=30),
                http.get(server.url + "/nowhere", timeout=30),
                http.post(
                    server.url + EST + "simpleenroll",
                    data=b"!!",
                    auth=(epoc, pin),
                    headers={"Content-Type": "application/pkcs10"},
                    timeout=30,
                ),
                http.post(server.url + "/ccms/v1/terms/acceptances", data=b"{}", timeout=30),
            ]
        key = rsa_key()
        enrolled = server.enroll(epoc, pin, key)
        assert enrolled.status_code == 200, enrolled.text
        publish_release(server, 7, "0.0.1", "0.0.1")
        with server.http() as http:
            manifest = http.get(server.url + "/ccms/v1/client-release", timeout=30).content
        cas_der = base64.b64decode(b"".join(cacerts.content.split()))
        issued_der = base64.b64decode(b"".join(enrolled.content.split()))
        paths = server.services.paths
        records = json.loads(paths.release_public_key.read_text())["keys"]
        ec_key = ec.generate_private_key(ec.SECP256R1())
        wire = cls(
            epoc=epoc,
            key=key,
            cas=decode_certs(Reply(200, "", cacerts.content, {}, "seed")),
            issued_der=issued_der,
            cacerts_der=cas_der,
            bodies={
                "account": account.content,
                "terms": terms.content,
                "cacerts": cacerts.content,
                "enroll": enrolled.content,
                "manifest": manifest,
                "acceptance": json.dumps(
                    {"version": "1", "sha256": json.loads(terms.content)["sha256"]}
                ).encode(),
            },
            problems=[p.content for p in problems],
            release_key=server_release.load_signing_key(paths.release_key, None),
            release_keys=[ReleaseKey(**r) for r in records],
            csrs=[csr_der(rsa_key()), csr_der(ec_key), csr_der(key)],
            release_state=server.data_dir / "client-files" / "release-state.json",
        )
        wire.release_state.write_bytes(RELEASE_STATE)
        leaf = decode_certs(Reply(200, "", enrolled.content, {}, "seed"))[0]
        leaf_pem = pem(leaf)
        wire.forwarded = [
            leaf_pem,
            leaf_pem.replace(b"\n", b"\t"),
            base64.b64encode(leaf.public_bytes(serialization.Encoding.DER)),
        ]
        for problem in problems:
            assert problem.headers["Content-Type"].startswith(MEDIA_PROBLEM), problem.text
        return wire


# --- the targets -------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    what: str
    side: str  # "client" or "server"
    run: Callable[[Wire, bytes], str]
    allowed: frozenset[str]


def _code(exc: EcmtError | ProblemError) -> str:
    return str(exc.code.value)


def est_certs_only(wire: Wire, data: bytes) -> str:
    """The EST answer as the renewal uses it: the enrolment answer against the real CA chain,
    and the same bytes as the cacerts answer against the real issued certificate."""
    outcomes: list[str] = []
    now = datetime.now(UTC)
    genuine = wire.issued
    for as_answer in (True, False):
        try:
            certs = decode_certs(Reply(200, MEDIA_PKCS7_CERTS, data, {}, "fuzz"))
            if as_answer:  # RenewalService._renew: the certificate for our key, then checks
                cert = next((c for c in certs if keys.same_public_key(c, wire.key)), certs[0])
                check_issued(cert, wire.key, wire.cas, wire.epoc, now)
                friendly_name(cert)
            else:
                check_issued(genuine, wire.key, certs, wire.epoc, now)
                _ = [c.subject for c in certs if c.subject != c.issuer]
            outcomes.append(ACCEPTED)
        except EcmtError as exc:
            outcomes.append(_code(exc))
    return outcomes[0]


def est_base64(wire: Wire, data: bytes) -> str:
    """The base64 layer of EST bodies: certs-only answers and the csrattrs answer."""
    EstClient(StubTransport(data, content_type="application/csrattrs")).csrattrs()  # type: ignore[arg-type]
    try:
        decode_certs(Reply(200, MEDIA_PKCS7_CERTS, data, {}, "fuzz"))
    except EcmtError as exc:
        return _code(exc)
    return ACCEPTED


PROBLEM_STATUSES = (400, 401, 403, 404, 407, 409, 413, 415, 429, 500, 502, 503, 504, 418, 299)


def problem_json(wire: Wire, data: bytes) -> str:
    """An error answer: the first line is the Retry-After header, the rest the body."""
    header, _, body = data.partition(b"\n")
    status = PROBLEM_STATUSES[len(data) % len(PROBLEM_STATUSES)]
    headers = {"Retry-After": header.decode("latin-1")}  # http.client decodes headers so
    error = error_from_response(status, MEDIA_PROBLEM, body, headers, "fuzz")
    assert isinstance(error, EcmtError)
    assert error.retry_after is None or error.retry_after >= 0
    str(error)  # what the log and the error panel show
    return _code(error)


RELEASE_STATE = b'{"serial": 7}\n'  # the seed manifest's serial: lower ones are rollbacks


def release_manifest(wire: Wire, data: bytes) -> str:
    """The release check on a manifest, from an anti-rollback state of serial 7."""
    if wire.release_state.read_bytes() != RELEASE_STATE:
        wire.release_state.write_bytes(RELEASE_STATE)
    check = ReleaseCheck(
        keys=wire.release_keys,
        state_file=wire.release_state,
        running_version="1.0.0",
        platform="linux-x64",
    )
    try:
        decision = check.evaluate(data)
    except EcmtError as exc:
        return _code(exc)
    return f"{ACCEPTED} ({decision.verdict})"


def terms_document(wire: Wire, data: bytes) -> str:
    """GET terms as the client reads it, and the acceptance it then sends back."""
    try:
        terms = ApiClient(StubTransport(data)).terms()  # type: ignore[arg-type]
        ApiClient(StubTransport(b"", status=204)).accept_terms(None, terms)  # type: ignore[arg-type]
    except EcmtError as exc:
        return _code(exc)
    return ACCEPTED


def account_info(wire: Wire, data: bytes) -> str:
    """GET account (the logon) as the client reads it, then the terms decision."""
    try:
        account = ApiClient(StubTransport(data)).account(None)  # type: ignore[arg-type]
        terms = ApiClient(StubTransport(wire.bodies["terms"])).terms()  # type: ignore[arg-type]
        TermsService.needs_acceptance(account, terms)
        f"{account.display_name}, {account.organisation} (EPOC {account.epoc})"
    except EcmtError as exc:
        return _code(exc)
    return ACCEPTED


def csr_intake(wire: Wire, data: bytes) -> str:
    """The body of simpleenroll/simplereenroll: base64 (or PEM) DER PKCS#10, then checked."""
    try:
        check_csr(decode_base64_body(data), 2048)
    except ProblemError as exc:
        return _code(exc)
    return ACCEPTED


def json_intake(wire: Wire, data: bytes) -> str:
    """The body of POST terms/acceptances."""
    try:
        parse_acceptance(data)
    except ProblemError as exc:
        return _code(exc)
    return ACCEPTED


class _HeadersOnly(dict[Any, Any]):
    """What `basic_credentials` uses of an aiohttp request: its headers and its storage (a
    mocked aiohttp request costs 2 ms; this keeps the campaign within its time)."""

    def __init__(self, authorization: str) -> None:
        super().__init__()
        self.headers = {"Authorization": authorization}


def auth_header(wire: Wire, data: bytes) -> str:
    """`Authorization: Basic ...` as the server reads it (the header as aiohttp decodes it)."""
    value = data.decode("utf-8", "surrogateescape").encode("utf-8", "replace").decode()
    value = value.replace("\r", " ").replace("\n", " ")
    request = _HeadersOnly(value)
    try:
        epoc, pin = basic_credentials(request)
    except ProblemError as exc:
        return _code(exc)
    assert request[EPOC] == epoc
    assert pin
    return ACCEPTED


def forwarded_certificate(wire: Wire, data: bytes) -> str:
    """The client certificate a trusted TLS proxy forwards in a header: DER or None."""
    text = data.decode("latin-1")
    return ACCEPTED if _decode_forwarded(text) is not None else "ignored"


CLIENT_CERT_CODES = {
    ErrorCode.RESPONSE_INVALID,
    ErrorCode.CERT_KEY_MISMATCH,
    ErrorCode.CERT_CHAIN_UNTRUSTED,
    ErrorCode.CERT_NOT_VALID,
    ErrorCode.CERT_NO_CLIENT_AUTH,
    ErrorCode.CERT_WRONG_EPOC,
}
SERVER_ANSWER_CODES = {
    ErrorCode.AUTH_INVALID,
    ErrorCode.AUTH_REQUIRED,
    ErrorCode.PIN_SUPERSEDED,
    ErrorCode.PIN_EXPIRED,
    ErrorCode.PIN_USED,
    ErrorCode.ACCOUNT_LOCKED,
    ErrorCode.TERMS_REQUIRED,
    ErrorCode.TERMS_STALE,
    ErrorCode.CERT_NOT_ACCEPTED,
    ErrorCode.CSR_REFUSED,
    ErrorCode.RATE_LIMITED,
    ErrorCode.SERVICE_UNAVAILABLE,
    ErrorCode.SERVER_ERROR,
    ErrorCode.PROTOCOL_ERROR,
    ErrorCode.PROXY_AUTH,
}
RELEASE_CODES = {
    ErrorCode.RELEASE_UNVERIFIED,
    ErrorCode.RELEASE_EXPIRED,
    ErrorCode.RELEASE_ROLLBACK,
    ErrorCode.TLS_CLOCK,
}


def _values(codes: set[ErrorCode] | set[ProblemCode]) -> frozenset[str]:
    return frozenset(str(c.value) for c in codes)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target(
            "est-certs-only",
            "EST answer: DER PKCS#7 certs-only, then the checks before install",
            "client",
            est_certs_only,
            _values(CLIENT_CERT_CODES) | {ACCEPTED},
        ),
        Target(
            "est-base64",
            "EST bodies: the base64 layer (certs-only answers, csrattrs)",
            "client",
            est_base64,
            _values({ErrorCode.RESPONSE_INVALID}) | {ACCEPTED},
        ),
        Target(
            "problem-json",
            "error answers: problem+json body and Retry-After",
            "client",
            problem_json,
            _values(SERVER_ANSWER_CODES),
        ),
        Target(
            "release-manifest",
            "signed release manifest (signature, body, versions, links, dates)",
            "client",
            release_manifest,
            _values(RELEASE_CODES)
            | {f"{ACCEPTED} ({verdict})" for verdict in ("block", "offer", "fine")},
        ),
        Target(
            "terms-document",
            "terms of use (GET terms) and the acceptance built from it",
            "client",
            terms_document,
            _values({ErrorCode.RESPONSE_INVALID}) | {ACCEPTED},
        ),
        Target(
            "account-info",
            "account overview (GET account, the logon)",
            "client",
            account_info,
            _values({ErrorCode.RESPONSE_INVALID}) | {ACCEPTED},
        ),
        Target(
            "csr-intake",
            "CSR intake: base64/PEM body, PKCS#10 parse, signature and key checks",
            "server",
            csr_intake,
            _values({ProblemCode.CSR_INVALID}) | {ACCEPTED},
        ),
        Target(
            "json-intake",
            "JSON intake: the terms-acceptance body",
            "server",
            json_intake,
            _values({ProblemCode.REQUEST_INVALID}) | {ACCEPTED},
        ),
        Target(
            "auth-header",
            "HTTP Basic credentials (EPOC:PIN)",
            "server",
            auth_header,
            _values({ProblemCode.AUTH_INVALID, ProblemCode.AUTH_REQUIRED}) | {ACCEPTED},
        ),
        Target(
            "forwarded-cert",
            "client certificate forwarded by a trusted TLS proxy",
            "server",
            forwarded_certificate,
            frozenset({ACCEPTED, "ignored"}),
        ),
    ]
}


def outcome_of(target: Target, wire: Wire, data: bytes) -> tuple[str, str | None]:
    """(outcome, failure): failure names an uncaught exception or an undocumented outcome."""
    try:
        with warnings.catch_warnings():  # a warning changes nothing for the caller
            warnings.simplefilter("ignore")
            outcome = target.run(wire, data)
    except Exception as exc:  # the point of the campaign: nothing else may escape
        return "uncaught", f"{type(exc).__name__}: {str(exc)[:160]}"
    if outcome not in target.allowed:
        return outcome, f"undocumented outcome {outcome!r}"
    return outcome, None


def corpus_cases() -> list[tuple[str, Path]]:
    """Every saved input, as (target, file): regressions from earlier findings."""
    return [
        (folder.name, path)
        for folder in sorted(CORPUS.iterdir())
        if folder.is_dir() and folder.name in TARGETS
        for path in sorted(folder.iterdir())
        if path.is_file()
    ]


def encode_base64(der: bytes) -> bytes:
    return encode_base64_body(der)
