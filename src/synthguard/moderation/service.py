"""The moderation service (``sg.moderation``): one object behind the API, the console, the CLI and the sweeper.

Every write runs in one transaction with its case-history rows and ledger entries, so nothing is half done;
hash-bank writes (stay-down) run right after the commit, and :meth:`Moderation.sweep` re-applies any that a
crash interrupted.  Time comes from ``clock`` so SLA tests can move it (US-04: alerts at 24 h and 36 h).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from synthguard.errors import ConflictError, NotFoundError, ValidationError
from synthguard.i18n import N_, current
from synthguard.media import Media
from synthguard.moderation import cases, content, notify, refutation, reports, sla, takedown
from synthguard.moderation.actions import apply
from synthguard.moderation.deps import ModerationDeps
from synthguard.moderation.policy import Policy, for_settings
from synthguard.store.moderation_tables import ModCase, ModContent

if TYPE_CHECKING:
    from synthguard.store.protocols import Unit

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class Moderation:
    """Built by the composition root from :class:`ModerationDeps` (issue 23); ``clock`` is an attribute a test may
    replace."""

    def __init__(self, deps: ModerationDeps, *, clock: Clock | None = None):
        self.deps = deps
        self.units = deps.units
        self.clock: Clock = clock or _now

    @property
    def policy(self) -> Policy:
        """The operator's policy file (``moderation_policy``) or the profile's shipped policy (cached)."""
        return for_settings(self.deps.settings())

    # --- content -------------------------------------------------------------------------
    def register(self, tenant: str, ref: str, media: Media | bytes, *, uploader: str | None = None,
                 uploader_email: str | None = None, declared_ai: bool = False, actor: str = "platform"
                 ) -> dict[str, Any]:
        """Scan an upload, apply the policy and keep it; a stay-down match raises UploadBlockedError (403)."""
        now = self.clock()
        media = self.deps.media(media)
        if uploader_email is not None and not takedown.EMAIL.fullmatch(uploader_email):
            raise ValidationError("uploader_email does not look like an address")
        with self.units() as uow:
            c, scan, rules = content.register(self.deps, uow, tenant, ref, media, uploader=uploader,
                                              declared_ai=declared_ai)
            if c is None:
                self.deps.ledger.append(uow.session, "moderation", {
                    "event": "upload_blocked", "tenant": tenant, "sha256": media.sha256,
                    "rules": [r.id for r in rules]}, time=now)
                for case in content.removal_cases(uow, tenant, media.sha256, scan.fingerprints.get("pdq")):
                    cases.record(self.deps, uow, case, "reupload_blocked", actor, now,  # CC-12 knowledge, on record
                                 reason=N_("re-upload blocked at scan time"), details={"sha256": media.sha256})
            else:
                if uploader and uploader_email:
                    c.uploader_contact = self.deps.vault().store(uow.session, f"uploader:{tenant}:{uploader}",
                                                                 uploader_email)
                self.deps.ledger.append(uow.session, "moderation", {
                    "event": "content_registered", "tenant": tenant, "ref": ref, "sha256": c.sha256,
                    "verdict": c.verdict, "status": c.status, "rules": [r.id for r in rules]}, time=now)
                opened = [self._open(uow, tenant, "scan", r.case_kind, c, now, actor=actor, rule=r.id,
                                     automated=True, details={"verdict": scan.verdict,
                                                              "banks": sorted({m["bank"] for m in scan.matches})})
                          for r in rules if r.case_kind]
                out = {"content": cases.content_ref(c), "scan": scan.to_dict(), "rules": [r.id for r in rules],
                       "cases": [x.ticket for x in opened], "blocked": False}
        if c is None:
            raise content.UploadBlockedError(
                "upload blocked: it matches content removed earlier (policy rules {rule_ids})",
                values={"rule_ids": ", ".join(r.id for r in rules)})
        for action in out["scan"]["actions"]:  # scan_watermark_search=priors: the deep scan reaches this content
            if action["action"] == "deep_scan":
                job, upload_id, _ = self.deps.deep_scan(media, tenant=tenant, declared_ai=declared_ai,
                                                        content_ref=ref)
                action |= {"job_id": job["id"], "upload_id": upload_id}
        return out

    def rescanned(self, tenant: str, ref: str, scan: Any, *, actor: str = "deep-scan") -> dict[str, Any]:
        """A later, deeper scan of registered content (jobs/deep.py): its verdict and evidence replace the upload
        scan's, its policy rules restrict and label it, and open the review cases no earlier scan opened."""
        now = self.clock()
        with self.units() as uow:
            c = content.find(uow, tenant, ref)
            rules, _ = content.scan_decision(self.deps, scan, tenant)
            c.verdict, c.evidence, c.updated_at = scan.verdict, content.evidence_summary(scan), now
            if c.status == "visible" and any({"restrict", "block"} & set(r.actions) for r in rules):
                c.status = "restricted"
            if any("label" in r.actions for r in rules) and not any(n.get("type") == "label" for n in c.notices):
                c.notices = [*c.notices, content.label_notice(scan)]
            seen = {x.rule for x in cases.for_content(uow, c.id)}
            opened = [self._open(uow, tenant, "scan", r.case_kind, c, now, actor=actor, rule=r.id, automated=True,
                                 details={"verdict": scan.verdict, "deep_scan": True,
                                          "banks": sorted({m["bank"] for m in scan.matches})})
                      for r in rules if r.case_kind and r.id not in seen]
            self.deps.ledger.append(uow.session, "moderation", {
                "event": "content_rescanned", "tenant": tenant, "ref": ref, "sha256": c.sha256, "verdict": c.verdict,
                "status": c.status, "rules": [r.id for r in rules]}, time=now)
            return {"content": cases.content_ref(c), "rules": [r.id for r in rules],
                    "cases": [x.ticket for x in opened]}

    def content(self, tenant: str, ref: str) -> dict[str, Any]:
        with self.units() as uow:
            c = content.find(uow, tenant, ref)
            return {**(cases.content_ref(c) or {}), "cases": [x.ticket for x in cases.for_content(uow, c.id)]}

    def media(self, tenant: str, case_id: int | str, reviewer: str, *, blurred: bool = False) -> tuple[bytes, str]:
        """The case's media.  Unblurred only to the reviewer who claimed the case, and every such view is a logged
        reveal (issue 18 finding 9); ``blurred`` gives anyone who may decide an unrecognisable image preview."""
        now = self.clock()
        with self.units() as uow:
            case = cases.get(uow, tenant, case_id)
            c = uow.moderation.content(case.content_id) if case.content_id else None
            if c is None:
                raise NotFoundError("case {ticket} names no stored content", values={"ticket": case.ticket})
            path = content.media_path(self.deps, c)
            if blurred:
                return content.blurred_preview(path.read_bytes(), c.mime)
            cases.own(case, reviewer)
            cases.record(self.deps, uow, case, "reveal", reviewer, now, reason=N_("media revealed"))
            return path.read_bytes(), c.mime

    # --- cases ---------------------------------------------------------------------------
    def _open(self, uow: Unit, tenant: str, source: str, kind: str, c: ModContent | None, now: datetime, *,
              actor: str, rule: str | None = None, automated: bool = False, location: str | None = None,
              details: dict[str, Any] | None = None, deadline: datetime | None = None,
              secret: str | None = None) -> ModCase:
        t = self.policy.complaint(kind)
        case = ModCase(tenant=tenant, ticket=cases.new_ticket(), source=source, kind=kind, category=t.category,
                       jurisdiction=self.policy.jurisdiction, rule=rule or f"{self.policy.jurisdiction}.{kind}",
                       content_id=c.id if c else None, location=location or (c.ref if c else None), state="opened",
                       priority=t.priority, opened_at=now, valid_at=now,
                       deadline_at=deadline or self.policy.deadline(kind, now), escalations=[],
                       automated=automated, details=details or {},
                       secret_hash=cases.secret_hash(secret) if secret else None)
        uow.moderation.add(case, flush=True)
        cases.record(self.deps, uow, case, "open", actor, now, details={"rule": case.rule, "category": t.category})
        return case

    def submit(self, tenant: str, data: dict[str, Any], *, role: str | None = None, actor: str = "public"
               ) -> dict[str, Any]:
        """A complaint, victim notice or regulator request: validated, ticketed, timed, acknowledged (DS-12)."""
        notice = takedown.validate(self.policy, data, role=role)
        now = self.clock()
        secret = secrets.token_urlsafe(18)
        with self.units() as uow:
            c = content.resolve_location(uow, tenant, notice.location) if notice.location else None
            case = self._open(uow, tenant, takedown.source_for(notice.kind, role), notice.kind.id, c, now,
                              actor=actor, location=notice.location, secret=secret,
                              details={"description_chars": len(notice.description),
                                       "good_faith": notice.good_faith, "content_found": c is not None,
                                       "lang": current()})  # later notices go out in the complainant's language
            entry = self.deps.ledger.append(uow.session, "complaint", {
                "event": "complaint_received", "ticket": case.ticket, "kind": case.kind, "source": case.source},
                time=now)
            case.contact = takedown.store_personal(self.deps.vault(), uow, case.ticket, notice, entry.index)
            if notice.description:
                self.deps.vault().store(uow.session, f"complaint:{case.ticket}", f"description={notice.description}",
                                    entry_index=entry.index)
            fields = {"kind_title": notice.kind.title, "at": now.isoformat(timespec="minutes"),
                      "deadline": case.deadline_at.isoformat(timespec="minutes") if case.deadline_at else "-",
                      "status_url": "/complaints/status"}
            notify.queue(uow, case, "received", "complainant", case.contact, **fields)  # DSA-04
            if c is not None and notice.kind.takedown:  # CC-10: forward the notice to the uploader
                notify.queue(uow, case, "forwarded", "uploader", c.uploader_contact, ref=c.ref, **fields)
                cases.record(self.deps, uow, case, "forward", actor, now, reason=N_("notice forwarded to the uploader"))
            return {"ticket": case.ticket, "secret": secret, "state": case.state, "kind": case.kind,
                    "deadline_at": case.deadline_at.isoformat() if case.deadline_at else None,
                    "content_found": c is not None}

    def status(self, ticket: str, secret: str, *, client: str = "-") -> dict[str, Any]:
        """The complainant's view by ticket + secret (rate limited against brute force)."""
        now = self.clock()
        with self.units() as uow:
            case = takedown.check_secret(uow, ticket, secret, client, now)
            view = takedown.status_view(case, self.policy, now) if case else None
        if view is None:
            raise takedown.wrong_secret()
        return view

    def queue(self, tenant: str) -> list[dict[str, Any]]:
        now = self.clock()
        with self.units() as uow:
            return [cases.case_dict(c, uow.moderation.content(c.content_id) if c.content_id else None, now=now)
                    | {"kind_title": self._kind_title(c.kind)} for c in cases.queue(uow, tenant)]

    def _kind_title(self, kind: str) -> str:
        """The complaint type's title from the policy (English; pages translate it), else the kind code."""
        t = self.policy.complaint_types.get(kind)
        return t.title if t else kind

    def case(self, tenant: str, case_id: int | str) -> dict[str, Any]:
        now = self.clock()
        with self.units() as uow:
            case = cases.get(uow, tenant, case_id)
            c = uow.moderation.content(case.content_id) if case.content_id else None
            out = cases.case_dict(case, c, now=now) | {"history": cases.history(uow, case),
                                                        "kind_title": self._kind_title(case.kind)}
            kind = self.policy.complaint_types.get(case.kind)
            out["allowed_actions"] = list(kind.actions) if kind else []
            out["reason_codes"] = self.policy.reason_codes
            return out

    def claim(self, tenant: str, reviewer: str, case_id: int | None = None) -> dict[str, Any] | None:
        now = self.clock()
        with self.units() as uow:
            if case_id is not None:
                cases.get(uow, tenant, case_id)  # 404 across tenants
            case = cases.claim(self.deps, uow, tenant, reviewer, now, case_id)
            if case is None and case_id is not None:
                raise ConflictError("case {case} is not waiting in the queue (claimed by someone else?)",
                                    values={"case": case_id})
            return self._dict(uow, case, now) if case else None

    def release(self, tenant: str, case_id: int | str, reviewer: str) -> dict[str, Any]:
        now = self.clock()
        with self.units() as uow:
            case = cases.get(uow, tenant, case_id, lock=True)
            cases.release(self.deps, uow, case, reviewer, now)
            return self._dict(uow, case, now)

    def reveal(self, tenant: str, case_id: int | str, reviewer: str) -> dict[str, Any]:
        """Log that a reviewer unblurred the media (click to reveal is an audited act)."""
        now = self.clock()
        with self.units() as uow:
            case = cases.get(uow, tenant, case_id)
            cases.own(case, reviewer)  # only the claimed reviewer sees the media (finding 9)
            ev = cases.record(self.deps, uow, case, "reveal", reviewer, now, reason=N_("media revealed"))
            return {"ticket": case.ticket, "revealed_at": now.isoformat(), "ledger_index": ev.ledger_index}

    def act(self, tenant: str, case_id: int | str, reviewer: str, action: str, reason_code: str, *,
            note: str = "", report_decision: str | None = None, refutation: dict[str, str] | None = None
            ) -> dict[str, Any]:
        """A reviewer's decision on a claimed case (see actions.py)."""
        now = self.clock()
        with self.units() as uow:
            case = cases.get(uow, tenant, case_id, lock=True)
            cases.own(case, reviewer)
            result = apply(self, uow, case, reviewer, action, reason_code, now, note=note,
                           report_decision=report_decision, refutation=refutation)
            out = self._dict(uow, case, now) | {"effects": result.effects}
        for ticket, c_id in result.stay_down:
            self._stay_down(tenant, c_id, ticket, reviewer)
        return out

    def close(self, tenant: str, case_id: int | str, actor: str, *, reason: str = "") -> dict[str, Any]:
        now = self.clock()
        with self.units() as uow:
            case = cases.get(uow, tenant, case_id, lock=True)
            cases.close(self.deps, uow, case, actor, now, reason=reason)
            return self._dict(uow, case, now)

    @staticmethod
    def _dict(uow: Unit, case: ModCase, now: datetime) -> dict[str, Any]:
        return cases.case_dict(case, uow.moderation.content(case.content_id) if case.content_id else None, now=now)

    def _stay_down(self, tenant: str, content_id: int, ticket: str, actor: str) -> None:
        with self.units() as uow:
            c = uow.moderation.content(content_id)
        if c is not None and c.tenant == tenant:
            content.stay_down(self.deps, c, ticket, actor)

    # --- counter-notice, proof of suit, appeal (CC-11, DSA-08) ------------------------------
    def counter_notice(self, tenant: str, case_id: int | str, data: dict[str, Any], *, actor: str) -> dict[str, Any]:
        """The uploader disputes a removal (CC 1196): needs a statement and real identity; timer to restore."""
        statement, name = str(data.get("statement") or "").strip(), str(data.get("name") or "").strip()
        if not statement or not name:
            raise ValidationError("a counter-notice needs a statement and the uploader's real name (CC-11)")
        now = self.clock()
        with self.units() as uow:
            case = cases.get(uow, tenant, case_id, lock=True)
            if case.state != "actioned" or case.action not in ("remove", "restrict"):
                raise ConflictError("case {ticket} has no removal or restriction to dispute",
                                    values={"ticket": case.ticket})
            case.counter_at = now
            case.restore_at = now + timedelta(days=self.policy.counter_notice_days)
            ev = cases.record(self.deps, uow, case, "counter_notice", actor, now, to="appealed",
                              reason=N_("uploader counter-notice"))
            self.deps.vault().store(uow.session, f"complaint:{case.ticket}",
                                    f"counter_notice name={name}; {statement[:4000]}", entry_index=ev.ledger_index)
            notify.queue(uow, case, "counter_notice", "complainant", case.contact,
                         restore_at=case.restore_at.isoformat(timespec="minutes"))
            return self._dict(uow, case, now)

    def prove_suit(self, ticket: str, secret: str, evidence: bytes, *, client: str = "-") -> dict[str, Any]:
        """The notifier shows a complaint or suit was filed: the measures stay (CC-11); a reviewer decides."""
        if not evidence:
            raise ValidationError("attach the proof of the complaint or suit (a PDF or image)")
        now = self.clock()
        with self.units() as uow:
            case = takedown.check_secret(uow, ticket, secret, client, now)
            if case is not None:
                if case.state != "appealed" or case.restore_at is None:
                    raise ConflictError("there is no counter-notice to answer on this ticket")
                case.restore_at = None
                self._restart_clock(case, now)  # back to a reviewer, with a fresh deadline
                case.details = dict(case.details) | {"suit_proof_sha256": hashlib.sha256(evidence).hexdigest()}
                cases.record(self.deps, uow, case, "suit_proof", "complainant", now,
                             reason=N_("proof of complaint or suit"))
                view = takedown.status_view(case, self.policy, now)
        if case is None:
            raise takedown.wrong_secret()
        return view

    def appeal(self, ticket: str, secret: str, reason: str, *, client: str = "-") -> dict[str, Any]:
        """The notifier appeals a dismissal within the window (DSA-08): back to the queue for a human."""
        now = self.clock()
        with self.units() as uow:
            case = takedown.check_secret(uow, ticket, secret, client, now)
            if case is not None:
                view = takedown.status_view(case, self.policy, now)
                if not view["can_appeal"]:
                    raise ConflictError("this decision cannot be appealed (not dismissed, or the window is over)")
                case.claimed_by = None
                self._restart_clock(case, now)
                cases.record(self.deps, uow, case, "appeal", "complainant", now, to="appealed", reason=reason[:2000])
                view = takedown.status_view(case, self.policy, now)
        if case is None:
            raise takedown.wrong_secret()
        return view

    def _restart_clock(self, case: ModCase, now: datetime) -> None:
        """A re-review (appeal, proof of suit) gets the case type's deadline again, from now."""
        case.valid_at, case.escalations = now, []
        case.deadline_at = self.policy.deadline(case.kind, now)

    # --- timers ----------------------------------------------------------------------------
    def sweep(self, tenant: str | None = None) -> dict[str, Any]:
        """Fire due SLA alerts and restorations (see sla.py); run it every few minutes."""
        return sla.sweep(self, tenant)

    def outbox(self, tenant: str, *, pending_only: bool = False) -> list[dict[str, Any]]:
        return notify.outbox(self.deps, tenant, pending_only=pending_only)

    def send_notifications(self, transport: Any = None) -> dict[str, int]:
        return notify.send(self.deps, transport=transport)

    # --- public pages and reports ----------------------------------------------------------
    def refutation(self, slug: str) -> dict[str, Any]:
        with self.units() as uow:
            return refutation.public_view(uow, slug)

    def notices(self, tenant: str, ref: str) -> dict[str, Any]:
        """What viewers see next to an item: labels, notices, refutations, availability (DS-11, LM-13)."""
        with self.units() as uow:
            return refutation.notices_for(uow, tenant, ref)

    def public_media(self, tenant: str, ref: str) -> tuple[bytes, str]:
        """The item itself (bytes, media type) while it is available; NotFoundError once removed (the stored copy
        stays for the case)."""
        with self.units() as uow:
            c = content.find(uow, tenant, ref)
            if c.status not in ("visible", "restricted"):
                raise NotFoundError("content {ref!r} is not available", values={"ref": ref})
            path, mime = content.media_path(self.deps, c), c.mime
        return path.read_bytes(), mime

    def report(self, tenant: str, period: str, *, lang: str | None = None) -> dict[str, Any]:
        """The month's report data under the current policy (reports.py; DS-10, DS-11, DSA-11)."""
        return reports.build(self.units, self.policy, tenant, period, lang=lang)

    def tenants(self) -> list[str]:
        with self.units() as uow:
            return sorted(set(uow.moderation.case_tenants()))


__all__ = ["Moderation"]
