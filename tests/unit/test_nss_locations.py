"""Where Linux browsers keep their NSS databases: Chromium's two paths, Firefox profiles
from profiles.ini in the package's, the Snap's and the Flatpak's folders."""

from __future__ import annotations

from pathlib import Path

from ecmt.certstore._nss_locations import (
    chromium_nssdb,
    find_firefox_profile,
    firefox_profiles,
)


def test_chromium_a_fresh_home_gets_the_new_path(tmp_path):
    assert chromium_nssdb(tmp_path) == tmp_path / ".local/share/pki/nssdb"


def test_chromium_the_old_folder_wins_wherever_it_exists(tmp_path):
    (tmp_path / ".local/share/pki/nssdb").mkdir(parents=True)
    assert chromium_nssdb(tmp_path) == tmp_path / ".local/share/pki/nssdb"
    (tmp_path / ".pki/nssdb").mkdir(parents=True)  # empty: still Chromium's choice
    assert chromium_nssdb(tmp_path) == tmp_path / ".pki/nssdb"


def profile(root: Path, folder: str, database: bool = True) -> Path:
    path = root / folder
    path.mkdir(parents=True)
    if database:
        (path / "cert9.db").touch()
    return path


def test_firefox_profiles_from_profiles_ini_in_each_installation(tmp_path):
    deb = tmp_path / ".mozilla/firefox"
    work = profile(deb, "w0rk.work")
    default = profile(deb, "d3fa.default-release")
    fresh = profile(deb, "n3w.fresh", database=False)  # listed, never started
    elsewhere = profile(tmp_path / "profiles", "shared")
    (deb / "profiles.ini").write_text(
        "[General]\nStartWithLastProfile=1\n\n"
        "[Profile1]\nName=work\nIsRelative=1\nPath=w0rk.work\n\n"
        "[Profile0]\nName=default-release\nIsRelative=1\nPath=d3fa.default-release\n"
        f"\n[Profile2]\nName=shared\nIsRelative=0\nPath={elsewhere}\n"
        "\n[Profile3]\nName=fresh\nPath=n3w.fresh\n"
        "\n[Install4F96D1932A9F858E]\nDefault=d3fa.default-release\n"
    )
    unlisted = profile(deb, "u1.old")
    profile(deb, "u2.empty", database=False)  # neither listed nor started: not a profile
    snap = profile(tmp_path / "snap/firefox/common/.mozilla/firefox", "s1.default")
    flatpak = profile(tmp_path / ".var/app/org.mozilla.firefox/.mozilla/firefox", "f1.default")

    found = firefox_profiles(tmp_path)

    assert [(p.name, p.folder, p.has_database) for p in found] == [
        ("work", work, True),
        ("default-release", default, True),
        ("shared", elsewhere, True),
        ("fresh", fresh, False),
        ("u1.old", unlisted, True),
        ("s1.default", snap, True),
        ("f1.default", flatpak, True),
    ]
    assert find_firefox_profile(tmp_path, "work").folder == work
    assert find_firefox_profile(tmp_path, "d3fa.default-release").folder == default
    assert find_firefox_profile(tmp_path, "nope") is None


def test_an_unreadable_profiles_ini_is_skipped(tmp_path):
    deb = tmp_path / ".mozilla/firefox"
    deb.mkdir(parents=True)
    (deb / "profiles.ini").write_bytes(b"[Profile0\nPath=\xff\n")
    only = profile(deb, "x1.default")
    assert [p.folder for p in firefox_profiles(tmp_path)] == [only]
