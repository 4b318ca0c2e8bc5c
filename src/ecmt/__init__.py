"""ecmt: renew the ePractitioner client certificate (desktop wizard, services, CLI)."""

# The one place the version is written (pyproject reads it). Releases continue the
# numbering of the eCMT tool this replaces (4.1.0.0), so the first one a practice installs
# reads as newer than the version its letter asks for.
__version__ = "5.0.0"
