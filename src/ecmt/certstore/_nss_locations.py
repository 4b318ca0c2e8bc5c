"""Where Linux browsers keep their NSS databases.

Chromium (and Chrome and Edge) since version 146 creates `~/.local/share/pki/nssdb` in a
fresh home and keeps using `~/.pki/nssdb` wherever that folder already exists, even empty:
the old path wins. Installing into the other one puts the certificate where the browser
never looks.

Firefox keeps one database per profile. `profiles.ini` lists the profiles (a `Path`,
relative to the file's folder unless `IsRelative=0`, and a `Name`); the Debian/Mozilla
package, the Snap and the Flatpak each keep their own folder of profiles. A profile has a
database once Firefox has started with it (`cert9.db`).
"""

from __future__ import annotations

import configparser
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

CHROMIUM_LEGACY = Path(".pki/nssdb")
CHROMIUM_CURRENT = Path(".local/share/pki/nssdb")
FIREFOX_ROOTS = (  # relative to the home folder, in the order they are searched
    Path(".mozilla/firefox"),
    Path("snap/firefox/common/.mozilla/firefox"),
    Path(".var/app/org.mozilla.firefox/.mozilla/firefox"),
    Path(".config/mozilla/firefox"),
)


def chromium_nssdb(home: Path) -> Path:
    """The database Chromium reads in this home: the old folder where it exists, else the
    new one (created on first install, as Chromium itself would)."""
    legacy = home / CHROMIUM_LEGACY
    return legacy if legacy.is_dir() else home / CHROMIUM_CURRENT


@dataclass(frozen=True)
class FirefoxProfile:
    name: str  # profiles.ini's Name, or the folder's name for a profile it does not list
    folder: Path

    @property
    def has_database(self) -> bool:
        return (self.folder / "cert9.db").is_file()


def firefox_profiles(home: Path) -> list[FirefoxProfile]:
    """Every Firefox profile in this home, each folder once, in profiles.ini's order."""
    found: list[FirefoxProfile] = []
    seen: set[Path] = set()
    for root in (home / r for r in FIREFOX_ROOTS):
        if not root.is_dir():
            continue
        listed = _listed(root)
        unlisted = [
            FirefoxProfile(db.parent.name, db.parent)
            for db in sorted(root.glob("*/cert9.db"))
            if db.parent.resolve() not in {p.folder.resolve() for p in listed}
        ]
        for profile in listed + unlisted:
            key = profile.folder.resolve()
            if key not in seen and profile.folder.is_dir():
                seen.add(key)
                found.append(profile)
    return found


def _listed(root: Path) -> list[FirefoxProfile]:
    ini = root / "profiles.ini"
    if not ini.is_file():
        return []
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(ini.read_text(encoding="utf-8", errors="replace"))
    except (OSError, configparser.Error) as exc:
        log.warning("cannot read %s: %s", ini, exc)
        return []
    profiles = []
    for section in parser.sections():
        if not section.startswith("Profile") or not parser.has_option(section, "Path"):
            continue
        path = Path(parser.get(section, "Path"))
        relative = parser.get(section, "IsRelative", fallback="1").strip() != "0"
        folder = root / path if relative else path
        profiles.append(FirefoxProfile(parser.get(section, "Name", fallback=folder.name), folder))
    return profiles


def find_firefox_profile(home: Path, wanted: str) -> FirefoxProfile | None:
    """A profile by its name in profiles.ini, or by its folder's name."""
    profiles = firefox_profiles(home)
    by_name = [p for p in profiles if p.name == wanted]
    if by_name:
        return by_name[0]
    return next((p for p in profiles if p.folder.name == wanted), None)
