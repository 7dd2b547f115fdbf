"""The provider's journey: label one generated file with every mark the law asks for, and record it (DS-07,
DS-16..19, LM-*).  The ``Labeler`` service of issue 23's composition root.

Built from narrow dependencies, not from the core object: the settings (read when used), a media factory, the
markers, the fingerprinting, a unit-of-work factory, the ledger and vault, the identity, compliance and consent
checks, the watermark payload and ledger reference of a content id, and a clock (a test can fix the time).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from synthguard.compliance import Compliance
from synthguard.config import Settings
from synthguard.consent.gate import GateResult
from synthguard.errors import ValidationError, WatermarkError
from synthguard.identity.accounts import Identity
from synthguard.ids import new_content_id
from synthguard.inspection import LABEL_ORDERS
from synthguard.ledger.erasure import SubjectVault
from synthguard.ledger.log import Ledger
from synthguard.marking.aigc import parse_provider_code
from synthguard.marking.base import LabelContext, Marker
from synthguard.media import Media, Modality, check_output_name, write_atomic
from synthguard.plugins import PluginContext, Plugins, hashers_for
from synthguard.store.schema import Fingerprint, Record
from synthguard.store.unit_of_work import UnitOfWork
from synthguard.times import utcnow

LABEL_ORDER = LABEL_ORDERS[Modality.IMAGE]
EXPLICIT = ("visible", "notice")  # marker techniques that --no-visible turns off
Source = str | os.PathLike[str] | bytes | Media
Clock = Callable[[], datetime]
ConsentGate = Callable[..., GateResult]  # consent.gate.enforce bound to its context (DS-15)
_TECHNIQUE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


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


@dataclass(kw_only=True)
class Labeler:
    """Mark and record generated content: images, audio, video and text share this journey.

    Built from narrow dependencies (issue 23); the callables are read when a label is made, so a core without
    keys or a compliance store can still be built."""

    settings: Callable[[], Settings]
    media: Callable[[Source], Media]
    marker: Callable[[str], Marker]
    fingerprints: Callable[[Media], dict[str, str]]
    units: Callable[[], AbstractContextManager[UnitOfWork]]
    ledger: Ledger
    vault: Callable[[], SubjectVault]
    identity: Identity
    compliance: Callable[[], Compliance]
    consent: ConsentGate
    payload: Callable[[str], bytes]
    ledger_ref: Callable[[str], str]
    clock: Clock = utcnow

    def label(self, source: Source, *, user: str, producer: str | None = None, output: str | Path | None = None,
              visible: bool = True, watermark: bool | None = None, c2pa: bool | None = None,
              model: str | None = None, input_sha256: str | None = None, technique: str | None = None,
              client_ip: str | None = None, sources: Sequence[Source] | None = None,
              purpose: str | None = None, tenant: str | None = None) -> LabelResult:
        """Label one file and record it; the markers come from ``LABEL_ORDERS``.  ``user`` is an account of
        ``tenant`` (None: the one tenant that has that id; issue 18 finding 13)."""
        settings = self.settings()
        producer = self.producer(producer)
        media = self.media(source)
        media.decode()  # decode fully now: corrupt input fails before anything is written
        with self.units() as uow:
            account = self.identity.require_verified(uow.users, user, tenant)
            tenant, key = account.tenant, account.id
        technique = check_technique(technique, purpose)
        # DS-05 emergency switch: the technique's switch and, when the consent purpose differs, the purpose's too
        compliance = self.compliance()
        compliance.switches.guard(media.modality.value, technique, tenant=tenant)
        if purpose and purpose != technique:
            compliance.switches.require([purpose], tenant=tenant)
        if settings.require_terms_acceptance:  # DS-06: the current agreement accepted before generating
            compliance.terms.require_accepted(user, tenant=tenant)
        gate = None
        if sources:  # DS-15: every face/voice in the sources needs that person's separate consent
            gate = self.consent([self.media(x) for x in sources], purpose=purpose or "", user=user,
                                 tenant=tenant, output_sha256=media.sha256)
        content_id = new_content_id()
        ctx = LabelContext(
            content_id=content_id, producer=producer, created=self.clock(), user=None, model=model,
            watermark_payload=self.payload(content_id), ledger_ref=self.ledger_ref(content_id),
        )
        switches = {"watermark": settings.watermark if watermark is None else watermark,
                    "metadata": True, "c2pa": settings.c2pa if c2pa is None else c2pa}
        marks: list[str] = []
        warnings: list[str] = []
        layout = None
        out = media
        for name in LABEL_ORDERS[media.modality]:
            kind = name.split(".", 1)[1]
            if not (visible if kind in EXPLICIT else switches.get(kind, True)):
                continue
            marker = self.marker(name)
            if kind in EXPLICIT:
                layout = explicit_spec(marker, out)
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
        fingerprints = {"sha256": out.sha256, "pixel_sha256": out.content_sha256} | self.fingerprints(out)
        with self.units() as uow:  # the record, its ledger entry and the IP: all or nothing
            entry = self.ledger.append(uow.session, "generation", {
                "content_id": ctx.content_id, "producer": ctx.producer, "user": self.identity.user_ref(key),
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
                self.vault().store(uow.session, key, f"ip={client_ip}", entry_index=entry.index)
            if output is not None:  # inside the transaction: a failed write rolls the record back
                write_atomic(output, out.data)
        return LabelResult(ctx.content_id, str(output) if output is not None else None, marks, out.sha256,
                           ctx.producer, user, entry.index, wm, layout, warnings)

    def producer(self, producer: str | None) -> str:
        """The GB-14 provider code to label with: the one given, else the configured one (GB-10 characters)."""
        settings = self.settings()
        code = producer or settings.producer
        if not code:
            raise ValidationError("no producer code given",
                                  hint="Pass --producer CODE or set SYNTHGUARD_PRODUCER (GB-14 provider code).")
        if not all(0x21 <= ord(c) <= 0x7E and c not in '"\\' for c in code):
            raise ValidationError("producer code {code!r} has characters GB 45438 Annex E does not allow (GB-10)",
                                  hint="Use the provider code: printable ASCII letters and digits, no spaces.",
                                  values={"code": code})
        if settings.strict_producer_code:
            parse_provider_code(code, strict=True)
        return code


def check_technique(technique: str | None, purpose: str | None) -> str | None:
    """The DS-26 technique recorded on the generation record: the explicit one, else the consent purpose
    (``face_swap``, ``voice_clone`` ...), so switches (DS-05) and the consent check (DS-15) see every gated edit."""
    value = technique or purpose or None
    if value is not None and not _TECHNIQUE.match(value):
        raise ValidationError("technique {technique!r} is not a valid technique name", values={"technique": value},
                              hint="Use a lower-case name such as face_swap, voice_clone or text_to_image (DS-26).")
    return value


def explicit_spec(marker: Any, media: Media) -> dict[str, Any] | None:
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


__all__ = ["EXPLICIT", "LABEL_ORDER", "LabelResult", "Labeler", "Source", "check_technique", "content_fingerprints",
           "explicit_spec"]
