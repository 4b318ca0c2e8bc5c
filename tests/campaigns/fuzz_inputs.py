"""Where each target's inputs come from: a structure-aware hypothesis strategy (a few
thousand well-aimed cases) and a seeded mutator (the bulk), both started from real bodies."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fuzz_targets import Wire
from hypothesis import strategies as st
from mutation import JSON_TOKENS, ODD_VALUES, JsonMutator, Mutator, Node, der_tree, tree_nodes

from ccms_protocol.wire import canonical_json
from ccms_server import release as server_release
from ccms_server.csr import encode_base64_body

B64_TOKENS = (
    b"=",
    b"==",
    b"\n",
    b"\r\n",
    b" ",
    b"\t",
    b"-",
    b"_",
    b"+",
    b"/",
    b"-----BEGIN PKCS7-----\n",
    b"-----END PKCS7-----\n",
    b"-----BEGIN CERTIFICATE REQUEST-----\n",
    b"\x00",
    b"AAAA",
    b"MII",
    b"\xe2\x80\x8b",
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80)
    | st.sampled_from(ODD_VALUES),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _model_documents(seed: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Documents shaped like `seed`: its members with seed or random values, some dropped,
    some added, now and then something else altogether."""
    members = {
        key: st.one_of(st.just(value), json_values, st.sampled_from(ODD_VALUES))
        for key, value in seed.items()
    }
    shaped = st.fixed_dictionaries(
        {}, optional={**members, **dict.fromkeys(("extra", "code", "schema"), json_values)}
    )
    return st.one_of(shaped, shaped, shaped, json_values)


def _json_bytes(documents: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return st.builds(
        lambda doc, ascii_only: json.dumps(doc, ensure_ascii=ascii_only).encode(
            "utf-8", "surrogatepass"
        ),
        documents,
        st.booleans(),
    )


def _der_edits(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """A seed's DER tree with nodes replaced, dropped, duplicated or retagged; every length
    stays right, so the parser is tested beyond its first length check."""
    primitive = st.builds(
        Node,
        st.sampled_from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0C, 0x13, 0x17, 0x18, 0x80, 0xA0]),
        st.binary(max_size=40),
    )
    nodes = st.recursive(
        primitive,
        lambda kids: st.builds(
            lambda tag, children: Node(tag, children=children),
            st.sampled_from([0x30, 0x31, 0xA0, 0xA3]),
            st.lists(kids, max_size=4),
        ),
        max_leaves=8,
    )

    @st.composite
    def edit(draw: st.DrawFn) -> bytes:
        tree = copy.deepcopy(der_tree(draw(st.sampled_from(seeds))))
        for _ in range(draw(st.integers(1, 3))):
            places = tree_nodes(tree)
            parent, index = places[draw(st.integers(0, len(places) - 1))]
            action = draw(st.integers(0, 4))
            if action == 0:
                parent[index] = draw(nodes)
            elif action == 1 and len(parent) > 1:
                del parent[index]
            elif action == 2:
                parent.insert(index, copy.deepcopy(parent[index]))
            elif action == 3:
                parent[index].tag = draw(st.integers(0, 255).filter(lambda t: t & 0x1F != 0x1F))
            else:
                target = parent[index]
                if target.children is None:
                    target.content = draw(st.binary(max_size=64))
                else:
                    target.children.append(draw(nodes))
        return b"".join(node.encode() for node in tree)

    return edit()


def _base64_texts(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    pieces = st.one_of(
        st.sampled_from(B64_TOKENS),
        st.text(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", max_size=40
        ).map(str.encode),
        st.binary(max_size=8),
    )

    @st.composite
    def text(draw: st.DrawFn) -> bytes:
        seed = draw(st.sampled_from(seeds))
        cut = draw(st.integers(0, len(seed)))
        return seed[:cut] + b"".join(draw(st.lists(pieces, max_size=6))) + seed[cut:]

    return text()


def sign_any(signed: Any, key: Any) -> dict[str, Any]:
    """An envelope signed by the trusted key whatever the body holds (the server's `sign`
    refuses invalid bodies; a hostile or buggy publisher would not)."""
    sig = base64.b64encode(key.sign(canonical_json(signed))).decode()
    keyid = server_release.key_id(key.public_key())
    return {"signed": signed, "signatures": [{"keyid": keyid, "sig": sig}]}


def _signed_manifests(wire: Wire) -> st.SearchStrategy[bytes]:
    """Manifests whose signature verifies, so the checks after it are what is tested: a
    plausible body with up to three members given other values or dropped."""
    now = datetime.now(UTC)
    moments = [now + timedelta(days=d) for d in (-400, -30, -1, 0, 1, 2, 30, 400)]
    times = st.one_of(
        st.sampled_from(moments).map(lambda t: t.isoformat()),
        st.sampled_from(moments).map(lambda t: t.replace(tzinfo=None).isoformat()),
        st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat()),
    )
    versions = st.sampled_from(
        ["0.0.1", "0.9", "1.0.0", "1.0.0rc1", "1.0.1", "999.0", "1!2.0", "v1", "", "1.0.0+local"]
    )
    artifact = st.fixed_dictionaries(
        {
            "platform": st.sampled_from(["linux-x64", "windows-x64", "macos-arm64"]),
            "kind": st.sampled_from(["msi", "deb", "pkg"]),
            "url": st.sampled_from(["https://example.invalid/a", "http://x", "file:///etc"]),
            "sha256": st.one_of(st.just("a" * 64), st.just("A" * 64), st.text(max_size=70)),
            "size": st.integers(-5, 2**40),
        }
    )
    plausible = {
        "schema": st.just(1),
        "product": st.sampled_from(["ecmt", "ecmt", "other"]),
        "channel": st.sampled_from(["stable", "stable", "beta"]),
        "serial": st.integers(0, 20),
        "issued": times,
        "expires": times,
        "latest_version": versions,
        "minimum_version": versions,
        "install_page": st.sampled_from(["https://example.invalid/i", "http://x", ""]),
        "release_notes": st.text(max_size=60),
        "artifacts": st.lists(artifact, max_size=3),
    }
    assert wire.release_key is not None
    key = wire.release_key

    @st.composite
    def manifest(draw: st.DrawFn) -> bytes:
        signed: dict[str, Any] = {name: draw(value) for name, value in plausible.items()}
        for name in draw(st.lists(st.sampled_from(sorted(plausible)), max_size=3, unique=True)):
            if draw(st.booleans()):
                del signed[name]
            else:
                signed[name] = draw(json_values)
        try:
            document = sign_any(signed, key)
        except UnicodeEncodeError:  # a lone surrogate: no canonical form to sign
            document = {"signed": signed, "signatures": [{"keyid": "k", "sig": "AAAA"}]}
        return json.dumps(document).encode()

    return manifest()


def _problems(wire: Wire) -> st.SearchStrategy[bytes]:
    seed = json.loads(wire.problems[0])
    retry = st.one_of(
        st.sampled_from(["", "30", "0", "-1", "Wed, 21 Oct 2015 07:28:00 GMT", "soon", "9" * 5000]),
        st.text(max_size=30).map(lambda t: t.replace("\n", " ")),
    )
    return st.builds(
        lambda r, body: r.encode("utf-8") + b"\n" + body, retry, _json_bytes(_model_documents(seed))
    )


def _auth_headers(wire: Wire) -> st.SearchStrategy[bytes]:
    credentials = st.one_of(
        st.text(max_size=40),
        st.builds(lambda e, p: f"{e}:{p}", st.text(max_size=40), st.text(max_size=20)),
    )
    return st.one_of(
        credentials.map(lambda c: b"Basic " + base64.b64encode(c.encode())),
        st.builds(
            lambda s, t: s + b" " + t,
            st.sampled_from([b"Basic", b"basic", b"Bearer"]),
            st.binary(max_size=40),
        ),
    )


def _forwarded(wire: Wire) -> st.SearchStrategy[bytes]:
    return st.one_of(_base64_texts(wire.forwarded), st.binary(max_size=200))


def strategy_for(name: str, wire: Wire) -> st.SearchStrategy[bytes]:
    bodies = wire.bodies
    return {
        "est-certs-only": lambda: _der_edits([wire.issued_der, wire.cacerts_der]),
        "est-base64": lambda: _base64_texts([bodies["cacerts"], bodies["enroll"]]),
        "problem-json": lambda: _problems(wire),
        "release-manifest": lambda: _signed_manifests(wire),
        "terms-document": lambda: _json_bytes(_model_documents(json.loads(bodies["terms"]))),
        "account-info": lambda: _json_bytes(_model_documents(json.loads(bodies["account"]))),
        "csr-intake": lambda: st.one_of(
            _der_edits(wire.csrs).map(encode_base64_body),
            _base64_texts([encode_base64_body(c) for c in wire.csrs]),
        ),
        "json-intake": lambda: _json_bytes(_model_documents(json.loads(bodies["acceptance"]))),
        "auth-header": lambda: _auth_headers(wire),
        "forwarded-cert": lambda: _forwarded(wire),
    }[name]()


# --- the bulk: seeded mutators ------------------------------------------------------------


def _resign(wire: Wire) -> Callable[[Any], Any]:
    key = wire.release_key
    assert key is not None

    def finish(document: Any) -> Any:
        if isinstance(document, dict) and isinstance(document.get("signed"), dict):
            try:
                return sign_any(document["signed"], key)
            except UnicodeEncodeError:  # a lone surrogate: no canonical form to sign
                return document
        return document

    return finish


class Either:
    """Each input from one of several mutators, chosen by weight."""

    def __init__(self, seed: int, *choices: tuple[float, Callable[[], bytes]]) -> None:
        import random

        self.rng = random.Random(seed)
        self.weights = [w for w, _ in choices]
        self.makers = [m for _, m in choices]

    def __call__(self) -> bytes:
        return self.rng.choices(self.makers, self.weights)[0]()


def mutator_for(name: str, wire: Wire, seed: int) -> Callable[[], bytes]:
    bodies = wire.bodies
    csr_b64 = [encode_base64_body(c) for c in wire.csrs]
    json_seed = {
        "problem-json": wire.problems,
        "terms-document": [bodies["terms"]],
        "account-info": [bodies["account"]],
        "json-intake": [bodies["acceptance"]],
    }
    if name == "est-certs-only":
        return Mutator([wire.issued_der, wire.cacerts_der], seed)
    if name == "est-base64":
        return Mutator([bodies["cacerts"], bodies["enroll"]], seed, B64_TOKENS, der=False)
    if name == "csr-intake":
        der = Mutator(wire.csrs, seed)
        return Either(
            seed,
            (0.75, lambda: encode_base64_body(der())),
            (0.25, Mutator(csr_b64, seed + 1, B64_TOKENS, der=False)),
        )
    if name == "release-manifest":
        return Either(
            seed,
            (0.6, JsonMutator([bodies["manifest"]], seed, _resign(wire))),
            (0.4, Mutator([bodies["manifest"]], seed + 1, JSON_TOKENS, der=False)),
        )
    if name == "problem-json":
        headers = [b"30\n", b"Wed, 21 Oct 2015 07:28:00 GMT\n", b"\n"]
        framed = [h + p for h in headers for p in wire.problems]
        structural = JsonMutator(wire.problems, seed)
        return Either(
            seed,
            # error text is cleaned character by character: keep bodies a few kB
            (0.5, Mutator(framed, seed + 1, (*JSON_TOKENS, b"\xb2"), der=False, growth=16)),
            (0.5, lambda: structural.rng.choice(headers) + structural()),
        )
    if name in json_seed:
        return Either(
            seed,
            (0.5, JsonMutator(json_seed[name], seed)),
            (0.5, Mutator(json_seed[name], seed + 1, JSON_TOKENS, der=False)),
        )
    if name == "auth-header":
        pairs = [b"5000001:ABCD-EFGH-JKLM", "5000001:p\u00efn".encode(), b":", b"x" * 40 + b":1"]
        seeds = [b"Basic " + base64.b64encode(p) for p in pairs]
        return Mutator(seeds, seed, (*B64_TOKENS, b"Basic ", b"Digest "), der=False)
    if name == "forwarded-cert":
        return Mutator(wire.forwarded, seed, (*B64_TOKENS, b"%0A", b"%2B", b"%"), der=False)
    raise KeyError(name)
