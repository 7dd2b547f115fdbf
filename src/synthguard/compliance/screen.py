"""Provider-side review of inputs and outputs (DS Art. 10: DS-08, DS-09; DS-03 prohibited uses).

* The **feature library** is keyword and pattern lists per category (impersonation, fraud, ncii ...).  It is
  versioned by an append-only change log (who, when, why; migration 0004 makes the table reject UPDATE/DELETE): the
  library version is the id of the newest change, and the lists are the replay of the log up to that version.
* **Prompts** are matched after NFKC normalisation and case folding, with whitespace and punctuation removed for
  keywords (so "换 脸" still meets "换脸"); patterns are regular expressions.
* **Reference media** are matched against the hash banks; **outputs** are checked for their labels and against
  the banks before release.
* Every decision is stored (prompt only as SHA-256) with the library version and the engine version that decided
  it, and appended to the ledger (kind ``moderation``, event ``screen``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from synthguard.compliance import adapters
from synthguard.compliance.common import UserRef, check_name, check_text, ledger_body, sha256_text
from synthguard.consent.gate import GateResult
from synthguard.errors import NotFoundError, ValidationError
from synthguard.fingerprint.banks import Banks
from synthguard.ledger.log import Ledger
from synthguard.media import Media
from synthguard.store.compliance_tables import ScreenDecision, ScreenLibraryChange
from synthguard.store.protocols import Units
from synthguard.times import iso

ENGINE = "synthguard-screen/1"
KINDS = ("keyword", "pattern")
MAX_PROMPT = 100_000
_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)

ConsentCheck = Callable[..., GateResult]
"""``consent.gate.check`` bound to its context: ``(media list, *, purpose, user, tenant) -> GateResult`` (DS-15)."""


@dataclass(frozen=True)
class LibraryEntry:
    change_id: int
    list_name: str
    kind: str
    value: str


@dataclass
class Decision:
    stage: str
    decision: str  # allow | block | review
    subject_sha256: str
    library_version: int
    engine: str = ENGINE
    matched: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    id: int | None = None
    content_id: str | None = None
    ledger_index: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalise(text: str, *, squeeze: bool = False) -> str:
    out = unicodedata.normalize("NFKC", text).casefold()
    return _STRIP.sub("", out) if squeeze else out


def _compile(value: str) -> re.Pattern[str]:
    try:
        return re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise ValidationError("pattern {value!r} is not a valid regular expression: {exc}",
                              hint="Fix the pattern (Python `re` syntax) or add it as a keyword.",
                              values={"value": value, "exc": exc}) from None


class Screen:
    """The screen behind ``sg.compliance.screen``, from narrow dependencies (issue 23): units of work, the ledger,
    the pseudonymiser, and for media the loader, the inspector, the hash banks and the consent gate's check."""

    def __init__(self, units: Units, ledger: Ledger, user_ref: UserRef, *, media: Callable[[Any], Media],
                 inspect: Callable[[Any], dict[str, Any]], banks: Callable[[], Banks], consent_check: ConsentCheck):
        self.units, self.ledger, self.user_ref = units, ledger, user_ref
        self.media, self.inspect, self.banks, self.consent_check = media, inspect, banks, consent_check

    # --- the feature library (DS-09) ------------------------------------------------------
    def add(self, list_name: str, value: str, *, kind: str = "keyword", reason: str, actor: str,
            tenant: str = "default") -> dict[str, Any]:
        return self._change("add", list_name, value, kind=kind, reason=reason, actor=actor, tenant=tenant)

    def remove(self, list_name: str, value: str, *, kind: str = "keyword", reason: str, actor: str,
               tenant: str = "default") -> dict[str, Any]:
        if not any(e.list_name == list_name and e.kind == kind and e.value == value
                   for e in self.entries(tenant=tenant)):
            raise NotFoundError("{kind} {value!r} is not in list {list_name!r}",
                                hint="List the library: `synthguard compliance library list`.",
                                values={"kind": kind, "value": value, "list_name": list_name})
        return self._change("remove", list_name, value, kind=kind, reason=reason, actor=actor, tenant=tenant)

    def _change(self, action: str, list_name: str, value: str, *, kind: str, reason: str, actor: str,
                tenant: str) -> dict[str, Any]:
        check_name(list_name, "list", "Use a lower-case category name such as impersonation, fraud or ncii.")
        if kind not in KINDS:
            raise ValidationError("unknown entry kind {kind!r}", hint="Use keyword or pattern.", values={"kind": kind})
        value = check_text(value, "the value", max_len=500)
        if kind == "pattern":
            _compile(value)
        elif not normalise(value, squeeze=True):
            raise ValidationError("keyword {value!r} has no letters or digits", hint="Use a pattern instead.",
                                  values={"value": value})
        reason = check_text(reason, "the reason")
        actor = check_text(actor, "the actor", max_len=128)
        with self.units() as uow:
            entry = self.ledger.append(uow.session, "feature", ledger_body(
                self.user_ref, "feature_library", actor, action=action, list=list_name, kind=kind,
                value_sha256=sha256_text(value), tenant=tenant))
            row = uow.compliance.add_library_change(tenant=tenant, actor=actor, action=action, list_name=list_name,
                                                    kind=kind, value=value, reason=reason, ledger_index=entry.index)
            return _change_dict(row)

    def version(self, *, tenant: str = "default") -> int:
        with self.units() as uow:
            return uow.compliance.library_version(tenant)

    def changes(self, *, tenant: str = "default") -> list[dict[str, Any]]:
        with self.units() as uow:
            return [_change_dict(r) for r in uow.compliance.library_changes(tenant)]

    def entries(self, *, tenant: str = "default", version: int | None = None) -> list[LibraryEntry]:
        """The library as of ``version`` (default: now): the replay of the change log."""
        live: dict[tuple[str, str, str], int] = {}
        with self.units() as uow:
            for r in uow.compliance.library_changes(tenant, up_to=version):
                key = (r.list_name, r.kind, r.value)
                if r.action == "add":
                    live.setdefault(key, r.id)
                else:
                    live.pop(key, None)
        return [LibraryEntry(cid, *key) for key, cid in sorted(live.items(), key=lambda kv: kv[1])]

    # --- decisions (DS-08) ----------------------------------------------------------------
    def prompt(self, text: str, *, tenant: str = "default", content_id: str | None = None) -> Decision:
        """Screen a generation prompt against the current feature library; block on any match (DS-03)."""
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("the prompt is empty", hint="Pass the prompt text to screen.")
        if len(text) > MAX_PROMPT:
            raise ValidationError("the prompt is longer than {MAX_PROMPT} characters",
                                  values={"MAX_PROMPT": MAX_PROMPT})
        with self.units() as uow:  # one snapshot: entries and version agree
            version = uow.compliance.library_version(tenant)
        entries = self.entries(tenant=tenant, version=version)
        plain, squeezed = normalise(text), normalise(text, squeeze=True)
        matched = []
        for e in entries:
            hit = (normalise(e.value, squeeze=True) in squeezed) if e.kind == "keyword" \
                else bool(_compile(e.value).search(plain))
            if hit:
                matched.append({"list": e.list_name, "kind": e.kind, "change_id": e.change_id})
        decision = Decision("prompt", "block" if matched else "allow", sha256_text(text), version, matched=matched,
                            content_id=content_id)
        if not entries:
            decision.notes.append("the feature library is empty: nothing to match (DS-09)")
        return self._record(decision, tenant)

    def reference(self, media: Any, *, tenant: str = "default", content_id: str | None = None,
                  purpose: str | None = None, user: str | None = None) -> Decision:
        """Screen reference media (a face or voice to edit): the hash banks, and with ``purpose`` and ``user`` the
        consent gate (DS-15; it decides without logging here, label() logs when it enforces)."""
        m = self.media(media)
        matches = [x.to_dict() for x in self.banks().query_media(m)]
        matched: list[dict[str, Any]] = [{"bank": x["bank"], "entry_id": x["entry_id"], "distance": x["distance"]}
                                         for x in matches]
        notes = []
        if purpose and user and adapters.consent_gate_available():
            gate = self.consent_check([m], purpose=purpose, user=user, tenant=tenant)
            matched += [{"consent": p["code"], "modality": p["modality"]} for p in gate.persons
                        if p["decision"] == "deny"]
            notes += [f"consent gate: {gate.decision}", *gate.notes]
        elif adapters.consent_gate_available():
            notes.append("consent not checked: pass purpose and user to run the consent gate (DS-15)")
        else:
            notes.append("consent not checked: synthguard.consent is not installed (DS-15)")
        d = Decision("reference", "block" if matched else "allow", m.sha256, self.version(tenant=tenant),
                     matched=matched, notes=notes, content_id=content_id)
        return self._record(d, tenant)

    def output(self, media: Any, *, tenant: str = "default", content_id: str | None = None) -> Decision:
        """Screen an output before release: it must carry its labels and must not match a hash bank."""
        m = self.media(media)
        found = self.inspect(m)
        matches = [x.to_dict() for x in self.banks().query_media(m)]
        missing = [k for k, ok in (("aigc_metadata", bool(found.get("aigc"))),
                                   ("explicit_label", bool((found.get("visible_label") or {}).get("found"))))
                   if not ok]
        matched = [{"bank": x["bank"], "entry_id": x["entry_id"], "distance": x["distance"]} for x in matches]
        matched += [{"missing_label": k} for k in missing]
        decision = "block" if matches else ("review" if missing else "allow")
        d = Decision("output", decision, m.sha256, self.version(tenant=tenant), matched=matched,
                     content_id=content_id or (found.get("aigc") or {}).get("ProduceID"))
        return self._record(d, tenant)

    def decisions(self, *, tenant: str | None = "default", limit: int = 100) -> list[dict[str, Any]]:
        with self.units() as uow:
            return [_decision_dict(r) for r in uow.compliance.decisions(tenant, limit)]

    def _record(self, d: Decision, tenant: str) -> Decision:
        with self.units() as uow:
            entry = self.ledger.append(uow.session, "moderation", {
                "event": "screen", "stage": d.stage, "decision": d.decision, "subject_sha256": d.subject_sha256,
                "library_version": d.library_version, "engine": d.engine, "content_id": d.content_id,
                "matched": d.matched})
            row = uow.compliance.add_decision(tenant=tenant, stage=d.stage, subject_sha256=d.subject_sha256,
                                              decision=d.decision, matched=d.matched,
                                              library_version=d.library_version, engine=d.engine,
                                              content_id=d.content_id, ledger_index=entry.index)
            d.id, d.ledger_index = row.id, entry.index
        return d


def _change_dict(r: ScreenLibraryChange) -> dict[str, Any]:
    return {"version": r.id, "at": iso(r.at), "tenant": r.tenant, "actor": r.actor, "action": r.action,
            "list": r.list_name, "kind": r.kind, "value": r.value, "reason": r.reason, "ledger_index": r.ledger_index}


def _decision_dict(r: ScreenDecision) -> dict[str, Any]:
    return {"id": r.id, "at": iso(r.at), "stage": r.stage, "decision": r.decision, "subject_sha256": r.subject_sha256,
            "matched": r.matched, "library_version": r.library_version, "engine": r.engine,
            "content_id": r.content_id, "ledger_index": r.ledger_index}
