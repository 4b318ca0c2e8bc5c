"""TLS contexts for the CCMS connection: configured anchors or the OS trust store, TLS >= 1.2,
hostname checks always on, and a client identity loaded without leaving readable files.
"""

from __future__ import annotations

import contextlib
import shutil
import ssl
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import truststore
from cryptography.hazmat.primitives import serialization

from ccms_protocol.files import write_atomic

from ..domain.errors import EcmtError, ErrorCode
from ..domain.models import ClientIdentity
from ..pkcs12 import one_time_password


def make_context(trust_anchors: Sequence[Path], identity: ClientIdentity | None) -> ssl.SSLContext:
    """The context every CCMS request uses; `identity` adds TLS client authentication."""
    context: ssl.SSLContext
    if trust_anchors:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        for anchor in trust_anchors:
            try:
                context.load_verify_locations(cafile=str(anchor))
            except (OSError, ssl.SSLError) as exc:
                raise EcmtError(
                    ErrorCode.CONFIG_INVALID, f"trust anchor {anchor} cannot be read: {exc}"
                ) from None
    else:
        context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    if identity is not None:
        load_identity(context, identity)
    return context


def load_identity(context: ssl.SSLContext, identity: ClientIdentity) -> None:
    """Hand key and certificate to OpenSSL, which only reads them from files.

    The key is written encrypted under a one-time password into a private folder that is
    removed before this returns: what touches the disk is unreadable to others and gone.
    """
    password = one_time_password()
    key_pem = identity.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    chain = [identity.certificate, *identity.chain]
    cert_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
    with _private_folder() as folder:
        write_atomic(folder / "key.pem", key_pem)
        write_atomic(folder / "cert.pem", cert_pem)
        context.load_cert_chain(folder / "cert.pem", folder / "key.pem", password=password)


@contextlib.contextmanager
def _private_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="ecmt-tls-"))  # mkdtemp makes it 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
