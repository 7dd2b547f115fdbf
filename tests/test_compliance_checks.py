"""`synthguard compliance check` on live deployments: every check passes on a compliant deployment and fails on a
deployment that breaks exactly its requirement (DS-05..DS-22, LM-*, GB-*, CSL-01; issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from synthguard.compliance import adapters
from synthguard.compliance.register import ART7_KINDS
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.store.compliance_tables import PolicyDocument
from synthguard.store.schema import Record
from tests.conftest import image_bytes

AGREEMENT = "服务协议 Service agreement v1. 第5条 标识 / Labels: every output carries an AI label (LM-19)."
NOTICE = "本服务使用深度合成算法，生成内容将添加标识。This service uses deep synthesis; outputs are labelled."


def _settings(settings: Settings, **extra) -> Settings:
    return Settings.load(home=settings.home, producer="ACME", filing_number="Beijing-ACME-202601010001",
                         filing_link="https://beian.cac.gov.cn/", service_name="ACME Draw",
                         tool_description="Text-to-image generation; no face or voice editing.", **extra)


@pytest.fixture
def deploy(settings, tmp_path):
    """A compliant cn deployment with one labelled, screened, logged and stored output (model m1)."""
    sg = SynthGuard.open(_settings(settings))
    outputs = tmp_path / "outputs"
    outputs.mkdir()
    make_compliant(sg, outputs)
    yield sg, outputs
    sg.close()


def make_compliant(sg: SynthGuard, outputs: Path, user: str = "u-1") -> str:
    c = sg.compliance
    due = (datetime.now(UTC) + timedelta(days=180)).date().isoformat()
    for kind in ART7_KINDS:
        c.register.add(kind, "1.0", owner="compliance@acme", review_due=due, actor="t")
    c.terms.publish("service_agreement", "1", AGREEMENT, actor="t")
    c.terms.publish("first_use_notice", "1", NOTICE, actor="t")
    c.screen.add("impersonation", "换脸", reason="DS-03 seed", actor="t")
    c.training.add("licensed-photos", source="stock licence 2026-01", legal_basis="licence", actor="t")
    c.training.link("m1", "licensed-photos", actor="t")
    sg.add_user(user)
    sg.verify_user(user, "mobile", identifier="+86 138 0013 8000")
    c.terms.accept(user)
    assert c.screen.prompt("a watercolour of a lighthouse").decision == "allow"
    out = outputs / "a.png"
    res = sg.label(image_bytes("PNG", (320, 200)), user=user, output=out, model="m1")
    assert c.screen.output(out, content_id=res.content_id).decision == "allow"
    sg.checkpoint()
    return res.content_id


def statuses(sg: SynthGuard, **kw) -> dict[str, str]:
    return {r.id: r.status for r in sg.compliance.check(**kw).results}


def result(sg: SynthGuard, check_id: str, **kw):
    return next(r for r in sg.compliance.check(**kw).results if r.id == check_id)


def test_compliant_deployment_passes_every_applicable_check(deploy):
    sg, outputs = deploy
    got = statuses(sg, outputs=outputs)
    assert {k for k, v in got.items() if v == "fail"} == set(), got
    assert got["consent.gate"] == got["assessment.biometric_tools"] == "not_applicable"  # no face/voice tools
    assert got["moderation.complaint_sla"] == "not_applicable"  # no complaint in the period: nothing to show
    r = result(sg, "labels.explicit", outputs=outputs)
    assert r.evidence["files_checked"] == 1 and "re-read with sg.inspect()" in r.evidence["basis"]
    assert "records only" in result(sg, "labels.explicit").evidence["basis"]  # honest about what was re-read


def test_labels_fail_when_outputs_were_made_without_them(deploy):
    sg, outputs = deploy
    user = "u-1"
    sg.label(image_bytes("PNG", (300, 300)), user=user, output=outputs / "b.png", visible=False, model="m1")
    r = result(sg, "labels.explicit", outputs=outputs)
    assert r.status == "fail" and r.evidence["missing"] == 1 and r.fix and "DS-19" in r.rows
    assert statuses(sg)["labels.implicit"] == "pass"


def test_reinspection_catches_a_file_whose_label_was_stripped(deploy, tmp_path):
    """The record says the labels were applied, the stored file says otherwise: only --outputs can see it."""
    sg, outputs = deploy
    from PIL import Image

    src = outputs / "a.png"
    other = tmp_path / "out2"
    other.mkdir()
    Image.open(src).save(other / "a.png")  # re-encoded: metadata gone, bytes differ -> not matched by sha256
    assert result(sg, "labels.implicit", outputs=other).evidence["files_checked"] == 0
    # a file that matches the record's hash but lost its AIGC block cannot exist (the hash binds the bytes), so the
    # file-level check is exercised by a record whose stored output was replaced in place:
    data = (other / "a.png").read_bytes()
    import hashlib

    with sg.db.session() as s:
        s.execute(update(Record).values(output_sha256=hashlib.sha256(data).hexdigest()))
    r = result(sg, "labels.implicit", outputs=other)
    assert r.status == "fail" and r.evidence["files_missing"] == 1
    assert result(sg, "ledger.generation_logged").status == "fail"  # the record no longer matches its ledger entry


def test_visible_size_fails_below_five_percent(deploy):
    sg, _ = deploy
    with sg.db.session() as s:
        rec = s.query(Record).one()
        rec.details = {"visible_label": rec.details["visible_label"] | {"ratio": 0.04}}
    r = result(sg, "labels.visible_size")
    assert r.status == "fail" and r.evidence["too_small"] == 1 and "GB-03" in r.rows


def test_aigc_fields_fail_for_a_producer_code_with_a_space(deploy):
    sg, _ = deploy
    with sg.db.session() as s:
        s.execute(update(Record).values(producer="ACME Studio"))
    r = result(sg, "labels.aigc_fields")
    assert r.status == "fail" and "GB-10" in r.evidence["examples"][0]


def test_identity_fails_when_not_enforced(settings, tmp_path):
    sg = SynthGuard.open(_settings(settings, require_verified_identity=False))
    try:
        make_compliant(sg, tmp_path)
        sg.add_user("u-2")  # never verified, still allowed to generate because the policy is off
        sg.compliance.terms.accept("u-2")
        sg.label(image_bytes("PNG", (200, 200)), user="u-2", model="m1")
        r = result(sg, "identity.enforced")
        assert r.status == "fail" and r.evidence["identity_required"] is False
        assert r.evidence["unverified_generations"] == 1
    finally:
        sg.close()


def test_consent_gate_fails_when_voice_cloning_is_offered_without_it(settings, tmp_path, monkeypatch):
    sg = SynthGuard.open(_settings(settings, tool_techniques=["voice_clone"]))
    try:
        make_compliant(sg, tmp_path)
        monkeypatch.setattr(adapters, "consent_gate_available", lambda: False)
        r = result(sg, "consent.gate")
        assert r.status == "fail" and r.evidence["offered"] == ["voice_clone"] and "DS-15" in r.rows
        monkeypatch.setattr(adapters, "consent_gate_available", lambda: True)
        assert result(sg, "consent.gate").status == "pass"  # cn profile: consent required by default
    finally:
        sg.close()


def test_face_swap_labelled_without_the_consent_gate_fails(deploy):
    """The gate runs only when label() gets the source media; an edit labelled without them bypassed it (DS-15)."""
    sg, _ = deploy
    sg.label(image_bytes("PNG", (200, 200)), user="u-1", model="m1", technique="face_swap")
    got = statuses(sg)
    assert got["consent.gate"] == "fail" and got["assessment.biometric_tools"] == "fail"
    assert result(sg, "consent.gate").evidence["ungated_generations"] == 1
    sg.compliance.register.add("security_assessment", "2026-11", owner="sec@acme", review_due="2099-01-01",
                               actor="t", evidence="assessment.pdf")
    assert statuses(sg)["assessment.biometric_tools"] == "pass"


def test_face_swap_that_passed_the_gate_passes(settings, tmp_path):
    from synthguard.consent.gate import GateResult

    sg = SynthGuard.open(_settings(settings, tool_techniques=["face_swap"]))
    try:
        make_compliant(sg, tmp_path)
        out = image_bytes("PNG", (200, 200))
        media = sg.media(out)
        sg.consent_gate.log(GateResult("allow", "face_swap", "u-1", persons=[], grants=["g-1"]),
                            output_sha256=media.sha256)
        sg.label(out, user="u-1", model="m1", technique="face_swap")
        r = result(sg, "consent.gate")
        assert r.status == "pass" and r.evidence["biometric_generations"] == 1, r.reasons
    finally:
        sg.close()


def test_consent_gate_fails_when_unknown_faces_are_allowed(settings, tmp_path):
    sg = SynthGuard.open(_settings(settings, tool_techniques=["face_swap"], consent_unknown_policy="allow"))
    try:
        make_compliant(sg, tmp_path)
        r = result(sg, "consent.gate")
        assert r.status == "fail" and r.evidence["consent_required"] is False
    finally:
        sg.close()


def test_retention_fails_below_six_months(deploy):
    sg, _ = deploy
    short = sg.settings.model_copy(update={"log_retention_days": 30})  # bypasses validation, as a bad deploy could
    sg.settings = short
    r = result(sg, "retention.logs")
    assert r.status == "fail" and r.evidence["retention_days"] == 30 and "CSL-01" in r.rows


def test_checkpoints_fail_when_none_or_stale(settings, tmp_path):
    sg = SynthGuard.open(_settings(settings))
    try:
        sg.add_user("u-9")  # ledger not empty (identity entry), never checkpointed
        sg.verify_user("u-9", "mobile", identifier="+86 138 0013 8000")
        assert result(sg, "ledger.checkpoints").status == "fail"
        sg.checkpoint()
        assert result(sg, "ledger.checkpoints").status == "pass"
        from synthguard.store.ledger_tables import CHECKPOINTS

        with sg.db.session() as s:
            s.execute(CHECKPOINTS.update().values(created_at=datetime.now(UTC) - timedelta(hours=30)))
        r = result(sg, "ledger.checkpoints")
        assert r.status == "fail" and r.evidence["checkpoint_age_hours"] >= 30
    finally:
        sg.close()


def test_moderation_checks_use_the_adapter(deploy, monkeypatch):
    sg, _ = deploy
    assert result(sg, "moderation.complaint_sla").status == "not_applicable"  # no complaint yet
    monkeypatch.setattr(adapters, "moderation_summary", lambda sg, **kw: None)
    assert result(sg, "moderation.complaint_sla").reasons[0].startswith("no moderation data")
    data = {"complaints": 3, "complaints_late": 1, "complaints_overdue_open": 0, "refutation_cases": 2,
            "refutations_unreported": 0}
    monkeypatch.setattr(adapters, "moderation_summary", lambda sg, **kw: data)
    got = statuses(sg)
    assert got["moderation.complaint_sla"] == "fail" and got["moderation.refutations_reported"] == "pass"
    data |= {"complaints_late": 0, "refutations_unreported": 1}
    got = statuses(sg)
    assert got["moderation.complaint_sla"] == "pass" and got["moderation.refutations_reported"] == "fail"


def test_register_fails_when_a_system_is_missing_or_overdue(deploy):
    sg, _ = deploy
    with sg.db.session() as s:
        s.execute(update(PolicyDocument).where(PolicyDocument.kind == "anti_fraud")
                  .values(review_due=datetime.now(UTC) - timedelta(days=1)))
    r = result(sg, "register.management_systems")
    assert r.status == "fail" and r.evidence["overdue"] == ["anti_fraud"] and "DS-05" in r.rows
    export = sg.compliance.register.export()
    assert [s["kind"] for s in export["systems"]] == list(ART7_KINDS) and export["missing"] == []


def test_register_fails_on_an_empty_register(settings):
    sg = SynthGuard.open(_settings(settings))
    try:
        r = result(sg, "register.management_systems")
        assert r.status == "fail" and len(r.evidence["missing"]) == 8
    finally:
        sg.close()


def test_screen_checks_fail_for_unscreened_generations(deploy):
    sg, _ = deploy
    sg.label(image_bytes("PNG", (200, 200)), user="u-1", model="m1")  # neither the prompt nor the output screened
    got = statuses(sg)
    assert got["screen.inputs"] == "fail" and got["screen.outputs"] == "fail"


def test_terms_fail_when_a_user_generates_before_accepting(deploy):
    """A deployment that turned enforcement off (require_terms_acceptance=false) is caught by the audit."""
    sg, _ = deploy
    sg.add_user("u-3")
    sg.verify_user("u-3", "mobile", identifier="+86 138 0013 8001")
    with SynthGuard.open(sg.settings.model_copy(update={"require_terms_acceptance": False})) as lax:
        lax.label(image_bytes("PNG", (200, 200)), user="u-3", model="m1")
    r = result(sg, "terms.accepted")
    assert r.status == "fail" and r.evidence["generations_without_acceptance"] == 1
    sg.compliance.terms.publish("service_agreement", "2", "A new agreement without the section.", actor="t")
    assert result(sg, "terms.accepted").evidence["agreement_covers_labeling"] is False


def test_filing_fails_without_a_filing_number(settings):
    sg = SynthGuard.open(Settings.load(home=settings.home))
    try:
        r = result(sg, "filing.displayed")
        assert r.status == "fail" and r.evidence["filing_number"] is None and "DS-22" in r.rows
    finally:
        sg.close()


def test_training_fails_for_a_model_trained_without_a_legal_basis(deploy):
    sg, _ = deploy
    sg.compliance.training.add("scraped-faces", source="web crawl", contains_pi=True, sensitive_pi=True, actor="t")
    sg.compliance.training.link("m1", "scraped-faces", actor="t")
    r = result(sg, "training.legal_basis")
    assert r.status == "fail" and r.evidence["linked_datasets_without_basis"] == ["m1 <- scraped-faces"]
    assert "DS-14" in r.rows


def test_training_fails_for_a_model_without_lineage(deploy):
    sg, _ = deploy
    sg.label(image_bytes("PNG", (200, 200)), user="u-1", model="m2-unregistered")
    r = result(sg, "training.legal_basis")
    assert r.status == "fail" and r.evidence["unregistered_models"] == ["m2-unregistered"]


def test_period_and_tenant_scope_the_audit(deploy):
    sg, _ = deploy
    with sg.db.session() as s:
        s.execute(update(Record).values(created_at=datetime.now(UTC) - timedelta(days=40)))
    assert result(sg, "labels.explicit", since="30d").status == "not_applicable"
    assert result(sg, "labels.explicit", since="60d").status == "pass"
    assert result(sg, "labels.explicit", since="60d", tenant="other").status == "not_applicable"


def test_eu_profile_checks_machine_readable_marks(deploy):
    sg, _ = deploy
    got = statuses(sg, profile="eu")
    assert "labels.machine_readable" in got and "labels.explicit" not in got
    assert got["labels.machine_readable"] == "pass"
    sg.label(image_bytes("PNG", (200, 200)), user="u-1", model="m1", watermark=False, c2pa=False)
    assert statuses(sg, profile="eu")["labels.machine_readable"] == "fail"


def test_bad_audit_input_gets_a_clear_error(deploy, tmp_path):
    from synthguard.errors import ValidationError

    sg, _ = deploy
    with pytest.raises(ValidationError, match="period"):
        sg.compliance.check(since="30 days")
    with pytest.raises(ValidationError, match="profile"):
        sg.compliance.check(profile="mars")
    with pytest.raises(ValidationError, match="sample size"):
        sg.compliance.check(sample_size=0)
    with pytest.raises(ValidationError, match="not a directory"):
        sg.compliance.check(outputs=tmp_path / "nope")


def test_moderation_checks_read_the_moderation_tables(deploy):
    """DS-11/DS-12 against the real moderation service (issue 7): on time and reported, then overdue and unreported."""
    from synthguard.store.moderation_tables import ModCase

    sg, _ = deploy
    mod = sg.moderation
    mod.register("default", "v-1", image_bytes("PNG", (160, 120)))
    t = mod.submit("default", {"kind": "false_information", "location": "v-1", "description": "fake flood"})
    mod.claim("default", "rev-1")
    out = mod.act("default", t["ticket"], "rev-1", "refute", "false_information",
                  refutation={"title": "No flood", "text": "The video is generated."})
    assert out["report_decision"] == "report"
    got = {r.id: r for r in sg.compliance.check().results}
    assert got["moderation.complaint_sla"].status == "pass", got["moderation.complaint_sla"].reasons
    assert got["moderation.refutations_reported"].status == "pass"
    assert got["moderation.refutations_reported"].evidence["refutation_cases"] == 1
    with sg.db.session() as s:
        s.execute(update(ModCase).values(report_decision="no_report"))
    mod.submit("default", {"kind": "false_information", "location": "v-1", "description": "again"})
    with sg.db.session() as s:
        s.execute(update(ModCase).where(ModCase.actioned_at.is_(None))
                  .values(deadline_at=datetime.now(UTC) - timedelta(hours=1)))
    got = {r.id: r for r in sg.compliance.check().results}
    assert got["moderation.complaint_sla"].status == "fail"
    assert got["moderation.complaint_sla"].evidence["complaints_overdue_open"] == 1
    assert got["moderation.refutations_reported"].status == "fail"


def test_reinspected_file_with_a_foreign_producer_fails_the_aigc_check(deploy):
    """GB-09 on the file itself: its AIGC ContentProducer must be the record's producer."""
    sg, outputs = deploy
    with sg.db.session() as s:
        s.execute(update(Record).values(producer="ACME2"))
    assert result(sg, "labels.aigc_fields").status == "pass"  # the record alone looks well-formed ...
    assert "producer" in result(sg, "ledger.generation_logged").evidence["examples"][0]  # ... but not its ledger
    r = result(sg, "labels.aigc_fields", outputs=outputs)
    assert r.status == "fail" and "ContentProducer" in r.evidence["examples"][0]


def test_recorded_audit_is_a_ledger_entry(deploy):
    import json

    from sqlalchemy import select

    from synthguard.store.ledger_tables import ENTRIES

    sg, _ = deploy
    audit = sg.compliance.check(record=True)
    assert audit.ledger_index is not None and sg.compliance.check().ledger_index is None
    with sg.db.session() as s:
        body = json.loads(s.scalar(select(ENTRIES.c.data).where(ENTRIES.c.idx == audit.ledger_index)))["body"]
    assert body["event"] == "compliance_audit" and body["summary"] == audit.summary
