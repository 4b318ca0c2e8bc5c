"""What a user does in the wizard, with the keyboard alone, and what they read back.

Each step waits for the screen to show what a person would wait for (the page's title,
an enabled button, the cursor in the PIN box) before pressing the next key: a test that
pressed keys blindly would pass or fail on timing, not on the app.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop_harness import Keyboard, Node, Screen, find, focused, words_on

WIZARD = "Renew your ePractitioner certificate"
OVERVIEW = "ePractitioner certificate"
PASSWORD = "Surgery2027"


def title(nodes: list[Node]) -> str | None:
    """The wizard's header line: "Step 3 of 7 · R-3: Log on", or "Done: …"."""
    for node in nodes:
        if (
            node.window == WIZARD
            and node.role == "label"
            and node.name.startswith(("Step ", "Done: "))
        ):
            return node.name
    return None


def on_page(screen: Screen, prefix: str, timeout: float = 60) -> list[Node]:
    screen.wait(
        lambda n: (title(n) or "").startswith(prefix) or None, f"the page {prefix}", timeout
    )
    return screen.last


def button(screen: Screen, name: str, *, enabled: bool = True, window: str | None = None) -> Node:
    def ready(nodes: list[Node]) -> Node | None:
        found = find(nodes, "push button", name, window=window)
        return found if found is not None and found.enabled == enabled else None

    state = "enabled" if enabled else "disabled"
    return screen.wait(ready, f'the button "{name}" ({state})')


def text_showing(screen: Screen, fragment: str, timeout: float = 60) -> str:
    """Wait until `fragment` is somewhere on screen; all the words then showing."""
    screen.wait(lambda n: fragment in words_on(n) or None, f'"{fragment}" on screen', timeout)
    return words_on(screen.last)


def focus_on(screen: Screen, role: str, name: str) -> Node:
    def there(nodes: list[Node]) -> Node | None:
        node = focused(nodes)
        return node if node is not None and node.role == role and node.name == name else None

    return screen.wait(there, f"the focus in {role} {name!r}")


def demo_pin(screen: Screen) -> str:
    """The PIN printed in the demo's PIN letter panel, read off the screen."""
    letter = screen.wait(lambda n: find(n, "label", "A demonstration…"), "the demo PIN letter")
    return letter.name.split("PIN:\n")[1].split("\n")[0]


@dataclass
class Walk:
    screen: Screen
    keys: Keyboard

    def start_to_logon(self) -> None:
        """R-1 and R-2 pass by themselves; Enter is Next on each."""
        nodes = on_page(self.screen, "Step 1 of 7 · R-1")
        button(self.screen, "Next")
        nodes = self.screen.nodes()
        assert find(nodes, "push button", "Finish") is None, "R-1 offers Finish"
        self.keys.press("Return")
        on_page(self.screen, "Step 2 of 7 · R-2")
        text_showing(self.screen, "You have the newest version of this program")
        button(self.screen, "Next")
        self.keys.press("Return")
        on_page(self.screen, "Step 3 of 7 · R-3")

    def log_on(self, epoc: str | None, pin: str) -> None:
        """Type the EPOC number when it is not filled in, then the PIN; Enter logs on."""
        if epoc is not None:
            focus_on(self.screen, "text", "EPOC number")
            self.keys.type(epoc)
            self.keys.press("Return")
        focus_on(self.screen, "password text", "PIN")
        self.keys.type(pin)
        self.keys.press("Return")

    def account_to_request(self) -> None:
        """R-4: Next; R-5 (when shown): Alt+I accepts; R-6 runs by itself."""
        on_page(self.screen, "Step 4 of 7 · R-4")
        button(self.screen, "Next")
        self.keys.press("Return")
        self.screen.wait(
            lambda n: (
                (title(n) or "").startswith(("Step 5 of 7", "Step 6 of 7", "Step 7 of 7")) or None
            ),
            "the terms, the request or the backup",
        )
        if (title(self.screen.last) or "").startswith("Step 5 of 7"):
            button(self.screen, "I accept the terms of use")
            self.keys.press("alt+i")

    def installed(self) -> str:
        """R-7 opens with the confirmation of the install; its words."""
        on_page(self.screen, "Step 7 of 7 · R-7", timeout=120)
        return text_showing(self.screen, "Your new certificate is installed in")

    def back_up(self, password: str = PASSWORD) -> None:
        """Alt+Y, the password twice (Alt+P, Alt+G), Enter: Next makes the backup."""
        self.keys.press("alt+y")
        focus_on(self.screen, "radio button", "Yes, back up the new certificate")
        self.keys.press("alt+p")
        focus_on(self.screen, "password text", "Backup password")
        self.keys.type(password)
        self.keys.press("alt+g")
        focus_on(self.screen, "password text", "Backup password again")
        self.keys.type(password)
        text_showing(self.screen, "Met: The two passwords match")
        self.keys.press("Return")

    def no_backup(self) -> None:
        self.keys.press("alt+o")
        focus_on(self.screen, "radio button", "No, do not back up")
        self.keys.press("Return")

    def done(self) -> str:
        on_page(self.screen, "Done: all seven steps are complete", timeout=120)
        return words_on(self.screen.last, WIZARD)

    def finish_to_overview(self) -> str:
        button(self.screen, "Finish")
        self.keys.press("Return")
        self.screen.wait(
            lambda n: (
                (
                    find(n, "frame", OVERVIEW)
                    and "Your certificate is valid until" in words_on(n, OVERVIEW)
                )
                or None
            ),
            "the overview with a valid certificate",
        )
        return words_on(self.screen.last, OVERVIEW)
