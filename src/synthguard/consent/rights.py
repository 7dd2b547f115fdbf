"""Data-subject rights over the likeness registry: access/portability and erasure (PIPL Arts. 44-47, PI-11, PI-13;
GDPR Arts. 15, 17, 20).

Export decrypts everything held on a subject (templates, opted-in media, grants with scope and evidence, challenges)
into one JSON document and logs the export.  Erasure deletes templates and challenges, blanks grants' personal
fields (they stay, revoked, so the ledger's grant ids still resolve), and destroys the subject's vault key, so every
remaining ciphertext, including copies in backups, becomes unreadable; the ledger keeps verifying.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from synthguard.consent import likeness
from synthguard.consent.vault import vault_id
from synthguard.errors import SubjectErasedError
from synthguard.i18n import _
from synthguard.ledger.erasure import subject_ref
from synthguard.times import iso

if TYPE_CHECKING:
    from synthguard.consent.registry import Registry


def export(reg: Registry, subject_id: str, *, tenant: str | None = None, actor: str = "operator") -> dict[str, Any]:
    """Everything held on a subject, decrypted, as one JSON document (PI-11, GDPR Arts. 15 and 20)."""
    with reg.units() as uow:
        subj = reg._get_subject(uow, subject_id, tenant)
        if subj.erased_at is not None:
            raise SubjectErasedError("subject {subject_id!r} was erased on {erased_at:%Y-%m-%d}; nothing personal "
                                     "remains to export",
                                     values={"subject_id": subject_id, "erased_at": subj.erased_at})
        key = subj.id  # the subject's key: another tenant's subject of the same id is another person (finding 13)
        vid = vault_id(key)
        templates = []
        for t in uow.consent.templates_of(key):
            item = {"modality": t.modality, "model": t.model, "model_sha256": t.model_sha256,
                    "created_at": iso(t.created_at, utc=True),
                    "embedding": [round(float(x), 7) for x in likeness.decode(reg.vault().decrypt(uow.session, vid,
                                                                                                     t.token))]}
            if t.media_token:
                item["media_base64"] = base64.b64encode(reg.vault().decrypt(uow.session, vid, t.media_token)).decode()
            templates.append(item)
        grants = [reg._grant_dict(uow, g, personal=True)
                  for g in uow.consent.grants_of(key)]
        challenges = [{"challenge": c.id, "grantee": c.grantee, "purpose": c.purpose, "phrase": c.phrase,
                       "created_at": iso(c.created_at, utc=True), "used_at": iso(c.used_at, utc=True)}
                      for c in uow.consent.challenges_of(key)]
        # every export of biometric data is on the ledger with who asked (issue 18 finding 4, PI-06)
        reg.ledger.append(uow.session, "export", {"event": "consent_export", "subject_ref": subject_ref(key),
                                            "templates": len(templates), "grants": len(grants),
                                            "embeddings_exported": bool(templates), "protected": subj.protected,
                                            "actor": actor})
        return {"format": "synthguard.consent-export/v1", "exported_at": reg.clock().isoformat(),
                "subject": reg._subject_dict(uow, subj) | {"signing_key_pem": subj.signing_key},
                "templates": templates, "grants": grants, "challenges": challenges,
                "ledger_subject_ref": subject_ref(key),
                "note": _("Embeddings are numbers computed from your photos/recordings; the ledger holds only "
                          "hashes and the pseudonymous reference above.")}

def erase(reg: Registry, subject_id: str, *, reason: str = "request", tenant: str | None = None) -> dict[str, Any]:
    """Erase a subject (PI-13, GDPR Art. 17): shred the key, delete templates, blank grants' personal fields."""
    with reg.units() as uow:
        subj = reg._get_subject(uow, subject_id, tenant)
        key = subj.id  # the subject's key: another tenant's subject of the same id is another person (finding 13)
        templates = uow.consent.delete_templates(key)
        grants = uow.consent.grants_of(key)
        now = reg.clock()
        for g in grants:
            g.scope_token, g.evidence_token = None, None
            g.evidence_check = {k: v for k, v in (g.evidence_check or {}).items()
                                if k in ("kind", "signature", "phrase_checked")}
            if g.revoked_at is None:
                g.revoked_at = now
            g.revoked_reason = "erased"
            g.mac = reg.grant_mac(g)
        uow.consent.delete_challenges(key)
        subj.signing_key = None
        entry = reg.vault().erase(uow.session, vault_id(key), reason=reason)
        subj.erased_at, subj.erasure_index = subj.erased_at or now, entry.index
        reg.ledger.append(uow.session, "consent", {"event": "erase", "subject_ref": subject_ref(key),
                                             "templates": len(templates), "grants": len(grants),
                                             "erasure_index": entry.index})
    return {"subject": subject_id, "tenant": subj.tenant, "erased": True, "templates_deleted": len(templates),
            "grants_blanked": len(grants), "ledger_index": entry.index}
