"""The likeness registry: subjects, encrypted templates, grants and their revocation, export and erasure.

Privacy by design (PI-06, DESIGN.md): only embeddings are kept, never the reference media unless the subject opts
in (``keep_media``); both are encrypted under the subject's own key in the vault (``likeness:<subject>``), as are a
grant's scope and evidence.  Erasure destroys that key (crypto-shredding, PI-13) and deletes the templates; the
ledger, which only ever held hashes and pseudonymous references, keeps verifying.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from synthguard.consent import likeness
from synthguard.consent.evidence import TamperedEvidenceError, challenge_phrase, load_public_key, verify_statement
from synthguard.consent.policy import load_policy, purpose_modalities
from synthguard.consent.rights import erase as erase_subject
from synthguard.consent.rights import export as export_subject
from synthguard.consent.vault import vault_id
from synthguard.consent.voices import embed_media
from synthguard.errors import ConflictError, NotFoundError, SubjectErasedError, ValidationError
from synthguard.i18n import N_, _
from synthguard.identity import scoped_key, tenant_key
from synthguard.ledger.erasure import subject_ref
from synthguard.media import Media, Modality
from synthguard.store.base import utcnow
from synthguard.store.consent_tables import ConsentChallenge, ConsentGrant, ConsentSubject, ConsentTemplate
from synthguard.times import iso

if TYPE_CHECKING:
    from synthguard.config import Settings
    from synthguard.ledger.erasure import SubjectVault
    from synthguard.ledger.log import Ledger
    from synthguard.store.consent_repo import Session
    from synthguard.store.protocols import Unit, Units

_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")


# a subject's key fits the vault's 128 characters after "likeness:" (issue 18 finding 13)
KEY_LIMIT = 128 - len("likeness:")


def check_subject_id(subject_id: str) -> str:
    if not isinstance(subject_id, str) or not 0 < len(subject_id) <= 100 or not set(subject_id) <= _ID_CHARS:
        raise ValidationError("invalid subject id {subject_id!r}",
                              hint="Use 1-100 letters, digits, '.', '_', '-' or '@' (a pseudonym, not a name).",
                              values={"subject_id": subject_id})
    return subject_id


@dataclass(frozen=True)
class Template:
    subject_id: str  # the subject's key (unique in the deployment)
    protected: bool
    modality: str
    embedding: np.ndarray
    name: str = ""  # the subject's id in its tenant
    tenant: str = "default"


class Registry:
    """Subjects and grants of one SynthGuard database; every method opens its own transaction."""

    def __init__(self, units: Units, ledger: Ledger, *, has_templates: Callable[[str, bool], bool],
                 settings: Callable[[], Settings], vault: Callable[[], SubjectVault], account_ref: Callable[..., str],
                 integrity_key: Callable[[], bytes], clock: Callable[[], datetime] = utcnow):
        """Built from narrow dependencies (issue 23): a unit-of-work factory, the ledger, ``has_templates(modality,
        protected_only)`` (asked on every scan with an AI verdict: a light read, no session), the settings, the
        vault and the integrity key (getters: read when used), the pseudonym of an account
        (``Identity.account_ref``) and the clock every stored time and expiry is read from."""
        self.units, self.ledger, self.settings, self.vault = units, ledger, settings, vault
        self._has_templates = has_templates
        self.account_ref, self.integrity_key, self.clock = account_ref, integrity_key, clock
        # decrypted galleries per (modality, tenant), reused while the template rows are unchanged: decrypting every
        # template on every check costs one key unwrap per subject
        self._galleries: dict[tuple[str, str | None], tuple[tuple[Any, ...], list[Template]]] = {}

    # --- subjects ---------------------------------------------------------------------------------
    def enroll(self, subject_id: str, *, faces: Iterable[Media] = (), voices: Iterable[Media] = (),
               embeddings: Iterable[dict[str, Any]] = (), tenant: str = "default", protected: bool = False,
               keep_media: bool = False, signing_key: str | None = None) -> dict[str, Any]:
        """Enrol (or add templates to) a subject from reference media or locally computed embeddings."""
        check_subject_id(subject_id)
        if signing_key is not None:
            load_public_key(signing_key)
        cards = likeness.cards(self.settings())
        made: list[tuple[str, np.ndarray, bytes | None]] = []
        for modality, items in (("face", faces), ("voice", voices)):
            for media in items:
                emb, _ = likeness.enrolment_embedding(media, modality)
                made.append((modality, emb, media.data if keep_media else None))
        for item in embeddings:
            made.append((*_submitted_embedding(item, cards), None))
        if not made:
            raise ValidationError("nothing to enrol: give at least one face photo or voice sample",
                                  hint="synthguard consent enroll SUBJECT --face photo.jpg (or --voice sample.wav)")
        with self.units() as uow:
            # ids are per tenant (issue 18 finding 13): another tenant's subject of the same id is another person,
            # neither revealed nor blocking
            subj = uow.consent.subject_in_tenant(tenant, subject_id)
            if subj is not None and subj.erased_at is not None:
                raise SubjectErasedError("subject {subject_id!r} was erased; enrol under a new id",
                                         values={"subject_id": subject_id})
            if subj is None:
                key = scoped_key(tenant, subject_id, limit=KEY_LIMIT)
                if uow.consent.subject(key) is not None:  # an older subject of another tenant holds the bare id
                    key = tenant_key(tenant, subject_id, limit=KEY_LIMIT)
                subj = ConsentSubject(id=key, name=subject_id, tenant=tenant, protected=protected,
                                      keep_media=keep_media, signing_key=signing_key, created_at=self.clock())
                uow.consent.add(subj)
            else:
                subj.protected = subj.protected or protected
                subj.keep_media = subj.keep_media or keep_media
                if signing_key is not None and subj.signing_key not in (None, signing_key):
                    raise ConflictError("subject {subject!r} already has another signing key",
                                        values={"subject": subject_id},
                                        hint="The person's key is never replaced by enrolment (issue 18 finding 4).")
                if signing_key is not None:
                    subj.signing_key = signing_key
            vid = vault_id(subj.id)
            for modality, emb, kept in made:
                uow.consent.add(ConsentTemplate(
                    subject_id=subj.id, modality=modality, model=cards[modality].name,
                    model_sha256=likeness.model_sha256(modality),
                    token=self.vault().encrypt(uow.session, vid, likeness.encode(emb)),
                    media_token=self.vault().encrypt(uow.session, vid, kept) if kept is not None else None,
                    created_at=self.clock()))
            uow.session.flush()
            self.ledger.append(uow.session, "consent", {
                "event": "protect" if protected else "enrol", "subject_ref": subject_ref(subj.id),
                "modalities": sorted({m for m, _, _ in made}), "templates": len(made),
                "media_kept": any(m is not None for _, _, m in made)})
            return self._subject_dict(uow, subj)

    def subject(self, subject_id: str, *, tenant: str | None = None) -> dict[str, Any]:
        with self.units() as uow:
            return self._subject_dict(uow, self._get_subject(uow, subject_id, tenant))

    def subjects(self, *, tenant: str | None = None) -> list[dict[str, Any]]:
        with self.units() as uow:
            return [self._subject_dict(uow, x) for x in uow.consent.subjects(tenant)]

    def _get_subject(self, uow: Unit, subject_id: str, tenant: str | None) -> ConsentSubject:
        """The subject ``subject_id`` of ``tenant``; another tenant's subject of that id is as if absent (issue 18
        finding 13).  ``tenant`` None (the operator's CLI): the one subject of that id in any tenant."""
        rows = uow.consent.subjects_named(subject_id, tenant, limit=2)
        if not rows:
            raise NotFoundError("no subject {subject_id!r}",
                                hint="Enrol it first: `synthguard consent enroll SUBJECT --face photo.jpg`.",
                                values={"subject_id": subject_id})
        if len(rows) > 1:
            tenants = ", ".join(uow.consent.tenants_of(subject_id))
            raise ValidationError("subject id {subject!r} exists in several tenants ({tenants})",
                                  values={"subject": subject_id, "tenants": tenants},
                                  hint=N_("Name the tenant: --tenant TENANT (tenant= in the library)."))
        return rows[0]

    def _subject_dict(self, uow: Unit, subj: ConsentSubject) -> dict[str, Any]:
        rows = uow.consent.template_modalities(subj.id)
        counts: dict[str, int] = {}
        for m in rows:
            counts[m] = counts.get(m, 0) + 1
        return {"subject": subj.name, "tenant": subj.tenant, "protected": subj.protected,
                "keep_media": subj.keep_media, "signing_key": subj.signing_key is not None,
                "templates": counts, "created_at": subj.created_at.isoformat(),
                "erased_at": subj.erased_at.isoformat() if subj.erased_at else None}

    # --- templates (decrypted, for matching) ---------------------------------------------------------
    def templates(self, modality: str, *, tenant: str | None = None) -> list[Template]:
        """Every live template of ``modality`` made by the current model (templates of another model are skipped)."""
        sha = likeness.model_sha256(modality)
        with self.units() as uow:
            # rows only change by enrolment (new id, later created_at) and erasure (fewer rows), so this signature
            # changes whenever the gallery does, even when SQLite reuses a deleted row's id
            signature = uow.consent.gallery_signature(modality, sha, tenant)
            cached = self._galleries.get((modality, tenant))
            if cached is not None and cached[0] == signature:
                return list(cached[1])
            out = []
            for t, protected, name, owner in uow.consent.gallery(modality, sha, tenant):
                emb = likeness.decode(self.vault().decrypt(uow.session, vault_id(t.subject_id), t.token))
                out.append(Template(t.subject_id, bool(protected), modality, emb, name, owner))
            self._galleries[(modality, tenant)] = (signature, out)
            return list(out)

    def has_templates(self, modality: str, *, protected_only: bool = False) -> bool:
        return self._has_templates(modality, protected_only)  # on every AI-verdict scan: the light connection

    # --- grants ----------------------------------------------------------------------------------------
    def challenge(self, subject_id: str, *, grantee: str, purpose: str, tenant: str | None = None) -> dict[str, Any]:
        """Issue a random phrase for the subject to speak (spoken consent evidence), single use."""
        purpose_modalities(purpose)
        minutes = int(load_policy().get("challenge_minutes", 30))
        with self.units() as uow:
            subj = self._get_subject(uow, subject_id, tenant)
            ch = ConsentChallenge(id="ch_" + secrets.token_hex(10), subject_id=subj.id, grantee=grantee,
                                  purpose=purpose, phrase=challenge_phrase(grantee, purpose), created_at=self.clock(),
                                  expires_at=self.clock() + timedelta(minutes=minutes))
            uow.consent.add(ch)
        return {"challenge": ch.id, "phrase": ch.phrase, "expires_at": ch.expires_at.isoformat(),
                "instructions": _("The subject reads the phrase aloud, alone, in their own voice; pass the "
                                  "recording to `synthguard consent grant ... --evidence REC --challenge ID`.")}

    def grant(self, subject_id: str, *, grantee: str, purpose: str, evidence: Media, expires: datetime | None = None,
              modalities: list[str] | None = None, scope: str = "", challenge: str | None = None,
              tenant: str | None = "default") -> dict[str, Any]:
        """Record a subject's separate consent (DS-15) after checking its evidence; returns the grant.  ``tenant``
        None: the one tenant that has the subject (the operator's CLI)."""
        allowed = purpose_modalities(purpose)
        mods = sorted(set(modalities or allowed))
        if not set(mods) <= set(allowed):
            raise ValidationError("purpose {purpose!r} edits {allowed}; {disallowed} cannot be granted for it",
                                  values={"purpose": purpose, "allowed": allowed,
                                          "disallowed": sorted(set(mods) - set(allowed))})
        if not grantee or len(grantee) > 128:
            raise ValidationError("the grantee (--to) must be a user or provider id of 1-128 characters")
        if expires is not None and expires <= self.clock():
            raise ValidationError("expiry {expires} is in the past",
                                  values={"expires": expires.isoformat()})
        with self.units() as uow:
            subj = self._get_subject(uow, subject_id, tenant)
            if subj.erased_at is not None:
                raise SubjectErasedError("subject {subject_id!r} was erased", values={"subject_id": subject_id})
            check = self._check_evidence(uow, subj, evidence, grantee=grantee, purpose=purpose, modalities=mods,
                                         expires=expires, challenge=challenge)
            signed_scope = check.get("scope")
            if signed_scope is not None:  # the subject's own words win; a different scope is not what they signed
                if scope and scope != signed_scope:
                    raise ValidationError("the scope differs from the one in the signed statement",
                                          hint="Leave --scope out to use the statement's scope.")
                scope = signed_scope
            digest = evidence.sha256
            if uow.consent.evidence_used(digest):
                raise ConflictError("this evidence file already backs another grant",
                                    hint="Each grant needs its own signed statement or recording.")
            vid = vault_id(subj.id)
            g = ConsentGrant(id="cg_" + secrets.token_hex(12), subject_id=subj.id, tenant=subj.tenant,
                             grantee=grantee, purpose=purpose, modalities=mods,
                             scope_token=self.vault().encrypt(uow.session, vid, scope) if scope else None,
                             expires_at=expires, created_at=self.clock(), evidence_kind=check["kind"],
                             evidence_sha256=digest,
                             evidence_token=self.vault().encrypt(uow.session, vid, evidence.data),
                             evidence_check={k: v for k, v in check.items() if k not in ("scope", "phrase")}, mac="")
            entry = self.ledger.append(uow.session, "consent", {
                "event": "grant", "grant_id": g.id, "subject_ref": subject_ref(subj.id),
                "grantee": self.account_ref(subj.tenant, grantee, session=uow.session), "purpose": purpose,
                "modalities": mods,
                "expires": expires.isoformat() if expires else None, "evidence_kind": check["kind"],
                "evidence_sha256": digest})
            g.ledger_index = entry.index
            g.mac = self.grant_mac(g)
            uow.consent.add_grant(g)
            return self._grant_dict(uow, g)

    def _check_evidence(self, uow: Unit, subj: ConsentSubject, evidence: Media, *, grantee: str, purpose: str,
                        modalities: list[str], expires: datetime | None, challenge: str | None) -> dict[str, Any]:
        if evidence.modality is Modality.TEXT:
            return verify_statement(evidence.data, subject=subj.name, grantee=grantee, purpose=purpose,
                                    modalities=modalities, expires=expires, registered_key=subj.signing_key)
        if evidence.modality in (Modality.AUDIO, Modality.VIDEO):
            return self._check_spoken(uow, subj, evidence, grantee=grantee, purpose=purpose, challenge=challenge)
        raise ValidationError("consent evidence must be a signed statement (JSON) or a recording, not {mime}",
                              hint="A photo of a signed paper form cannot be verified; use `synthguard consent "
                                   "statement` or a spoken challenge.", values={"mime": evidence.mime})

    def _check_spoken(self, uow: Unit, subj: ConsentSubject, evidence: Media, *, grantee: str, purpose: str,
                      challenge: str | None) -> dict[str, Any]:
        if not challenge:
            raise ValidationError("spoken consent needs the challenge it answers",
                                  hint="Issue one with `synthguard consent challenge SUBJECT --to USER --purpose P` "
                                       "and pass --challenge ID.")
        ch = uow.consent.challenge(challenge)
        if ch is None or ch.subject_id != subj.id:
            raise NotFoundError("no challenge {challenge!r} for subject {name!r}",
                                values={"challenge": challenge, "name": subj.name})
        if ch.used_at is not None:
            raise ConflictError("challenge {challenge} was already used", hint="Issue a new challenge.",
                                values={"challenge": challenge})
        if ch.expires_at <= self.clock():
            raise ValidationError("challenge {challenge} expired at {expires_at}",
                                  hint="Issue a new challenge and record again.",
                                  values={"challenge": challenge, "expires_at": ch.expires_at.isoformat()})
        if (ch.grantee, ch.purpose) != (grantee, purpose):
            raise ValidationError("challenge {challenge} was issued for {grantee!r} / {purpose!r}",
                                  values={"challenge": challenge, "grantee": ch.grantee, "purpose": ch.purpose})
        card = likeness.cards(self.settings())["voice"]
        voices = [t for t in self.templates("voice", tenant=subj.tenant) if t.subject_id == subj.id]
        if not voices:
            raise ValidationError("subject {name!r} has no enrolled voice to compare the recording with",
                                  hint="Enrol a voice sample first (`synthguard consent enroll SUBJECT --voice F`), "
                                       "or use a signed statement.", values={"name": subj.name})
        vp = embed_media(evidence)
        best = max(card.score(vp.embedding, t.embedding) for t in voices)
        if not card.matches(best):
            raise TamperedEvidenceError("the recorded consent is not in the subject's enrolled voice (similarity "
                                        "{best:.3f} < {threshold})",
                                        values={"best": best, "threshold": card.threshold})
        ch.used_at = self.clock()
        return {"kind": "spoken", "challenge": ch.id, "speaker_similarity": round(best, 4),
                "threshold": card.threshold, "speech_seconds": round(vp.speech_seconds, 2), "phrase_checked": False,
                "phrase": ch.phrase}

    def grant_mac(self, g: ConsentGrant) -> str:
        """HMAC over the fields the gate decides on: an edited row (un-revoked, later expiry) fails the check."""
        fields = {"id": g.id, "subject": g.subject_id, "tenant": g.tenant, "grantee": g.grantee, "purpose": g.purpose,
                  "modalities": sorted(g.modalities or []), "expires": iso(g.expires_at, utc=True),
                  "created": iso(g.created_at, utc=True), "revoked": iso(g.revoked_at, utc=True),
                  "kind": g.evidence_kind, "evidence": g.evidence_sha256}
        msg = b"consent-grant:" + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
        return hmac.new(self.integrity_key(), msg, hashlib.sha256).hexdigest()

    def revoke(self, grant_id: str, *, reason: str = "withdrawn", tenant: str | None = None) -> dict[str, Any]:
        """Withdraw consent (PI-03): effective for every later check at once."""
        with self.units() as uow:
            g = self._get_grant(uow, grant_id, tenant)
            if g.revoked_at is not None:
                return self._grant_dict(uow, g)  # idempotent
            if not self.grant_intact(uow.session, g):
                raise TamperedEvidenceError("grant {grant_id} fails its integrity check; not modified",
                                            hint="Investigate the database; the grant already never allows.",
                                            values={"grant_id": grant_id})
            g.revoked_at, g.revoked_reason = self.clock(), reason[:64]
            g.mac = self.grant_mac(g)
            self.ledger.append(uow.session, "consent", {"event": "revoke", "grant_id": g.id,
                                                 "subject_ref": subject_ref(g.subject_id), "reason": g.revoked_reason})
            return self._grant_dict(uow, g)

    def grant_intact(self, s: Session, g: ConsentGrant) -> bool:
        if not hmac.compare_digest(g.mac or "", self.grant_mac(g)):
            return False
        if g.evidence_token is None:
            return False
        try:
            data = self.vault().decrypt(s, vault_id(g.subject_id), g.evidence_token)
        except (ValidationError, NotFoundError):
            return False
        return hashlib.sha256(data).hexdigest() == g.evidence_sha256

    def grants(self, *, subject_id: str | None = None, grantee: str | None = None,
               tenant: str | None = None) -> list[dict[str, Any]]:
        with self.units() as uow:
            # by the subject's id in the grant's tenant
            return [self._grant_dict(uow, g) for g in uow.consent.grants(subject_name=subject_id, grantee=grantee,
                                                                  tenant=tenant)]

    def get_grant(self, grant_id: str, *, tenant: str | None = None) -> dict[str, Any]:
        with self.units() as uow:
            return self._grant_dict(uow, self._get_grant(uow, grant_id, tenant))

    def _get_grant(self, uow: Unit, grant_id: str, tenant: str | None) -> ConsentGrant:
        g = uow.consent.grant(grant_id)
        if g is None or (tenant is not None and g.tenant != tenant):
            raise NotFoundError("no grant {grant_id!r}", hint="List grants with `synthguard consent grants`.",
                                values={"grant_id": grant_id})
        return g

    def grant_status(self, s: Session, g: ConsentGrant, now: datetime | None = None) -> str:
        """active | revoked | expired | tampered | erased."""
        now = now or self.clock()
        if g.evidence_token is None and g.revoked_reason == "erased":
            return "erased"
        if not self.grant_intact(s, g):
            return "tampered"
        if g.revoked_at is not None:
            return "revoked"
        if g.expires_at is not None and g.expires_at <= now:
            return "expired"
        return "active"

    def _grant_dict(self, uow: Unit, g: ConsentGrant, *, personal: bool = False) -> dict[str, Any]:
        evidence: dict[str, Any] = {"kind": g.evidence_kind, "sha256": g.evidence_sha256, **(g.evidence_check or {})}
        subj = uow.consent.subject(g.subject_id)
        name = subj.name if subj else g.subject_id  # the id in the tenant; g.subject_id is the key
        d: dict[str, Any] = {"grant_id": g.id, "subject": name, "tenant": g.tenant, "grantee": g.grantee,
             "purpose": g.purpose, "modalities": list(g.modalities or []), "expires_at": iso(g.expires_at, utc=True),
             "created_at": iso(g.created_at, utc=True), "revoked_at": iso(g.revoked_at, utc=True),
             "revoked_reason": g.revoked_reason,
             "status": self.grant_status(uow.session, g), "evidence": evidence, "ledger_index": g.ledger_index}
        if personal:
            vid = vault_id(g.subject_id)
            d["scope"] = self.vault().decrypt(uow.session, vid, g.scope_token).decode() if g.scope_token else ""
            if g.evidence_token:
                data = self.vault().decrypt(uow.session, vid, g.evidence_token)
                evidence["file_base64"] = base64.b64encode(data).decode()
        return d

    # --- data-subject rights (PIPL 44-47, GDPR 15/17/20): see rights.py ------------------------------
    def export(self, subject_id: str, *, tenant: str | None = None, actor: str = "operator") -> dict[str, Any]:
        """Everything held on a subject, decrypted, as one JSON document (PI-11, GDPR Arts. 15 and 20)."""
        return export_subject(self, subject_id, tenant=tenant, actor=actor)

    def signing_key(self, subject_id: str, *, tenant: str | None = None) -> str | None:
        """The Ed25519 public key (PEM) the subject registered, which proves requests made by the person."""
        with self.units() as uow:
            return self._get_subject(uow, subject_id, tenant).signing_key

    def erase(self, subject_id: str, *, reason: str = "request", tenant: str | None = None) -> dict[str, Any]:
        """Erase a subject (PI-13, GDPR Art. 17): shred the key, delete templates, blank grants' personal fields."""
        return erase_subject(self, subject_id, reason=reason, tenant=tenant)


def parse_expiry(value: str | None) -> datetime | None:
    """DATE (valid through that day, UTC) or an ISO 8601 timestamp with a time zone."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time.max, UTC)
        t = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("expiry {value!r} is not a date",
                              hint="Use YYYY-MM-DD or an ISO 8601 timestamp.", values={"value": value}) from None
    if t.tzinfo is None:
        raise ValidationError("an expiry with a time needs a time zone", hint="e.g. 2027-01-31T18:00:00+08:00")
    return t.astimezone(UTC)


def _submitted_embedding(item: dict[str, Any], cards: dict[str, likeness.ModelCard]) -> tuple[str, np.ndarray]:
    """A template computed on the subject's device (``synthguard consent embed``): checked, never trusted blindly."""
    modality = item.get("modality")
    if modality not in cards:
        raise ValidationError("embedding modality must be face or voice, got {modality!r}",
                              values={"modality": modality})
    if item.get("model") != cards[modality].name:
        raise ValidationError("embedding made with model {model!r}; this server uses {name!r}",
                              hint="Compute it with the same SynthGuard version.",
                              values={"model": item.get("model"), "name": cards[modality].name})
    if item.get("model_sha256") not in (None, likeness.model_sha256(modality)):
        raise ValidationError("embedding made with other model weights (model_sha256 differs)")
    vec = np.asarray(item.get("embedding", []), dtype=np.float32)
    size = 128 if modality == "face" else 256
    if vec.shape != (size,) or not np.all(np.isfinite(vec)):
        raise ValidationError("a {modality} embedding must be {size} finite numbers",
                              values={"modality": modality, "size": size})
    if modality == "voice" and abs(float(np.linalg.norm(vec)) - 1) > 1e-3:
        raise ValidationError("a voice embedding must have unit length")
    return modality, vec
