"""The renewal as people do it: `ecmt --demo` (README's first command) and plain `ecmt`
with a configured service, started as their own processes on a virtual desktop, driven
with real key presses only, and checked by what the screen says and what the store holds.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from desktop_harness import find, words_on
from user_steps import PASSWORD, WIZARD, Walk, button, demo_pin, on_page, text_showing

from conftest import Session, demo_server

PEM = r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----"
REFERENCE = re.compile(r"Reference: [0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b")


def nss_serials(nssdb: Path) -> set[str]:
    """Serial numbers of the certificates in an NSS database, read by NSS's own tool."""
    listing = subprocess.run(
        ["certutil", "-L", "-d", f"sql:{nssdb}"], capture_output=True, text=True, check=True
    ).stdout
    serials: set[str] = set()
    for line in listing.splitlines()[4:]:
        nickname = line.rsplit(None, 1)[0].strip()
        if not nickname:
            continue
        pems = subprocess.run(
            ["certutil", "-L", "-d", f"sql:{nssdb}", "-n", nickname, "-a"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for block in re.findall(
            r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", pems, re.S
        ):
            out = subprocess.run(
                ["openssl", "x509", "-noout", "-serial", "-subject"],
                input=block,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            if "serialNumber" in out or "serialNumber=" in out:
                serials.add(out.split("serial=")[1].split()[0])
    return serials


def test_demo_renewal_by_keyboard_with_a_backup_then_ctrl_q(desk: Session) -> None:
    """README's first command: the whole walk with a backup, the overview after it, and
    Ctrl+Q, which ends the process and removes the demo's temporary folder."""
    tmp = desk.folder / "tmp"
    tmp.mkdir()
    with desk.run(["--demo"], {"TMPDIR": str(tmp)}) as app:
        walk = Walk(desk.screen, desk.keys)
        walk.start_to_logon()
        pin = demo_pin(desk.screen)
        walk.log_on(None, pin)  # the demo fills in the EPOC number
        walk.account_to_request()
        assert "It is valid until" in walk.installed()
        walk.back_up()
        done = walk.done()
        assert "Your new certificate was downloaded and checked." in done
        assert "A backup was saved and checked:" in done
        assert "PCR and PCRUA" in done
        backup = next(n for n in desk.screen.last if n.description == "Backup file")
        path = Path(backup.name)
        opened = subprocess.run(
            ["openssl", "pkcs12", "-in", str(path), "-nokeys", "-passin", "stdin"],
            input=PASSWORD + "\n",
            capture_output=True,
            text=True,
            check=False,
        )
        assert opened.returncode == 0, opened.stderr
        assert "serialNumber=8123456" in opened.stdout.replace(" = ", "=")

        overview = walk.finish_to_overview()
        assert "Nothing to do now" in overview
        # the demo posts the next PIN letter: the one on screen is never a used PIN
        desk.screen.wait(
            lambda n: (demo_pin(desk.screen) != pin) or None, "the next demo PIN letter"
        )
        assert list(tmp.glob("ecmt-demo-*"))
        desk.keys.press("ctrl+q")
        assert app.wait_exit(30) == 0
    assert not list(tmp.glob("ecmt-demo-*")), "the demo's folder (with its CA keys) was left"


def test_plain_ecmt_wrong_pin_then_right_then_a_second_renewal_with_the_certificate(
    desk: Session,
) -> None:
    """`ecmt` with a configured service and Chrome's NSS database: a wrong PIN is
    explained with tries left and a short reference; the right one renews without a
    backup; then, in the same run, Renew… with the current certificate puts a new
    certificate (a new serial) in the database, read back with certutil."""
    nssdb = desk.folder / "home" / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{nssdb}", "--empty-password"], check=True)
    with demo_server(desk.folder) as server:
        server.client_config(desk.folder / "home", f"nss:{nssdb}")
        with desk.run([]) as app:
            walk = Walk(desk.screen, desk.keys)
            walk.start_to_logon()
            walk.log_on(server.epoc, "AAAA-BBBB-CCCC")
            words = text_showing(desk.screen, "The EPOC number or PIN is not right")
            assert "You have 4 tries left before the account locks." in words
            assert REFERENCE.search(words), words  # 8 characters to read out, not a UUID
            assert "ECMT-AUTH-INVALID" in words
            walk.log_on(None, server.pin)  # the EPOC number stays; the PIN box is empty
            walk.account_to_request()
            walk.installed()
            walk.no_backup()
            done = walk.done()
            assert "No backup was made. You can make one later" in done
            assert desk.desktop.crontab == ""
            walk.finish_to_overview()  # with "Remind me before it expires" ticked
            desk.screen.wait(
                lambda n: "remind run" in desk.desktop.crontab or None, "the daily check"
            )
            assert text_showing(desk.screen, "A daily check is set up.")
            first = nss_serials(nssdb)
            assert len(first) == 1

            desk.keys.press("alt+r")  # Renew… in the overview
            on_page(desk.screen, "Step 1 of 7 · R-1")
            walk.start_to_logon()
            button(desk.screen, "Renew with my current certificate")
            desk.keys.press("alt+c")
            walk.account_to_request()
            walk.installed()
            walk.no_backup()
            done = walk.done()
            assert "The old certificate was removed from this computer." in done
            walk.finish_to_overview()
            second = nss_serials(nssdb)
            assert len(second) == 1
            assert second != first, "the second renewal put no new certificate in the store"
            desk.keys.press("ctrl+q")
            assert app.wait_exit(30) == 0


def test_help_opens_with_f1_and_escape_closes_only_the_help(desk: Session) -> None:
    with desk.run(["--demo"]) as app:
        on_page(desk.screen, "Step 1 of 7 · R-1")
        button(desk.screen, "Next")
        desk.keys.press("F1")
        help_box = desk.screen.wait(lambda n: find(n, "alert", "Help…"), "the Help box")
        words = words_on(desk.screen.last, help_box.window)
        for line in ("02045\u00a0836\u00a0906", "0131\u00a0275\u00a06600"):
            assert line in words  # each number whole, never split over two lines
        desk.keys.press("Escape")
        desk.screen.wait(
            lambda n: find(n, "dialog", "Help") is None or None, "the Help box to close"
        )
        assert find(desk.screen.nodes(), "dialog", WIZARD) is not None
        assert app.process.poll() is None
