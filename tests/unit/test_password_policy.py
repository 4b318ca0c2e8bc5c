"""The backup password policy: an ordered live checklist, and the typed-twice check."""

from __future__ import annotations

import pytest

from ecmt.domain import password_policy
from ecmt.domain.errors import EcmtError, ErrorCode
from ecmt.domain.password_policy import check, check_pair

IDS = ("length", "upper", "lower", "digit")


def _ticks(password: str) -> dict[str, bool]:
    return {rule.id: rule.ok for rule in check(password).rules}


@pytest.mark.parametrize(
    ("password", "length", "upper", "lower", "digit"),
    [
        ("", False, False, False, False),
        ("abc", False, False, True, False),
        ("abcdefgh", True, False, True, False),
        ("Abcdefgh", True, True, True, False),
        ("Abcdefg1", True, True, True, True),
        ("ABCDEFG1", True, True, False, True),
        ("Abcdef1", False, True, True, True),  # 7 characters
        ("ÉCOLE123a", True, True, True, True),  # É is upper-case
        ("écolE123", True, True, True, True),
        ("ÉCOLE123", True, True, False, True),
        ("12345678", True, False, False, True),
        ("\u0436\u0438\u0437\u043d\u044c\u0436\u04381\u0416", True, True, True, True),  # Cyrillic
        ("Abcdefg²", True, True, True, False),  # a superscript is not a digit
        ("        ", True, False, False, False),
    ],
)
def test_checklist(password: str, length: bool, upper: bool, lower: bool, digit: bool) -> None:
    expected = {"length": length, "upper": upper, "lower": lower, "digit": digit}
    assert _ticks(password) == expected
    assert check(password).ok is all(expected.values())
    assert check(password).failed == tuple(i for i in IDS if not expected[i])


def test_rules_keep_their_order_ids_and_labels() -> None:
    for password in ("", "Abcdefg1", "x"):
        rules = check(password).rules
        assert tuple(rule.id for rule in rules) == IDS
        assert [rule.label for rule in rules] == [
            "At least 8 characters",
            "An upper-case letter",
            "A lower-case letter",
            "A digit",
        ]


def test_length_counts_characters_not_bytes() -> None:
    assert _ticks("ÉÉÉÉÉÉÉ1")["length"]  # 8 characters, 15 bytes in UTF-8
    assert not _ticks("ÉÉÉÉÉÉ1")["length"]
    assert password_policy.MIN_LENGTH == 8


def test_pair_accepts_a_good_password_typed_twice() -> None:
    check_pair("Abcdefg1", "Abcdefg1")


def test_pair_refuses_a_weak_password_naming_rules_not_the_password() -> None:
    with pytest.raises(EcmtError) as caught:
        check_pair("zebrazebra", "zebrazebra")
    assert caught.value.code is ErrorCode.BACKUP_PASSWORD_POLICY
    assert caught.value.detail == "unmet: upper, digit"
    assert "zebra" not in str(caught.value) + repr(caught.value)


def test_pair_refuses_different_confirmation() -> None:
    with pytest.raises(EcmtError) as caught:
        check_pair("Zebra-Quartz-77", "Zebra-Quartz-78")
    assert caught.value.code is ErrorCode.BACKUP_PASSWORD_MISMATCH
    assert "Zebra" not in str(caught.value) + repr(caught.value)


def test_policy_is_judged_before_the_confirmation() -> None:
    with pytest.raises(EcmtError) as caught:
        check_pair("abc", "abd")
    assert caught.value.code is ErrorCode.BACKUP_PASSWORD_POLICY
