"""A fast, seeded mutation engine for the fuzz campaign: valid wire bodies in, hostile
variants out (bit flips, truncations, splices, random bytes, DER length tweaks, nesting).

Every input is made from `random.Random(seed)` only, so a run is reproduced by its seed and
count, and a failing input is saved and replayed byte for byte.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0x81, 0x82, 0x83, 0x84, 0xFE, 0xFF, 0x30, 0x31, 0xA0)
LENGTHS = (
    b"\x00",
    b"\x7f",
    b"\x80",  # indefinite: not allowed in DER
    b"\x81\x00",  # non-minimal
    b"\x81\xff",
    b"\x82\xff\xff",
    b"\x84\xff\xff\xff\xff",
    b"\x84\x7f\xff\xff\xff",
    b"\x89\x01\x00\x00\x00\x00\x00\x00\x00\x00",  # longer than any length field
    b"\xff",
)


@dataclass(frozen=True)
class Tlv:
    header: int  # offset of the tag
    length: int  # offset of the length octets
    length_size: int
    content: int
    size: int


def read_tlv(data: bytes, offset: int, end: int) -> Tlv | None:
    """The TLV at `offset` if it is well-formed DER that ends by `end`, else None."""
    if offset + 2 > end or data[offset] & 0x1F == 0x1F:
        return None  # multi-byte tags do not occur in our seeds
    first = data[offset + 1]
    if first < 0x80:
        size, length_size = first, 1
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or offset + 2 + count > end:
            return None
        size = int.from_bytes(data[offset + 2 : offset + 2 + count], "big")
        length_size = 1 + count
    content = offset + 1 + length_size
    if content + size > end:
        return None
    return Tlv(offset, offset + 1, length_size, content, size)


def der_tlvs(data: bytes, start: int = 0, end: int | None = None, depth: int = 0) -> list[Tlv]:
    """Every TLV in well-formed DER, nested ones too (also inside OCTET/BIT STRINGs that hold
    DER), so mutations can aim at length fields. Stops quietly at anything malformed."""
    end = len(data) if end is None else end
    found: list[Tlv] = []
    offset = start
    while depth < 24 and (tlv := read_tlv(data, offset, end)) is not None:
        tag, content, size = data[offset], tlv.content, tlv.size
        found.append(tlv)
        if tag & 0x20:  # constructed
            found += der_tlvs(data, content, content + size, depth + 1)
        elif tag in (0x03, 0x04) and size > 2:  # BIT/OCTET STRING wrapping DER
            inner = content + (1 if tag == 0x03 else 0)
            if data[inner] == 0x30:
                found += der_tlvs(data, inner, content + size, depth + 1)
        offset = content + size
    return found


@dataclass
class Seed:
    data: bytes
    tlvs: list[Tlv]


class Mutator:
    """`mutator()` returns the next input. Each input is one seed with 1 to 4 operations
    applied; `dictionary` holds tokens worth inserting (JSON or base64 fragments)."""

    def __init__(
        self,
        seeds: Sequence[bytes],
        seed: int,
        dictionary: Sequence[bytes] = (),
        der: bool = True,
        growth: int = 1000,
    ) -> None:
        if not seeds:
            raise ValueError("a mutator needs at least one seed")
        self.rng = random.Random(seed)
        self.seeds = [Seed(s, der_tlvs(s) if der else []) for s in seeds]
        self.dictionary = list(dictionary) or [b"\x00", b"0", b"\xff"]
        # how much an input may grow: deep nesting and repeats, bounded for slow consumers
        self.repeats = tuple(n for n in (2, 3, 16, 1000) if n <= growth)
        self.depths = tuple(d for d in (64, 1200, 5000, 50000) if d <= max(1200, 3 * growth))
        self._ops: list[Callable[[bytearray, Seed], bytearray]] = [
            self._flip_bits,
            self._flip_bits,
            self._set_byte,
            self._truncate,
            self._splice,
            self._insert_random,
            self._delete_range,
            self._duplicate_range,
            self._insert_token,
            self._insert_token,
            self._nest,
        ]
        if der:
            self._ops += [self._der_length, self._der_length, self._der_length, self._der_tag]

    def __call__(self) -> bytes:
        rng = self.rng
        if rng.random() < 0.03:  # now and then, plain noise
            return rng.randbytes(rng.randrange(0, 512))
        seed = rng.choice(self.seeds)
        data = bytearray(seed.data)
        for _ in range(1 + min(3, int(rng.expovariate(1.2)))):
            data = rng.choice(self._ops)(data, seed)
        return bytes(data)

    # --- operations ------------------------------------------------------------------------

    def _position(self, data: bytearray) -> int:
        return self.rng.randrange(len(data) + 1)

    def _flip_bits(self, data: bytearray, _seed: Seed) -> bytearray:
        for _ in range(self.rng.choice((1, 1, 1, 2, 4, 8))):
            if data:
                i = self.rng.randrange(len(data))
                data[i] ^= 1 << self.rng.randrange(8)
        return data

    def _set_byte(self, data: bytearray, _seed: Seed) -> bytearray:
        if data:
            data[self.rng.randrange(len(data))] = self.rng.choice(INTERESTING)
        return data

    def _truncate(self, data: bytearray, _seed: Seed) -> bytearray:
        return data[: self._position(data)]

    def _splice(self, data: bytearray, _seed: Seed) -> bytearray:
        other = self.rng.choice(self.seeds).data
        cut = self._position(data)
        return data[:cut] + other[self.rng.randrange(len(other) + 1) :]

    def _insert_random(self, data: bytearray, _seed: Seed) -> bytearray:
        at = self._position(data)
        return data[:at] + self.rng.randbytes(self.rng.choice((1, 2, 4, 16, 64))) + data[at:]

    def _delete_range(self, data: bytearray, _seed: Seed) -> bytearray:
        at = self._position(data)
        return data[:at] + data[at + self.rng.choice((1, 2, 4, 16, 256)) :]

    def _duplicate_range(self, data: bytearray, _seed: Seed) -> bytearray:
        at = self._position(data)
        chunk = data[at : at + self.rng.choice((1, 4, 16, 128))]
        return data[:at] + chunk * self.rng.choice(self.repeats) + data[at:]

    def _insert_token(self, data: bytearray, _seed: Seed) -> bytearray:
        at = self._position(data)
        return data[:at] + self.rng.choice(self.dictionary) + data[at:]

    def _nest(self, data: bytearray, _seed: Seed) -> bytearray:
        """Deep nesting, the classic way to exhaust a recursive parser's stack."""
        depth = self.rng.choice(self.depths)
        if self.rng.random() < 0.5:
            return bytearray(b"[" * depth) + data + b"]" * depth
        return bytearray(b'{"a":' * depth) + data + b"}" * depth

    def _der_length(self, data: bytearray, seed: Seed) -> bytearray:
        if not seed.tlvs or len(data) != len(seed.data):
            return self._flip_bits(data, seed)  # offsets are only valid on the pristine seed
        tlv = self.rng.choice(seed.tlvs)
        rng = self.rng
        choice = rng.randrange(4)
        if choice == 0:
            new = rng.choice(LENGTHS)
        else:
            size = max(0, tlv.size + rng.choice((-2, -1, 1, 2, 128, -tlv.size)))
            if choice == 3:
                size = rng.randrange(1 << rng.choice((7, 8, 16, 24, 31)))
            new = _encode_length(size)
        return data[: tlv.length] + bytearray(new) + data[tlv.length + tlv.length_size :]

    def _der_tag(self, data: bytearray, seed: Seed) -> bytearray:
        if not seed.tlvs or len(data) != len(seed.data):
            return self._set_byte(data, seed)
        tlv = self.rng.choice(seed.tlvs)
        data[tlv.header] = self.rng.choice((*INTERESTING, 2, 3, 4, 5, 6, 12, 19))
        return data


def _encode_length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


# --- JSON: structural edits on parsed seeds ------------------------------------------------

ODD_VALUES: tuple[Any, ...] = (
    None,
    True,
    False,
    0,
    -1,
    2**63,
    -(2**70),
    1e308,
    -0.0,
    "",
    " ",
    "x" * 5000,
    "\u202e\u0000",
    "\ud800",
    "2026-13-45T25:61:00Z",
    "9999-12-31T23:59:59+00:00",
    "0001-01-01T00:00:00",
    "1.0.0",
    "not a version",
    "https://",
    "javascript:alert(1)",
    "0" * 64,
    [],
    {},
    [None],
    {"": None},
)
JSON_TOKENS = (
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b'"',
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"null",
    b"true",
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"9" * 5000,
    b"\xff",
    b"\xc3",
    b"\x00",
    b"  \n",
)


class JsonMutator:
    """Structure-aware edits: parse a seed, change one value, drop or add a member, wrap or
    retype it, then serialise (and `finish` it, e.g. sign it again)."""

    def __init__(
        self,
        seeds: Sequence[bytes],
        seed: int,
        finish: Callable[[Any], Any] | None = None,
    ) -> None:
        self.rng = random.Random(seed)
        self.documents = [json.loads(s) for s in seeds]
        self.finish = finish or (lambda document: document)

    def __call__(self) -> bytes:
        rng = self.rng
        document = copy.deepcopy(rng.choice(self.documents))
        for _ in range(1 + min(2, int(rng.expovariate(1.5)))):
            document = self._edit(document)
        document = self.finish(document)
        text = json.dumps(document, ensure_ascii=rng.random() < 0.5, allow_nan=True)
        return text.encode("utf-8", "surrogatepass")

    def _paths(self, value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        found = [path]
        if isinstance(value, dict):
            for key, item in value.items():
                found += self._paths(item, (*path, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                found += self._paths(item, (*path, index))
        return found

    def _edit(self, document: Any) -> Any:
        rng = self.rng
        path = rng.choice(self._paths(document))
        if not path:
            return rng.choice((document, [document], _odd(rng)))
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        action = rng.randrange(6)
        if action == 0 and isinstance(parent, dict):
            del parent[last]
        elif action == 1 and isinstance(parent, dict):
            parent[rng.choice(("extra", "__proto__", "code", "signed", "schema"))] = _odd(rng)
        elif action == 2:
            parent[last] = [parent[last]]
        elif action == 3:
            parent[last] = _retype(parent[last], rng)
        else:
            parent[last] = _odd(rng)
        return document


def _retype(value: Any, rng: random.Random) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        if value.isdigit():
            return int(value)
        return value[: rng.randrange(len(value) + 1)] + rng.choice(("", "\u0301", "\x00", "Z"))
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return _odd(rng)


def _odd(rng: random.Random) -> Any:
    """A fresh copy: the shared lists and dicts in ODD_VALUES must never be edited."""
    return copy.deepcopy(rng.choice(ODD_VALUES))


# --- DER as a tree, for structure-aware edits that keep every length right ----------------


@dataclass
class Node:
    tag: int
    content: bytes = b""
    children: list[Node] | None = None

    def encode(self) -> bytes:
        body = b"".join(c.encode() for c in self.children) if self.children is not None else b""
        if self.children is None:
            body = self.content
        return bytes([self.tag]) + _encode_length(len(body)) + body


def der_tree(data: bytes) -> list[Node]:
    """Well-formed DER as nodes; constructed types become children, the rest stay bytes."""
    nodes: list[Node] = []
    offset = 0
    while offset < len(data):
        tlv = read_tlv(data, offset, len(data))
        if tlv is None:
            nodes.append(Node(0x04, data[offset:]))
            break
        tag = data[tlv.header]
        content = data[tlv.content : tlv.content + tlv.size]
        if tag & 0x20:
            nodes.append(Node(tag, children=der_tree(content)))
        else:
            nodes.append(Node(tag, content))
        offset = tlv.content + tlv.size
    return nodes


def tree_nodes(nodes: list[Node]) -> list[tuple[list[Node], int]]:
    """Every node as (its parent's list, index): the places an edit can go."""
    places: list[tuple[list[Node], int]] = []
    for index, node in enumerate(nodes):
        places.append((nodes, index))
        if node.children is not None:
            places += tree_nodes(node.children)
    return places
