"""PINs: generation for the secure stationery, normalisation of what people type, argon2id."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

# No 0/O, 1/I/L, 5/S, 2/Z: letters and digits that survive being read over the phone.
PIN_ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
PIN_GROUPS = 3
PIN_GROUP_LENGTH = 4
MAX_PIN_LENGTH = 64


def generate_pin() -> str:
    """A new PIN like `K7QM-4X9R-T3HP` (about 57 bits)."""
    groups = (
        "".join(secrets.choice(PIN_ALPHABET) for _ in range(PIN_GROUP_LENGTH))
        for _ in range(PIN_GROUPS)
    )
    return "-".join(groups)


def normalise_pin(typed: str) -> str:
    """What is hashed: upper case, without the spaces and dashes people type or omit."""
    return "".join(ch for ch in typed.upper() if ch not in " -\t")


class PinHasher:
    """argon2id with the operator's cost parameters."""

    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            type=Type.ID,
        )
        self._dummy = self._hasher.hash(secrets.token_hex(8))

    def hash(self, pin: str) -> str:
        return self._hasher.hash(normalise_pin(pin))

    def verify(self, stored_hash: str, pin: str) -> bool:
        if len(pin) > MAX_PIN_LENGTH:
            return False
        try:
            return self._hasher.verify(stored_hash, normalise_pin(pin))
        except (VerificationError, InvalidHashError):
            return False

    def find(self, stored: Sequence[str], pin: str, rounds: int) -> int | None:
        """The index of the first hash in `stored` that PIN matches, found with exactly
        `rounds` verifications (dummies fill the gaps) and no early stop, so the time
        taken says nothing about the account: unknown, no PIN, one PIN or many."""
        found: int | None = None
        for index in range(rounds):
            real = index < len(stored)
            matched = self.verify(stored[index] if real else self._dummy, pin)
            if matched and real and found is None:
                found = index
        return found
