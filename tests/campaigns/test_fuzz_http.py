"""The server's intake fuzzed through the real HTTP application over TLS: mutated CSR bodies
to simpleenroll, mutated JSON to terms/acceptances, mutated credentials to the logon. Every
answer must be a problem+json refusal with a documented code, never a 500.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import requests
from campaign_support import base_seed, scale
from fuzz_inputs import mutator_for
from fuzz_targets import Wire

from ccms_protocol.wire import MEDIA_PROBLEM, ProblemCode
from support import API, EST, Harness

pytestmark = pytest.mark.timeout(300 * scale())  # a nightly scale runs longer

REQUESTS = 750
UNKNOWN_EPOC = "99999999"  # well-formed, no such account: the CSR is parsed before the PIN
CONTENT_TYPES = ["application/pkcs10", "application/pkcs10", "application/json", "text/plain"]


def test_intake_through_the_http_app(
    campaign_server: Harness, wire: Wire, figures: dict[str, Any]
) -> None:
    import base64
    import random

    rng = random.Random(base_seed())
    csrs = mutator_for("csr-intake", wire, base_seed() + 1)
    bodies = mutator_for("json-intake", wire, base_seed() + 2)
    headers = mutator_for("auth-header", wire, base_seed() + 3)
    statuses: Counter[int] = Counter()
    codes: Counter[str] = Counter()
    bad: list[str] = []
    sent = unsendable = 0
    well_formed = "Basic " + base64.b64encode(f"{UNKNOWN_EPOC}:ABCD-EFGH".encode()).decode()
    with campaign_server.http() as http:
        for number in range(REQUESTS * scale()):
            kind = number % 3
            auth = headers().decode("latin-1") if rng.random() < 0.3 else well_formed
            try:
                if kind == 0:
                    response = http.post(
                        campaign_server.url + EST + "simpleenroll",
                        data=csrs(),
                        headers={"Authorization": auth, "Content-Type": rng.choice(CONTENT_TYPES)},
                        timeout=30,
                    )
                elif kind == 1:
                    response = http.post(
                        campaign_server.url + API + "terms/acceptances",
                        data=bodies(),
                        headers={"Authorization": auth, "Content-Type": "application/json"},
                        timeout=30,
                    )
                else:
                    response = http.get(
                        campaign_server.url + API + "account",
                        headers={"Authorization": auth},
                        timeout=30,
                    )
            except (requests.exceptions.InvalidHeader, UnicodeEncodeError, ValueError):
                unsendable += 1  # the client library refuses to send such a header
                continue
            sent += 1
            statuses[response.status_code] += 1
            problem = _problem(response)
            codes[problem.get("code", "none")] += 1
            if response.status_code >= 500 or problem.get("code") not in ALLOWED:
                bad.append(
                    f"{response.request.method} {response.url}: {response.status_code} {problem}"
                )
    figures.setdefault("fuzz", {})["http"] = {
        "sent": sent,
        "not_sendable": unsendable,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "codes": dict(sorted(codes.items())),
        "server_errors": sum(n for s, n in statuses.items() if s >= 500),
    }
    assert sent >= REQUESTS * scale() * 0.9
    assert not bad, "\n".join(bad[:10])
    log = campaign_server.log_file.read_text()
    assert "unexpected error" not in log
    assert "CCMS-INTERNAL-ERROR" not in log


ALLOWED = {
    c.value
    for c in (
        ProblemCode.AUTH_INVALID,
        ProblemCode.AUTH_REQUIRED,
        ProblemCode.CSR_INVALID,
        ProblemCode.REQUEST_INVALID,
        ProblemCode.REQUEST_TOO_LARGE,
        ProblemCode.MEDIA_TYPE_UNSUPPORTED,
        ProblemCode.ACCOUNT_LOCKED,
        ProblemCode.PIN_USED,
        ProblemCode.PIN_EXPIRED,
        ProblemCode.PIN_SUPERSEDED,
    )
}


def _problem(response: requests.Response) -> dict[str, Any]:
    if not response.headers.get("Content-Type", "").startswith(MEDIA_PROBLEM):
        return {"content_type": response.headers.get("Content-Type")}
    try:
        body = json.loads(response.content)
    except ValueError:
        return {"body": response.text[:80]}
    return body if isinstance(body, dict) else {"body": body}
