"""PINs: generation for the secure stationery, normalisation of what people type, argon2id."""

from __future__ import annotations

import secrets

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

    def burn(self, pin: str) -> None:
        """Spend one verification's time for an unknown EPOC, so timing tells nothing."""
        self.verify(self._dummy, pin)
