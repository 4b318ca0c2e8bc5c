from __future__ import annotations

import re

from ccms_server.pins import MAX_PIN_LENGTH, PinHasher, generate_pin, normalise_pin


def test_generated_pins_are_readable_and_distinct():
    pins = {generate_pin() for _ in range(200)}
    assert len(pins) == 200
    for pin in pins:
        assert re.fullmatch(
            r"[346789ABCDEFGHJKMNPQRTUVWXY]{4}(-[346789ABCDEFGHJKMNPQRTUVWXY]{4}){2}", pin
        )
        assert not set(pin) & set("015SZOIL2")


def test_normalise_ignores_case_spaces_and_dashes():
    assert normalise_pin(" k7qm-4x9r t3hp ") == "K7QM4X9RT3HP"


def test_hasher_uses_argon2id_and_verifies_loosely_typed_pins():
    hasher = PinHasher(time_cost=1, memory_kib=8192, parallelism=1)
    stored = hasher.hash("K7QM-4X9R-T3HP")
    assert stored.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert hasher.verify(stored, "k7qm 4x9r t3hp")
    assert not hasher.verify(stored, "K7QM-4X9R-T3HX")
    assert not hasher.verify("not a hash", "K7QM-4X9R-T3HP")
    assert not hasher.verify(stored, "A" * (MAX_PIN_LENGTH + 1))


def test_find_matches_among_hashes_and_fills_the_rounds_with_dummies():
    hasher = PinHasher(time_cost=1, memory_kib=8192, parallelism=1)
    pins = ["K7QM-4X9R-T3HP", "AAAA-BBBB-CCCC"]
    stored = [hasher.hash(pin) for pin in pins]
    assert hasher.find(stored, "aaaa bbbb cccc", 4) == 1
    assert hasher.find(stored, "K7QM-4X9R-T3HP", 4) == 0
    assert hasher.find(stored, "K7QM-4X9R-T3HX", 4) is None
    assert hasher.find([], "K7QM-4X9R-T3HP", 4) is None
    assert hasher.find(stored, "AAAA-BBBB-CCCC", 1) is None  # beyond the rounds: not looked at
