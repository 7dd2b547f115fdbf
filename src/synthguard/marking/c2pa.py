"""C2PA manifests: build, sign, read and validate.  The only module that imports ``c2pa``.

A manifest is the signed, machine-readable "this is AI-generated" layer of the
multi-layer marking (EU-09 1.1.1, EU-02, US-10 latent disclosure).  It records a
``c2pa.created`` action with IPTC digitalSourceType *trainedAlgorithmicMedia* plus our
``org.synthguard.record`` assertion (content id = GB 45438 ProduceID, producer, ledger
reference), and binds the exact bytes: it is applied last, and any later byte change
reads back as "invalid".

Offline by design: every Reader/Builder gets its own ``c2pa.Context`` (no deprecated
global ``load_settings``, so no shared state between threads or forked workers) with
remote-manifest and OCSP fetching off and no network hosts allowed.  A time-stamp
authority is contacted only when the caller passes ``tsa_url``; without one the
signature is validated against the signer certificate's current validity.  All I/O
goes through in-memory streams, so nothing is written to a temp dir.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from synthguard.errors import (
    ConfigError,
    CorruptMediaError,
    KeyMissingError,
    ProvenanceError,
    UnsupportedMediaError,
)
from synthguard.marking.base import LabelContext, Reading
from synthguard.media import Media, Modality

RECORD_LABEL = "org.synthguard.record"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SOFTWARE_AGENT = {"name": "SynthGuard", "version": "0.1"}
STATES = ("absent", "invalid", "valid", "trusted")

_OFFLINE = {
    "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False},
    "builder": {"thumbnail": {"enabled": False}},  # no pixel copy in the manifest; keeps signing fast
}
# c2pa reports these for a damaged container (not merely a damaged manifest)
_UNREADABLE = (c2pa.C2paError.Io, c2pa.C2paError.Other, c2pa.C2paError.NotSupported)


def _context(*, trust_pem: str | None = None, tsa_url: str | None = None) -> c2pa.Context:
    """A fresh offline Context; cheap (< 1 ms), so never cached or shared across threads/forks."""
    hosts = [urlparse(tsa_url).hostname] if tsa_url else []
    settings: dict[str, Any] = {**_OFFLINE, "core": {"allowed_network_hosts": hosts}}
    if trust_pem is not None:
        # trust_anchors *replaces* the built-in list: "trusted" then means anchored in exactly these roots
        settings["trust"] = {"trust_anchors": trust_pem}
    try:
        return c2pa.Context.from_dict(settings)
    except c2pa.C2paError as exc:
        raise ConfigError("C2PA trust anchors are not valid PEM certificates ({exc})", values={"exc": exc}) from exc


def _read_key_file(path: Path, what: str) -> bytes:
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise KeyMissingError("C2PA {what} not found", path=p, values={"what": what}) from None
    except OSError as exc:
        raise KeyMissingError("cannot read C2PA {what}: {strerror}", path=p,
                              values={"what": what, "strerror": exc.strerror}) from exc


class C2PASigner:
    """Signs media with one ES256 certificate chain and key, loaded and checked once."""

    def __init__(self, cert_chain: Path, key: Path, *, tsa_url: str | None = None):
        self.cert_chain, self.key, self.tsa_url = Path(cert_chain), Path(key), tsa_url
        url = urlparse(tsa_url or "")
        if tsa_url is not None and (url.scheme not in ("http", "https") or not url.hostname):
            raise ConfigError("time-stamp authority URL {tsa_url!r} is not an http(s) URL",
                              values={"tsa_url": tsa_url})
        self._chain_pem = _read_key_file(self.cert_chain, "certificate chain")
        self._key_pem = _read_key_file(self.key, "signing key")
        _check_pair(self._chain_pem, self._key_pem, self.cert_chain, self.key)

    def sign(
        self, media: Media, *, content_id: str, producer: str, ledger_ref: str | None = None,
        model: str | None = None, created: datetime | None = None, claim: Mapping[str, Any] | None = None,
    ) -> Media:
        """Return ``media`` with a signed manifest; ``claim`` adds fields to the SynthGuard record.

        A manifest already on the input is kept as the parent ingredient (EU-10, DS-21),
        so re-labelling never silently drops someone else's credentials.
        """
        if media.mime not in c2pa.Builder.get_supported_mime_types():
            raise UnsupportedMediaError("C2PA cannot embed a manifest in {mime}", path=media.name,
                                        values={"mime": media.mime})
        record = {"content_id": content_id, "producer": producer, "ledger_ref": ledger_ref, "model": model,
                  "created": created.isoformat() if created else None, **(claim or {})}
        record = {k: v for k, v in record.items() if v is not None}
        ctx = _context(tsa_url=self.tsa_url)
        prior = _has_manifest(media, ctx)
        agent = {**SOFTWARE_AGENT, **({"model": model} if model else {})}
        if prior:  # c2pa.created may not have a parent; "opened" + "edited" is the spec's edit shape
            actions = [{"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
                       {"action": "c2pa.edited", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                        "softwareAgent": agent}]
        else:
            actions = [{"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                        "softwareAgent": agent}]
        manifest = {
            "claim_generator_info": [SOFTWARE_AGENT],
            "title": Path(media.name).name if media.name != "<bytes>" else content_id,
            "format": media.mime,
            "assertions": [{"label": "c2pa.actions.v2", "data": {"actions": actions}},
                           {"label": RECORD_LABEL, "data": record}],
        }
        out = io.BytesIO()
        try:
            signer = c2pa.Signer.from_info(
                c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, self._chain_pem, self._key_pem, self.tsa_url))
            with signer, c2pa.Builder(manifest, context=ctx) as builder:
                if prior:
                    builder.add_ingredient({"title": "prior", "relationship": "parentOf", "label": "parent"},
                                           media.mime, io.BytesIO(media.data))
                builder.sign(signer, media.mime, io.BytesIO(media.data), out)
        except _UNREADABLE as exc:
            raise CorruptMediaError("cannot embed a C2PA manifest: {exc}", path=media.name,
                                    values={"exc": exc}) from exc
        except c2pa.C2paError as exc:
            if self.tsa_url and "http" in str(exc):
                raise ProvenanceError("time-stamp authority {tsa_url} failed: {exc}", path=media.name,
                                      hint="Check the TSA URL, or sign without one (offline).",
                                      values={"tsa_url": self.tsa_url, "exc": exc}) from exc
            raise ProvenanceError("C2PA signing failed: {exc}", path=media.name, values={"exc": exc}) from exc
        finally:
            ctx.close()
        return media.replace(out.getvalue(), same_pixels=True)


def _check_pair(chain_pem: bytes, key_pem: bytes, chain_path: Path, key_path: Path) -> None:
    """Fail early, naming the files, instead of with c2pa's generic signature error."""
    try:
        certs = x509.load_pem_x509_certificates(chain_pem)
    except ValueError as exc:
        raise ProvenanceError("not a PEM certificate chain: {exc}", path=chain_path, values={"exc": exc}) from exc
    try:
        private = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ProvenanceError("not an unencrypted PEM private key: {exc}", path=key_path, values={"exc": exc}) from exc
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise ProvenanceError("ES256 signing needs an EC P-256 key", path=key_path)
    if certs[0].public_key() != private.public_key():
        raise ProvenanceError(
            "the signing key does not match the first certificate in {name}", path=key_path,
            hint="Point the settings at the key issued with this certificate, or re-run `synthguard keys init`.",
            values={"name": chain_path.name})


def sign(
    media: Media, *, cert_chain: Path, key: Path, content_id: str, producer: str, ledger_ref: str | None = None,
    model: str | None = None, created: datetime | None = None, claim: Mapping[str, Any] | None = None,
    tsa_url: str | None = None,
) -> Media:
    """One-shot :meth:`C2PASigner.sign`; build a C2PASigner to sign many files with one key."""
    return C2PASigner(cert_chain, key, tsa_url=tsa_url).sign(
        media, content_id=content_id, producer=producer, ledger_ref=ledger_ref, model=model, created=created,
        claim=claim)


@dataclass(frozen=True)
class C2PAReport:
    """What a file's C2PA manifest says and whether it holds.

    ``state``: "absent" (no manifest), "invalid" (any integrity failure), "valid"
    (signature and hash bindings hold, signer not anchored in the given roots),
    "trusted" (valid and chained to a given trust anchor).  ``problems`` says why a
    manifest is not trusted or not valid, as "code: explanation".
    """

    present: bool
    state: str
    assertions: tuple[str, ...] = ()
    record: dict[str, Any] | None = None
    content_id: str | None = None
    digital_source_type: str | None = None
    signer: str | None = None
    issuer: str | None = None
    problems: tuple[str, ...] = ()
    manifests: int = 0
    serial: str | None = None  # the signer certificate's serial number (decimal): which pinned chain signed it

    @property
    def valid(self) -> bool:
        return self.state in ("valid", "trusted")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read(media: Media, *, trust_anchors: Path | None = None) -> C2PAReport:
    """Read and validate the manifest; never raises for an absent or broken manifest."""
    trust_pem = None
    if trust_anchors is not None:
        try:
            trust_pem = Path(trust_anchors).read_text() or None  # an empty bundle: no anchors
        except OSError as exc:
            raise ConfigError("cannot read C2PA trust anchors: {strerror}", path=trust_anchors,
                              values={"strerror": exc.strerror}) from exc
    ctx = _context(trust_pem=trust_pem)
    try:
        reader = c2pa.Reader.try_create(media.mime, io.BytesIO(media.data), context=ctx)
        if reader is None:
            return C2PAReport(present=False, state="absent")
        with reader:
            store = json.loads(reader.json())
            return _report(store, reader.get_validation_state(), reader.get_validation_results() or {})
    except _UNREADABLE as exc:
        raise CorruptMediaError("cannot read the file to look for C2PA data: {exc}", path=media.name,
                                values={"exc": exc}) from exc
    except c2pa.C2paError as exc:  # the container is fine but the manifest store itself is damaged
        return C2PAReport(present=True, state="invalid", problems=(f"manifest.unreadable: {exc}",))
    finally:
        ctx.close()


def _report(store: dict[str, Any], state: str | None, results: dict[str, Any]) -> C2PAReport:
    active = store.get("manifests", {}).get(store.get("active_manifest", ""), {})
    assertions = active.get("assertions", [])
    record = next((a.get("data") for a in assertions if a.get("label") == RECORD_LABEL), None)
    source = next((act.get("digitalSourceType") for a in assertions if a.get("label", "").startswith("c2pa.actions")
                   for act in a.get("data", {}).get("actions", []) if act.get("digitalSourceType")), None)
    failures = results.get("activeManifest", {}).get("failure", [])
    problems = [f"{f['code']}: {f.get('explanation', '')}" for f in failures]
    for delta in results.get("ingredientDeltas", []):
        problems += [f"ingredient {f['code']}: {f.get('explanation', '')}"
                     for f in delta.get("validationDeltas", {}).get("failure", [])]
    ours = {"Trusted": "trusted", "Valid": "valid"}.get(state or "", "invalid")
    if ours == "invalid" and not problems:
        problems.append(f"validation.state: c2pa reported {state!r}")
    info = active.get("signature_info", {})
    return C2PAReport(
        present=True, state=ours, assertions=tuple(a.get("label", "") for a in assertions), record=record,
        content_id=(record or {}).get("content_id"), digital_source_type=source,
        signer=info.get("common_name"), issuer=info.get("issuer"), problems=tuple(problems),
        manifests=len(store.get("manifests", {})),
        serial=str(info["cert_serial_number"]) if info.get("cert_serial_number") is not None else None,
    )


def _has_manifest(media: Media, ctx: c2pa.Context) -> bool:
    """True when a readable manifest store is embedded (an unreadable one is simply replaced)."""
    try:
        reader = c2pa.Reader.try_create(media.mime, io.BytesIO(media.data), context=ctx)
    except _UNREADABLE as exc:
        raise CorruptMediaError("cannot read the file: {exc}", path=media.name, values={"exc": exc}) from exc
    except c2pa.C2paError:
        return False
    if reader is None:
        return False
    reader.close()
    return True


@dataclass
class C2PAMarker:
    """The C2PA manifest as a Marker (applied last: it binds the final bytes)."""

    cert_chain: Path
    key: Path
    trust_anchors: Path | None = None
    tsa_url: str | None = None
    name: str = field(default="image.c2pa", init=False)
    modalities: frozenset[Modality] = field(default=frozenset({Modality.IMAGE}), init=False)

    @cached_property
    def signer(self) -> C2PASigner:
        """Loaded on first mark(), so a read-only deployment needs no key files."""
        return C2PASigner(self.cert_chain, self.key, tsa_url=self.tsa_url)

    def mark(self, media: Media, ctx: LabelContext) -> Media:
        media.require_image()
        return self.signer.sign(media, content_id=ctx.content_id, producer=ctx.producer, ledger_ref=ctx.ledger_ref,
                                model=ctx.model, created=ctx.created, claim={"label": ctx.label})

    def read(self, media: Media) -> Reading:
        r = read(media, trust_anchors=self.trust_anchors)
        data = {"present": r.present, "state": r.state, "assertions": list(r.assertions),
                "content_id": r.content_id, "signer": r.signer, "problems": list(r.problems),
                "issuer": r.issuer, "serial": r.serial, "producer": (r.record or {}).get("producer"),
                "ledger_ref": (r.record or {}).get("ledger_ref")}
        return Reading(marker=self.name, found=r.present, data=data, valid=r.valid if r.present else None,
                       problems=r.problems)


__all__ = ["RECORD_LABEL", "TRAINED_ALGORITHMIC_MEDIA", "C2PAMarker", "C2PAReport", "C2PASigner", "read", "sign"]
