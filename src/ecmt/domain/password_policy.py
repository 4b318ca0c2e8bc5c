"""The backup password policy from the seed, as an ordered checklist.

The wizard calls `check` on every keystroke to tick the rules off live, so it is pure and
cheap, and the rules keep a stable order and `id`. Letters and digits are judged per
character with Python's Unicode rules, so "É" is an upper-case letter like "E".
Nothing here ever puts the password into an exception or a log line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import EcmtError, ErrorCode

MIN_LENGTH = 8


@dataclass(frozen=True)
class RuleResult:
    id: str
    label: str
    ok: bool


@dataclass(frozen=True)
class PolicyResult:
    rules: tuple[RuleResult, ...]

    @property
    def ok(self) -> bool:
        return all(rule.ok for rule in self.rules)

    @property
    def failed(self) -> tuple[str, ...]:
        """The ids of the unmet rules: safe for logs and error detail."""
        return tuple(rule.id for rule in self.rules if not rule.ok)


_RULES: tuple[tuple[str, str, Callable[[str], bool]], ...] = (
    ("length", f"At least {MIN_LENGTH} characters", lambda p: len(p) >= MIN_LENGTH),
    ("upper", "An upper-case letter", lambda p: any(c.isupper() for c in p)),
    ("lower", "A lower-case letter", lambda p: any(c.islower() for c in p)),
    # isdecimal: 0-9 and other scripts' digits, but not "²" or "½"
    ("digit", "A digit", lambda p: any(c.isdecimal() for c in p)),
)


def check(password: str) -> PolicyResult:
    """Every rule in display order, each met or not."""
    return PolicyResult(
        tuple(RuleResult(id_, label, test(password)) for id_, label, test in _RULES)
    )


def check_pair(password: str, confirmation: str) -> None:
    """Raise BACKUP_PASSWORD_POLICY (naming the unmet rules) or BACKUP_PASSWORD_MISMATCH."""
    result = check(password)
    if not result.ok:
        raise EcmtError(ErrorCode.BACKUP_PASSWORD_POLICY, "unmet: " + ", ".join(result.failed))
    if password != confirmation:
        raise EcmtError(ErrorCode.BACKUP_PASSWORD_MISMATCH)
