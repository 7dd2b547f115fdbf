"""The verifier's trust list: which providers it trusts, with which keys, and why (issue 19).

A platform, victim's lawyer, court or regulator pins providers by their signed descriptors
(``trust.descriptor``): by hand after comparing the key fingerprint with one obtained out of band
(``synthguard trust add URL --fingerprint SHA256:...``), or by importing a list signed by a publisher the operator
chose (``trust import list.json --publisher-key VKEY``; e.g. a regulator's list of filed services).  Every entry
keeps its *source*, so a verification can say which key it trusted and where that key came from.  A provider's
key never changes silently: a descriptor with another key for a known origin is refused until the old entry is
removed.  The list is a 0600 JSON file, written atomically.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from synthguard.errors import ConflictError, LedgerIntegrityError, NotFoundError, ValidationError
from synthguard.ledger.checkpoint import parse_vkey, vkey
from synthguard.ledger.trusted import KeySource, TrustedKey
from synthguard.media import write_atomic
from synthguard.trust import descriptor as desc
from synthguard.trust import wmkeys
from synthguard.trust.cosign import parse_vkey as parse_cosigner

LIST_VERSION = "synthguard-trust-list/v1"
LIST_FILE = "trust-list.json"
CREDENTIALS_FILE = "trust-list-credentials.json"  # beside LIST_FILE, 0600: never published


@dataclass(frozen=True)
class TrustedProvider:
    origin: str
    vkey: str
    fingerprint: str
    source: str  # "pinned by the operator" | "list <publisher> <fingerprint>"
    added: str
    producer: str | None = None
    name: str | None = None
    lookup: str | None = None
    descriptor: dict[str, Any] = field(default_factory=dict)  # the signed descriptor as received
    witnesses: tuple[str, ...] = ()  # cosigner vkeys whose cosignatures count
    quorum: int = 0  # how many of them a checkpoint needs
    watermark_key: str | None = None  # shared-mode detection key (hex) from the provider's grant (trust.wmkeys)


class TrustList:
    """The list at ``path``; ``on_change`` runs after every write (the deployment refreshes its C2PA trust anchors
    there, so a running server validates manifests against the new list without a restart)."""

    def __init__(self, path: str | os.PathLike[str], *, on_change: Callable[[], object] | None = None):
        self.path = Path(path)
        self.on_change = on_change

    # --- storage ---------------------------------------------------------------------------------------
    def entries(self) -> list[TrustedProvider]:
        return list(self._index().entries)

    def _index(self) -> _Index:
        """The parsed list and its look-up tables, re-read only when the file changed (a scan looks providers up
        by producer, origin and C2PA signer without walking 100 entries or re-parsing their chains)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return _Index.EMPTY
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = _INDEXES.get(self.path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return _Index.EMPTY
        except ValueError as exc:
            raise ValidationError("the trust list is not JSON", path=self.path) from exc
        if isinstance(doc, dict) and isinstance(doc.get("list"), dict):
            raise ValidationError("{path} is a list signed by a publisher, not a trust list of this deployment",
                                  values={"path": str(self.path)},
                                  hint="Import it with `synthguard trust import FILE --publisher-key VKEY`, or give "
                                       "its publisher key (--publisher-key) to evidence-verify.")
        try:
            index = _Index([TrustedProvider(**(e | {"witnesses": tuple(e.get("witnesses", ()))}))
                            for e in doc["providers"]])
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValidationError("the trust list {path} is malformed ({err})",
                                  values={"path": str(self.path), "err": type(exc).__name__}) from exc
        if len(_INDEXES) > 64:
            _INDEXES.clear()
        _INDEXES[self.path] = (stamp, index)
        return index

    def _save(self, entries: list[TrustedProvider]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps({"version": LIST_VERSION, "providers": [asdict(e) for e in entries]},
                                           indent=1, ensure_ascii=False).encode())
        os.chmod(self.path, 0o600)
        if self.on_change is not None:
            self.on_change()

    # --- credentials at the providers' lookup APIs (kept apart from the list: the list is published) ----
    @property
    def credentials_path(self) -> Path:
        return self.path.with_name(self.path.stem + "-credentials.json")  # CREDENTIALS_FILE beside the home's list

    def set_credential(self, ref: str, token: str | None) -> TrustedProvider:
        """Store (or with None forget) this deployment's credential at a trusted provider's lookup API."""
        target = self.find(ref)
        creds = self._credentials()
        if token:
            creds[target.origin] = token.strip()
        else:
            creds.pop(target.origin, None)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.credentials_path, json.dumps(creds, indent=1).encode())
        os.chmod(self.credentials_path, 0o600)
        return target

    def credential(self, origin: str) -> str | None:
        return self._credentials().get(origin)

    def _credentials(self) -> dict[str, str]:
        try:
            data = json.loads(self.credentials_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except ValueError as exc:
            raise ValidationError("the trust credentials file is not JSON", path=self.credentials_path) from exc
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    # --- changes ---------------------------------------------------------------------------------------
    def add(self, signed: dict[str, Any], *, source: str = "pinned by the operator",
            expected_fingerprint: str | None = None) -> TrustedProvider:
        """Pin a provider from its signed descriptor; ``expected_fingerprint`` (from the provider, out of band)
        must match when given."""
        got = desc.verify(signed)
        if expected_fingerprint is not None and expected_fingerprint.strip() != got["fingerprint"]:
            raise LedgerIntegrityError("the descriptor's key is {got}, not the expected {want}",
                                       values={"got": got["fingerprint"], "want": expected_fingerprint.strip()})
        d = got["descriptor"]
        entry = TrustedProvider(origin=d["log"]["origin"], vkey=got["vkey"], fingerprint=got["fingerprint"],
                                source=source, added=datetime.now(UTC).isoformat(timespec="seconds"),
                                producer=d.get("producer"), name=d.get("name"), lookup=d.get("lookup"),
                                descriptor=signed)
        entries = self.entries()
        for i, old in enumerate(entries):
            if old.origin == entry.origin:
                if old.vkey != entry.vkey:
                    raise ConflictError("{origin} is already trusted with another key ({old})",
                                        values={"origin": entry.origin, "old": old.fingerprint},
                                        hint="A provider's key does not change silently: remove the entry first.")
                same_wm = ((old.descriptor.get("descriptor") or {}).get("watermark")
                           == (d.get("watermark") or {}))  # a granted key stays only for the same key id
                entries[i] = replace(entry, witnesses=old.witnesses, quorum=old.quorum,
                                     watermark_key=old.watermark_key if same_wm else None)
                self._save(entries)
                return entries[i]
        self._save([*entries, entry])
        return entry

    def remove(self, ref: str) -> TrustedProvider:
        entries = self.entries()
        gone = self.find(ref)
        self._save([e for e in entries if e.origin != gone.origin])
        return gone

    def set_witnesses(self, ref: str, vkeys: list[str], quorum: int) -> TrustedProvider:
        for v in vkeys:
            parse_cosigner(v)
        if not 0 <= quorum <= len(vkeys):
            raise ValidationError("the quorum must be between 0 and the number of witnesses")
        target = self.find(ref)
        entries = [replace(e, witnesses=tuple(vkeys), quorum=quorum) if e.origin == target.origin else e
                   for e in self.entries()]
        self._save(entries)
        return self.find(ref)

    def set_watermark_key(self, ref: str, key_hex: str | None) -> TrustedProvider:
        """Keep (or with None forget) a shared-mode detection key; check it with ``trust.wmkeys.open_grant``."""
        return self._set(ref, watermark_key=key_hex)

    def set_lookup_token(self, ref: str, token: str | None) -> TrustedProvider:
        """The credential the provider issued to this verifier for its lookup API (scans resolve watermark tokens
        with it); kept with the other credentials, apart from the list (:meth:`set_credential`)."""
        if token is not None and not token.strip():
            raise ValidationError("an empty credential", hint="Give the token the provider issued, or --forget.")
        return self.set_credential(ref, token)

    def recipient(self) -> str:
        """This verifier's recipient key (base64 X25519, kept 0600 beside the list) for shared-mode grants."""
        return wmkeys.recipient_public(self.path.parent)

    def accept_grant(self, ref: str, signed: dict[str, Any]) -> TrustedProvider:
        """Open a provider's watermark-key grant (checked against this entry's pinned key and descriptor, see
        ``trust.wmkeys``) and keep the key."""
        entry = self.find(ref)
        return self.set_watermark_key(entry.origin, wmkeys.open_grant(signed, entry, self.path.parent).hex())

    def _set(self, ref: str, **changes: Any) -> TrustedProvider:
        target = self.find(ref)
        self._save([replace(e, **changes) if e.origin == target.origin else e for e in self.entries()])
        return self.find(ref)

    # --- look-ups --------------------------------------------------------------------------------------
    def find(self, ref: str) -> TrustedProvider:
        """By origin, producer code, name or key fingerprint."""
        for e in self.entries():
            if ref in (e.origin, e.producer, e.name, e.fingerprint):
                return e
        raise NotFoundError("no trusted provider {ref!r}", values={"ref": ref[:200]},
                            hint="See `synthguard trust list`; add one with `synthguard trust add`.")

    def for_key(self, key_vkey: str) -> TrustedProvider | None:
        return next((e for e in self.entries() if e.vkey == key_vkey.strip()), None)

    def for_producer(self, producer: str) -> TrustedProvider | None:
        return self._index().by_producer.get(producer)

    def for_origin(self, origin: str) -> TrustedProvider | None:
        return self._index().by_origin.get(origin)

    def for_c2pa_signer(self, serial: int) -> list[tuple[TrustedProvider, Any]]:
        """(entry, signer certificate) pairs whose pinned C2PA chain starts with a certificate of this serial."""
        return self._index().by_serial().get(serial, [])


class _Index:
    """A parsed trust list with its look-up tables (built once per version of the file)."""

    EMPTY: _Index

    def __init__(self, entries: list[TrustedProvider]):
        self.entries = tuple(entries)
        self.by_producer: dict[str, TrustedProvider] = {}
        self.by_origin: dict[str, TrustedProvider] = {}
        for e in self.entries:
            self.by_origin.setdefault(e.origin, e)
            if e.producer:
                self.by_producer.setdefault(e.producer, e)
        self._by_serial: dict[int, list[tuple[TrustedProvider, Any]]] | None = None

    def by_serial(self) -> dict[int, list[tuple[TrustedProvider, Any]]]:
        if self._by_serial is None:
            table: dict[int, list[tuple[TrustedProvider, Any]]] = {}
            for e in self.entries:
                for cert in c2pa_chain(e)[:1]:  # the signer's own certificate leads the chain
                    table.setdefault(cert.serial_number, []).append((e, cert))
            self._by_serial = table
        return self._by_serial


_Index.EMPTY = _Index([])
_INDEXES: dict[Path, tuple[tuple[int, int, int], _Index]] = {}


def for_settings(settings: Any) -> TrustList:
    """The deployment's own trust list (``<home>/trust-list.json``); changes refresh its C2PA trust anchors."""
    return TrustList(Path(settings.home) / LIST_FILE, on_change=lambda: refresh(settings))


def c2pa_chain(entry: TrustedProvider) -> list[Any]:
    """The provider's C2PA signing chain from its pinned descriptor (x509 certificates, signer first); [] if none."""
    pem = (entry.descriptor.get("descriptor") or {}).get("c2pa_chain_pem")
    if not isinstance(pem, str) or "BEGIN CERTIFICATE" not in pem:
        return []
    try:
        return list(x509.load_pem_x509_certificates(pem.encode()))
    except ValueError:
        return []


def c2pa_signer_entry(trust: TrustList, serial: str | int | None, common_name: str | None = None
                      ) -> TrustedProvider | None:
    """The trusted provider whose pinned C2PA chain holds the certificate that signed a manifest (by serial number,
    and common name when given)."""
    if serial in (None, ""):
        return None
    try:
        wanted = int(str(serial), 0) if str(serial).startswith("0x") else int(str(serial))
    except ValueError:
        return None
    for e, cert in trust.for_c2pa_signer(wanted):
        cns = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if common_name is None or common_name in cns:
            return e
    return None


# --- lists signed by a publisher (e.g. a regulator's list of filed services) ----------------------------
def publish(entries: list[TrustedProvider], *, name: str, key: Any) -> dict[str, Any]:
    """A list of the entries' signed descriptors, signed with ``key`` (the publisher's Ed25519 ledger key)."""
    doc = {"version": LIST_VERSION, "publisher": name, "publisher_vkey": vkey(name, key),
           "issued": datetime.now(UTC).isoformat(timespec="seconds"),
           "providers": [e.descriptor for e in entries]}
    return {"list": doc, "signature": base64.b64encode(key.sign(desc.canonical(doc))).decode()}


def _signed_list(signed: Any, publisher_vkey: str) -> tuple[list[Any], str]:
    """The providers of a list signed by the pinned publisher key, and the source their entries will name."""
    doc = signed.get("list") if isinstance(signed, dict) else None
    if not isinstance(doc, dict) or doc.get("version") != LIST_VERSION or not isinstance(doc.get("providers"), list):
        raise ValidationError("not a SynthGuard trust list signed by a publisher")
    name, pub = parse_vkey(publisher_vkey)
    try:
        pub.verify(base64.b64decode(str(signed.get("signature")), validate=True), desc.canonical(doc))
    except (ValueError, InvalidSignature) as exc:
        raise LedgerIntegrityError("the trust list is not signed by the pinned publisher key") from exc
    return doc["providers"], f"list {name} {desc.fingerprint(publisher_vkey)}"


def import_list(trust: TrustList, signed: dict[str, Any], publisher_vkey: str) -> list[TrustedProvider]:
    """Add every provider of a list signed by the pinned publisher key; each entry's source names the publisher."""
    providers, source = _signed_list(signed, publisher_vkey)
    return [trust.add(d, source=source) for d in providers]


def published_keys(signed: Any, publisher_vkey: str) -> list[Any]:
    """The keys of a list signed by a publisher the verifier pinned, without adding them to any trust list (for
    offline verification: ``evidence-verify --trust-list FILE --publisher-key VKEY``).  Every descriptor must
    verify with its own key; the source names the publisher."""
    providers, source = _signed_list(signed, publisher_vkey)
    out = []
    for d in providers:
        got = desc.verify(d)
        origin, key = parse_vkey(got["vkey"])
        who = got["descriptor"].get("name") or got["descriptor"].get("producer") or origin
        out.append(TrustedKey(key, KeySource.TRUST_LIST, f"{who} ({source})", origin, fingerprint=got["fingerprint"]))
    return out


def trusted_keys(trust: TrustList) -> list[Any]:
    """The list's providers as :class:`~synthguard.ledger.trusted.TrustedKey` values for evidence verification:
    each bound to its origin and labelled with the provider and where its key came from."""
    out = []
    for e in trust.entries():
        _, pub = parse_vkey(e.vkey)
        out.append(TrustedKey(pub, KeySource.TRUST_LIST, f"{e.name or e.producer or e.origin} ({e.source})", e.origin,
                              witnesses=e.witnesses, quorum=e.quorum, fingerprint=e.fingerprint))
    return out


# --- C2PA trust anchors (issue 19, EU-09): the configured bundle (or our own CA) plus the root of every pinned C2PA
# chain, one PEM file rewritten whenever the deployment's list changes (for_settings).  Explained and named by
# synthguard.trust.anchors; the code lives here, beside the list, so neither module imports the other (issue 23).

ANCHORS_FILE = "c2pa-trust-anchors.pem"


def _base(settings: Any) -> str:
    configured = settings.c2pa_trust_anchors
    own = Path(settings.keys_dir) / "c2pa-ca.pem"
    path = configured or (own if own.is_file() else None)
    if path is None:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""  # the configured file's own error is reported by the C2PA reader when it is used alone


def trust_roots(settings: Any) -> list[str]:
    """PEM of the root (the last certificate) of each trusted provider's C2PA chain."""
    out = []
    try:
        entries = TrustList(Path(settings.home) / LIST_FILE).entries()
    except Exception:  # noqa: BLE001 - an unreadable list adds no anchors; `trust list` reports it
        return []
    for entry in entries:
        chain = c2pa_chain(entry)
        if chain:
            out.append(chain[-1].public_bytes(serialization.Encoding.PEM).decode())
    return out


def refresh(settings: Any) -> Path | None:
    """Write the combined anchors file if its content changed; its path, or None when there is nothing to anchor
    (no configured bundle, no own CA, no trusted chain, and no combined file written before).  Once written the
    file is kept up to date, also when the last trusted chain goes: a running reader holds this one path."""
    roots = trust_roots(settings)
    base = _base(settings)
    path = Path(settings.home) / ANCHORS_FILE
    if not roots and not base.strip() and not path.is_file():
        return None
    text = (base.rstrip("\n") + "\n" if base.strip() else "") + "".join(roots)
    try:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text.encode())
            os.chmod(path, 0o644)
    except OSError:
        return None
    return path


def anchors(settings: Any, base: Path | None) -> Path | None:
    """The anchors a deployment validates C2PA manifests with: the combined file (``base`` + the trusted providers'
    roots), or ``base`` itself when the home cannot hold the combined file."""
    return refresh(settings) or base
