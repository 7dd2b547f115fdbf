"""Emergency switches (DS-05), the management-system register (DS Art. 7), the prompt screen and its versioned
feature library (DS-08, DS-09), terms and notices (DS-06, LM-19, DS-22), the training-data register (DS-14)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

from synthguard.errors import (
    ConflictError,
    FeatureDisabledError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from synthguard.store.compliance_tables import ScreenLibraryChange
from synthguard.store.ledger_tables import ENTRIES
from tests.conftest import branch_round_trip, image_bytes, kodak

PNG = image_bytes("PNG", (200, 160))


def ledger_bodies(sg, kind: str) -> list[dict]:
    with sg.db.session() as s:
        return [json.loads(d)["body"] for d in s.scalars(select(ENTRIES.c.data).where(ENTRIES.c.kind == kind))]


# --- emergency switches -------------------------------------------------------------------------
def test_switch_off_refuses_labeling_at_once_and_is_logged(sg, verified_user):
    sw = sg.compliance.switches
    sg.label(PNG, user=verified_user, producer="ACME")
    sw.set("label.image", enabled=False, actor="ops", reason="incident 42: watermark key rotation")
    with pytest.raises(FeatureDisabledError, match="label.image") as exc:
        sg.label(PNG, user=verified_user, producer="ACME")
    assert exc.value.http_status == 403 and exc.value.exit_code == 5 and "incident 42" in exc.value.message
    sg.label(b"AI text output", user=verified_user, producer="ACME")  # other modalities unaffected
    sw.set("label.image", enabled=True, actor="ops", reason="incident 42 closed")
    sg.label(PNG, user=verified_user, producer="ACME")
    flips = [b for b in ledger_bodies(sg, "feature") if b["event"] == "feature_switch"]
    assert [b["enabled"] for b in flips] == [False, True]
    assert all("ops" not in json.dumps(b) and "incident" not in json.dumps(b) for b in flips)  # refs and hashes only


def test_technique_switch_disables_voice_cloning_only(sg, verified_user):
    sg.compliance.switches.set("voice_clone", enabled=False, actor="ops", reason="regulator order (DS-24)")
    with pytest.raises(FeatureDisabledError, match="voice_clone"):
        sg.label(PNG, user=verified_user, producer="ACME", technique="voice_clone")
    assert sg.label(PNG, user=verified_user, producer="ACME", technique="text_to_image").content_id


def test_tenant_switch_leaves_other_tenants_alone(sg):
    for user, tenant in (("u-a", "acme"), ("u-b", "beta")):
        sg.add_user(user, tenant=tenant)
        sg.verify_user(user, "mobile", identifier="+86 138 0013 8000")
    sg.compliance.switches.set("label", enabled=False, actor="ops", reason="acme suspended", tenant="acme")
    with pytest.raises(FeatureDisabledError):
        sg.label(PNG, user="u-a", producer="ACME")
    assert sg.label(PNG, user="u-b", producer="ACME").content_id
    assert [s["tenant"] for s in sg.compliance.switches.list(tenant="beta")] == []


@pytest.mark.parametrize("feature, reason, message", [
    ("Label Image", "why", "not a valid feature"), ("label.image", "  ", "reason is empty"),
    ("label.image.x", "why", "not a valid feature")])
def test_bad_switch_input_is_rejected(sg, feature, reason, message):
    with pytest.raises(ValidationError, match=message):
        sg.compliance.switches.set(feature, enabled=False, actor="ops", reason=reason)
    assert sg.compliance.switches.list() == []


# --- management-system register ---------------------------------------------------------------
def test_policy_versions_are_immutable_and_current_is_newest(sg):
    reg = sg.compliance.register
    reg.add("emergency_response", "1.0", owner="ciso", review_due="2027-01-31", actor="t", text="runbook v1")
    with pytest.raises(ConflictError, match="already registered"):
        reg.add("emergency_response", "1.0", owner="ciso", review_due="2027-01-31", actor="t")
    reg.add("emergency_response", "1.1", owner="ciso", review_due="2027-06-30", actor="t")
    cur = reg.documents()
    assert [(d["kind"], d["version"]) for d in cur] == [("emergency_response", "1.1")]
    assert len(reg.documents(current_only=False)) == 2 and cur[0]["overdue"] is False
    export = reg.export()
    assert "emergency_response" not in export["missing"] and len(export["missing"]) == 7


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "marketing"}, "unknown policy kind"), ({"review_due": "next year"}, "ISO date"),
    ({"owner": ""}, "owner is empty")])
def test_bad_policy_input_is_rejected(sg, kwargs, message):
    args = {"kind": "data_security", "version": "1", "owner": "dpo", "review_due": "2027-01-01"} | kwargs
    with pytest.raises(ValidationError, match=message):
        sg.compliance.register.add(args.pop("kind"), args.pop("version"), actor="t", **args)
    assert sg.compliance.register.documents() == []


# --- screening and the feature library -----------------------------------------------------------
def test_prompt_screen_blocks_and_records_the_library_version(sg):
    scr = sg.compliance.screen
    assert scr.prompt("hello").decision == "allow" and scr.prompt("hello").library_version == 0
    scr.add("impersonation", "换脸", reason="DS-03 seed list", actor="alice")
    scr.add("fraud", r"\b(transfer|wire)\s+money\b", kind="pattern", reason="telecom fraud scripts", actor="bob")
    d = scr.prompt("帮我 换 脸 成 明星")  # spaces inserted to evade: normalised away
    assert d.decision == "block" and d.matched[0]["list"] == "impersonation" and d.library_version == 2
    assert scr.prompt("please WIRE  money to me").matched[0]["list"] == "fraud"
    scr.remove("impersonation", "换脸", reason="moved to a pattern", actor="alice")
    again = scr.prompt("帮我换脸")
    assert again.decision == "allow" and again.library_version == 3
    assert [e.value for e in scr.entries(version=2)] == ["换脸", r"\b(transfer|wire)\s+money\b"]  # as of v2
    rows = scr.decisions()
    assert rows[0]["library_version"] == 3 and rows[0]["engine"].startswith("synthguard-screen/")
    assert all("换" not in json.dumps(r) for r in rows)  # prompts are kept as hashes only
    screens = [b for b in ledger_bodies(sg, "moderation") if b["event"] == "screen"]
    assert len(screens) == len(rows) and {b["decision"] for b in screens} == {"allow", "block"}


def test_feature_library_change_log_is_append_only(sg):
    scr = sg.compliance.screen
    change = scr.add("ncii", "deepnude", reason="NCII tool names", actor="alice")
    assert change["actor"] == "alice" and change["reason"] == "NCII tool names" and change["version"] == 1
    with pytest.raises(StoreError, match="append-only"):
        with sg.db.session() as s:
            s.execute(text("UPDATE screen_library_changes SET reason = 'edited'"))
    with pytest.raises(StoreError, match="append-only"):
        with sg.db.session() as s:
            s.execute(text("DELETE FROM screen_library_changes"))
    with sg.db.session() as s:
        assert s.scalar(select(ScreenLibraryChange.reason)) == "NCII tool names"


@pytest.mark.parametrize("args, message", [
    (("Bad List", "x"), "not a valid name"), (("fraud", "(unclosed", "pattern"), "not a valid regular"),
    (("fraud", "!!!"), "no letters"), (("fraud", "x", "regex"), "unknown entry kind")])
def test_bad_library_changes_are_rejected(sg, args, message):
    list_name, value, *kind = args
    with pytest.raises(ValidationError, match=message):
        sg.compliance.screen.add(list_name, value, kind=kind[0] if kind else "keyword", reason="r", actor="a")
    assert sg.compliance.screen.version() == 0


def test_removing_an_absent_entry_is_not_found(sg):
    with pytest.raises(NotFoundError):
        sg.compliance.screen.remove("fraud", "nothing", reason="r", actor="a")


def test_empty_prompt_is_rejected(sg):
    with pytest.raises(ValidationError, match="empty"):
        sg.compliance.screen.prompt("   ")


def test_output_screen_wants_labels_and_reference_screen_checks_banks(sg, verified_user, tmp_path):
    scr = sg.compliance.screen
    unlabeled = scr.output(PNG)
    assert unlabeled.decision == "review" and {"missing_label": "aigc_metadata"} in unlabeled.matched
    out = tmp_path / "o.png"
    res = sg.label(PNG, user=verified_user, producer="ACME", output=out)
    ok = scr.output(out)
    assert ok.decision == "allow" and ok.content_id == res.content_id
    sg.banks.create("victims", kind="sha256", actor="t")
    sg.banks.add_media("victims", PNG, reason="victim report", actor="t")
    ref = scr.reference(PNG)
    assert ref.decision == "block" and ref.matched[0]["bank"] == "victims"
    assert any("consent" in n for n in ref.notes)


# --- terms, notices, filing ---------------------------------------------------------------------------
def test_terms_acceptance_is_recorded_once_per_version(settings):
    from synthguard.config import Settings
    from synthguard.core import SynthGuard

    sg = SynthGuard.open(Settings.load(home=settings.home, filing_number="京网信备110000000000001",
                                       filing_link="https://beian.cac.gov.cn/", service_name="ACME Draw"))
    try:
        t = sg.compliance.terms
        sg.add_user("u-1")
        with pytest.raises(NotFoundError, match="no service_agreement"):
            t.accept("u-1")
        v1 = t.publish("service_agreement", "1", "Labels (标识): outputs carry AI labels.", actor="legal")
        assert v1["covers_labeling"] is True
        with pytest.raises(ConflictError):
            t.publish("service_agreement", "1", "changed text", actor="legal")
        a = t.accept("u-1")
        assert t.accept("u-1")["accepted_at"] == a["accepted_at"] and a["version"] == "1"
        with pytest.raises(NotFoundError):
            t.accept("nobody")
        t.publish("first_use_notice", "1", "本服务使用深度合成技术，生成内容含标识。", actor="legal")
        n = t.notice()
        assert n["first_use_notice"]["version"] == "1" and n["service_agreement"]["version"] == "1"
        assert n["filing_display"] == "ACME Draw 算法备案号 Algorithm filing No.: 京网信备110000000000001 " \
                                      "https://beian.cac.gov.cn/"
        acc = [b for b in ledger_bodies(sg, "feature") if b["event"] == "terms_acceptance"]
        assert len(acc) == 1 and acc[0]["user"] == sg.user_ref("u-1")
        with pytest.raises(ValidationError, match="unknown terms kind"):
            t.publish("privacy", "1", "x", actor="legal")
    finally:
        sg.close()


# --- training data ---------------------------------------------------------------------------------------
def test_training_register_and_lineage(sg):
    tr = sg.compliance.training
    tr.add("voices-2026", source="recording studio", legal_basis="consent", contains_pi=True, sensitive_pi=True,
           consent_refs=["consent-batch-7"], actor="ml")
    lin = tr.link("tts-v3", "voices-2026", actor="ml")
    assert [d["name"] for d in lin["datasets"]] == ["voices-2026"] and lin["datasets"][0]["sensitive_pi"]
    assert tr.link("tts-v3", "voices-2026", actor="ml") == lin  # idempotent
    assert list(tr.models()) == ["tts-v3"]
    with pytest.raises(ConflictError):
        tr.add("voices-2026", source="x", actor="ml")
    with pytest.raises(ValidationError, match="legal basis"):
        tr.add("other", source="x", legal_basis="because", actor="ml")
    with pytest.raises(ValidationError, match="implies"):
        tr.add("other", source="x", sensitive_pi=True, actor="ml")
    with pytest.raises(NotFoundError):
        tr.link("tts-v3", "missing", actor="ml")


def test_reference_screen_runs_the_consent_gate_for_a_face(sg):
    """DS-15 on reference media: a face of nobody enrolled is denied in the cn profile."""
    sg.add_user("u-1")
    d = sg.compliance.screen.reference(kodak("kodim04.png"), purpose="face_swap", user="u-1")
    assert d.decision == "block" and d.matched == [{"consent": "unknown_deny", "modality": "face"}]
    plain = sg.compliance.screen.reference(PNG, purpose="face_swap", user="u-1")
    assert plain.decision == "allow" and "consent gate: allow" in plain.notes
    assert any("pass purpose and user" in n for n in sg.compliance.screen.reference(PNG).notes)


def test_migration_0004_downgrades_and_upgrades_on_its_own_branch(tmp_path):
    down, up = branch_round_trip(tmp_path, "0004", "0004@0003")
    assert "feature_switches" not in down and "screen_library_changes" not in down and "records" in down
    assert {"feature_switches", "compliance_policies", "terms_acceptances"} <= up


def test_a_user_cannot_generate_until_the_current_agreement_is_accepted(sg, verified_user):
    """DS-06: with an agreement published, labeling waits for the click-through; a new version needs a new one."""
    from synthguard.errors import TermsNotAcceptedError

    sg.label(PNG, user=verified_user, producer="ACME")  # no agreement published yet: not blocked here
    t = sg.compliance.terms
    t.publish("service_agreement", "1", "Outputs carry AI labels (标识).", actor="legal")
    with pytest.raises(TermsNotAcceptedError, match="version '1'") as exc:
        sg.label(PNG, user=verified_user, producer="ACME")
    assert exc.value.http_status == 403 and exc.value.exit_code == 5
    t.accept(verified_user)
    sg.label(PNG, user=verified_user, producer="ACME")
    t.publish("service_agreement", "2", "Outputs carry AI labels (标识); logs kept 6 months.", actor="legal")
    with pytest.raises(TermsNotAcceptedError, match="version '2'"):
        sg.label(PNG, user=verified_user, producer="ACME")


def test_registration_can_be_suspended(sg):
    """DS-24: an order to suspend account registration is one switch; existing users are untouched."""
    sg.add_user("u-before")
    sg.compliance.switches.set("register", enabled=False, actor="ops", reason="CAC order 2026-11")
    with pytest.raises(FeatureDisabledError, match="register"):
        sg.add_user("u-after")
    assert sg.user("u-before")["id"] == "u-before"
    sg.compliance.switches.set("register", enabled=True, actor="ops", reason="order lifted")
    assert sg.add_user("u-after")["id"] == "u-after"
