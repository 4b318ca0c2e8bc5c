"""Closing the window (or quitting) while a request runs, and the window at 200% on a
1280x1024 screen: as a user meets them, through the real `ecmt` process."""

from __future__ import annotations

import json

from desktop_harness import Node, find, focused, words_on
from user_steps import OVERVIEW, WIZARD, Walk, button, demo_pin, on_page, text_showing, title

from conftest import Session, demo_server

QUESTION = "A request is running…"


def the_question(nodes: list[Node]) -> Node | None:
    """The message box asked before closing (screen readers call it an alert)."""
    return find(nodes, "alert", QUESTION) or find(nodes, "dialog", QUESTION)


def question(desk: Session, words: str) -> Node:
    """The question asked before closing; it must say `words`."""
    box = desk.screen.wait(the_question, "the question before closing")
    said = words_on(desk.screen.last, box.name)
    assert words in said, said
    return box


def question_gone(desk: Session) -> None:
    desk.screen.wait(lambda n: the_question(n) is None or None, "the question to close")


def gone(desk: Session, role: str, name: str) -> None:
    desk.screen.wait(lambda n: find(n, role, name) is None or None, f"{name} to close")


def press_until_focused(desk: Session, key: str, name: str) -> None:
    for _ in range(6):
        node = focused(desk.screen.nodes())
        if node is not None and node.name == name:
            return
        desk.keys.press(key)
    raise AssertionError(f"{key} never reached {name!r}")


def test_closing_while_waiting_for_approval_asks_then_keeps_the_request(desk: Session) -> None:
    """Escape, Ctrl+Q and the window's close button (Alt+F4, through the window manager)
    all ask first; keeping on is the default; closing keeps the request, and the next
    renewal picks it up once approved: one certificate issued, and it is installed."""
    with demo_server(
        desk.folder, enroll_requires_approval="true", approval_retry_after_seconds="1"
    ) as server:
        server.client_config(desk.folder / "home", f"files:{desk.folder / 'store'}")
        with desk.run([]) as app:
            walk = Walk(desk.screen, desk.keys)
            walk.start_to_logon()
            walk.log_on(server.epoc, server.pin)
            walk.account_to_request()
            on_page(desk.screen, "Step 6 of 7 · R-6")
            text_showing(desk.screen, "Waiting for approval: asking again in")

            desk.keys.press("Escape")
            question(desk, "Stop waiting and close?")
            assert "the request is kept and picked up the next time you renew" in words_on(
                desk.screen.last
            )
            desk.keys.press("Return")  # the default answer keeps waiting
            question_gone(desk)
            assert (title(desk.screen.nodes()) or "").startswith("Step 6 of 7")

            desk.keys.press("ctrl+q")
            question(desk, "Stop waiting and quit?")
            desk.keys.press("Escape")  # Escape keeps waiting too
            question_gone(desk)
            assert app.process.poll() is None

            desk.keys.press("alt+F4")  # the window's close button, through the WM
            question(desk, "Stop waiting and close?")
            press_until_focused(desk, "Tab", "Stop waiting and close")
            desk.keys.press("space")
            gone(desk, "dialog", WIZARD)
            overview = desk.screen.wait(
                lambda n: (
                    "There is no ePractitioner certificate on this computer yet"
                    in words_on(n, OVERVIEW)
                    or None
                ),
                "the overview, with nothing installed",
            )
            assert overview

            pending = json.loads(server.admin("requests", "list", "--status", "pending"))
            assert len(pending) == 1
            server.admin("requests", "approve", str(pending[0]["id"]))

            desk.keys.press("alt+r")  # Renew… picks the kept request up
            walk.start_to_logon()
            walk.log_on(None, server.pin)  # the PIN was never used: nothing was issued
            walk.account_to_request()
            walk.installed()
            walk.no_backup()
            walk.done()
            walk.finish_to_overview()
            issued = json.loads(server.admin("certs", "list", "--epoc", server.epoc))
            assert len(issued) == 1  # the kept request, not a second one
            desk.keys.press("ctrl+q")
            assert app.wait_exit(30) == 0


def inside(box: tuple[int, int, int, int], outer: tuple[int, int, int, int]) -> bool:
    x, y, w, h = box
    ox, oy, ow, oh = outer
    return x >= ox and y >= oy and x + w <= ox + ow and y + h <= oy + oh


def off_screen(nodes: list[Node], width: int, height: int) -> list[str]:
    """Buttons of the wizard that are not wholly on a screen of this size and that no
    scrolling can bring into view: a control that lies outside a scrolling area's
    on-screen frame is reached by scrolling (Tab does it), one that sticks out of the
    window is not."""
    screen = (0, 0, width, height)
    problems: list[str] = []
    ancestors: list[Node] = []
    for node in nodes:
        ancestors = [a for a in ancestors if a.depth < node.depth]
        box = node.box
        if (
            node.window == WIZARD
            and node.role in ("push button", "radio button", "check box")
            and box is not None
            and not inside(box, screen)
        ):
            scrolled = any(
                a.box is not None and inside(a.box, screen) and not inside(box, a.box)
                for a in ancestors
            )
            if not scrolled:
                problems.append(f"{node.name} at {box}")
        ancestors.append(node)
    return problems


def test_at_200_percent_on_a_small_screen_no_button_is_off_screen(desk: Session) -> None:
    """QT_SCALE_FACTOR=2 on 1280x1024 leaves 640x512 to lay out: every page, R-7's form
    included, keeps the wizard's buttons and its own on the screen."""
    width, height = desk.desktop.size[0] // 2, desk.desktop.size[1] // 2
    with desk.run(["--demo"], {"QT_SCALE_FACTOR": "2"}):
        walk = Walk(desk.screen, desk.keys)
        seen: list[str] = []

        def check() -> None:
            nodes = desk.screen.nodes()
            seen.append(title(nodes) or "?")
            assert off_screen(nodes, width, height) == [], title(nodes)

        on_page(desk.screen, "Step 1 of 7")
        button(desk.screen, "Next")
        check()
        walk.start_to_logon()
        check()
        walk.log_on(None, demo_pin(desk.screen))
        on_page(desk.screen, "Step 4 of 7")
        check()
        walk.account_to_request()
        walk.installed()
        check()
        desk.keys.press("alt+y")
        text_showing(desk.screen, "The password needs:")
        check()
        desk.keys.press("alt+m")  # More options: the file formats
        text_showing(desk.screen, "Stronger encryption")
        check()
        walk.back_up()
        walk.done()
        check()
        assert len(seen) == 7
