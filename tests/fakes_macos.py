"""The Security framework in memory, for the keychain adapter on any OS.

It takes calls in PyObjC's shape (an out parameter passed as None, returned in a tuple
after the OSStatus) with the framework's real constant values and OSStatus codes, and
keeps the rules the adapter could get wrong:

- SecPKCS12Import must name its keychain (never the default one) and get the password in
  its options; an AES/PBES2 file fails with errSecPkcs12VerifyFailure when `rejects_aes`
  (older macOS: "MAC verification failed"), a wrong password with errSecAuthFailed;
  the key is stored with the access list it was given and the friendlyName as label;
  a leaf that is already there is errSecDuplicateItem and adds nothing;
- a locked keychain answers errSecInteractionNotAllowed, a read-only one errSecWrPerm,
  a missing file errSecNoSuchKeychain (SecKeychainOpen itself never fails);
- searches honour kSecMatchSearchList, and an unknown query key is a test failure;
- a reference to a deleted item is errSecItemNotFound;
- keys are filed under SHA-1 of the public key bits (kSecAttrApplicationLabel), and
  certificates under the same hash (kSecAttrPublicKeyHash), as the keychain does.

Every call is recorded in `calls`; `fail_next[name] = status` makes the next call fail.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12
from cryptography.x509.oid import NameOID

PBES2 = bytes.fromhex("06092a864886f70d01050d")

# Security.framework's CFString constants, with their real values
CONSTANTS = {
    "kSecClass": "class",
    "kSecClassCertificate": "cert",
    "kSecClassKey": "keys",
    "kSecClassIdentity": "idnt",
    "kSecMatchLimit": "m_Limit",
    "kSecMatchLimitAll": "m_LimitAll",
    "kSecMatchSearchList": "m_SearchList",
    "kSecReturnRef": "r_Ref",
    "kSecReturnAttributes": "r_Attributes",
    "kSecValueRef": "v_Ref",
    "kSecAttrLabel": "labl",
    "kSecAttrPublicKeyHash": "pkhh",
    "kSecAttrApplicationLabel": "klbl",
    "kSecAttrKeyClass": "kcls",
    "kSecAttrKeyClassPrivate": "1",
    "kSecImportExportPassphrase": "passphrase",
    "kSecImportExportKeychain": "keychain",
    "kSecImportExportAccess": "access",
    "kSecImportItemIdentity": "identity",
    "kSecImportItemCertChain": "chain",
    "kSecImportItemLabel": "label",
    "kSecImportItemKeyID": "keyid",
}
errSecSuccess = 0
errSecWrPerm = -61
errSecParam = -50
errSecPkcs12VerifyFailure = -25264
errSecPassphraseRequired = -25260
errSecAuthFailed = -25293
errSecNoSuchKeychain = -25294
errSecDuplicateItem = -25299
errSecItemNotFound = -25300
errSecInteractionNotAllowed = -25308
errSecDataNotAvailable = -25316
errSecDecode = -26275
MESSAGES = {  # SecCopyErrorMessageString
    errSecWrPerm: "Write permissions error.",
    errSecParam: "One or more parameters passed to a function were not valid.",
    errSecPkcs12VerifyFailure: "MAC verification failed during PKCS12 import (wrong password?)",
    errSecPassphraseRequired: "Passphrase is required for import/export.",
    errSecAuthFailed: "The user name or passphrase you entered is not correct.",
    errSecNoSuchKeychain: "The specified keychain could not be found.",
    errSecDuplicateItem: "The specified item already exists in the keychain.",
    errSecItemNotFound: "The specified item could not be found in the keychain.",
    errSecInteractionNotAllowed: "User interaction is not allowed.",
    errSecDataNotAvailable: "The contents of this item cannot be retrieved.",
    errSecDecode: "Unable to decode the provided data.",
}
SELF = "<this program>"


def public_key_hash(public_key: Any) -> bytes:
    if isinstance(public_key, rsa.RSAPublicKey):
        bits = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    else:
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        bits = public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    return hashlib.sha1(bits).digest()  # noqa: S324 - the keychain's scheme


@dataclass(eq=False)
class Item:
    item_class: str  # "cert" or "keys"
    attrs: dict[str, Any]
    der: bytes = b""
    private_key: Any = None
    access: Any = None
    extractable: bool = True


@dataclass(eq=False)
class Ref:
    """An opaque CF reference to one item."""

    item: Item


@dataclass(eq=False)
class KeychainRef:
    path: Path


@dataclass
class Keychain:
    items: list[Item] = field(default_factory=list)
    locked: bool = False
    writable: bool = True


@dataclass(eq=False)
class TrustedApp:
    path: str


@dataclass(eq=False)
class Access:
    descriptor: str
    apps: list[TrustedApp]


@dataclass(eq=False)
class Identity:
    keychain: Keychain
    certificate: Item
    key: Item


@dataclass
class SecItemImportExportKeyParameters:
    version: int = 0
    flags: int = 0
    passphrase: Any = None
    alertTitle: Any = None
    alertPrompt: Any = None
    accessRef: Any = None
    keyUsage: Any = None
    keyAttributes: Any = None


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]


class FakeSecurity:
    SecItemImportExportKeyParameters = SecItemImportExportKeyParameters

    def __init__(self, *, rejects_aes: bool = True, extractable: bool = True) -> None:
        for name, value in CONSTANTS.items():
            setattr(self, name, value)
        self.rejects_aes = rejects_aes  # older macOS: AES PKCS#12 fails its MAC check
        self.extractable = extractable
        self.keychains: dict[Path, Keychain] = {}
        self.calls: list[Call] = []
        self.imported: list[bytes] = []
        self.fail_next: dict[str, int] = {}
        self._ids = itertools.count(1)

    # --- test helpers ------------------------------------------------------------------

    def create_keychain(self, path: Path) -> Keychain:
        made = self.keychains[path] = Keychain()
        return made

    def add_certificate(self, path: Path, certificate: x509.Certificate) -> None:
        """As `security add-certificates` would: the certificate alone."""
        self.keychains[path].items.append(self._certificate_item(certificate))

    def called(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.name == name]

    def items(self, path: Path, item_class: str) -> list[Item]:
        return [i for i in self.keychains[path].items if i.item_class == item_class]

    def orphaned_keys(self, path: Path) -> list[Item]:
        hashes_of_certs = {i.attrs["pkhh"] for i in self.items(path, "cert")}
        return [k for k in self.items(path, "keys") if k.attrs["klbl"] not in hashes_of_certs]

    # --- plumbing ----------------------------------------------------------------------

    def __getattribute__(self, name: str) -> Any:
        attribute = object.__getattribute__(self, name)
        if not name.startswith("Sec") or not callable(attribute) or isinstance(attribute, type):
            return attribute

        def call(*args: Any) -> Any:
            self.calls.append(Call(name, args))
            status = self.fail_next.pop(name, None)
            if status is None:
                return attribute(*args)
            return status if name in ("SecItemUpdate", "SecItemDelete") else (status, None)

        return call

    def _keychain(self, ref: Any) -> Keychain | int:
        assert isinstance(ref, KeychainRef), f"not a keychain reference: {ref!r}"
        found = self.keychains.get(ref.path)
        return errSecNoSuchKeychain if found is None else found

    def _certificate_item(self, certificate: x509.Certificate) -> Item:
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return Item(
            "cert",
            {
                "labl": str(names[0].value) if names else "",
                "pkhh": public_key_hash(certificate.public_key()),
            },
            der=certificate.public_bytes(serialization.Encoding.DER),
        )

    # --- SecKeychain ---------------------------------------------------------------------

    def SecKeychainOpen(self, path: bytes, out: None) -> tuple[int, Any]:
        assert isinstance(path, bytes)
        assert out is None
        return errSecSuccess, KeychainRef(Path(path.decode()))

    def SecKeychainGetStatus(self, ref: Any, out: None) -> tuple[int, int]:
        assert out is None
        keychain = self._keychain(ref)
        if isinstance(keychain, int):
            return keychain, 0
        bits = 2 | (0 if keychain.locked else 1) | (4 if keychain.writable else 0)
        return errSecSuccess, bits

    # --- SecItem -----------------------------------------------------------------------

    def SecItemCopyMatching(self, query: dict[str, Any], out: None) -> tuple[int, Any]:
        assert out is None
        known = {"class", "m_SearchList", "m_Limit", "r_Ref", "r_Attributes", "klbl", "kcls"}
        assert set(query) <= known, f"query keys the fake does not know: {set(query) - known}"
        assert query.get("m_Limit") == "m_LimitAll"
        assert query.get("r_Ref") is True
        searched = [self._keychain(r) for r in query.get("m_SearchList", [])]
        if not searched:
            searched = list(self.keychains.values())  # the default search list
        found = []
        for keychain in searched:
            if isinstance(keychain, int):
                return keychain, None
            if keychain.locked:
                return errSecInteractionNotAllowed, None
            for item in keychain.items:
                if item.item_class != query["class"]:
                    continue
                if "klbl" in query and item.attrs.get("klbl") != bytes(query["klbl"]):
                    continue
                if "kcls" in query and item.attrs.get("kcls") != query["kcls"]:
                    continue
                attrs = dict(item.attrs) if query.get("r_Attributes") else {}
                found.append({**attrs, "class": item.item_class, "v_Ref": Ref(item)})
        return (errSecSuccess, found) if found else (errSecItemNotFound, None)

    def _held(self, query: dict[str, Any]) -> tuple[Keychain, Item] | int:
        assert set(query) == {"class", "v_Ref"}, query
        ref = query["v_Ref"]
        assert isinstance(ref, Ref)
        for keychain in self.keychains.values():
            if ref.item in keychain.items and ref.item.item_class == query["class"]:
                return keychain, ref.item
        return errSecItemNotFound

    def SecItemUpdate(self, query: dict[str, Any], changes: dict[str, Any]) -> int:
        held = self._held(query)
        if isinstance(held, int):
            return held
        keychain, item = held
        assert set(changes) == {"labl"}, changes
        if keychain.locked:
            return errSecInteractionNotAllowed
        if not keychain.writable:
            return errSecWrPerm
        item.attrs["labl"] = str(changes["labl"])
        return errSecSuccess

    def SecItemDelete(self, query: dict[str, Any]) -> int:
        held = self._held(query)
        if isinstance(held, int):
            return held
        keychain, item = held
        if keychain.locked:
            return errSecInteractionNotAllowed
        if not keychain.writable:
            return errSecWrPerm
        keychain.items.remove(item)
        return errSecSuccess

    # --- import and export ---------------------------------------------------------------

    def SecPKCS12Import(self, data: bytes, options: dict[str, Any], out: None) -> tuple[int, Any]:
        assert out is None
        assert isinstance(data, bytes)
        assert set(options) <= {"passphrase", "keychain", "access"}, options
        assert "keychain" in options, "import into a named keychain, never the default one"
        self.imported.append(data)
        keychain = self._keychain(options["keychain"])
        if isinstance(keychain, int):
            return keychain, None
        if keychain.locked:
            return errSecInteractionNotAllowed, None
        if not keychain.writable:
            return errSecWrPerm, None
        if self.rejects_aes and PBES2 in data:
            return errSecPkcs12VerifyFailure, None
        password = options.get("passphrase")
        if not isinstance(password, str):
            return errSecPassphraseRequired, None
        try:
            parsed = crypto_pkcs12.load_pkcs12(data, password.encode())
        except ValueError:
            return errSecAuthFailed, None
        if parsed.cert is None or parsed.key is None:
            return errSecDecode, None
        leaf = self._certificate_item(parsed.cert.certificate)
        key_hash = leaf.attrs["pkhh"]
        present = {i.der for i in keychain.items if i.item_class == "cert"}
        key_present = any(i.attrs.get("klbl") == key_hash for i in keychain.items)
        if leaf.der in present or key_present:
            return errSecDuplicateItem, None
        label = (parsed.cert.friendly_name or b"Imported Private Key").decode()
        key = Item(
            "keys",
            {"labl": label, "klbl": key_hash, "kcls": "1"},
            private_key=parsed.key,
            access=options.get("access"),
            extractable=self.extractable,
        )
        keychain.items += [key, leaf]
        for extra in parsed.additional_certs:
            item = self._certificate_item(extra.certificate)
            if item.der not in present:
                keychain.items.append(item)
        identity = Identity(keychain, leaf, key)
        chain = [Ref(leaf)]
        return errSecSuccess, [{"label": label, "keyid": key_hash, "identity": identity,
                                "chain": chain}]  # fmt: skip

    def SecCertificateCopyData(self, ref: Any) -> bytes:
        assert isinstance(ref, Ref)
        assert ref.item.item_class == "cert"
        return ref.item.der

    def SecIdentityCreateWithCertificate(
        self, keychain_ref: Any, certificate: Any, out: None
    ) -> tuple[int, Any]:
        assert out is None
        assert isinstance(certificate, Ref)
        keychain = self._keychain(keychain_ref)
        if isinstance(keychain, int):
            return keychain, None
        key_hash = certificate.item.attrs["pkhh"]
        key = next((i for i in keychain.items if i.attrs.get("klbl") == key_hash), None)
        if key is None or certificate.item not in keychain.items:
            return errSecItemNotFound, None
        return errSecSuccess, Identity(keychain, certificate.item, key)

    def SecItemExport(
        self, item: Any, fmt: int, flags: int, params: Any, out: None
    ) -> tuple[int, Any]:
        assert out is None
        assert fmt == 12
        assert flags == 0
        assert isinstance(item, Identity)
        assert isinstance(params, SecItemImportExportKeyParameters)
        assert params.version == 0
        if item.keychain.locked:
            return errSecInteractionNotAllowed, None
        if not isinstance(params.passphrase, str) or not params.passphrase:
            return errSecPassphraseRequired, None
        if not item.key.extractable:
            return errSecDataNotAvailable, None
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .key_cert_algorithm(crypto_pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())  # noqa: S303 - what macOS writes
            .build(params.passphrase.encode())
        )
        certificate = x509.load_der_x509_certificate(item.certificate.der)
        data = crypto_pkcs12.serialize_key_and_certificates(
            None, item.key.private_key, certificate, None, encryption
        )
        return errSecSuccess, data

    # --- access lists and messages -------------------------------------------------------

    def SecTrustedApplicationCreateFromPath(self, path: bytes | None, out: None) -> tuple[int, Any]:
        assert out is None
        assert path is None or isinstance(path, bytes)
        if path is None:
            return errSecSuccess, TrustedApp(SELF)
        if not Path(path.decode()).exists():
            return errSecItemNotFound, None
        return errSecSuccess, TrustedApp(path.decode())

    def SecAccessCreate(self, descriptor: str, apps: list[Any], out: None) -> tuple[int, Any]:
        assert out is None
        assert isinstance(descriptor, str)
        assert all(isinstance(a, TrustedApp) for a in apps)
        return errSecSuccess, Access(descriptor, list(apps))

    def SecCopyErrorMessageString(self, status: int, reserved: None) -> str | None:
        return MESSAGES.get(status)
