"""The Windows installer, built with the real wixl from a small payload, read back with
msiinfo, and installed, upgraded and removed by the real msiexec under Wine.

Wine puts per-machine shortcuts where its own folders are (it does not separate
all-users from per-user Start menus), so the shortcut checks look for them anywhere in
the prefix; the GitHub Windows job checks the real per-machine folders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from support import IN_CI

ROOT = Path(__file__).resolve().parents[2]
BUILD_MSI = ROOT / "installer" / "msi" / "build-msi.sh"
WINE = shutil.which("wine64") or (
    "/usr/lib/wine/wine64" if Path("/usr/lib/wine/wine64").exists() else None
)
SHORTCUT = "Certificate Manager.lnk"
SETTINGS_KEY = r"HKLM\SOFTWARE\ecmt\Settings"
UNINSTALL_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
UNINSTALL_KEY_FULL = UNINSTALL_KEY.replace("HKLM", "HKEY_LOCAL_MACHINE").upper()
SERVER = "https://ccms.practice.example"
ANCHOR = r"C:\ProgramData\ecmt\ccms-root.pem"

pytestmark = pytest.mark.installer


def _need(*tools: str | None) -> None:
    missing = [t for t in tools if not t or not (shutil.which(t) or Path(t).exists())]
    if missing:
        message = (
            f"needs {', '.join(str(m) for m in missing)} (.ci/run installs wixl, msitools, wine64)"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def build(payload: Path, out: Path, version: str) -> Path:
    subprocess.run(
        ["bash", str(BUILD_MSI), str(payload), str(out)],
        env={**os.environ, "ECMT_VERSION": version},
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def make_payload(folder: Path, marker: str) -> Path:
    """What PyInstaller's onedir holds, in small: the exe, a DLL, a nested data file."""
    (folder / "_internal" / "PySide6" / "plugins").mkdir(parents=True)
    (folder / "ecmt.exe").write_bytes(b"MZ" + marker.encode())
    (folder / "_internal" / "python311.dll").write_bytes(b"MZ dll")
    (folder / "_internal" / "PySide6" / "plugins" / "qwindows.dll").write_bytes(b"MZ plugin")
    return folder


def table(msi: Path, name: str) -> list[list[str]]:
    """The rows of one MSI table (msiinfo export: three header lines, then tab-separated)."""
    done = subprocess.run(
        ["msiinfo", "export", str(msi), name], capture_output=True, text=True, check=True
    )
    return [line.split("\t") for line in done.stdout.splitlines()[3:]]


@pytest.fixture(scope="module")
def msis(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    _need("wixl", "msiinfo", "python3")
    folder = tmp_path_factory.mktemp("msi")
    return {
        version: build(
            make_payload(folder / f"payload-{version}", version),
            folder / f"ecmt-{version}.msi",
            version,
        )
        for version in ("5.0.0", "5.0.1")
    }


# --- the tables ---------------------------------------------------------------------------


def test_shortcuts_go_to_the_start_menu_and_the_desktop_with_the_icon(msis):
    rows = {row[0]: row for row in table(msis["5.0.0"], "Shortcut")}
    assert {row[1] for row in rows.values()} == {"ProgramMenuFolder", "DesktopFolder"}
    for row in rows.values():
        assert row[2] == "Certificate Manager"
        assert row[4] == "[INSTALLDIR]ecmt.exe"
        assert row[8] == "ecmt.ico"
    assert [row[0] for row in table(msis["5.0.0"], "Icon")] == ["ecmt.ico"]


def test_add_remove_programs_shows_publisher_helpdesk_version_and_icon(msis):
    props = dict(row[:2] for row in table(msis["5.0.1"], "Property"))
    assert props["ProductName"] == "Certificate Manager"
    assert props["Manufacturer"] == "NHS Scotland ePractitioner Services"
    assert props["ProductVersion"] == "5.0.1"
    assert props["ARPHELPTELEPHONE"] == "02045 836 906"
    assert props["ARPPRODUCTICON"] == "ecmt.ico"
    assert props["ALLUSERS"] == "1"  # per machine


def test_both_versions_share_the_upgrade_code_and_the_newer_replaces_the_older(msis):
    codes = {
        v: dict(row[:2] for row in table(m, "Property"))["UpgradeCode"] for v, m in msis.items()
    }
    assert codes["5.0.0"] == codes["5.0.1"]
    upgrade = table(msis["5.0.1"], "Upgrade")
    replaces = [row for row in upgrade if row[6] == "WIX_UPGRADE_DETECTED"]
    assert replaces
    assert replaces[0][0] == codes["5.0.1"]
    assert replaces[0][2] == "5.0.1"  # everything below this version
    sequence = {row[0]: int(row[2]) for row in table(msis["5.0.1"], "InstallExecuteSequence")}
    assert "RemoveExistingProducts" in sequence


def test_every_deployment_property_becomes_a_machine_wide_setting(msis):
    registry = table(msis["5.0.0"], "Registry")
    settings = {row[3]: row[4] for row in registry if row[2] == r"SOFTWARE\ecmt\Settings"}
    assert settings == {
        "server_url": "[SERVER_URL]",
        "store": "[STORE]",
        "trust_anchors": "[TRUST_ANCHOR]",
        "key_readers": "[KEY_READERS]",
    }
    assert {row[1] for row in registry} == {"2"}  # HKLM
    # an upgrade without the properties reads the last values back, the command line wins
    searched = {row[0] for row in table(msis["5.0.0"], "AppSearch")}
    assert searched == {"SERVER_URL", "STORE", "TRUST_ANCHOR", "KEY_READERS"}
    sequence = {row[0]: int(row[2]) for row in table(msis["5.0.0"], "InstallExecuteSequence")}
    for name in ("ServerUrl", "Store", "TrustAnchor", "KeyReaders"):
        assert sequence[f"SaveCmd{name}"] < sequence["AppSearch"] < sequence[f"UseCmd{name}"]


def test_the_program_files_go_under_program_files(msis):
    directories = {row[0]: row for row in table(msis["5.0.0"], "Directory")}
    assert directories["INSTALLDIR"][1:] == ["ProgramFiles64Folder", "ecmt"]
    files = {row[2] for row in table(msis["5.0.0"], "File")}
    assert {"ecmt.exe", "python311.dll", "qwindows.dll"} <= files


def test_a_payload_without_ecmt_exe_is_refused(tmp_path):
    _need("wixl", "python3")
    (tmp_path / "empty").mkdir()
    done = subprocess.run(
        ["bash", str(BUILD_MSI), str(tmp_path / "empty"), str(tmp_path / "x.msi")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "no ecmt.exe" in done.stderr
    assert not (tmp_path / "x.msi").exists()


# --- msiexec under Wine ----------------------------------------------------------------------


@dataclass
class Wine:
    prefix: Path
    home: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),  # Wine links the user's Desktop to $HOME
            "WINEPREFIX": str(self.prefix),
            "WINEDEBUG": "-all",
            # no menu entries on this machine, no Mono or Gecko download prompts
            "WINEDLLOVERRIDES": "winemenubuilder.exe=d;mscoree,mshtml=",
            "DISPLAY": "",
        }

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert WINE is not None
        return subprocess.run(
            [WINE, *args], env=self.env, capture_output=True, text=True, timeout=300, check=check
        )

    def windows_path(self, path: Path) -> str:
        return "Z:" + str(path).replace("/", "\\")

    def msiexec(self, *args: str) -> None:
        done = self.run("msiexec", *args, check=False)
        assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)

    def registry(self, key: str) -> dict[str, str]:
        """`reg query KEY`: value name -> data (REG_SZ shown as is); {} when absent."""
        done = self.run("reg", "query", key, check=False)
        if done.returncode != 0:
            return {}
        values = {}
        for line in done.stdout.splitlines():
            parts = line.strip().split(None, 2)
            if len(parts) >= 2 and parts[1].startswith("REG_"):
                values[parts[0]] = parts[2] if len(parts) == 3 else ""
        return values

    def uninstall_entries(self) -> list[dict[str, str]]:
        done = self.run("reg", "query", UNINSTALL_KEY, check=False)
        keys = [line.strip() for line in done.stdout.splitlines() if line.startswith("HKEY")]
        entries = [self.registry(key) for key in keys if key.upper() != UNINSTALL_KEY_FULL]
        return [e for e in entries if e.get("DisplayName") == "Certificate Manager"]

    @property
    def program_files(self) -> Path:
        return self.prefix / "drive_c" / "Program Files" / "ecmt"

    def shortcuts(self) -> list[Path]:
        found = [*self.prefix.joinpath("drive_c").rglob(SHORTCUT), *self.home.rglob(SHORTCUT)]
        return sorted({p.resolve() for p in found})


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wine]:
    _need("wixl", "msiinfo", WINE)
    folder = tmp_path_factory.mktemp("wine")
    env = Wine(folder / "prefix", folder / "home")
    env.home.mkdir()
    env.run("wineboot", "--init")
    # Wine links each user's Desktop to a Unix folder, and removes it when an uninstall
    # leaves it empty. Windows' desktops are real folders that always hold a desktop.ini.
    for desktop in env.prefix.glob("drive_c/users/*/Desktop"):
        if desktop.is_symlink():
            desktop.unlink()
        desktop.mkdir(exist_ok=True)
        (desktop / "desktop.ini").write_text("[.ShellClassInfo]\n")
    yield env
    wineserver = shutil.which("wineserver") or "/usr/lib/wine/wineserver64"
    if Path(wineserver).exists():  # end this prefix's server now, not in a few seconds
        subprocess.run([wineserver, "-k"], env=env.env, check=False, capture_output=True)


def test_silent_install_upgrade_and_uninstall_under_wine(msis, wine):
    # a file of the practice's own beside the program's settings, and a user's certificate
    own_config = wine.prefix / "drive_c" / "ProgramData" / "ecmt" / "ecmt" / "config.toml"
    own_config.parent.mkdir(parents=True)
    own_config.write_text('proxy = "http://proxy.practice.example:3128"\n')
    user_cert = wine.prefix / "drive_c" / "users" / "Public" / "ecmt-certs" / "cert.p12"
    user_cert.parent.mkdir(parents=True)
    user_cert.write_bytes(b"certificate")

    wine.msiexec(
        "/i",
        wine.windows_path(msis["5.0.0"]),
        "/qn",
        f"SERVER_URL={SERVER}",
        "STORE=windows:machine",
        f"TRUST_ANCHOR={ANCHOR}",
    )
    assert (wine.program_files / "ecmt.exe").read_bytes() == b"MZ5.0.0"
    assert (wine.program_files / "_internal" / "PySide6" / "plugins" / "qwindows.dll").exists()
    shortcuts = wine.shortcuts()
    assert len(shortcuts) == 2, shortcuts  # Start menu and desktop
    assert any("Start Menu" in str(p) for p in shortcuts)
    for shortcut in shortcuts:
        assert b"ecmt.exe" in shortcut.read_bytes()
    assert wine.registry(SETTINGS_KEY) == {
        "server_url": SERVER,
        "store": "windows:machine",
        "trust_anchors": ANCHOR,
        "key_readers": "",  # not given: empty, which the program reads as not set
    }
    (entry,) = wine.uninstall_entries()
    assert entry["DisplayVersion"] == "5.0.0"
    assert entry["Publisher"] == "NHS Scotland ePractitioner Services"
    assert entry["HelpTelephone"] == "02045 836 906"

    # the newer MSI, pushed without any property: it replaces the older, settings stay
    wine.msiexec("/i", wine.windows_path(msis["5.0.1"]), "/qn")
    assert (wine.program_files / "ecmt.exe").read_bytes() == b"MZ5.0.1"
    (entry,) = wine.uninstall_entries()
    assert entry["DisplayVersion"] == "5.0.1"
    assert wine.registry(SETTINGS_KEY)["server_url"] == SERVER
    assert wine.registry(SETTINGS_KEY)["store"] == "windows:machine"
    assert len(wine.shortcuts()) == 2

    # a property on the command line beats the remembered one
    wine.msiexec(
        "/i",
        wine.windows_path(msis["5.0.1"]),
        "/qn",
        "REINSTALL=ALL",
        "REINSTALLMODE=vamus",
        "STORE=windows:user",
    )
    assert wine.registry(SETTINGS_KEY)["store"] == "windows:user"
    assert wine.registry(SETTINGS_KEY)["server_url"] == SERVER

    wine.msiexec("/x", wine.windows_path(msis["5.0.1"]), "/qn")
    assert not wine.program_files.exists()
    assert wine.shortcuts() == []
    assert wine.registry(SETTINGS_KEY) == {}
    assert wine.uninstall_entries() == []
    assert own_config.read_text().startswith("proxy")  # never the practice's own files
    assert user_cert.read_bytes() == b"certificate"  # nor anything of the user's
