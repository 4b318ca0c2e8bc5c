"""ecmt: renew the ePractitioner client certificate (desktop wizard, services, CLI)."""

from __future__ import annotations

from importlib import metadata

try:
    __version__ = metadata.version("ecmt")
except metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"
