"""SynthGuard: the one object the library, the CLI and the HTTP service share: the composition root (issue 23).

It owns the settings, the database, the key ring, the plugin registry, the ledger and the clock, builds the typed
services from them (``labeler``, ``inspector``, ``scanner``, ``tracer``, ``ledger_service``, ``identity``,
``consent``, ``consent_gate``, ``jobs``, ``compliance``, ``moderation``, ``banks``, ``scan_cache``, ``vault``) and
keeps the journeys of DESIGN.md as methods that delegate: ``label`` (provider), ``inspect`` (anyone), ``scan``
(platform), ``trace`` (victim, platform).  No domain module imports it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from collections.abc import Sequence
from functools import cached_property
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from synthguard import law
from synthguard.compliance import Compliance, ComplianceDeps
from synthguard.compliance.common import check_tenant
from synthguard.config import Settings
from synthguard.consent.gate import ConsentGate
from synthguard.consent.protected import ProtectedCheck
from synthguard.consent.registry import Registry as LikenessRegistry
from synthguard.errors import NotFoundError
from synthguard.fingerprint import signals
from synthguard.fingerprint.banks import Banks
from synthguard.identity import IdentityVerifier, check_user_id, scoped_key
from synthguard.identity.accounts import ADD_USER_HINT as ADD_USER_HINT  # re-exported: its old home
from synthguard.identity.accounts import Identity
from synthguard.inspection import Inspector, limited_media
from synthguard.jobs import Jobs
from synthguard.keys import Keys
from synthguard.labeling import EXPLICIT as EXPLICIT  # re-exported: their old home (API compatibility)
from synthguard.labeling import LABEL_ORDER as LABEL_ORDER
from synthguard.labeling import Clock, Labeler, LabelResult, Source, content_fingerprints
from synthguard.law import Incident
from synthguard.ledger.erasure import SubjectVault, purge_expired
from synthguard.ledger.log import Ledger  # the module, not the lazy package attribute: typed
from synthguard.ledger.service import LedgerService
from synthguard.marking.base import Marker
from synthguard.media import Media
from synthguard.moderation import Moderation
from synthguard.moderation.deps import ModerationDeps
from synthguard.plugins import Plugins, hashers_for
from synthguard.scan import Scanner, ScanResult, detectors_for
from synthguard.scan_cache import ScanCache
from synthguard.store import bank_repo, consent_repo, ledger_repo, scan_tables
from synthguard.store.db import Database
from synthguard.store.schema import User
from synthguard.store.unit_of_work import Session, Users
from synthguard.times import utcnow
from synthguard.trace import RECORD_HINT as RECORD_HINT  # re-exported: its old home (API compatibility)
from synthguard.trace import Tracer, find_record


class SynthGuard:
    def __init__(self, settings: Settings, *, plugins: Plugins | None = None, clock: Clock = utcnow):
        self.settings = settings
        self.clock = clock  # every label's creation time and the job queue's (a test can fix it; issue 23)
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
    @cached_property
    def labeler(self) -> Labeler:
        """The label journey (DS-07, DS-16..19), built from narrow dependencies (issue 23)."""
        return Labeler(settings=lambda: self.settings, media=self.media, marker=self.marker,
                       fingerprints=lambda m: content_fingerprints(m, self, self.plugins), units=self.db.unit_of_work,
                       ledger=self.ledger, vault=lambda: self.vault, identity=self.identity,
                       compliance=lambda: self.compliance, consent=self.consent_gate.enforce,
                       payload=self.watermark_payload, ledger_ref=lambda cid: f"{self.ledger_origin()}#{cid}",
                       clock=self.clock)

    def label(self, source: Source, *, user: str, producer: str | None = None, output: str | Path | None = None,
              visible: bool = True, watermark: bool | None = None, c2pa: bool | None = None,
              model: str | None = None, input_sha256: str | None = None, technique: str | None = None,
              client_ip: str | None = None, sources: Sequence[Source] | None = None,
              purpose: str | None = None, tenant: str | None = None) -> LabelResult:
        """Label one generated file with every mark the law asks for, and record it (DS-07, DS-16..19, LM-*;
        :class:`synthguard.labeling.Labeler`).  ``user`` is an account of ``tenant`` (None: the one tenant that
        has that id; finding 13)."""
        return self.labeler.label(source, user=user, producer=producer, output=output, visible=visible,
                                  watermark=watermark, c2pa=c2pa, model=model, input_sha256=input_sha256,
                                  technique=technique, client_ip=client_ip, sources=sources, purpose=purpose,
                                  tenant=tenant)

    # --- anyone: inspect -------------------------------------------------------------------
    @cached_property
    def inspector(self) -> Inspector:
        """Reading every label on a file (inspection.py): settings, keys, this core's markers and records."""
        return Inspector(lambda: self.settings, self.keys, self.plugins, marker=self.marker, ours=self.is_own_claim)

    def inspect(self, source: Source) -> dict[str, Any]:
        """Read every label on a file: AIGC metadata, IPTC source type, C2PA, watermark, explicit label.

        One JSON shape for every modality; a mark a modality cannot carry is ``None``."""
        return self.inspector.inspect(source)

    def is_own_claim(self, content_id: str | None, producer: str | None) -> bool:
        """A label or manifest naming one of this deployment's records (else another provider's claim, issue 19)."""
        if not content_id:
            return False
        with self.db.unit_of_work() as uow:
            return uow.records.get(str(content_id)[:64]) is not None

    @cached_property
    def compliance(self) -> Compliance:
        """Provider compliance: audit, registers, emergency switches, screening (DS-05..09, DS-14, DS-17), built
        from narrow dependencies (issue 23)."""
        return Compliance(ComplianceDeps(
            units=self.db.unit_of_work, ledger=self.ledger, settings=lambda: self.settings,
            version=lambda: self.version, user_ref=self.user_ref,
            account=lambda users, user_id, tenant: self.identity.account(users, user_id, tenant),
            media=self.media, inspect=self.inspect, banks=lambda: self.banks,
            consent_check=self.consent_gate.check))

    @cached_property
    def consent(self) -> LikenessRegistry:
        """The likeness registry: subjects, biometric templates, grants (DS-15, PI-06/07; see consent/)."""
        return LikenessRegistry(self.db.unit_of_work, self.ledger,
                                has_templates=functools.partial(consent_repo.has_templates_now, self.db),
                                settings=lambda: self.settings, vault=lambda: self.vault,
                                account_ref=self.account_ref, integrity_key=lambda: self.keys.integrity,
                                clock=self.clock)

    @cached_property
    def consent_gate(self) -> ConsentGate:
        """The provider's consent gate (DS-15, PI-07; consent/gate.py), built from narrow dependencies (issue 23)."""
        return ConsentGate(registry=lambda: self.consent, settings=lambda: self.settings, units=self.db.unit_of_work,
                           ledger=self.ledger, account_ref=self.account_ref)

    # --- platforms: scan ---------------------------------------------------------------------
    @cached_property
    def banks(self) -> Banks:
        """Named hash banks (DS-09 feature library, victim hash lists); index loaded lazily."""
        return Banks(self.db.unit_of_work, self.ledger,
                     latest_change=functools.partial(bank_repo.latest_change, self.db),  # light read (issue 28)
                     hashers=self.plugins.hashers.create_all(self),
                     index=lambda: self.plugins.indexes.create("mih", self),
                     vpdq=signals.VpdqRule.from_settings(self.settings))

    @cached_property
    def jobs(self) -> Jobs:
        """The job queue (async scans, workers; see jobs/), built from narrow dependencies (issue 23); SQLite runs
        jobs in-process."""
        return Jobs(settings=lambda: self.settings, units=self.db.unit_of_work, database=self.db.engine.url,
                    ledger=self.ledger, scanner=lambda: self.scanner, scan_cache=lambda: self.scan_cache,
                    label=self.label, rescanned=lambda tenant, ref, scan: self.moderation.rescanned(tenant, ref, scan),
                    private_key=lambda: self.keys.ledger_private, public_key=lambda: self.keys.ledger_public,
                    verify_ledger=self.verify_ledger, clock=self.clock)

    @cached_property
    def moderation(self) -> Moderation:
        """Cases, notice-and-takedown, refutation, review queue and reports (see moderation/), built from narrow
        dependencies (issue 23)."""
        return Moderation(ModerationDeps(
            settings=lambda: self.settings, units=self.db.unit_of_work, ledger=self.ledger, vault=lambda: self.vault,
            media=self.media, scan=self.scan, banks=lambda: self.banks, user_ref=self.user_ref,
            deep_scan=lambda media, **kw: self.jobs.deep_scan(media, **kw)))

    @cached_property
    def scan_cache(self) -> ScanCache | None:
        """The verdict cache (scan_cache.py): identical bytes are analysed once; None when ``scan_cache`` is off."""
        if not self.settings.scan_cache:
            return None
        return ScanCache(settings=lambda: self.settings, units=self.db.unit_of_work,
                         cached=functools.partial(scan_tables.cached, self.db),
                         detectors=functools.partial(detectors_for, self),
                         analyse=lambda media, search: self.scanner.analyse(media, watermark_search=search),
                         version=lambda: self.version, opener=type(self).open)

    @cached_property
    def scanner(self) -> Scanner:
        """The platform's upload scan (scan.py), built from narrow dependencies (issue 23)."""
        return Scanner(settings=lambda: self.settings, media=self.media, marker=self.marker,
                       detectors=functools.partial(detectors_for, self),
                       hashers=lambda modality: hashers_for(modality, self, self.plugins, exact=False),
                       banks=lambda: self.banks, units=self.db.unit_of_work, ledger=self.ledger,
                       ours=self.is_own_claim,
                       likeness=ProtectedCheck(registry=lambda: self.consent, settings=lambda: self.settings,
                                               units=self.db.unit_of_work),
                       cache=lambda: self.scan_cache)

    def scan(self, source: Source, *, declared_ai: bool = False, propagator: str | None = None,
             propagate_id: str | None = None, log: bool = True, tenant: str | None = None) -> ScanResult:
        """Platform scan of one upload (LM Art. 6): verdict, evidence, bank matches, actions (see scan.py).

        The scan is logged to the ledger (hashes and the verdict only) so the platform can later show
        what it knew and decided about an upload (DS-10, LM-16)."""
        return self.scanner.scan(source, declared_ai=declared_ai, propagator=propagator, propagate_id=propagate_id,
                                 tenant=tenant, log=log)

    # --- victims and platforms: trace ------------------------------------------------------
    @cached_property
    def tracer(self) -> Tracer:
        """Trace a file to its record, and the record lookup API (trace.py), from narrow dependencies (issue 23)."""
        return Tracer(settings=lambda: self.settings, units=self.db.unit_of_work, ledger=self.ledger,
                      public_key=lambda: self.keys.ledger_public, media=self.media, inspect=self.inspect,
                      hashers=lambda modality: hashers_for(modality, self, self.plugins), ours=self.is_own_claim)

    def trace(self, source: Source) -> dict[str, Any]:
        """Which record made this file, with an inclusion proof against a signed checkpoint (see trace.py)."""
        return self.tracer.trace(source).to_dict()

    def record(self, content_id: str) -> dict[str, Any]:
        """The record, its inclusion proof and the checkpoint: the lookup API (LM-24; :meth:`Tracer.record`)."""
        return self.tracer.record(content_id)

    @cached_property
    def ledger_service(self) -> LedgerService:
        """Origin, verifier key, signed checkpoints and the audit of :attr:`ledger`, from narrow dependencies."""
        return LedgerService(self.ledger, self.db.unit_of_work, public_key=lambda: self.keys.ledger_public,
                             private_key=lambda: self.keys.ledger_private)

    def ledger_origin(self) -> str:
        """This log's checkpoint origin: configured, else derived from the ledger key (unique per log)."""
        return self.ledger_service.origin()

    def ledger_vkey(self) -> str:
        """The signed-note verifier key others pin to check this log's checkpoints (C2SP signed-note)."""
        return self.ledger_service.vkey()

    def checkpoint(self) -> dict[str, Any]:
        """Sign the ledger's current tree head (Ed25519)."""
        return self.ledger_service.checkpoint()

    def latest_checkpoint(self) -> dict[str, Any] | None:
        return self.ledger_service.latest_checkpoint()

    def verify_ledger(self) -> dict[str, Any]:
        """Recompute the whole tree and check every checkpoint; problems are named by index."""
        return self.ledger_service.verify()

    # --- courts and victims: assess ------------------------------------------------------
    def assess(self, incident: Incident | dict[str, Any], *, lang: str = "en") -> dict[str, Any]:
        """Cited, explainable legal assessment of an incident (law/, LAW.md)."""
        return law.assess(incident, lang=lang)

    @cached_property
    def version(self) -> str:
        return package_version("synthguard")
