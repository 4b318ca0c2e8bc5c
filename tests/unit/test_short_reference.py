"""The short reference read out over the phone: readable, stable, and spread out."""

from __future__ import annotations

import re
import uuid

from ccms_protocol.wire import short_reference


def test_eight_readable_characters_in_two_groups():
    ids = [str(uuid.uuid4()) for _ in range(2000)]
    refs = {short_reference(i) for i in ids}
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", r) for r in refs)
    assert len(refs) == len(ids)  # 40 bits: collisions among a few thousand are vanishingly rare


def test_same_id_same_reference_on_both_sides():
    rid = "3f2b0c1e-1111-4222-8333-444455556666"
    assert short_reference(rid) == short_reference(rid)
    assert short_reference(rid) != short_reference(rid.replace("3f", "3e", 1))


def test_no_letters_that_read_like_digits():
    refs = "".join(short_reference(str(uuid.uuid4())) for _ in range(500))
    assert not set(refs) & set("ILOU")
