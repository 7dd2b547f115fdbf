"""The platform's upload scan: marks, fingerprints and banks, detectors -> verdict and actions (LM-13..LM-17).

1. Read every mark with the mark detectors (AIGC, IPTC, C2PA, our watermark, the trusted providers' shared- and
   public-mode watermarks -- one search for all of them, attributed and resolved, ``detection.federated`` --,
   SD's dwtDct); a reader that fails
   adds an ``error`` evidence entry and the scan goes on.
2. Fingerprint (SHA-256, PDQ) and query the hash banks (DS-09 feature library) when they exist.
3. Run the operator's configured detectors (none by default).
4. Verdict (Labeling Measures Art. 6(1)): ``ai_generated`` when a label is found (LM-13, Label "1");
   ``possibly_ai`` when only the uploader declared it (LM-14, "2"); ``suspected_ai`` on synthesis traces or a
   detector over its calibrated threshold (LM-15, "3"); else ``none``.
5. Actions for the first three: the notice text (``policies/notices.yaml``) and the platform's propagator fields
   written into the file's AIGC metadata (LM-17, GB-11; a new block with the verdict's Label when there is none).
   A watermark on a file whose metadata label is gone is flagged (DS-21); bank matches and advisory-only
   verdicts go to human review.

Reading marks, fingerprinting and detectors are the content-only :func:`analyse` (what the verdict cache keeps,
scan_cache.py); bank matches, the declaration, the verdict and actions are each upload's own (:func:`finish`).
"""

from __future__ import annotations

import dataclasses
import io
import logging
import time
import weakref
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import yaml
from PIL import Image

from synthguard.config import Settings
from synthguard.detection import Detection, Detector
from synthguard.detection.marks import WatermarkDetector
from synthguard.detection.registry import configured_detectors
from synthguard.errors import SynthGuardError, without_paths
from synthguard.fingerprint import Hasher
from synthguard.fingerprint.pdq import MIN_QUALITY
from synthguard.fingerprint.video import VideoFingerprint
from synthguard.ids import new_content_id
from synthguard.ledger.log import Ledger
from synthguard.marking.base import Marker
from synthguard.media import Media, Modality
from synthguard.moderation.policy import scan_actions
from synthguard.plugins import PluginHost, mark_detectors
from synthguard.plugins.builtin import STAGES
from synthguard.store.unit_of_work import UnitOfWork
from synthguard.trust.attribution import NOT_VERIFIABLE, VERIFIED, attribute, summary
from synthguard.trust.resolve import resolve_all
from synthguard.trust.trustlist import for_settings

if TYPE_CHECKING:
    from synthguard.fingerprint.banks import Banks
    from synthguard.labeling import Source
    from synthguard.scan_cache import ScanCache

log = logging.getLogger(__name__)
VERDICTS = {"1": "ai_generated", "2": "possibly_ai", "3": "suspected_ai"}
VIDEO_FRAME_SHARE = 0.5  # vPDQ-style rule: a video matches a bank entry when this share of its frames does
WATERMARK_TECHNIQUES = (".watermark", ".dwtdct")
METADATA_TECHNIQUES = (".aigc", ".c2pa")
_DETECTORS: weakref.WeakKeyDictionary[Any, dict[Modality, tuple[list[Detector], list[Detector]]]] = \
    weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class ScanResult:
    file: str
    sha256: str
    verdict: str
    label_value: str | None
    evidence: list[dict[str, Any]]
    matches: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    fingerprints: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    output: Media | None = None  # the file with the platform's propagator fields, when written

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "label_value": self.label_value, "evidence": self.evidence,
                "matches": self.matches, "actions": self.actions, "file": self.file, "sha256": self.sha256,
                "fingerprints": self.fingerprints}


@lru_cache(maxsize=1)
def load_notices() -> dict[str, Any]:
    """``policies/notices.yaml``: user-facing texts per verdict (zh/en) with citations."""
    return yaml.safe_load(files("synthguard").joinpath("policies", "notices.yaml").read_text(encoding="utf-8"))


def detectors_for(ctx: PluginHost, modality: Modality = Modality.IMAGE) -> tuple[list[Detector], list[Detector]]:
    """(mark detectors, configured ML detectors) for one modality, built once per context and modality.

    ``ctx`` is the plugin context the detector factories receive (the core object, whose markers share its keys
    and whose records resolve federated marks) with its registries: typed as the plugin host, not the core."""
    per = _DETECTORS.setdefault(ctx, {})
    if modality not in per:
        marks = mark_detectors(modality, ctx, ctx.plugins)
        ml = [d for d in configured_detectors(ctx.settings) if modality in d.modalities]
        per[modality] = (marks, ml)
    return per[modality]


class _HasBanks(Protocol):
    @property
    def banks(self) -> Banks: ...


def banks_for(sg: _HasBanks) -> Banks:
    """The core object's hash banks (kept for callers that imported this helper)."""
    return sg.banks


def _run(det: Detector, media: Media) -> list[Detection]:
    try:
        return list(det.detect(media))
    except SynthGuardError as exc:
        return [Detection(det.name, "error", problems=(f"{det.name} failed: {exc.message}",))]
    except Exception as exc:  # a plugin's bug must not sink the scan; it is recorded (no server paths), not hidden
        log.exception("detector %s crashed", det.name)
        return [Detection(det.name, "error",
                          problems=(f"{det.name} crashed: {type(exc).__name__}: {without_paths(str(exc))}",))]


def _run_all(dets: list[Detector], media: Media, timings: dict[str, float], stages: dict[str, str],
             default: str) -> list[Detection]:
    out: list[Detection] = []
    for det in dets:
        t0 = time.perf_counter()
        out += _run(det, media)
        stage = stages.get(det.name, default)
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - t0
    return out


def _hashes(scanner: Scanner, media: Media, evidence: list[Detection], timings: dict[str, float]
            ) -> tuple[dict[str, Any], list[str]]:
    """SHA-256 for every file; PDQ for images, per-frame PDQ for video (vPDQ-style: a bank entry matches when a
    share of the sampled frames is within its distance); audio and text are matched by SHA-256 only here (their
    banks in ``_match``). The hashers are the registry's for the modality (``hashers_for``).
    Returns the fingerprints and the PDQ hashes good enough to match."""
    t0 = time.perf_counter()
    fps: dict[str, Any] = {"sha256": media.sha256}
    pdqs: list[str] = []
    try:
        hashers = {h.kind: h for h in scanner.hashers(media.modality)}
        if "pdq" in hashers:
            pdq = hashers["pdq"].hash(media)
            fps |= {"pdq": pdq.value, "pdq_quality": pdq.quality}
            if pdq.quality is not None and pdq.quality >= MIN_QUALITY:
                pdqs.append(pdq.value)
            else:  # Meta's guidance: low-quality PDQ hashes (flat images) match unrelated content
                evidence.append(Detection("fingerprint.pdq", "info", evidence={"quality": pdq.quality},
                                          problems=(f"PDQ quality {pdq.quality} < {MIN_QUALITY}: not matched",)))
        elif "vpdq" in hashers:
            vfp = VideoFingerprint.from_json(hashers["vpdq"].hash(media).value)
            pdqs = [f.pdq for f in vfp.frames]
            fps |= {"video_frames": len(pdqs)}
    except SynthGuardError as exc:
        evidence.append(Detection("fingerprint", "error", problems=(f"fingerprint failed: {exc.message}",)))
    timings["fingerprint"] = time.perf_counter() - t0
    return fps, pdqs


def _match(scanner: Scanner, media: Media, pdqs: list[str] | tuple[str, ...], evidence: list[Detection],
           timings: dict[str, float], tenant: str | None = None) -> list[dict[str, Any]]:
    """Query the hash banks as they are now: never cached, so an entry added a second ago already matches
    (DS-09, CC-12 stay-down).  ``tenant`` limits the lookup to its own banks and those shared with it (issue 18
    finding 2; None: the operator, every bank); video and audio also go against ``vpdq`` and ``audio`` banks
    (whole-file fingerprints, :mod:`synthguard.fingerprint.signals`; issue 20)."""
    t0 = time.perf_counter()
    banks = scanner.banks()
    matches: list[dict[str, Any]] = []
    if banks is not None:
        with banks.pinned():  # one state of the banks for every query of this upload, one round trip
            matches = _query_banks(banks, media, pdqs, evidence, tenant)
    timings["banks"] = time.perf_counter() - t0
    return matches


def _query_banks(banks: Banks, media: Media, pdqs: list[str] | tuple[str, ...], evidence: list[Detection],
                 tenant: str | None) -> list[dict[str, Any]]:
    """SHA-256 and PDQ (per frame for video) against the tenant's visible banks, then vPDQ/audio banks."""
    matches: list[dict[str, Any]] = []
    visible = None if tenant is None else banks.visible(tenant)
    queries = [("sha256", media.sha256)] + [("pdq", h) for h in pdqs]
    hits: dict[tuple[Any, Any], dict[str, Any]] = {}
    for kind, value in queries:
        try:
            found = banks.query(kind, value, banks=visible)
        except SynthGuardError as exc:
            evidence.append(Detection("banks", "error", problems=(f"bank lookup ({kind}) failed: {exc.message}",)))
            continue
        for m in found:
            d = {"kind": kind, **_as_dict(m)}
            key = (d.get("bank"), d.get("entry_id"))
            if key in hits:  # a video's frames: keep the closest frame and count the frames that matched
                hits[key]["frames"] = hits[key].get("frames", 1) + 1
                if d.get("distance", 0) < hits[key].get("distance", 0):
                    hits[key] |= {k: v for k, v in d.items() if k != "frames"}
            else:
                hits[key] = d
    # vPDQ and landmark banks (issue 20) for video and audio; banks of plugin hashers for any modality
    if media.modality in (Modality.VIDEO, Modality.AUDIO) or banks.plugin_kinds(media.modality):
        for kind in banks.signal_kinds(media, banks=visible):
            try:
                found = banks.query_signal(kind, banks.media_queries(kind, media), banks=visible)
            except SynthGuardError as exc:  # a video without sound has no audio fingerprint: say so
                evidence.append(Detection("banks", "info", problems=(f"no {kind} fingerprint: {exc.message}",)))
                continue
            for m in found:
                hits[(m.bank, m.entry_id)] = _as_dict(m)
    for d in hits.values():
        if media.modality is Modality.VIDEO and d["kind"] == "pdq":
            d["frames"] = d.get("frames", 1)
            d["frame_share"] = round(d["frames"] / max(1, len(pdqs)), 3)
            if d["frame_share"] < VIDEO_FRAME_SHARE:
                continue
        matches.append(d)
    return matches


def scan_entry(result: Any) -> dict[str, Any]:
    """The ledger body of a scan: hashes, the verdict and the evidence sources only (no personal data).

    Shared by ``SynthGuard.scan(log=True)`` and the queued scan job, which commits it with the job's completion."""
    return {"sha256": result.sha256, "verdict": result.verdict, "label_value": result.label_value,
            "matches": [{"bank": m["bank"], "entry_id": m["entry_id"], "distance": m["distance"]}
                        for m in result.matches],
            "sources": sorted({e["source"] for e in result.evidence if e.get("kind") != "error"})}


def log_scan(scanner: Scanner, result: ScanResult) -> None:
    """The scan's ledger entry (DS-10) in a transaction of its own, so the platform can later show what it knew
    and decided about an upload (LM-16)."""
    t0 = time.perf_counter()
    with scanner.units() as uow:
        scanner.ledger.append(uow.session, "scan", scan_entry(result))
    result.timings["ledger"] = time.perf_counter() - t0


def _as_dict(m: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(m) and not isinstance(m, type):
        return dataclasses.asdict(m)
    return dict(m) if isinstance(m, dict) else dict(vars(m))


def decide(evidence: list[Detection]) -> tuple[str, str | None]:
    """Art. 6(1): the strongest tier any non-error evidence supports ("1" < "2" < "3"), else ``none``."""
    tiers = [d.label_value for d in evidence if d.label_value and d.kind != "error"]
    value = min(tiers) if tiers else None
    return (VERDICTS[value] if value else "none"), value


def _stripped(evidence: list[Detection]) -> Detection | None:
    """DS-21: a watermark is present but no metadata label (AIGC block or C2PA manifest) accompanies it."""
    marks = [d for d in evidence if d.source.endswith(WATERMARK_TECHNIQUES) and d.kind in ("label", "trace")]
    metadata = [d for d in evidence if d.source.endswith(METADATA_TECHNIQUES) and d.kind != "info"]
    if not marks or metadata:
        return None
    which = ", ".join(sorted({d.source for d in marks}))
    return Detection("scan.ds21", "info", evidence={"flag": "metadata_stripped", "watermarks": which},
                     problems=(f"watermark present ({which}) but the file carries no AIGC metadata or C2PA "
                               "manifest: the metadata label may have been stripped (DS-21)",))


def _actions(scanner: Scanner, media: Media, verdict: str, value: str | None, evidence: list[Detection],
             matches: list[dict[str, Any]], flag: Detection | None, propagator: str | None,
             propagate_id: str | None, tenant: str | None = None) -> tuple[list[dict[str, Any]], Media | None]:
    notices = load_notices()
    actions: list[dict[str, Any]] = []
    output = None
    if value is not None:
        n = notices["notices"][verdict]
        actions.append({"action": "notice", "verdict": verdict, "label_value": value, "badge": n["badge"],
                        "text": n["text"], "placement": n["placement"], "citations": n["citations"]})
        act, output = _propagate(scanner, media, value, propagator, propagate_id)
        if output is not None and any(d.source.endswith(".c2pa") and d.kind != "error" for d in evidence):
            act["note"] = ("the C2PA manifest binds the uploaded bytes and reads as invalid on the rewritten file; "
                           "keep the original for verification or re-sign with the platform's key (EU-10)")
        actions.append(act)
    if verdict == "suspected_ai" and all(d.advisory for d in evidence if d.label_value == "3"):
        r = notices["flags"]["review"]
        actions.append({"action": "review", "reason": "advisory detector over its calibrated threshold",
                        "text": r["text"], "citations": r["citations"]})
    if flag is not None:
        f = notices["flags"]["metadata_stripped"]
        actions.append({"action": "flag", "flag": "metadata_stripped", "text": f["text"], "citations": f["citations"]})
    partial = [d for d in evidence if d.evidence.get("full_search") == "not run"]
    if partial and value != "1":  # scan_watermark_search=priors: a worker finishes the geometric search later
        actions.append({"action": "deep_scan", "reason": "watermark searched at the re-encode/resize/crop "
                        "geometries only; run the full search (rotations, crops with rescaling) in a worker",
                        "sources": sorted({d.source for d in partial})})
    if matches:
        actions.append({"action": "review", "reason": "hash bank match",
                        "banks": sorted({str(m.get("bank")) for m in matches})})
    actions += scan_actions(scanner.settings(), verdict, matches, tenant)  # the moderation policy's block (CC-12)
    return actions, output


def _propagate(scanner: Scanner, media: Media, value: str, propagator: str | None, propagate_id: str | None
               ) -> tuple[dict[str, Any], Media | None]:
    """LM-17: the platform's code and content id into the (one) AIGC block; a new block with ``value`` if none."""
    act: dict[str, Any] = {"action": "write_propagator", "label_value": value, "content_propagator": propagator,
                           "propagate_id": propagate_id, "citations": [{"row": "LM-17"}, {"row": "GB-11"}]}
    if not propagator:
        return act | {"status": "pending", "reason": "no platform (propagator) code given"}, None
    if propagate_id is None:

        propagate_id = act["propagate_id"] = new_content_id()
    marker = scanner.marker(f"{media.modality.value}.metadata")
    if not hasattr(marker, "propagate"):
        return act | {"status": "unsupported",
                      "reason": f"writing propagator fields into {media.format} files is not supported"}, None
    try:
        out = marker.propagate(media, propagator, propagate_id, label=value)
    except SynthGuardError as exc:
        return act | {"status": "failed", "reason": exc.message}, None
    return act | {"status": "written", "sha256": out.sha256}, out


def _claims_view(evidence: list[Detection]) -> dict[str, Any]:
    """The provenance pointers among the mark readings, in the shape ``inspect`` gives them."""
    view: dict[str, Any] = {"aigc": None, "aigc_integrity": None, "c2pa": None, "watermark": None}
    for d in evidence:
        if d.source.endswith(".aigc") and d.kind == "label" and view["aigc"] is None:
            view["aigc"], view["aigc_integrity"] = d.evidence.get("aigc"), d.evidence.get("integrity")
        elif d.source.endswith(".c2pa") and d.kind in ("label", "info") and view["c2pa"] is None:
            view["c2pa"] = {"present": True, **d.evidence}
        elif d.source.endswith(".watermark") and view["watermark"] is None and (
                d.kind == "label" or (d.kind == "trace" and d.evidence.get("content_id"))):
            # a mark whose token resolved to a record names its provider even when the file is not that record's
            # output (a crop PDQ does not survive, or a copied mark): the claim is attributed and proven, and the
            # detection itself stays a "suspected" tier for review
            view["watermark"] = {"detected": True, **d.evidence}
    return view


def foreign_claims(scanner: Scanner, media: Media, evidence: list[Detection]) -> list[Detection]:
    """Issue 19: another provider's label, manifest or mark, attributed to the trust list entry and resolved at
    that provider's lookup API with this platform's credential (``trust.attribution``): one ``trust.attribution``
    evidence entry per claim, naming the provider, its key fingerprint and source, the content id and whether the
    record's inclusion proof verified.  A foreign AIGC label's ReservedCode1 becomes "unverifiable" (never
    "invalid", GB-12).  Per upload, not cached: the trust list and the provider's answer may change."""
    view = _claims_view(evidence)
    if not (view["aigc"] or view["c2pa"] or view["watermark"]):
        return []
    trust = for_settings(scanner.settings())
    claims = attribute(view, trust, scanner.ours)
    if not claims:
        return []
    resolve_all(claims, trust, sha256=media.sha256, pixel_sha256=media.content_sha256)
    if any(c["mark"] == "aigc" for c in claims):  # the label reading: foreign, so unverifiable here
        for i, d in enumerate(evidence):
            if d.source.endswith(".aigc") and d.evidence.get("integrity") == "invalid":
                kept = tuple(p for p in d.problems if not p.startswith("ReservedCode1 does not verify"))
                evidence[i] = dataclasses.replace(
                    d, confidence=0.9, evidence=d.evidence | {"integrity": "unverifiable"},
                    problems=(*kept, "ReservedCode1 is another provider's code: only its producer can check it"))
    out = []
    for c in claims:
        problems = list(c.get("problems", []))
        if c["status"] == NOT_VERIFIABLE:
            problems.append(f"{c['mark']}: {c['detail']}: not verifiable here")
        elif c["status"] != VERIFIED:
            problems.append(f"{c['mark']}: {c['status']}: {c.get('reason', c['detail'])}")
        out.append(Detection("trust.attribution", "info", evidence=summary(c), problems=tuple(problems)))
    return out


@dataclass(frozen=True)
class Analysis:
    """What the bytes alone decide: every mark and detector reading and the fingerprints.  Identical bytes
    under the same settings, keys and detectors give the same analysis, so it is what the verdict cache keeps
    (scan_cache.py); bank matches, the declaration, actions and the ledger entry are each upload's own."""

    evidence: tuple[Detection, ...]
    fingerprints: dict[str, Any]
    pdqs: tuple[str, ...]
    search: str  # the image watermark search it ran: "full" or "priors"
    timings: dict[str, float] = field(default_factory=dict)


def warm(scanner: Scanner) -> float:
    """Analyse one small generated image, nothing stored: a server process imports its decoders and builds its
    detectors before its first upload rather than during it; returns the seconds it took."""
    t0 = time.perf_counter()
    pixels = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=90)
    analyse(scanner, Media.from_bytes(buf.getvalue(), "warm-up.jpg"))
    return time.perf_counter() - t0


def analyse(scanner: Scanner, media: Media, *, detectors: list[Detector] | None = None,
            watermark_search: str | None = None) -> Analysis:
    """Decode, read every mark, fingerprint and run the detectors: the expensive, content-only half of a scan."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    media.decode()  # decode now: a corrupt upload is an error, not a "none" verdict
    timings["decode"] = time.perf_counter() - t0
    mark_dets, ml_dets = scanner.detectors(media.modality)
    search = watermark_search or scanner.settings().scan_watermark_search
    if watermark_search is not None and media.modality is Modality.IMAGE:
        mark_dets = [d.with_search(watermark_search) if hasattr(d, "with_search")  # federated (issue 19)
                     else WatermarkDetector(scanner.marker("image.watermark"), search=watermark_search)
                     if d.name == "image.watermark" else d for d in mark_dets]
    evidence = _run_all(mark_dets, media, timings, STAGES, "marks")
    fps, pdqs = _hashes(scanner, media, evidence, timings)
    evidence += _run_all(ml_dets if detectors is None else detectors, media, timings, {}, "detectors")
    return Analysis(tuple(evidence), fps, tuple(pdqs), search, timings)


def finish(scanner: Scanner, media: Media, analysis: Analysis, *, declared_ai: bool = False,
           propagator: str | None = None, propagate_id: str | None = None, tenant: str | None = None) -> ScanResult:
    """The upload's own half of a scan: current bank matches, its declaration, the verdict, its actions and
    propagator fields (LM-14, LM-17), the likeness check (DS-15)."""
    timings = dict(analysis.timings)
    evidence = list(analysis.evidence)
    matches = _match(scanner, media, analysis.pdqs, evidence, timings, tenant)
    t0 = time.perf_counter()
    evidence += foreign_claims(scanner, media, evidence)
    timings["trust"] = time.perf_counter() - t0
    if declared_ai:
        evidence.append(Detection("upload.declaration", "declaration", 1.0, 1.0, "2",
                                  {"declared_ai": True}))
    flag = _stripped(evidence)
    if flag is not None:
        evidence.append(flag)
    verdict, value = decide(evidence)
    t0 = time.perf_counter()
    actions, output = _actions(scanner, media, verdict, value, evidence, matches, flag, propagator, propagate_id,
                               tenant)
    timings["actions"] = time.perf_counter() - t0
    if verdict != "none":  # DS-15/CC-01/US-09: AI content depicting a protected person (only if any is registered)
        t0 = time.perf_counter()
        likeness_evidence, likeness_actions = scanner.likeness(media, verdict)
        evidence += likeness_evidence
        actions += likeness_actions
        timings["likeness"] = time.perf_counter() - t0
    return ScanResult(media.name, media.sha256, verdict, value, [d.to_dict() for d in evidence], matches, actions,
                      dict(analysis.fingerprints), timings, output)


def scan(scanner: Scanner, source: Source, *, declared_ai: bool = False, propagator: str | None = None,
         propagate_id: str | None = None, detectors: list[Detector] | None = None,
         watermark_search: str | None = None, cache: ScanCache | None = None, tenant: str | None = None) -> ScanResult:
    """Scan one upload (see the module docstring). ``detectors`` replaces the configured ML detectors;
    ``watermark_search`` overrides ``settings.scan_watermark_search`` (the deferred deep scan runs "full");
    with ``cache`` an earlier analysis of identical bytes is reused (not with explicit ``detectors``);
    ``tenant`` limits the bank lookup to that tenant's banks and those shared with it (None: every bank)."""
    media = scanner.media(source)
    if cache is not None and detectors is None:
        analysis = cache.analysis(media, watermark_search)
    else:
        analysis = analyse(scanner, media, detectors=detectors, watermark_search=watermark_search)
    return finish(scanner, media, analysis, declared_ai=declared_ai, propagator=propagator, propagate_id=propagate_id,
                  tenant=tenant)


@dataclass(kw_only=True)
class Scanner:
    """The platform's scan (this module's journey), built from narrow dependencies (issue 23): the settings (a
    getter, read at each scan), the operator's limits on media, markers, a modality's detectors and hashers, the
    hash banks, a unit-of-work factory and the ledger (the scan's entry), whether a claim names one of this
    deployment's records, the likeness check (DS-15) and the verdict cache (None: off)."""

    settings: Callable[[], Settings]
    media: Callable[[Source], Media]
    marker: Callable[[str], Marker]
    detectors: Callable[[Modality], tuple[list[Detector], list[Detector]]]
    hashers: Callable[[Modality], list[Hasher]]
    banks: Callable[[], Banks | None]
    units: Callable[[], AbstractContextManager[UnitOfWork]]
    ledger: Ledger
    ours: Callable[[str | None, str | None], bool]
    likeness: Callable[[Media, str], tuple[list[Detection], list[dict[str, Any]]]]
    cache: Callable[[], ScanCache | None] = lambda: None

    def scan(self, source: Source, *, declared_ai: bool = False, propagator: str | None = None,
             propagate_id: str | None = None, detectors: list[Detector] | None = None,
             watermark_search: str | None = None, tenant: str | None = None, cached: bool = True,
             log: bool = True) -> ScanResult:
        """Scan one upload (:func:`scan`), as ``SynthGuard.scan`` does: ``cached`` reuses the verdict cache's
        analysis of identical bytes; ``log`` writes the scan's ledger entry (:meth:`log`) so the platform can
        later show what it knew and decided about an upload (DS-10, LM-16)."""
        result = scan(self, source, declared_ai=declared_ai, propagator=propagator, propagate_id=propagate_id,
                      detectors=detectors, watermark_search=watermark_search, tenant=tenant,
                      cache=self.cache() if cached else None)
        if log:
            self.log(result)
        return result

    def analyse(self, media: Media, *, detectors: list[Detector] | None = None,
                watermark_search: str | None = None) -> Analysis:
        """The content-only half of a scan (:func:`analyse`)."""
        return analyse(self, media, detectors=detectors, watermark_search=watermark_search)

    def finish(self, media: Media, analysis: Analysis, *, declared_ai: bool = False, propagator: str | None = None,
               propagate_id: str | None = None, tenant: str | None = None) -> ScanResult:
        """The upload's own half of a scan (:func:`finish`)."""
        return finish(self, media, analysis, declared_ai=declared_ai, propagator=propagator,
                      propagate_id=propagate_id, tenant=tenant)

    def log(self, result: ScanResult) -> None:
        """The scan's ledger entry in a transaction of its own (:func:`log_scan`)."""
        log_scan(self, result)

    def warm(self) -> float:
        """Build the detectors and import the decoders before the first upload (:func:`warm`); seconds taken."""
        return warm(self)


__all__ = ["VERDICTS", "Analysis", "ScanResult", "Scanner", "analyse", "banks_for", "decide", "detectors_for",
           "finish", "load_notices", "log_scan", "scan", "scan_entry"]
