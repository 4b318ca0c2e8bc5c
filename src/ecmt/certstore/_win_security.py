"""SIDs and self-relative security descriptors as bytes: who may read a CNG key.

NCrypt hands a key's security descriptor out and takes it back as self-relative bytes
(`NCRYPT_SECURITY_DESCR_PROPERTY`). Reading and extending its DACL here, in plain Python,
keeps the Win32 surface to the two property calls and lets every byte be tested anywhere.
Layouts: SECURITY_DESCRIPTOR_RELATIVE, ACL, ACCESS_ALLOWED_ACE and SID from winnt.h.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

SE_DACL_PRESENT = 0x0004
SE_SELF_RELATIVE = 0x8000
ACL_REVISION = 2
ACCESS_ALLOWED_ACE_TYPE = 0
ACCESS_DENIED_ACE_TYPE = 1
INHERITED_ACE = 0x10
GENERIC_READ = 0x80000000
GENERIC_ALL = 0x10000000
FILE_READ_DATA = 0x0001
# What the certificates console's "Read" grants on a private key: GENERIC_READ with
# FILE_GENERIC_READ (READ_CONTROL, SYNCHRONIZE, read data, attributes, extended attributes).
KEY_READ_ACCESS = 0x80120089
_CAN_READ = GENERIC_READ | GENERIC_ALL | FILE_READ_DATA
EVERYONE = bytes.fromhex("010100000000000100000000")  # S-1-1-0
_SID_TEXT = re.compile(r"S-1-(\d+)((?:-\d+){0,15})", re.IGNORECASE)


class SecurityFormatError(ValueError):
    """Bytes that are not a self-relative security descriptor we can read."""


def sid_from_text(text: str) -> bytes | None:
    """`S-1-5-20` as SID bytes, or None when `text` is not a SID string."""
    match = _SID_TEXT.fullmatch(text.strip())
    if not match:
        return None
    authority = int(match.group(1))
    subs = [int(part) for part in match.group(2).split("-")[1:]]
    if authority >= 1 << 48 or any(sub >= 1 << 32 for sub in subs):
        return None
    return (
        bytes([1, len(subs)]) + authority.to_bytes(6, "big") + struct.pack(f"<{len(subs)}I", *subs)
    )


def sid_to_text(sid: bytes) -> str:
    revision, count = sid[0], sid[1]
    if revision != 1 or len(sid) != 8 + 4 * count:
        raise SecurityFormatError("not a SID")
    authority = int.from_bytes(sid[2:8], "big")
    subs = struct.unpack(f"<{count}I", sid[8:])
    return "-".join(["S", "1", str(authority), *map(str, subs)])


def sid_length(data: bytes, offset: int) -> int:
    if offset + 8 > len(data):
        raise SecurityFormatError("SID runs past the end")
    return 8 + 4 * data[offset + 1]


@dataclass(frozen=True)
class Ace:
    type: int
    flags: int
    mask: int
    sid: bytes | None  # None for ACE types that do not start with a SID after the mask
    raw: bytes

    @property
    def allows_read(self) -> bool:
        return (
            self.type == ACCESS_ALLOWED_ACE_TYPE
            and self.sid is not None
            and bool(self.mask & _CAN_READ)
        )


def has_dacl(descriptor: bytes) -> bool:
    """False for no DACL or a NULL DACL: then everyone has every access."""
    if len(descriptor) < 20:
        raise SecurityFormatError("security descriptor too short")
    _revision, _sbz, control, _owner, _group, _sacl, dacl = struct.unpack_from(
        "<BBHIIII", descriptor
    )
    if not control & SE_SELF_RELATIVE:
        raise SecurityFormatError("security descriptor is not self-relative")
    return bool(control & SE_DACL_PRESENT) and dacl != 0


def dacl_aces(descriptor: bytes) -> list[Ace]:
    """The ACEs of a self-relative descriptor's DACL, in order ([] when it has none)."""
    if not has_dacl(descriptor):
        return []
    return _aces(descriptor, struct.unpack_from("<I", descriptor, 16)[0])


def _aces(data: bytes, offset: int) -> list[Ace]:
    if offset + 8 > len(data):
        raise SecurityFormatError("ACL runs past the end")
    _revision, _sbz, size, count, _sbz2 = struct.unpack_from("<BBHHH", data, offset)
    end = offset + size
    if end > len(data):
        raise SecurityFormatError("ACL runs past the end")
    aces, at = [], offset + 8
    for _ in range(count):
        if at + 8 > end:
            raise SecurityFormatError("ACE runs past the ACL")
        kind, flags, ace_size, mask = struct.unpack_from("<BBHI", data, at)
        if ace_size < 8 or at + ace_size > end:
            raise SecurityFormatError("ACE size is wrong")
        sid = None
        if kind in {ACCESS_ALLOWED_ACE_TYPE, ACCESS_DENIED_ACE_TYPE}:
            length = sid_length(data, at + 8)
            if 8 + length > ace_size:
                raise SecurityFormatError("SID runs past its ACE")
            sid = data[at + 8 : at + 8 + length]
        aces.append(Ace(kind, flags, mask, sid, data[at : at + ace_size]))
        at += ace_size
    return aces


def allow_ace(sid: bytes, mask: int = KEY_READ_ACCESS) -> bytes:
    size = 8 + len(sid)
    return struct.pack("<BBHI", ACCESS_ALLOWED_ACE_TYPE, 0, size, mask) + sid


def readers(descriptor: bytes) -> list[bytes]:
    """SIDs allowed to read, in DACL order, each once (Everyone without a DACL)."""
    if not has_dacl(descriptor):
        return [EVERYONE]
    found: list[bytes] = []
    for ace in dacl_aces(descriptor):
        if ace.allows_read and ace.sid is not None and ace.sid not in found:
            found.append(ace.sid)
    return found


def grant_read(descriptor: bytes, sids: list[bytes]) -> bytes | None:
    """A descriptor holding only a DACL (for DACL_SECURITY_INFORMATION) that adds an allow-read
    ACE for each SID that cannot read yet; None when nothing needs to change.

    New ACEs go after the explicit ones and before inherited ones: the canonical order
    (explicit deny, explicit allow, inherited) is kept when it was there.
    """
    if not has_dacl(descriptor):
        return None  # everyone may already read
    aces = dacl_aces(descriptor)
    already = set(readers(descriptor))
    new = [allow_ace(sid) for sid in dict.fromkeys(sids) if sid not in already]
    if not new:
        return None
    cut = next((i for i, ace in enumerate(aces) if ace.flags & INHERITED_ACE), len(aces))
    body = b"".join(a.raw for a in aces[:cut]) + b"".join(new) + b"".join(a.raw for a in aces[cut:])
    revision = max(ACL_REVISION, _acl_revision(descriptor))
    acl = struct.pack("<BBHHH", revision, 0, 8 + len(body), len(aces) + len(new), 0) + body
    header = struct.pack("<BBHIIII", 1, 0, SE_SELF_RELATIVE | SE_DACL_PRESENT, 0, 0, 0, 20)
    return header + acl


def _acl_revision(descriptor: bytes) -> int:
    dacl = struct.unpack_from("<I", descriptor, 16)[0]
    return int(descriptor[dacl])
