"""The aiohttp application and its TLS context."""

from __future__ import annotations

import ssl

from aiohttp import web

from ..bootstrap import Services, passphrase_of
from ..ratelimit import RateLimiter
from .api import ApiRoutes
from .est import SERVICES, EstRoutes
from .middleware import make_middlewares
from .releases import ReleaseFiles

# OpenSSL's X509_V_FLAG_NO_CHECK_TIME: let an expired client certificate through the
# handshake so the application can answer 403 CCMS-CERT-NOT-ACCEPTED instead of a TLS alert.
_NO_CHECK_TIME = 0x200000


def make_app(services: Services) -> web.Application:
    settings = services.settings
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=make_middlewares(settings, limiter, settings.data_dir / "maintenance"),
    )
    app[SERVICES] = services
    EstRoutes(services).add_to(app)
    ApiRoutes(services, settings.data_dir / "release.json").add_to(app)
    ReleaseFiles(settings.data_dir).add_to(app)
    return app


def make_tls_context(services: Services) -> ssl.SSLContext:
    """TLS >= 1.2, our server identity, and an optional client certificate from our CA."""
    paths = services.paths
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(
        paths.tls_chain, paths.tls_key, password=passphrase_of(services.settings)
    )
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(
        cadata=paths.issuing_cert.read_text() + paths.root_cert.read_text()
    )
    context.verify_flags |= _NO_CHECK_TIME
    return context
