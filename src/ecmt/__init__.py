"""ecmt: renew the ePractitioner client certificate (desktop wizard, services, CLI)."""

__version__ = "0.1.0"  # the one place the version is written (pyproject reads it)
