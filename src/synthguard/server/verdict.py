"""The verdict card of the inspection page: what the labels on a file mean, in one sentence, then each check.

"AI-generated - labeled by ACME, 6 Dec 2026; watermark verified; C2PA trusted", each check with what it
means, before any raw field (issue 22).  Wording never claims more than was checked: an absent label does not
make a file human-made, and a visible label the reader did not match is "not detected", not "absent".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from synthguard.i18n import _, format_date

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONTENT_ID = re.compile(r"^SG[0-9A-HJKMNP-TV-Z]{26}$")


@dataclass(frozen=True)
class Check:
    title: str
    status: str
    state: str  # yes / no / bad
    meaning: str


@dataclass(frozen=True)
class Verdict:
    tone: str  # ai / none / warn
    headline: str
    byline: str
    checks: list[Check] = field(default_factory=list)


def content_date(content_id: str | None) -> datetime | None:
    """Our content ids start with the labeling time (48-bit milliseconds), so the id itself dates the label."""
    if not content_id or not _CONTENT_ID.match(content_id):
        return None
    n = 0
    for ch in content_id[2:]:
        n = n * 32 + _CROCKFORD.index(ch)
    try:
        return datetime.fromtimestamp((n >> 80) / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def verdict(found: dict[str, Any]) -> Verdict:
    aigc = found.get("aigc") or {}
    c2 = found.get("c2pa") or {}
    wm = found.get("watermark") or {}
    vis = found.get("visible_label") or {}
    checks = [c for c in (_metadata(found, aigc), _watermark(wm), _c2pa(c2), _visible(found, vis),
                          _provider(found.get("attribution") or [])) if c is not None]
    labeled = bool(aigc.get("Label") in ("1", "2", "3") or wm.get("detected") or c2.get("present") or vis.get("found"))
    problems = any(c.state == "bad" for c in checks)
    if not labeled:
        return Verdict("warn" if problems else "none", _("No AI-generation label found"),
                       _("That does not prove a person made it: labels can be removed, and other tools' marks are "
                         "not all readable here."), checks)
    producer = aigc.get("ContentProducer") or c2.get("signer")
    when = content_date(aigc.get("ProduceID") or c2.get("content_id"))
    parts = []
    if producer:
        parts.append(_("labeled by {producer}", producer=producer))
    if when:
        parts.append(format_date(when.date()))
    if wm.get("detected"):
        parts.append(_("watermark verified"))
    if c2.get("state") == "trusted":
        parts.append(_("C2PA trusted"))
    return Verdict("warn" if problems else "ai", _("AI-generated"), "; ".join(parts), checks)


def _metadata(found: dict[str, Any], aigc: dict[str, Any]) -> Check:
    title = _("Metadata label (GB 45438)")
    if not aigc:
        return Check(title, _("not present"), "no", _("The file carries no implicit AIGC label in its metadata."))
    if found.get("aigc_integrity") == "invalid":
        return Check(title, _("present but altered"), "bad",
                     _("The label's integrity code does not match: it was changed after labeling."))
    return Check(title, _("present"), "yes",
                 _("The producer wrote who made the file and its content id into the file's metadata."))


def _detected(title: str, found: bool, status: str, meaning: str, missed: str) -> Check:
    """A mark this service looks for: ``status`` and ``meaning`` when found, else "not detected" (never "absent":
    the reader only knows it did not find it) and ``missed``, what was looked for."""
    if found:
        return Check(title, status, "yes", meaning)
    return Check(title, _("not detected"), "no", missed)


def _watermark(wm: dict[str, Any]) -> Check | None:
    if not wm:
        return None
    return _detected(_("Invisible watermark"), bool(wm.get("detected")), _("verified"),
                     _("A robust watermark keyed to this service was found; it survives re-encoding and resizing."),
                     _("No watermark of this service was found; watermarks of other providers are not checked here."))


def _c2pa(c2: dict[str, Any]) -> Check | None:
    title = _("C2PA content credentials")
    if not c2:
        return None
    state = c2.get("state")
    if state == "trusted":
        return Check(title, _("trusted"), "yes",
                     _("A signed manifest from a signer on the trust list binds these bytes."))
    if state == "valid":
        return Check(title, _("valid, signer not on the trust list"), "yes",
                     _("The manifest is intact, but this service does not know its signer."))
    if c2.get("present"):
        return Check(title, _("invalid"), "bad", _("A manifest is present but does not verify: the file changed or "
                                                  "the signature is broken."))
    return Check(title, _("not present"), "no", _("No signed manifest is embedded."))


def _visible(found: dict[str, Any], vis: dict[str, Any]) -> Check | None:
    if found.get("modality") != "image":
        return None
    return _detected(_("Visible label"), bool(vis.get("found")), _("found"),
                     _("The label text is drawn into the picture where people can read it."),
                     _("The reader looked for this service's label design near the edges; another design, or a "
                       "label cropped away, is not recognized. Look at the picture."))


def _provider(claims: list[dict[str, Any]]) -> Check | None:
    """Whose label this is, as far as this service's trust list can tell (issue 19): a trusted provider, named
    with its key fingerprint and where the key came from, or "not verifiable here" -- never "altered"."""
    if not claims:
        return None
    title = _("Provider")
    trusted = next((c for c in claims if c.get("provider")), None)
    if trusted is None:
        return Check(title, _("not verifiable here"), "no",
                     _("The label names a provider this service does not trust: it is neither confirmed nor shown "
                       "to be altered. Its provider can confirm it."))
    p = trusted["provider"]
    return Check(title, _("trusted: {name}", name=p.get("name") or p.get("producer") or p.get("origin")), "yes",
                 _("A provider on this service's trust list (key {fingerprint}, {source}); its record can be "
                   "resolved with that provider.", fingerprint=p.get("key_fingerprint"), source=p.get("key_source")))
