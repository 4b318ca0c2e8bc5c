"""What an enrolment answers: issued certificates, or "pending, ask again later".

Apart from the EST client so the renewal service can name them without loading the
network stack.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509


@dataclass(frozen=True)
class Pending:
    """202 Accepted: the request waits (e.g. for approval); send the same CSR again later."""

    retry_after: int
    reference: str


@dataclass(frozen=True)
class Issued:
    certificates: list[x509.Certificate]
    reference: str
