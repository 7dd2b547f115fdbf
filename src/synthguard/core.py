"""SynthGuard: the one object the library, the CLI and the HTTP service share.

It owns the settings, the database, the key ring, the marker registry and the ledger, and carries out
the journeys of DESIGN.md: ``label`` (provider), ``inspect`` (anyone), ``trace`` (victim, platform).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from synthguard import law
from synthguard.compliance import Compliance
from synthguard.compliance.common import check_tenant
from synthguard.config import Settings
from synthguard.consent.gate import enforce as enforce_consent
from synthguard.consent.registry import Registry as LikenessRegistry
from synthguard.errors import (
    KeyMissingError,
    NotFoundError,
    ValidationError,
    WatermarkError,
)
from synthguard.fingerprint import signals
from synthguard.fingerprint.banks import Banks
from synthguard.identity import IdentityVerifier, check_user_id, scoped_key
from synthguard.identity.accounts import ADD_USER_HINT as ADD_USER_HINT  # re-exported: its old home
from synthguard.identity.accounts import Identity
from synthguard.ids import new_content_id
from synthguard.inspection import LABEL_ORDERS, inspect_media, limited_media, settle_foreign
from synthguard.jobs import Jobs
from synthguard.keys import Keys
from synthguard.law import Incident
from synthguard.ledger.checkpoint import vkey
from synthguard.ledger.erasure import SubjectVault, purge_expired
from synthguard.ledger.log import Ledger  # the module, not the lazy package attribute: typed
from synthguard.marking.aigc import parse_provider_code
from synthguard.marking.base import LabelContext, Marker
from synthguard.media import Media, Modality, check_output_name, write_atomic
from synthguard.moderation import Moderation
from synthguard.plugins import PluginContext, Plugins, hashers_for
from synthguard.scan import ScanResult, log_scan
from synthguard.scan import scan as scan_media
from synthguard.scan_cache import ScanCache
from synthguard.store import ledger_repo
from synthguard.store.db import Database
from synthguard.store.schema import Fingerprint, Record, User
from synthguard.store.unit_of_work import Session, Users
from synthguard.trace import RECORD_HINT as RECORD_HINT  # re-exported: its old home (API compatibility)
from synthguard.trace import checkpoint_dict, find_record, proof_for, record_dict
from synthguard.trace import trace as trace_media

LABEL_ORDER = LABEL_ORDERS[Modality.IMAGE]
EXPLICIT = ("visible", "notice")  # marker techniques that --no-visible turns off
Source = str | os.PathLike[str] | bytes | Media


_TECHNIQUE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


def _technique(technique: str | None, purpose: str | None) -> str | None:
    """The DS-26 technique recorded on the generation record: the explicit one, else the consent purpose
    (``face_swap``, ``voice_clone`` ...), so switches (DS-05) and the consent check (DS-15) see every gated edit."""
    value = technique or purpose or None
    if value is not None and not _TECHNIQUE.match(value):
        raise ValidationError("technique {technique!r} is not a valid technique name", values={"technique": value},
                              hint="Use a lower-case name such as face_swap, voice_clone or text_to_image (DS-26).")
    return value


@dataclass(frozen=True)
class LabelResult:
    content_id: str
    output: str | None
    marks: list[str]
    sha256: str
    producer: str
    user: str
    ledger_index: int
    watermark_payload: str | None
    visible_label: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    consent: list[str] = field(default_factory=list)  # grant ids the consent gate allowed on (DS-15)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class SynthGuard:
    def __init__(self, settings: Settings, *, plugins: Plugins | None = None):
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True, mode=0o700)
        if settings.home.stat().st_mode & 0o077 and settings.home.stat().st_uid == os.getuid():
            settings.home.chmod(0o700)  # the database, keys and moderation media live here (issue 18 finding 15)
        self.db = Database(settings.db_url)
        self.keys = Keys(settings)
        self.plugins = plugins or Plugins()  # every plugin group's registry (synthguard.plugins, issue 23)
        self.registry = self.plugins.markers
        self.ledger = Ledger(origin=settings.ledger_origin, extensions=settings.checkpoint_extensions)
        self._markers: dict[str, Marker] = {}

    @classmethod
    def open(cls, settings: Settings | None = None, **overrides: Any) -> SynthGuard:
        return cls(settings or Settings.load(**overrides))

    def close(self) -> None:
        if (cache := self.__dict__.get("scan_cache")) is not None:
            cache.close()  # its child processes, when scan_processes started any
        self.db.dispose()

    def __enter__(self) -> SynthGuard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- helpers ---------------------------------------------------------------------------
    def media(self, source: Source) -> Media:
        """``source`` as Media under the operator's limits (bytes, pixels, and for audio/video the duration, which
        bounds decoding memory and time for every journey: label, scan, trace).  A Media built elsewhere (an HTTP
        upload, a queued job's blob) gets the duration limit here if it has none."""
        return limited_media(self.settings, source)

    def marker(self, name: str) -> Marker:
        if name not in self._markers:
            self._markers[name] = self.registry.create(name, self)
        return self._markers[name]

    def watermark_payload(self, content_id: str) -> bytes:
        """64-bit pointer: a keyed truncated hash of the content id, so payloads cannot be enumerated."""
        return hmac.new(self.keys.integrity, b"wm:" + content_id.encode(), hashlib.sha256).digest()[:8]

    def user_ref(self, user_id: str, tenant: str | None = None) -> str:
        """Pseudonymous user reference for the ledger (never the account id itself).  With ``tenant``: the reference
        of that tenant's account ``user_id`` (:meth:`account_ref`; two tenants' ``alice`` are two people with two
        pseudonyms, issue 18 finding 13); without, of the key given (``User.id``)."""
        if tenant is not None:
            return self.identity.account_ref(tenant, user_id)
        return self.identity.user_ref(user_id)

    def account_ref(self, tenant: str, user_id: str, *, session: Session | None = None) -> str:
        """The ledger pseudonym of account ``user_id`` of ``tenant`` (:meth:`Identity.account_ref`)."""
        return self.identity.account_ref(tenant, user_id, session=session)

    def account(self, s: Session, user_id: str, tenant: str | None = None) -> User:
        """The account ``user_id`` of ``tenant``, else NotFoundError (:meth:`Identity.account`)."""
        return self.identity.account(Users(s), user_id, tenant)

    # --- users and identity (DS-07) --------------------------------------------------------
    @cached_property
    def identity(self) -> Identity:
        """Accounts and their real-identity verification (DS-07), built from narrow dependencies (issue 23)."""
        return Identity(self.db.unit_of_work, self.ledger, salt=lambda: self.keys.identity_salt,
                        verifier=self.identity_verifier, required=lambda: self.settings.identity_required,
                        admit=self._admit_registration)

    def _admit_registration(self, tenant: str) -> None:
        check_tenant(tenant)
        self.compliance.switches.require(["register"], tenant=tenant)  # DS-24: registration can be suspended

    def add_user(self, user_id: str, *, tenant: str = "default") -> dict[str, Any]:
        """Register ``user_id`` in ``tenant``.  Ids are per tenant (issue 18 finding 13): another tenant's account
        of the same id neither blocks this one nor shows (the 409 is only for the same tenant)."""
        return self.identity.add(user_id, tenant=tenant)

    def verify_user(self, user_id: str, method: str, *, identifier: str | None = None,
                    reference: str | None = None, verifier: IdentityVerifier | None = None,
                    tenant: str | None = None) -> dict[str, Any]:
        return self.identity.verify(user_id, method, identifier=identifier, reference=reference, verifier=verifier,
                                    tenant=tenant)

    def identity_verifier(self) -> IdentityVerifier:
        """The verifier named by the ``identity_verifier`` setting (default ``operator``), from the plugin registry;
        ConfigError naming the registered ones when no verifier has that name."""
        name = self.plugins.identity_verifiers.require([self.settings.identity_verifier],
                                                       what="the identity_verifier setting")[0]
        return self.plugins.identity_verifiers.create(name, self)

    @cached_property
    def vault(self) -> SubjectVault:
        return SubjectVault(self.keys.vault_master, ledger=self.ledger)

    def erase_user(self, user_id: str, *, reason: str = "request", tenant: str | None = None) -> dict[str, Any]:
        """PIPL Art. 47: destroy the user's data key; the ledger keeps verifying (crypto-shredding).

        The key erased is the account's (``tenant``'s ``user_id``), never another tenant's account of the same id
        (finding 13).  An id that is no account is erased under the key it would have (default tenant: the id), so
        data stored before the account existed, or under a removed account, can still be shredded."""
        check_user_id(user_id)  # never another kind of vault subject (issue 18 finding 17)
        with self.db.session() as s:
            try:
                u = self.account(s, user_id, tenant)
                key, tenant = u.id, u.tenant
            except NotFoundError:
                tenant = tenant or "default"
                key = scoped_key(tenant, user_id)
            entry = self.vault.erase(s, key, reason=reason)
        return {"user": user_id, "tenant": tenant, "erased": True, "ledger_index": entry.index}

    def personal_data(self, content_id: str) -> list[str]:
        """Decrypt the personal data linked to a record's ledger entry (for authorised investigators)."""
        with self.db.session() as s:
            rec = find_record(s, content_id)
            ids = ledger_repo.payload_ids(s, rec.ledger_index)
            return [self.vault.load(s, i).decode() for i in ids]

    def purge(self, *, dry_run: bool = False) -> dict[str, Any]:
        """Delete personal data past the retention period; ledger entries are never deleted (CSL-01)."""
        with self.db.session() as s:
            rep = purge_expired(s, self.settings.log_retention_days, ledger=self.ledger, dry_run=dry_run)
        return {"cutoff": rep.cutoff.isoformat(), "purged": rep.purged, "dry_run": rep.dry_run}

    def user(self, user_id: str, *, tenant: str | None = None) -> dict[str, Any]:
        """The account ``user_id`` of ``tenant`` (None: of whichever tenant has it, if only one does)."""
        return self.identity.get(user_id, tenant=tenant)

    def users(self, *, tenant: str | None = None) -> list[dict[str, Any]]:
        return self.identity.all(tenant=tenant)

    # --- the provider's journey: label ---------------------------------------------------
    def label(self, source: Source, *, user: str, producer: str | None = None, output: str | Path | None = None,
              visible: bool = True, watermark: bool | None = None, c2pa: bool | None = None,
              model: str | None = None, input_sha256: str | None = None, technique: str | None = None,
              client_ip: str | None = None, sources: Sequence[Source] | None = None,
              purpose: str | None = None, tenant: str | None = None) -> LabelResult:
        """Label one generated file with every mark the law asks for, and record it (DS-07, DS-16..19, LM-*).

        Images, audio, video and text share this journey; the markers come from ``LABEL_ORDERS``.  ``user`` is an
        account of ``tenant`` (None: the one tenant that has that id; finding 13)."""
        producer = self._producer(producer)
        media = self.media(source)
        media.decode()  # decode fully now: corrupt input fails before anything is written
        with self.db.unit_of_work() as uow:
            account = self.identity.require_verified(uow.users, user, tenant)
            tenant, key = account.tenant, account.id
        technique = _technique(technique, purpose)
        # DS-05 emergency switch: the technique's switch and, when the consent purpose differs, the purpose's too
        self.compliance.switches.guard(media.modality.value, technique, tenant=tenant)
        if purpose and purpose != technique:
            self.compliance.switches.require([purpose], tenant=tenant)
        if self.settings.require_terms_acceptance:  # DS-06: the current agreement accepted before generating
            self.compliance.terms.require_accepted(user, tenant=tenant)
        gate = None
        if sources:  # DS-15: every face/voice in the sources needs that person's separate consent
            gate = enforce_consent(self, [self.media(x) for x in sources], purpose=purpose or "", user=user,
                                   tenant=tenant, output_sha256=media.sha256)
        content_id = new_content_id()
        ctx = LabelContext(
            content_id=content_id, producer=producer, created=datetime.now(UTC), user=None, model=model,
            watermark_payload=self.watermark_payload(content_id),
            ledger_ref=f"{self.ledger_origin()}#{content_id}",
        )
        switches = {"watermark": self.settings.watermark if watermark is None else watermark,
                    "metadata": True, "c2pa": self.settings.c2pa if c2pa is None else c2pa}
        marks, warnings, layout = [], [], None
        out = media
        for name in LABEL_ORDERS[media.modality]:
            kind = name.split(".", 1)[1]
            if not (visible if kind in EXPLICIT else switches.get(kind, True)):
                continue
            marker = self.marker(name)
            if kind in EXPLICIT:
                layout = _explicit_spec(marker, out)
            try:
                out = marker.mark(out, ctx)
            except WatermarkError as exc:  # e.g. too small or too short to carry a mark: labelled, with a warning
                warnings.append(f"watermark skipped: {exc.message}")
                continue
            marks.append(name)
        result = self._record(media, out, ctx, user, key, tenant, marks, warnings, layout, output, input_sha256,
                              technique, client_ip)
        return replace(result, consent=gate.grants) if gate is not None else result

    def _record(self, media: Media, out: Media, ctx: LabelContext, user: str, key: str, tenant: str, marks: list[str],
                warnings: list[str], layout: dict[str, Any] | None, output: str | Path | None, input_sha256: str | None,
                technique: str | None, client_ip: str | None) -> LabelResult:
        if output is not None:  # after the markers, so an unsupported input is reported as such first
            check_output_name(output, out.format)
        wm_mark = f"{out.modality.value}.watermark"
        wm = ctx.watermark_payload.hex() if wm_mark in marks and ctx.watermark_payload else None
        fingerprints = {"sha256": out.sha256, "pixel_sha256": out.content_sha256} | content_fingerprints(
            out, self, self.plugins)
        with self.db.unit_of_work() as uow:  # the record, its ledger entry and the IP: all or nothing
            entry = self.ledger.append(uow.session, "generation", {
                "content_id": ctx.content_id, "producer": ctx.producer, "user": self.user_ref(key),
                "model": ctx.model, "modality": out.modality.value, "input_sha256": input_sha256 or media.sha256,
                "output_sha256": out.sha256, "pixel_sha256": out.content_sha256, "watermark_payload": wm,
                "marks": marks,
            }, time=ctx.created)
            uow.records.add(Record(
                content_id=ctx.content_id, tenant=tenant, producer=ctx.producer, user_id=key, created_at=ctx.created,
                modality=out.modality.value, technique=technique, model=ctx.model,
                input_sha256=input_sha256 or media.sha256, output_sha256=out.sha256,
                pixel_sha256=out.content_sha256, watermark_payload=wm, marks=marks,
                details={"visible_label": layout} if layout else {}, ledger_index=entry.index,
                fingerprints=[Fingerprint.of(k, v) for k, v in fingerprints.items()],
            ))
            if client_ip:  # DS-18 asks for the IP; it is personal data, so it goes to the subject's vault
                self.vault.store(uow.session, key, f"ip={client_ip}", entry_index=entry.index)
            if output is not None:  # inside the transaction: a failed write rolls the record back
                write_atomic(output, out.data)
        return LabelResult(ctx.content_id, str(output) if output is not None else None, marks, out.sha256,
                           ctx.producer, user, entry.index, wm, layout, warnings)

    def _producer(self, producer: str | None) -> str:
        code = producer or self.settings.producer
        if not code:
            raise ValidationError("no producer code given",
                                  hint="Pass --producer CODE or set SYNTHGUARD_PRODUCER (GB-14 provider code).")
        if not all(0x21 <= ord(c) <= 0x7E and c not in '"\\' for c in code):
            raise ValidationError("producer code {code!r} has characters GB 45438 Annex E does not allow (GB-10)",
                                  hint="Use the provider code: printable ASCII letters and digits, no spaces.",
                                  values={"code": code})
        if self.settings.strict_producer_code:
            parse_provider_code(code, strict=True)
        return code

    # --- anyone: inspect -------------------------------------------------------------------
    def inspect(self, source: Source) -> dict[str, Any]:
        """Read every label on a file: AIGC metadata, IPTC source type, C2PA, watermark, explicit label.

        One JSON shape for every modality; a mark a modality cannot carry is ``None``."""
        return settle_foreign(inspect_media(self.media(source), self.marker), self.settings, self.is_own_claim)

    def is_own_claim(self, content_id: str | None, producer: str | None) -> bool:
        """A label or manifest naming one of this deployment's records (else another provider's claim, issue 19)."""
        if not content_id:
            return False
        with self.db.unit_of_work() as uow:
            return uow.records.get(str(content_id)[:64]) is not None

    @cached_property
    def compliance(self) -> Compliance:
        """Provider compliance: audit, registers, emergency switches, screening (DS-05..09, DS-14, DS-17)."""
        return Compliance(self)

    @cached_property
    def consent(self) -> LikenessRegistry:
        """The likeness registry: subjects, biometric templates, grants (DS-15, PI-06/07; see consent/)."""
        return LikenessRegistry(self)

    # --- platforms: scan ---------------------------------------------------------------------
    @cached_property
    def banks(self) -> Banks:
        """Named hash banks (DS-09 feature library, victim hash lists); index loaded lazily."""
        return Banks(self.db, self.ledger, hashers=self.plugins.hashers.create_all(self),
                     index=lambda: self.plugins.indexes.create("mih", self),
                     vpdq=signals.VpdqRule.from_settings(self.settings))

    @cached_property
    def jobs(self) -> Jobs:
        """The job queue (async scans, workers); SQLite runs jobs in-process (see jobs/)."""
        return Jobs(self)

    @cached_property
    def moderation(self) -> Moderation:
        """Cases, notice-and-takedown, refutation, review queue and reports (see moderation/)."""
        return Moderation(self)

    @cached_property
    def scan_cache(self) -> ScanCache | None:
        """The verdict cache (scan_cache.py): identical bytes are analysed once; None when ``scan_cache`` is off."""
        return ScanCache(self) if self.settings.scan_cache else None

    def scan(self, source: Source, *, declared_ai: bool = False, propagator: str | None = None,
             propagate_id: str | None = None, log: bool = True, tenant: str | None = None) -> ScanResult:
        """Platform scan of one upload (LM Art. 6): verdict, evidence, bank matches, actions (see scan.py).

        The scan is logged to the ledger (hashes and the verdict only) so the platform can later show
        what it knew and decided about an upload (DS-10, LM-16)."""
        result = scan_media(self, source, declared_ai=declared_ai, propagator=propagator, propagate_id=propagate_id,
                      tenant=tenant, cache=self.scan_cache)
        if log:
            log_scan(self, result)
        return result

    # --- victims and platforms: trace ------------------------------------------------------
    def trace(self, source: Source) -> dict[str, Any]:
        """Which record made this file, with an inclusion proof against a signed checkpoint (see trace.py)."""
        return trace_media(self, self.media(source)).to_dict()

    def record(self, content_id: str) -> dict[str, Any]:
        """The record, its inclusion proof and the checkpoint: the provider lookup API (LM-24).  ``content_id``
        may also be a watermark token (16 hex digits, ``watermark_payload``): how a platform that read the token
        of a shared- or public-mode mark resolves it (issue 19); a forged token names no record (404)."""
        with self.db.session() as s:
            rec = find_record(s, content_id)
            proof, checkpoint, problems = proof_for(self, s, rec)
            return {"record": record_dict(rec), "proof": proof, "checkpoint": checkpoint, "problems": problems,
                    # the output's perceptual hash (not in the proven entry): lets a platform that resolved a
                    # watermark token see whether its file is this record's output or a copied mark (issue 19)
                    "fingerprints": {f.kind: f.value for f in rec.fingerprints if f.kind == "pdq"}}

    def ledger_origin(self) -> str:
        """This log's checkpoint origin: configured, else derived from the ledger key (unique per log)."""
        if self.ledger.origin:
            return self.ledger.origin
        try:
            return self.ledger.origin_for(self.keys.ledger_public)
        except KeyMissingError:  # no key yet, so nothing signed yet: the generic name stands in
            return "synthguard.ledger"

    def ledger_vkey(self) -> str:
        """The signed-note verifier key others pin to check this log's checkpoints (C2SP signed-note)."""
        return vkey(self.ledger.origin_for(self.keys.ledger_public), self.keys.ledger_public)

    def checkpoint(self) -> dict[str, Any]:
        """Sign the ledger's current tree head (Ed25519)."""
        with self.db.session() as s:
            cp = self.ledger.checkpoint(s, self.keys.ledger_private)
        return checkpoint_dict(self, cp)

    def latest_checkpoint(self) -> dict[str, Any] | None:
        with self.db.session() as s:
            cp, note = self.ledger.latest_checkpoint(s), self.ledger.latest_note(s)
        return checkpoint_dict(self, cp, note) if cp else None

    def verify_ledger(self) -> dict[str, Any]:
        """Recompute the whole tree and check every checkpoint; problems are named by index."""
        with self.db.session() as s:
            report = self.ledger.verify(s, self.keys.ledger_public)
        return report.to_dict()

    # --- courts and victims: assess ------------------------------------------------------
    def assess(self, incident: Incident | dict[str, Any], *, lang: str = "en") -> dict[str, Any]:
        """Cited, explainable legal assessment of an incident (law/, LAW.md)."""
        return law.assess(incident, lang=lang)

    @cached_property
    def version(self) -> str:
        return package_version("synthguard")


def _explicit_spec(marker: Any, media: Media) -> dict[str, Any] | None:
    """What the explicit label looks like, for the record (DS-19: text, position, size, timing)."""
    spec: dict[str, Any] | None = None
    if media.modality is Modality.IMAGE:
        spec = marker.layout(media.size).to_dict()
    elif media.modality is Modality.VIDEO and hasattr(marker, "layout"):
        info = media.video()
        spec = marker.layout((info.width, info.height))
    elif hasattr(marker, "spec"):
        spec = marker.spec()
    return spec


def content_fingerprints(media: Media, ctx: PluginContext | None = None, plugins: Plugins | None = None
                         ) -> dict[str, str]:
    """The perceptual fingerprint a record keeps for trace and banks: that of the modality's primary hasher
    (``hashers_for``: PDQ for images, vPDQ for video, landmark hashes for audio); text has only its exact and
    normalised hashes. Records made before issue 23 keep a video's under the kind's old name ``video``."""
    for hasher in hashers_for(media.modality, ctx, plugins, exact=False):
        return {hasher.kind: hasher.hash(media).value}
    return {}
