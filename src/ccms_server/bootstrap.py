"""The composition root: settings in, wired services out. Nothing else builds adapters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from .accounts import Accounts
from .authn import Authenticator
from .ca import CaPaths, CertificateAuthority
from .db.engine import make_sessions
from .enrollment import Enrollment
from .pins import PinHasher
from .settings import ServerSettings
from .tokens import LogonTokens, load_secret


@dataclass(frozen=True)
class Services:
    settings: ServerSettings
    paths: CaPaths
    sessions: sessionmaker[Session]
    ca: CertificateAuthority
    hasher: PinHasher
    authn: Authenticator
    enrollment: Enrollment
    accounts: Accounts
    tokens: LogonTokens


def passphrase_of(settings: ServerSettings) -> bytes | None:
    secret = settings.key_passphrase
    return secret.get_secret_value().encode() if secret else None


def make_hasher(settings: ServerSettings) -> PinHasher:
    return PinHasher(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )


def build_services(settings: ServerSettings) -> Services:
    paths = CaPaths(settings.data_dir)
    ca = CertificateAuthority(paths, passphrase_of(settings))
    sessions = make_sessions(settings.effective_database_url)
    hasher = make_hasher(settings)
    tokens = LogonTokens(
        load_secret(paths.logon_token_key, passphrase_of(settings)),
        timedelta(minutes=settings.logon_token_minutes),
    )
    return Services(
        settings=settings,
        paths=paths,
        sessions=sessions,
        ca=ca,
        hasher=hasher,
        authn=Authenticator(sessions, hasher, ca, settings, tokens),
        enrollment=Enrollment(sessions, ca, settings),
        accounts=Accounts(sessions, settings),
        tokens=tokens,
    )
