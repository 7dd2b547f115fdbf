"""Re-inspection of recent outputs (DS-18, DS-19, LM-05, LM-10, GB-03, GB-09, GB-10).

SynthGuard does not keep the labelled files, so re-inspection has two levels, and the evidence says which:

* **records** — what the ledger says was applied: each sampled ``records`` row is compared with its ``generation``
  ledger entry (same content id, output hash and marks), and its stored label layout is measured;
* **files** — when the operator passes ``--outputs DIR`` (where the provider keeps its outputs), files are matched to
  records by SHA-256 and read again with ``sg.inspect()``: labels found, AIGC fields well-formed, sizes.

``ctx`` is the audit run's :class:`synthguard.compliance.probes.Context` (its units of work, settings, inspector).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthguard.errors import SynthGuardError, ValidationError
from synthguard.inspection import LABEL_ORDERS
from synthguard.media import Modality
from synthguard.store.schema import Record

GB10 = frozenset(chr(c) for c in range(0x21, 0x7F)) - {'"', "\\"}


@dataclass
class Sample:
    content_id: str
    modality: str
    producer: str
    output_sha256: str
    marks: list[str]
    layout: dict[str, Any] | None
    ledger_problem: str | None
    file: str | None = None
    inspected: dict[str, Any] | None = None
    file_problem: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def samples(ctx: Any) -> tuple[int, list[Sample]]:
    """``(records in the period, the sample)``: every record up to ``ctx.sample_size``, else evenly spaced ones."""
    if "samples" in ctx.cache:
        return ctx.cache["samples"]
    with ctx.env.units() as uow:
        ids = uow.compliance.period_content_ids(ctx.since, ctx.until, ctx.tenant)
        total = len(ids)
        if total > ctx.sample_size:
            step = total / ctx.sample_size
            ids = [ids[int(i * step)] for i in range(ctx.sample_size)]
        rows = sorted(uow.compliance.records(ids), key=lambda r: (r.created_at, r.content_id))
        idx = [r.ledger_index for r in rows if r.ledger_index is not None]
        entries = {row.idx: (row.kind, json.loads(row.data)["body"])
                   for row in uow.compliance.ledger_entries(idx)} if idx else {}
        out = [Sample(r.content_id, r.modality, r.producer, r.output_sha256, list(r.marks or []),
                      (r.details or {}).get("visible_label"), _ledger_problem(r, entries.get(r.ledger_index)))
               for r in rows]
    if ctx.outputs is not None:
        _reinspect(ctx, out)
    ctx.cache["samples"] = (total, out)
    return total, out


def _ledger_problem(r: Record, entry: tuple[str, dict[str, Any]] | None) -> str | None:
    if r.ledger_index is None or entry is None:
        return "no ledger entry for the record (DS-18)"
    kind, body = entry
    if kind != "generation":
        return f"the record points at a {kind!r} ledger entry, not a generation entry"
    for key, want in (("content_id", r.content_id), ("output_sha256", r.output_sha256), ("producer", r.producer),
                      ("modality", r.modality), ("model", r.model), ("marks", list(r.marks or []))):
        if body.get(key) != want:
            return f"ledger entry {r.ledger_index} disagrees with the record on {key}"
    return None


def _index_outputs(root: Path, max_bytes: int) -> dict[str, Path]:
    if not root.is_dir():
        raise ValidationError("--outputs {root} is not a directory",
                              hint="Point --outputs at the folder (or mounted bucket) where the service keeps outputs.",
                              values={"root": root})
    found: dict[str, Path] = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.stat().st_size <= max_bytes:
            h = hashlib.sha256()
            with p.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            found.setdefault(h.hexdigest(), p)
    return found


def _reinspect(ctx: Any, out: list[Sample]) -> None:
    files = _index_outputs(ctx.outputs, ctx.settings.max_bytes)
    for smp in out:
        path = files.get(smp.output_sha256)
        if path is None:
            continue
        smp.file = str(path)
        try:
            smp.inspected = ctx.env.inspect(path)
        except SynthGuardError as exc:
            smp.file_problem = exc.message


def applicable(modality: str, kinds: list[str]) -> list[str]:
    try:
        order = LABEL_ORDERS[Modality(modality)]
    except ValueError:
        return []
    return [k for k in kinds if f"{modality}.{k}" in order]


def found_in_file(inspected: dict[str, Any], kind: str) -> bool:
    """Whether ``sg.inspect()`` found a mark of this kind in the file itself."""
    if kind in ("visible", "notice"):
        return bool((inspected.get("visible_label") or {}).get("found"))
    if kind == "metadata":
        return bool(inspected.get("aigc"))
    if kind == "watermark":
        return bool((inspected.get("watermark") or {}).get("detected"))
    if kind == "c2pa":
        return bool((inspected.get("c2pa") or {}).get("present"))
    return False


def aigc_problems(smp: Sample) -> list[str]:
    """GB-09/GB-10/GB-14: the record's own fields, and the file's AIGC block when the file was re-read."""
    problems = []
    if not smp.producer or not set(smp.producer) <= GB10:
        problems.append("producer code has characters GB 45438 Annex E does not allow (GB-10)")
    if not smp.content_id or not set(smp.content_id) <= GB10:
        problems.append("content id is not a GB-10-safe ProduceID")
    if f"{smp.modality}.metadata" not in smp.marks:
        problems.append("no AIGC metadata was applied (LM-10)")
    if smp.inspected is not None:
        aigc = smp.inspected.get("aigc") or {}
        if not aigc:
            problems.append("the file carries no AIGC block")
        else:
            for key, want in (("Label", "1"), ("ContentProducer", smp.producer), ("ProduceID", smp.content_id)):
                if aigc.get(key) != want:
                    problems.append(f"file AIGC {key} is {aigc.get(key)!r}, expected {want!r} (GB-09)")
            if smp.inspected.get("aigc_count", 0) != 1:
                problems.append(f"file has {smp.inspected.get('aigc_count')} AIGC blocks, expected one (GB-08)")
            if smp.inspected.get("aigc_integrity") == "invalid":
                problems.append("ReservedCode1 does not verify (GB-12)")
    return problems
