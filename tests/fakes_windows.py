"""crypt32, ncrypt and advapi32 in memory, for the Windows store adapter on any OS.

It keeps Windows' rules where the adapter could get them wrong, and fails loudly where
Windows would fail (or crash):

- real flag values and error codes: failures set a fake GetLastError (BOOL and handle
  functions) or return the SECURITY_STATUS (NCrypt), and go through the adapter's own
  `errcheck` (`_crypt32.bind`), so the codes reach the adapter as they would on Windows;
- arguments are converted by the real prototypes (`from_param`), and results are real
  ctypes structures (CERT_CONTEXT, CRYPT_KEY_PROV_INFO written into the caller's buffer,
  strings as UTF-16LE), so the declared layouts are exercised;
- ownership: contexts are reference-counted (enumeration frees the previous one, delete
  frees the one it is given), store and NCrypt handles must be closed; a use after free
  or a double free raises at once, and `assert_released()` finds leaks;
- keys persist at import (as PFXImportCertStore does), so a failed install that does not
  delete its key leaves an orphan `orphaned_keys()` reports;
- LocalMachine opened for writing without elevation is ERROR_ACCESS_DENIED.

Every call is recorded in `calls` for tests that assert flags.
"""

from __future__ import annotations

import ctypes
import hashlib
import itertools
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12
from cryptography.x509.oid import NameOID

from ecmt.certstore import _crypt32 as w

KSP = "Microsoft Software Key Storage Provider"
LEGACY_CSP = "Microsoft Enhanced Cryptographic Provider v1.0"
PROV_RSA_FULL = 1
ERROR_INVALID_HANDLE = 6
NTE_INVALID_HANDLE = 0x80090026
NTE_INVALID_PARAMETER = 0x80090027
NTE_BUFFER_TOO_SMALL = 0x80090028
PBES2 = bytes.fromhex("06092a864886f70d01050d")

# Windows' own words for the codes the adapter meets (FormatMessageW)
MESSAGES = {
    5: "Access is denied.",
    0x80070005: "Access is denied.",
    0x80070056: "The specified network password is not correct.",
    0x80092004: "Cannot find object or property.",
    0x80092005: "The object or property already exists.",
    0x8009000B: "Key not valid for use in specified state.",
    0x80090010: "Access denied.",
    0x80090016: "Keyset does not exist",
    0x80090029: "The requested operation is not supported.",
    1332: "No mapping between account names and security IDs was done.",
}


def _sid(authority: int, *subs: int) -> bytes:
    return (
        bytes([1, len(subs)]) + authority.to_bytes(6, "big") + struct.pack(f"<{len(subs)}I", *subs)
    )


SID_SYSTEM = bytes.fromhex("010100000000000512000000")  # S-1-5-18
SID_ADMINISTRATORS = bytes.fromhex("01020000000000052000000020020000")  # S-1-5-32-544
SID_NETWORK_SERVICE = bytes.fromhex("010100000000000514000000")  # S-1-5-20
SID_PMR_SERVICE = _sid(5, 21, 1004336348, 1177238915, 682003330, 1105)
ACCOUNTS = {
    ("NT AUTHORITY", "SYSTEM"): SID_SYSTEM,
    ("BUILTIN", "Administrators"): SID_ADMINISTRATORS,
    ("NT AUTHORITY", "NETWORK SERVICE"): SID_NETWORK_SERVICE,
    ("PRACTICE", "svc-pmr"): SID_PMR_SERVICE,
}
# D:(A;;GA;;;SY)(A;;GA;;;BA), self-relative, as a new key gets it (bytes written out by hand)
DEFAULT_KEY_SD = bytes.fromhex(
    "01000480"
    "00000000"
    "00000000"
    "00000000"
    "14000000"  # header: DACL at 20
    "02003400"
    "02000000"  # ACL: revision 2, 52 bytes, 2 ACEs
    "00001400"
    "00000010"
    "010100000000000512000000"  # allow GENERIC_ALL SYSTEM
    "00001800"
    "00000010"
    "01020000000000052000000020020000"  # allow GENERIC_ALL Admins
)


@dataclass
class ProvInfo:
    container: str
    provider: str
    prov_type: int
    flags: int
    key_spec: int


@dataclass
class Element:
    """A certificate in a store, with its properties."""

    der: bytes
    props: dict[int, bytes] = field(default_factory=dict)
    prov: ProvInfo | None = None

    def copy(self) -> Element:
        return Element(self.der, dict(self.props), self.prov)


@dataclass
class FakeKey:
    private_key: Any
    exportable: bool
    cng: bool
    security: bytes = DEFAULT_KEY_SD


@dataclass
class StoreHandle:
    elements: list[Element]
    readonly: bool
    kind: str
    name: str = ""
    closed: bool = False


@dataclass
class LiveContext:
    struct: w.CERT_CONTEXT
    buffer: Any
    element: Element
    elements: list[Element]  # the store it came from
    readonly: bool
    refs: int = 1


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Any, ...]


def _out(arg: Any) -> Any:
    """The object behind an out-parameter (an instance, or a byref() of one)."""
    return arg._obj if type(arg).__name__ == "CArgObject" else arg


def _address(arg: Any) -> int:
    if arg is None:
        return 0
    if isinstance(arg, int):
        return arg
    arg = _out(arg)
    if isinstance(arg, ctypes._Pointer):
        return ctypes.cast(arg, ctypes.c_void_p).value or 0
    return ctypes.addressof(arg)


class FakeWindows:
    """The raw functions (returning BOOL/handles/status), bound like the real DLLs."""

    def __init__(
        self, *, elevated: bool = True, honours_cng: bool = True, rejects_aes: bool = False
    ) -> None:
        self.elevated = elevated
        self.honours_cng = honours_cng  # False: a machine that puts RSA keys in a legacy CSP
        self.rejects_aes = rejects_aes  # True: Windows Server 2016 and older
        self.last_error = 0
        self.calls: list[Call] = []
        self.stores: dict[tuple[str, str], list[Element]] = {}
        self.keys: dict[tuple[str, str, str], FakeKey] = {}  # (scope, provider, container)
        self.handles: dict[int, StoreHandle] = {}
        self.contexts: dict[int, LiveContext] = {}
        self.ncrypt: dict[int, tuple[str, Any]] = {}
        self.imported: list[bytes] = []  # each PKCS#12 handed to PFXImportCertStore
        self.fail_next: dict[str, int] = {}  # function -> error code for its next call
        self._ids = itertools.count(0x1000, 8)
        self._exports: dict[tuple[int, str], bytes] = {}
        self.api = w.bind(_Recording(self), lambda: self.last_error)

    # --- test helpers ------------------------------------------------------------------

    def store(self, location: str, name: str = "MY") -> list[Element]:
        return self.stores.setdefault((location, name.upper()), [])

    def called(self, name: str) -> list[Call]:
        return [c for c in self.calls if c.name == name]

    def assert_released(self) -> None:
        open_stores = [h for h, s in self.handles.items() if not s.closed]
        live = {a: c.refs for a, c in self.contexts.items() if c.refs}
        assert open_stores == [], f"store handles not closed: {open_stores}"
        assert live == {}, f"certificate contexts not freed: {live}"
        assert self.ncrypt == {}, f"NCrypt handles not freed: {self.ncrypt}"

    def orphaned_keys(self) -> list[tuple[str, str, str]]:
        used = {
            (loc, e.prov.provider, e.prov.container)
            for (loc, _name), elements in self.stores.items()
            for e in elements
            if e.prov is not None
        }
        return [k for k in self.keys if k not in used]

    def key_of(self, element: Element) -> FakeKey:
        assert element.prov is not None
        scope = "machine" if element.prov.flags & w.CRYPT_MACHINE_KEYSET else "user"
        return self.keys[(scope, element.prov.provider, element.prov.container)]

    def describe(self, code: int) -> str:
        return MESSAGES.get(code & 0xFFFFFFFF, "")

    # --- plumbing ----------------------------------------------------------------------

    def _call(self, name: str) -> Any:
        """Record each call; fail it instead when a test asked for that (`fail_next`)."""
        function = getattr(self, name)
        check = w.PROTOTYPES[name].check

        def call(*args: Any) -> Any:
            self.calls.append(Call(name, args))
            code = self.fail_next.pop(name, None)
            if code is None:
                return function(*args)
            if name == "CertDeleteCertificateFromStore":
                self._live(args[0]).refs -= 1  # freed even when it fails
            if check == "status":
                return code
            return self._fail(code, w.PCCERT_CONTEXT() if check == "enum" else 0)

        return call

    def _fail(self, code: int, result: Any = 0) -> Any:
        self.last_error = code
        return result

    def _new_context(self, element: Element, elements: list[Element], handle: int) -> Any:
        buffer = ctypes.create_string_buffer(element.der, len(element.der))
        context = w.CERT_CONTEXT(
            w.ENCODING,
            ctypes.cast(buffer, ctypes.POINTER(ctypes.c_ubyte)),
            len(element.der),
            None,
            handle,
        )
        readonly = self.handles[handle].readonly if handle in self.handles else False
        self.contexts[ctypes.addressof(context)] = LiveContext(
            context, buffer, element, elements, readonly
        )
        return ctypes.pointer(context)

    def _live(self, context: Any) -> LiveContext:
        live = self.contexts.get(_address(context))
        assert live is not None, "not a certificate context from this store"
        assert live.refs > 0, "certificate context used after it was freed"
        return live

    def _handle(self, handle: int) -> StoreHandle | None:
        found = self.handles.get(handle)
        return found if found is not None and not found.closed else None

    # --- crypt32 -----------------------------------------------------------------------

    def PFXImportCertStore(self, pfx: Any, password: str, flags: int) -> int:
        blob = _out(pfx)
        data = ctypes.string_at(blob.pbData, blob.cbData)
        self.imported.append(data)
        if self.rejects_aes and PBES2 in data:
            return self._fail(w.ERROR_INVALID_PASSWORD_HR)
        try:
            parsed = crypto_pkcs12.load_pkcs12(data, password.encode())
        except ValueError:
            return self._fail(w.ERROR_INVALID_PASSWORD_HR)
        elements = [
            Element(c.certificate.public_bytes(serialization.Encoding.DER))
            for c in parsed.additional_certs
        ]
        if parsed.cert is not None:
            leaf = Element(parsed.cert.certificate.public_bytes(serialization.Encoding.DER))
            if parsed.cert.friendly_name:
                leaf.props[w.CERT_FRIENDLY_NAME_PROP_ID] = w.wide(
                    parsed.cert.friendly_name.decode()
                )
            if parsed.key is not None:
                leaf.prov = self._persist(parsed.key, flags)
            elements.append(leaf)  # the leaf last: the first certificate is not ours
        handle = next(self._ids)
        self.handles[handle] = StoreHandle(elements, readonly=False, kind="pfx")
        return handle

    def _persist(self, key: Any, flags: int) -> ProvInfo:
        scope = "machine" if flags & w.CRYPT_MACHINE_KEYSET else "user"
        wants_cng = bool(flags & (w.PKCS12_PREFER_CNG_KSP | w.PKCS12_ALWAYS_CNG_KSP))
        cng = (wants_cng and self.honours_cng) or not isinstance(key, rsa.RSAPrivateKey)
        provider, prov_type = (KSP, 0) if cng else (LEGACY_CSP, PROV_RSA_FULL)
        container = str(uuid.uuid4())
        if not flags & w.PKCS12_NO_PERSIST_KEY:
            self.keys[(scope, provider, container)] = FakeKey(
                key, exportable=bool(flags & w.CRYPT_EXPORTABLE), cng=cng
            )
        keyset = w.CRYPT_MACHINE_KEYSET if scope == "machine" else 0
        return ProvInfo(container, provider, prov_type, keyset, w.AT_KEYEXCHANGE)

    def PFXExportCertStoreEx(
        self, store: int, pfx: Any, password: str, reserved: None, flags: int
    ) -> int:
        handle = self._handle(store)
        if handle is None:
            return self._fail(ERROR_INVALID_HANDLE)
        blob = _out(pfx)
        data = self._exports.get((store, password))
        if data is None:
            data = self._export(handle, password, flags)
            if isinstance(data, int):
                return self._fail(data)
            self._exports[(store, password)] = data
        if not blob.pbData:
            blob.cbData = len(data)
            return 1
        if blob.cbData < len(data):
            blob.cbData = len(data)
            return self._fail(w.ERROR_MORE_DATA)
        ctypes.memmove(blob.pbData, data, len(data))
        blob.cbData = len(data)
        return 1

    def _export(self, handle: StoreHandle, password: str, flags: int) -> bytes | int:
        with_key = [e for e in handle.elements if e.prov is not None]
        if not with_key or not flags & w.EXPORT_PRIVATE_KEYS:
            return w.CRYPT_E_NOT_FOUND
        element = with_key[0]
        try:
            key = self.key_of(element)
        except KeyError:
            return w.NTE_BAD_KEYSET
        if not key.exportable:
            return w.NTE_BAD_KEY_STATE
        cert = x509.load_der_x509_certificate(element.der)
        others = [
            x509.load_der_x509_certificate(e.der) for e in handle.elements if e is not element
        ]
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .key_cert_algorithm(crypto_pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())  # noqa: S303 - what Windows writes
            .build(password.encode())
        )
        return crypto_pkcs12.serialize_key_and_certificates(
            None, key.private_key, cert, others or None, encryption
        )

    def CertOpenStore(
        self, provider: int, encoding: int, prov: int, flags: int, para: str | None
    ) -> int:
        handle = next(self._ids)
        if provider == w.CERT_STORE_PROV_MEMORY:
            self.handles[handle] = StoreHandle([], readonly=False, kind="memory")
            return handle
        if provider != w.CERT_STORE_PROV_SYSTEM_W or not para:
            return self._fail(w.ERROR_INVALID_PARAMETER)
        location = {
            w.CERT_SYSTEM_STORE_CURRENT_USER: "user",
            w.CERT_SYSTEM_STORE_LOCAL_MACHINE: "machine",
        }.get(flags & 0x00FF0000)
        if location is None:
            return self._fail(w.ERROR_INVALID_PARAMETER)
        readonly = bool(flags & w.CERT_STORE_READONLY_FLAG)
        if location == "machine" and not readonly and not self.elevated:
            return self._fail(w.ERROR_ACCESS_DENIED)
        elements = self.store(location, para)
        self.handles[handle] = StoreHandle(elements, readonly, "system", f"{location}\\{para}")
        return handle

    def CertCloseStore(self, store: int, flags: int) -> int:
        handle = self._handle(store)
        if handle is None:
            return self._fail(ERROR_INVALID_HANDLE)
        handle.closed = True
        return 1

    def CertEnumCertificatesInStore(self, store: int, previous: Any) -> Any:
        start = 0
        if previous:
            live = self._live(previous)
            live.refs -= 1  # always freed, as the real one does
            index = next((i for i, e in enumerate(live.elements) if e is live.element), None)
            if index is None:
                return self._fail(w.CRYPT_E_NOT_FOUND, w.PCCERT_CONTEXT())
            start = index + 1
        handle = self._handle(store)
        if handle is None:
            return self._fail(ERROR_INVALID_HANDLE, w.PCCERT_CONTEXT())
        if start >= len(handle.elements):
            return self._fail(w.CRYPT_E_NOT_FOUND, w.PCCERT_CONTEXT())
        return self._new_context(handle.elements[start], handle.elements, store)

    def CertDuplicateCertificateContext(self, context: Any) -> Any:
        if not context:
            return w.PCCERT_CONTEXT()
        live = self._live(context)
        live.refs += 1
        return ctypes.pointer(live.struct)

    def CertFreeCertificateContext(self, context: Any) -> int:
        if context:
            self._live(context).refs -= 1  # a double free fails in _live
        return 1

    def CertAddCertificateContextToStore(
        self, store: int, context: Any, disposition: int, added: Any
    ) -> int:
        handle = self._handle(store)
        if handle is None:
            return self._fail(ERROR_INVALID_HANDLE)
        if handle.readonly:
            return self._fail(w.E_ACCESSDENIED)
        source = self._live(context).element
        existing = next((e for e in handle.elements if e.der == source.der), None)
        if disposition == w.CERT_STORE_ADD_NEW and existing is not None:
            return self._fail(w.CRYPT_E_EXISTS)
        if disposition == w.CERT_STORE_ADD_REPLACE_EXISTING and existing is not None:
            handle.elements.remove(existing)
        elif disposition not in {
            w.CERT_STORE_ADD_NEW,
            w.CERT_STORE_ADD_REPLACE_EXISTING,
            w.CERT_STORE_ADD_ALWAYS,
        }:
            return self._fail(w.ERROR_INVALID_PARAMETER)
        copy = source.copy()
        handle.elements.append(copy)
        if added is not None:
            _out(added).contents = self._new_context(copy, handle.elements, store).contents
        return 1

    def CertDeleteCertificateFromStore(self, context: Any) -> int:
        live = self._live(context)
        live.refs -= 1  # freed whatever happens
        if live.readonly:
            return self._fail(w.E_ACCESSDENIED)
        if any(e is live.element for e in live.elements):
            live.elements[:] = [e for e in live.elements if e is not live.element]
        return 1

    def CertGetCertificateContextProperty(
        self, context: Any, prop_id: int, data: Any, size: Any
    ) -> int:
        element = self._live(context).element
        size = _out(size)
        if prop_id == w.CERT_KEY_PROV_INFO_PROP_ID:
            if element.prov is None:
                return self._fail(w.CRYPT_E_NOT_FOUND)
            return self._write_prov_info(element.prov, data, size)
        value = element.props.get(prop_id)
        if value is None:
            return self._fail(w.CRYPT_E_NOT_FOUND)
        if data is None:
            size.value = len(value)
            return 1
        if size.value < len(value):
            size.value = len(value)
            return self._fail(w.ERROR_MORE_DATA)
        ctypes.memmove(_address(data), value, len(value))
        size.value = len(value)
        return 1

    def _write_prov_info(self, prov: ProvInfo, data: Any, size: Any) -> int:
        head = ctypes.sizeof(w.CRYPT_KEY_PROV_INFO)
        container, provider = w.wide(prov.container), w.wide(prov.provider)
        total = head + len(container) + len(provider)
        if data is None:
            size.value = total
            return 1
        if size.value < total:
            size.value = total
            return self._fail(w.ERROR_MORE_DATA)
        base = _address(data)
        ctypes.memmove(base + head, container, len(container))
        ctypes.memmove(base + head + len(container), provider, len(provider))
        info = w.CRYPT_KEY_PROV_INFO.from_address(base)
        info.pwszContainerName = base + head
        info.pwszProvName = base + head + len(container)
        info.dwProvType, info.dwFlags = prov.prov_type, prov.flags
        info.cProvParam, info.rgProvParam, info.dwKeySpec = 0, None, prov.key_spec
        size.value = total
        return 1

    def CertSetCertificateContextProperty(
        self, context: Any, prop_id: int, flags: int, data: Any
    ) -> int:
        element = self._live(context).element
        if data is None:
            element.props.pop(prop_id, None)
            return 1
        blob = w.CRYPT_DATA_BLOB.from_address(_address(data))
        element.props[prop_id] = ctypes.string_at(blob.pbData, blob.cbData)
        return 1

    def CertGetNameStringW(
        self, context: Any, kind: int, flags: int, type_para: Any, name: Any, chars: int
    ) -> int:
        element = self._live(context).element
        oid = type_para if isinstance(type_para, bytes) else ctypes.string_at(_address(type_para))
        assert kind == w.CERT_NAME_ATTR_TYPE
        cert = x509.load_der_x509_certificate(element.der)
        dotted = oid.rstrip(b"\0").decode()
        values = [a.value for a in cert.subject if a.oid.dotted_string == dotted]
        text = str(values[0]) if values else ""
        if name is None or chars == 0:
            return len(text) + 1
        text = text[: chars - 1]
        ctypes.memmove(_address(name), w.wide(text), len(w.wide(text)))
        return len(text) + 1

    # --- ncrypt ------------------------------------------------------------------------

    def NCryptOpenStorageProvider(self, provider: Any, name: str, flags: int) -> int:
        if name != KSP:
            return w.NTE_PROV_DLL_NOT_FOUND
        handle = next(self._ids)
        self.ncrypt[handle] = ("provider", name)
        _out(provider).value = handle
        return 0

    def NCryptOpenKey(
        self, provider: int, key: Any, name: str, legacy_spec: int, flags: int
    ) -> int:
        kind, provider_name = self.ncrypt.get(provider, ("", ""))
        if kind != "provider":
            return NTE_INVALID_HANDLE
        if legacy_spec not in {0, w.AT_KEYEXCHANGE, w.AT_SIGNATURE}:
            return NTE_INVALID_PARAMETER
        scope = "machine" if flags & w.NCRYPT_MACHINE_KEY_FLAG else "user"
        if (scope, provider_name, name) not in self.keys:
            return w.NTE_BAD_KEYSET
        handle = next(self._ids)
        self.ncrypt[handle] = ("key", (scope, provider_name, name))
        _out(key).value = handle
        return 0

    def NCryptDeleteKey(self, key: int, flags: int) -> int:
        kind, ident = self.ncrypt.get(key, ("", None))
        if kind != "key":
            return NTE_INVALID_HANDLE
        if ident[0] == "machine" and not self.elevated:
            return w.NTE_PERM
        del self.keys[ident]
        del self.ncrypt[key]  # the handle is freed by a successful delete
        return 0

    def NCryptFreeObject(self, handle: int) -> int:
        if self.ncrypt.pop(handle, None) is None:
            return NTE_INVALID_HANDLE
        return 0

    def NCryptGetProperty(
        self, handle: int, name: str, output: Any, size: int, result: Any, flags: int
    ) -> int:
        kind, ident = self.ncrypt.get(handle, ("", None))
        if kind != "key" or ident not in self.keys:
            return NTE_INVALID_HANDLE
        if name != w.NCRYPT_SECURITY_DESCR_PROPERTY or not flags & w.DACL_SECURITY_INFORMATION:
            return w.NTE_NOT_SUPPORTED
        value = self.keys[ident].security
        _out(result).value = len(value)
        if output is None:
            return 0
        if size < len(value):
            return NTE_BUFFER_TOO_SMALL
        ctypes.memmove(_address(output), value, len(value))
        return 0

    def NCryptSetProperty(self, handle: int, name: str, data: Any, size: int, flags: int) -> int:
        kind, ident = self.ncrypt.get(handle, ("", None))
        if kind != "key" or ident not in self.keys:
            return NTE_INVALID_HANDLE
        if name != w.NCRYPT_SECURITY_DESCR_PROPERTY or flags != w.DACL_SECURITY_INFORMATION:
            return w.NTE_NOT_SUPPORTED
        if ident[0] == "machine" and not self.elevated:
            return w.NTE_PERM
        value = ctypes.string_at(_address(data), size)
        control, dacl = (
            struct.unpack_from("<H", value, 2)[0],
            struct.unpack_from("<I", value, 16)[0],
        )
        if not control & 0x8000 or not control & 0x0004 or dacl == 0:
            return w.NTE_BAD_DATA  # not a self-relative descriptor with a DACL
        self.keys[ident].security = value
        return 0

    # --- advapi32 ----------------------------------------------------------------------

    def CryptAcquireContextW(
        self, prov: Any, container: str, provider: str, prov_type: int, flags: int
    ) -> int:
        if not flags & w.CRYPT_DELETEKEYSET:
            return self._fail(w.NTE_BAD_FLAGS)
        scope = "machine" if flags & w.CRYPT_MACHINE_KEYSET else "user"
        if self.keys.pop((scope, provider, container), None) is None:
            return self._fail(w.NTE_BAD_KEYSET)
        return 1

    def LookupAccountNameW(
        self,
        system: None,
        name: str,
        sid: Any,
        sid_size: Any,
        domain: Any,
        domain_size: Any,
        use: Any,
    ) -> int:
        found = next(
            (
                (d, value)
                for (d, n), value in ACCOUNTS.items()
                if name.lower() in {n.lower(), f"{d}\\{n}".lower()}
            ),
            None,
        )
        if found is None:
            return self._fail(w.ERROR_NONE_MAPPED)
        where, value = found
        return self._answer(value, False, sid, sid_size, where, domain, domain_size, use)

    def LookupAccountSidW(
        self,
        system: None,
        sid: Any,
        name: Any,
        name_size: Any,
        domain: Any,
        domain_size: Any,
        use: Any,
    ) -> int:
        address = _address(sid)
        count = ctypes.string_at(address, 2)[1]
        value = ctypes.string_at(address, 8 + 4 * count)
        found = next(((d, n) for (d, n), s in ACCOUNTS.items() if s == value), None)
        if found is None:
            return self._fail(w.ERROR_NONE_MAPPED)
        where, account = found
        text = account.encode("utf-16-le")
        return self._answer(text, True, name, name_size, where, domain, domain_size, use)

    def _answer(
        self,
        value: bytes,
        is_text: bool,
        out: Any,
        out_size: Any,
        where: str,
        domain: Any,
        domain_size: Any,
        use: Any,
    ) -> int:
        """The two-call pattern: sizes first (characters with the NUL for text), then the
        data, after which a text size no longer counts the NUL."""
        need = len(value) // 2 + 1 if is_text else len(value)
        out_size, domain_size = _out(out_size), _out(domain_size)
        if out is None or out_size.value < need or domain_size.value < len(where) + 1:
            out_size.value, domain_size.value = need, len(where) + 1
            return self._fail(w.ERROR_INSUFFICIENT_BUFFER)
        data = value + (b"\0\0" if is_text else b"")
        ctypes.memmove(_address(out), data, len(data))
        ctypes.memmove(_address(domain), w.wide(where), len(w.wide(where)))
        out_size.value = len(value) // 2 if is_text else len(value)
        domain_size.value = len(where)
        _out(use).value = 1  # SidTypeUser
        return 1


class _Recording:
    def __init__(self, fake: FakeWindows) -> None:
        self._fake = fake
        self.describe = fake.describe

    def __getattr__(self, name: str) -> Any:
        return self._fake._call(name)


def sha256(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def subject_epoc(der: bytes) -> str | None:
    values = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(
        NameOID.SERIAL_NUMBER
    )
    return str(values[0].value) if values else None
