"""Platform content: register uploads (scan + policy), keep the media for review, find copies, stay-down bank.

On upload the platform's scan runs and the policy decides (policies/<j>.yaml): a match in the
``removed-content`` bank blocks the upload (CC-12, US-04 "block re-uploads", US-09 stay-down); other rules
label, restrict or open a case.  On removal the item's fingerprints go into the stay-down banks and copies
already on the platform are found by SHA-256 (identical: removed with it) and PDQ distance (near-duplicates:
queued for review) -- US-04 "reasonable efforts to identify and remove any known identical copies".
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthguard.errors import ConflictError, NotFoundError, RefusedError, SynthGuardError, ValidationError
from synthguard.fingerprint import signals
from synthguard.fingerprint.pdq import MIN_QUALITY
from synthguard.i18n import N_
from synthguard.identity import scoped_key
from synthguard.media import Media, write_atomic
from synthguard.moderation.policy import for_settings
from synthguard.moderation.staydown import LONG_STAY_DOWN as _LONG_STAY_DOWN
from synthguard.moderation.staydown import (  # re-exported: their old home
    STAY_DOWN,
    STAY_DOWN_AUDIO,
    STAY_DOWN_EXACT,
    STAY_DOWN_VIDEO,
    bank_names,
    long_bank_names,
    policy_banks,
)
from synthguard.moderation.staydown import suffixed as _suffixed
from synthguard.store.base import utcnow
from synthguard.store.moderation_tables import ModCase, ModContent

if TYPE_CHECKING:
    from synthguard.moderation.deps import ModerationDeps
    from synthguard.store.protocols import Unit

COPY_DISTANCE = 31
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class UploadBlockedError(RefusedError):
    """The upload matches content removed earlier (stay-down)."""

    hint = N_("This file was removed after a notice; it cannot be uploaded again. Contact the platform to appeal.")


def check_ref(ref: str) -> str:
    if not isinstance(ref, str) or not _REF.fullmatch(ref):
        raise ValidationError("bad content reference {ref!r}", values={"ref": ref},
                              hint=N_("Use 1-128 letters, digits, '.', '_' or '-' (the platform's own content id)."))
    return ref


def media_dir(deps: ModerationDeps) -> Path:
    return deps.settings().home / "moderation" / "media"


def media_path(deps: ModerationDeps, c: ModContent) -> Path:
    """Stored under the content's SHA-256, never under a name the uploader chose (no path traversal)."""
    if not re.fullmatch(r"[0-9a-f]{64}\.[a-z0-9]{1,5}", c.media_file):
        raise NotFoundError("stored media name is not valid")
    return media_dir(deps) / c.media_file


def ensure_banks(deps: ModerationDeps, tenant: str) -> tuple[str, str]:
    """Create the tenant's stay-down banks on first use (idempotent across processes); returns their names."""
    names = bank_names(tenant)
    banks = deps.banks()
    existing = {b["name"]: b["tenant"] for b in banks.list()}
    wanted = [*zip(names, ("pdq", "sha256"), strict=True), *long_bank_names(tenant).items()]
    for name, kind in wanted:
        if name not in existing:
            try:
                banks.create(name, kind=kind, tenant=tenant, actor="moderation",
                                description="fingerprints of content removed after review (US-04, CC-12 stay-down)")
                existing[name] = tenant
            except ConflictError:
                existing = {b["name"]: b["tenant"] for b in banks.list()}
        if existing.get(name) != tenant:  # a bank squatting the name must not receive this tenant's hashes
            raise ConflictError("stay-down bank {name!r} belongs to another tenant", values={"name": name})
    return names


def scan_decision(deps: ModerationDeps, scan: Any, tenant: str) -> tuple[list[Any], set[str]]:
    """The policy rules a scan result triggers, and the enabled banks that matched.

    The tenant's own stay-down banks are what the policies call ``removed-content``/``removed-content-exact``;
    a match in a bank another tenant shared is a plain bank match (review), never an automatic block.
    """
    banks = policy_banks({str(m.get("bank")) for m in scan.matches}, tenant)
    return for_settings(deps.settings()).on_scan(scan.verdict, banks), banks


def register(deps: ModerationDeps, uow: Unit, tenant: str, ref: str, media: Media, *, uploader: str | None,
             declared_ai: bool) -> tuple[ModContent | None, Any, list[Any]]:
    """Scan an upload and store it unless the policy blocks it; returns (content or None, scan, rules)."""
    check_ref(ref)
    if uow.moderation.content_ref_taken(tenant, ref):
        raise ConflictError("content {ref!r} is already registered", values={"ref": ref},
                            hint=N_("Use a new content reference."))
    scan = deps.scan(media, declared_ai=declared_ai, tenant=tenant)
    rules, _ = scan_decision(deps, scan, tenant)
    if any("block" in r.actions for r in rules):
        return None, scan, rules
    pdq = scan.fingerprints.get("pdq")
    c = ModContent(tenant=tenant, ref=ref, uploader_ref=_uploader_ref(deps, tenant, uploader),
                   sha256=media.sha256, pdq=pdq, pdq_quality=scan.fingerprints.get("pdq_quality"),
                   media_file=f"{media.sha256}.{media.format.lower()[:5]}", mime=media.mime, verdict=scan.verdict,
                   status="restricted" if any("restrict" in r.actions for r in rules) else "visible",
                   notices=[label_notice(scan)] if any("label" in r.actions for r in rules) else [],
                   evidence=evidence_summary(scan) | {"automated": automated_measures(rules)},
                   created_at=utcnow(), updated_at=utcnow())
    if not uow.moderation.insert_content(c):  # another worker registered the same reference meanwhile
        raise ConflictError("content {ref!r} is already registered", values={"ref": ref},
                            hint=N_("Use a new content reference."))
    path = media_path(deps, c)
    if not path.exists():  # content-addressed: the same bytes are stored once
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, media.data)
    return c, scan, rules


def automated_measures(rules: list[Any]) -> list[dict[str, Any]]:
    """The visibility measures the scan applied by itself (no case, no reviewer): each needs its own statement of
    reasons (DSA-06, DSA-11), so the rule, its reason and the case kind are kept with the content."""
    return [{"rule": r.id, "actions": [a for a in r.actions if a in ("label", "restrict")], "reason": r.reason,
             "case_kind": r.case_kind, "cite": list(r.cite)}
            for r in rules if {"label", "restrict"} & set(r.actions)]


def evidence_summary(scan: Any) -> dict[str, Any]:
    """What the reviewer needs from the upload scan: each piece of evidence and every bank match (no media)."""
    return {"verdict": scan.verdict, "label_value": scan.label_value,
            "evidence": [{"source": e.get("source"), "kind": e.get("kind"), "label_value": e.get("label_value"),
                          "problems": list(e.get("problems") or [])[:3]} for e in scan.evidence],
            "matches": [{"bank": m.get("bank"), "kind": m.get("kind"), "distance": m.get("distance"),
                         "reason": m.get("reason")} for m in scan.matches]}


def label_notice(scan: Any) -> dict[str, Any]:
    n = next((a for a in scan.actions if a.get("action") == "notice"), None)
    return {"type": "label", "verdict": scan.verdict, "badge": (n or {}).get("badge"), "text": (n or {}).get("text")}


def find(uow: Unit, tenant: str, ref: str) -> ModContent:
    c = uow.moderation.content_by_ref(tenant, ref)
    if c is None:
        raise NotFoundError("no content {ref!r}", values={"ref": ref},
                            hint=N_("Register uploads with POST /v1/moderation/content."))
    return c


def resolve_location(uow: Unit, tenant: str, location: str) -> ModContent | None:
    """The content a notice names: a bare reference or a URL whose last path segment is the reference."""
    tail = location.strip().rstrip("/").split("?")[0].split("#")[0].rsplit("/", 1)[-1]
    if not _REF.fullmatch(tail or "-"):
        return None
    return uow.moderation.content_by_ref(tenant, tail)


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def copies(uow: Unit, c: ModContent, *, distance: int = COPY_DISTANCE) -> tuple[list[ModContent], list[ModContent]]:
    """(identical, near-duplicate) live copies of ``c`` on the same tenant."""
    rows = uow.moderation.live_content_except(c.tenant, c.id)
    same, near = [], []
    usable = c.pdq and (c.pdq_quality or 0) >= MIN_QUALITY
    for o in rows:
        if o.sha256 == c.sha256:
            same.append(o)
        elif usable and o.pdq and (o.pdq_quality or 0) >= MIN_QUALITY and hamming(c.pdq or "", o.pdq) <= distance:
            near.append(o)
    return same, near


def removal_cases(uow: Unit, tenant: str, sha256: str, pdq: str | None) -> list[ModCase]:
    """The removal cases of removed items this upload duplicates (same bytes, or PDQ within the copy radius)."""
    removed = uow.moderation.removed_content(tenant)
    ids = [c.id for c in removed if c.sha256 == sha256 or (pdq and c.pdq and hamming(c.pdq, pdq) <= COPY_DISTANCE)]
    if not ids:
        return []
    return uow.moderation.removal_cases(ids)


def stay_down(deps: ModerationDeps, c: ModContent, ticket: str, actor: str) -> list[int]:
    """Put the removed item's fingerprints into the stay-down banks; returns the bank entry ids."""
    pdq_bank, exact_bank = ensure_banks(deps, c.tenant)
    banks = deps.banks()
    ids: list[int] = []
    todo: list[tuple[str, str, int | None]] = [(exact_bank, c.sha256, None)]
    if c.pdq and (c.pdq_quality or 0) >= MIN_QUALITY:
        todo.append((pdq_bank, c.pdq, c.pdq_quality))
    long_names = {base: _suffixed(base, c.tenant) for base in _LONG_STAY_DOWN}
    todo += [(long_names[base], text, None) for base, text in _long_fingerprints(deps, c)]
    for bank, h, q in todo:
        try:
            ids.append(banks.add(bank, h, reason=f"removed: case {ticket}", actor=actor, quality=q))
        except ConflictError:  # already banned by an earlier case
            pass
    return ids


def _long_fingerprints(deps: ModerationDeps, c: ModContent) -> list[tuple[str, str]]:
    """(stay-down bank base name, fingerprint) of a stored video or audio item: vPDQ and the sound's landmarks."""
    if not c.mime.startswith(("video/", "audio/")) or not media_path(deps, c).is_file():
        return []
    media = Media.open(media_path(deps, c))
    out = []
    for bank, kind in _LONG_STAY_DOWN.items():
        if kind in signals.kinds_for(media):
            try:
                out.append((bank, signals.fingerprint_text(kind, media)))
            except SynthGuardError:  # a silent video has no sound to ban
                continue
    return out


def lift_stay_down(deps: ModerationDeps, c: ModContent, ticket: str, actor: str) -> int:
    """On restoration (CC-11) the item's hashes leave the stay-down banks; returns how many entries."""
    n = 0
    banks = deps.banks()
    keys = {c.sha256, c.pdq} | {signals.canonical(_LONG_STAY_DOWN[b], text)[0]
                                for b, text in _long_fingerprints(deps, c)}
    for bank in (*bank_names(c.tenant), *long_bank_names(c.tenant)):
        try:
            entries = banks.entries(bank, include_removed=False)
        except NotFoundError:
            continue
        for e in entries:
            if e["hash"] in keys:
                banks.remove(bank, e["id"], reason=f"restored: case {ticket}", actor=actor)
                n += 1
    return n


def blurred_preview(data: bytes, mime: str) -> tuple[bytes, str]:
    """A 64-pixel, heavily blurred JPEG of an image (nothing recognisable: finding 9); video has no preview."""
    import io

    from PIL import Image, ImageFilter

    if not mime.startswith("image/"):
        raise NotFoundError("no blurred preview for {mime}; claim the case and reveal it", values={"mime": mime})
    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (256, 256))
        small = im.convert("RGB")
        small.thumbnail((64, 64))
    out = io.BytesIO()
    small.filter(ImageFilter.GaussianBlur(6)).save(out, "JPEG", quality=60)
    return out.getvalue(), "image/jpeg"


def set_status(c: ModContent, status: str) -> None:
    c.status, c.updated_at = status, utcnow()


__all__ = ["STAY_DOWN", "STAY_DOWN_AUDIO", "STAY_DOWN_EXACT", "STAY_DOWN_VIDEO", "UploadBlockedError",
           "automated_measures", "bank_names", "check_ref", "copies", "ensure_banks", "find", "label_notice",
           "lift_stay_down", "long_bank_names", "media_path", "policy_banks", "register", "resolve_location",
           "scan_decision", "stay_down"]


def _uploader_ref(deps: ModerationDeps, tenant: str, uploader: str | None) -> str | None:
    """The uploader's pseudonym: uploader ids are the platform's, so per tenant (issue 18 finding 13); in the default
    tenant the same as before."""
    return deps.user_ref(scoped_key(tenant, uploader)) if uploader else None
