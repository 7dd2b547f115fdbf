"""Calibrate an operator's detector on their own labelled data: ROC AUC, EER, threshold at a target FPR.

A detector's score only counts towards a "suspected" verdict (LM-15) with a threshold calibrated here: the
smallest threshold whose false-positive rate on the real (human-made) set is at most ``target_fpr``. The
threshold and the figures behind it are written back into the manifest atomically, beside the weights' SHA-256,
so a later swap of the weights invalidates the calibration (the loader refuses a mismatching hash).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from synthguard.detection.onnx import OnnxDetector, read_document
from synthguard.errors import SynthGuardError, ValidationError
from synthguard.media import Media, write_atomic

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


@dataclass(frozen=True)
class Evaluation:
    detector: str
    n_real: int
    n_fake: int
    auc: float
    eer: float
    eer_threshold: float
    target_fpr: float
    threshold: float
    fpr: float  # achieved on the real set at ``threshold``
    tpr: float
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def roc_auc(real: np.ndarray, fake: np.ndarray) -> float:
    """P(score(fake) > score(real)) + 0.5 P(tie): the Mann-Whitney form of the area under the ROC curve."""
    from scipy.stats import rankdata

    ranks = rankdata(np.concatenate([real, fake]))
    n_r, n_f = len(real), len(fake)
    return float((ranks[n_r:].sum() - n_f * (n_f + 1) / 2) / (n_r * n_f))


def roc_points(real: np.ndarray, fake: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, fpr, tpr) for "flag when score >= t", t over every distinct score (descending) plus +inf."""
    ts = np.concatenate([[np.inf], np.unique(np.concatenate([real, fake]))[::-1]])
    fpr = np.array([(real >= t).mean() for t in ts])
    tpr = np.array([(fake >= t).mean() for t in ts])
    return ts, fpr, tpr


def equal_error_rate(real: np.ndarray, fake: np.ndarray) -> tuple[float, float]:
    """(EER, threshold): the operating point where the false-positive and false-negative rates cross."""
    ts, fpr, tpr = roc_points(real, fake)
    fnr = 1.0 - tpr
    i = int(np.argmin(np.abs(fpr - fnr)))
    return float((fpr[i] + fnr[i]) / 2), float(ts[i])


def threshold_at_fpr(real: np.ndarray, target_fpr: float) -> float:
    """Smallest threshold t with mean(real >= t) <= target_fpr (ties at the boundary stay unflagged)."""
    if not 0.0 <= target_fpr < 1.0:
        raise ValidationError("target FPR must be in [0, 1), got {target_fpr}", values={"target_fpr": target_fpr})
    desc = np.sort(real)[::-1]
    k = int(math.floor(target_fpr * len(desc) + 1e-9))  # false positives allowed
    return float(np.nextafter(desc[k], np.inf)) if k < len(desc) else float(desc[-1])


def image_files(directory: Path) -> list[Path]:
    d = Path(directory)
    if not d.is_dir():
        raise ValidationError("not a directory", path=d, hint="Pass a folder of labelled images.")
    return sorted(p for p in d.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _scores(detector: OnnxDetector, files: Iterable[Path], skipped: list[str]) -> np.ndarray:
    out = []
    for f in files:
        try:
            out.append(detector.score(Media.open(f)))
        except SynthGuardError as exc:
            skipped.append(f"{f}: {exc.message}")
    return np.array(out, dtype=np.float64)


def evaluate(manifest: str | Path, real_dir: str | Path, fake_dir: str | Path, *, target_fpr: float = 0.01,
             write: bool = True) -> Evaluation:
    """Score both sets, compute AUC/EER and the threshold for ``target_fpr``; store it in the manifest."""
    detector = OnnxDetector.load(manifest)  # refuses weights whose SHA-256 does not match
    skipped: list[str] = []
    real = _scores(detector, image_files(Path(real_dir)), skipped)
    fake = _scores(detector, image_files(Path(fake_dir)), skipped)
    if len(real) == 0 or len(fake) == 0:
        raise ValidationError("need at least one readable real and one fake image "
                              "(got {real_count} real, {fake_count} fake)",
                              values={"real_count": len(real), "fake_count": len(fake)},
                              hint="Check --real and --fake point at folders of images.")
    threshold = threshold_at_fpr(real, target_fpr)
    eer, eer_t = equal_error_rate(real, fake)
    warnings = []
    if target_fpr > 0 and len(real) < 1 / target_fpr:
        warnings.append(f"only {len(real)} real images: an FPR of {target_fpr} cannot be estimated reliably "
                        f"(use at least {math.ceil(10 / target_fpr)})")
    ev = Evaluation(detector.name, len(real), len(fake), roc_auc(real, fake), eer, eer_t, target_fpr, threshold,
                    float((real >= threshold).mean()), float((fake >= threshold).mean()), skipped, warnings)
    if write:
        store_threshold(Path(manifest), ev)
    return ev


def store_threshold(manifest: Path, ev: Evaluation) -> None:
    """Write ``threshold`` and ``calibration`` into the manifest (same format), atomically."""
    doc = read_document(manifest)
    doc["threshold"] = ev.threshold
    doc["calibration"] = {
        "target_fpr": ev.target_fpr, "fpr": ev.fpr, "tpr": ev.tpr, "auc": ev.auc, "eer": ev.eer,
        "n_real": ev.n_real, "n_fake": ev.n_fake, "sha256": doc.get("sha256"),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if manifest.suffix == ".json":
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    else:
        text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
    write_atomic(manifest, text.encode("utf-8"))


__all__ = ["Evaluation", "equal_error_rate", "evaluate", "image_files", "roc_auc", "roc_points", "store_threshold",
           "threshold_at_fpr"]
