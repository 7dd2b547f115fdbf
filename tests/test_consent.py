"""Likeness registry and consent gate (DS-15, PI-03, PI-06/07, PI-11, PI-13, CC-01/02): library level."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select, update

from synthguard.config import PROFILE_DEFAULTS, Settings
from synthguard.consent import faces, likeness
from synthguard.consent.evidence import TamperedEvidenceError, generate_key, sign_statement
from synthguard.consent.gate import ConsentDeniedError
from synthguard.consent.policy import load_policy, purpose_modalities
from synthguard.core import SynthGuard
from synthguard.errors import ConflictError, NotFoundError, RefusedError, SubjectErasedError, ValidationError
from synthguard.media import Media
from synthguard.store.base import utcnow
from synthguard.store.consent_tables import ConsentGrant, ConsentTemplate
from tests.conftest import branch_round_trip, data_file, image_bytes, sqlite_file
from tests.test_consent_voice import espeak, wav_bytes


def kodak_face(n: str) -> Media:
    return Media.open(data_file("kodak", f"kodim{n}.png"))


def degrade(media: Media, *, quality: int = 50, scale: float = 0.5) -> Media:
    im = media.image().convert("RGB")
    im = im.resize((round(im.width * scale), round(im.height * scale)), Image.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return Media.from_bytes(buf.getvalue(), f"{media.name}-q{quality}-x{scale}.jpg")


def grid(*images: Media, cell: int = 256) -> Media:
    """One image with the given photos side by side (several people in one source)."""
    out = Image.new("RGB", (cell * len(images), int(cell * 1.5)), "white")
    for i, m in enumerate(images):
        im = m.image().convert("RGB")
        im.thumbnail((cell, int(cell * 1.5)))
        out.paste(im, (i * cell, 0))
    buf = io.BytesIO()
    out.save(buf, "PNG")
    return Media.from_bytes(buf.getvalue(), "group.png")


@pytest.fixture
def alice(sg, tmp_path):
    """Subject 'alice' (Kodak 04) with a registered signing key; returns the private key path."""
    key = tmp_path / "alice.key"
    sg.consent.enroll("alice", faces=[kodak_face("04")], signing_key=generate_key(key))
    return key


def statement(key, tmp_path, name="s.json", **fields) -> Media:
    body = {"subject": "alice", "grantee": "u-42", "purpose": "face_swap", "modalities": ["face"]} | fields
    doc = sign_statement(key, **body)
    return Media.from_bytes(json.dumps(doc).encode(), name)


def test_policy_data_is_consistent():
    policy = load_policy()
    for name, p in policy["purposes"].items():
        assert set(p["modalities"]) <= {"face", "voice"} and p["citations"], name
    unknown = {p: d.consent_unknown_policy for p, d in PROFILE_DEFAULTS.items()}  # a profile default (issue 23)
    assert unknown["cn"] == "deny" and set(unknown) == {"cn", "eu", "us", "none"}
    with pytest.raises(ValidationError, match="unknown purpose"):
        purpose_modalities("deepfake_anyone")


@sqlite_file
def test_enrolment_keeps_only_encrypted_embeddings(sg, alice):
    """PI-06: no reference photo, no clear-text embedding in the database file."""
    with sg.db.session() as s:
        t = s.scalars(select(ConsentTemplate)).one()
        assert t.media_token is None and t.token.startswith("sgv1.") and t.model == likeness.FACE_CARD.name
        assert t.model_sha256 == faces.model_sha256()
    raw = (sg.settings.home / "synthguard.db").read_bytes()
    photo = kodak_face("04").image().tobytes()
    assert photo[5000:5064] not in raw
    emb = sg.consent.templates("face")[0].embedding
    assert np.asarray(emb, "<f4").tobytes()[:16] not in raw
    assert sg.consent.subject("alice")["templates"] == {"face": 1}


def test_keep_media_is_an_explicit_opt_in(sg):
    sg.consent.enroll("bob", faces=[kodak_face("15")], keep_media=True)
    exported = sg.consent.export("bob")
    assert "media_base64" in exported["templates"][0]


@pytest.mark.parametrize("case", ["no face", "two faces", "tiny face"])
def test_enrolment_photo_must_show_exactly_one_identifiable_face(sg, case):
    media = {"no face": Media.from_bytes(image_bytes(), "landscape.png"),
             "two faces": grid(kodak_face("04"), kodak_face("15")),
             "tiny face": degrade(kodak_face("04"), quality=95, scale=0.12)}[case]
    with pytest.raises(ValidationError) as err:
        sg.consent.enroll("carol", faces=[media])
    assert err.value.exit_code == 2
    assert {"no face": "found 0", "two faces": "found 2", "tiny face": "too small"}[case] in err.value.message
    with pytest.raises(NotFoundError):
        sg.consent.subject("carol")  # nothing half-written


def test_gate_allows_a_granted_face_after_jpeg50_and_half_size(sg, alice, tmp_path):
    gid = sg.consent.grant("alice", grantee="u-42", purpose="face_swap", evidence=statement(alice, tmp_path))
    assert gid["status"] == "active" and gid["evidence"]["signature"] == "valid"
    r = sg.consent_gate.check([degrade(kodak_face("04"))], purpose="face_swap", user="u-42")
    assert r.decision == "allow" and r.grants == [gid["grant_id"]]
    assert r.models == [likeness.FACE_CARD.to_dict(faces.model_sha256())]  # recorded with the decision
    (p,) = r.persons
    assert p["subject"] == "alice" and p["code"] == "granted" and p["score"] < likeness.FACE_CARD.threshold
    other = sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="u-7")  # the grant names u-42 only
    assert other.decision == "deny" and other.persons[0]["code"] == "no_grant"


def test_grant_to_the_whole_provider(sg, alice, tmp_path):
    sg.consent.grant("alice", grantee="tenant:default", purpose="face_swap",
                     evidence=statement(alice, tmp_path, grantee="tenant:default"))
    assert sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="anyone").decision == "allow"


def test_unknown_face_follows_the_profile(sg, settings):
    r = sg.consent_gate.check([kodak_face("15")], purpose="face_swap", user="u-42")
    assert r.decision == "deny" and r.persons[0]["code"] == "unknown_deny" and "cn profile" in r.persons[0]["reason"]
    with SynthGuard.open(settings.model_copy(update={"profile": "us"})) as us:
        assert us.consent_gate.check([kodak_face("15")], purpose="face_swap", user="u-42").decision == "allow"
    with SynthGuard.open(settings.model_copy(update={"profile": "us", "consent_unknown_policy": "deny"})) as strict:
        assert strict.consent_gate.check([kodak_face("15")], purpose="face_swap", user="u-42").decision == "deny"


def test_no_face_is_an_explicit_allow_with_a_note(sg):
    r = sg.consent_gate.check([Media.from_bytes(image_bytes(), "landscape.png")], purpose="face_swap", user="u-42")
    assert r.decision == "allow" and r.persons == []
    assert any("no face found" in n for n in r.notes) and any("nothing needs consent" in n for n in r.notes)


def test_many_faces_each_decided_and_too_many_refused(sg, alice, tmp_path, monkeypatch):
    sg.consent.grant("alice", grantee="u-42", purpose="face_swap", evidence=statement(alice, tmp_path))
    group = grid(kodak_face("04"), kodak_face("15"))
    r = sg.consent_gate.check([group], purpose="face_swap", user="u-42")
    assert sorted(p["code"] for p in r.persons) == ["granted", "unknown_deny"] and r.decision == "deny"
    monkeypatch.setattr(likeness, "MAX_FACES", 1)
    with pytest.raises(ValidationError, match="more than 1 faces"):
        sg.consent_gate.check([group], purpose="face_swap", user="u-42")


def test_tiny_face_is_unidentifiable_and_denied(sg):
    small = degrade(kodak_face("04"), quality=95, scale=0.12)
    found, _ = likeness.find(small)
    assert found and found[0].embedding is None
    r = sg.consent_gate.check([small], purpose="face_swap", user="u-42")
    assert r.decision == "deny" and r.persons[0]["code"] == "unidentifiable" and "too small" in r.persons[0]["reason"]


def test_revocation_takes_effect_immediately(sg, alice, tmp_path):
    """PI-03: withdrawal blocks the next check."""
    g = sg.consent.grant("alice", grantee="u-42", purpose="face_swap", evidence=statement(alice, tmp_path))
    assert sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="u-42").decision == "allow"
    sg.consent.revoke(g["grant_id"])
    r = sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="u-42")
    assert r.decision == "deny" and r.persons[0]["code"] == "revoked"
    assert sg.consent.revoke(g["grant_id"])["status"] == "revoked"  # idempotent
    with pytest.raises(NotFoundError):
        sg.consent.revoke("cg_nope")


def test_expired_grant_denies(sg, alice, tmp_path, monkeypatch):
    soon = utcnow() + timedelta(days=1)
    sg.consent.grant("alice", grantee="u-42", purpose="face_swap", expires=soon,
                     evidence=statement(alice, tmp_path, expires=soon.date().isoformat()))
    assert sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="u-42").decision == "allow"
    monkeypatch.setattr(sg.consent, "clock", lambda: soon + timedelta(seconds=1))  # the registry's injected clock
    r = sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="u-42")
    assert r.decision == "deny" and r.persons[0]["code"] == "expired"


@pytest.mark.parametrize("edit", ["unrevoke", "extend", "evidence"])
def test_a_grant_edited_in_the_database_never_allows(sg, alice, tmp_path, edit):
    g = sg.consent.grant("alice", grantee="u-42", purpose="face_swap", expires=utcnow() + timedelta(days=2),
                         evidence=statement(alice, tmp_path, expires=(utcnow() + timedelta(days=2)).date().isoformat()))
    if edit == "unrevoke":
        sg.consent.revoke(g["grant_id"])
        values = {"revoked_at": None, "revoked_reason": None}
    elif edit == "extend":
        values = {"expires_at": utcnow() + timedelta(days=3650)}
    else:
        with sg.db.session() as s:
            token = sg.vault.encrypt(s, "likeness:alice", b'{"forged": true}')
        values = {"evidence_token": token}
    with sg.db.session() as s:
        s.execute(update(ConsentGrant).where(ConsentGrant.id == g["grant_id"]).values(**values))
    r = sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="u-42")
    assert r.decision == "deny" and r.persons[0]["code"] == "tampered"
    assert sg.consent.get_grant(g["grant_id"])["status"] == "tampered"


def test_tampered_or_misattributed_statements_are_refused(sg, alice, tmp_path):
    doc = json.loads(statement(alice, tmp_path).data)
    doc["purpose"] = "avatar"  # edited after signing
    with pytest.raises(TamperedEvidenceError, match="signature does not verify"):
        sg.consent.grant("alice", grantee="u-42", purpose="avatar", evidence=Media.from_bytes(json.dumps(doc).encode()))
    mallory = tmp_path / "mallory.key"
    generate_key(mallory)
    with pytest.raises(TamperedEvidenceError, match="not the subject's registered key"):
        sg.consent.grant("alice", grantee="u-42", purpose="face_swap", evidence=statement(mallory, tmp_path))
    with pytest.raises(ValidationError, match="grantee"):
        sg.consent.grant("alice", grantee="u-99", purpose="face_swap", evidence=statement(alice, tmp_path))
    with pytest.raises(ValidationError, match="not JSON"):
        sg.consent.grant("alice", grantee="u-42", purpose="face_swap", evidence=Media.from_bytes(b"I agree"))
    with pytest.raises(ValidationError, match="signed statement .JSON. or a recording"):
        sg.consent.grant("alice", grantee="u-42", purpose="face_swap", evidence=kodak_face("04"))
    sg.consent.enroll("bob", faces=[kodak_face("15")])  # no signing key registered
    with pytest.raises(ValidationError, match="no registered signing key"):
        sg.consent.grant("bob", grantee="u-42", purpose="face_swap", evidence=statement(alice, tmp_path, subject="bob"))
    good = statement(alice, tmp_path)
    sg.consent.grant("alice", grantee="u-42", purpose="face_swap", evidence=good)
    with pytest.raises(ConflictError, match="already backs another grant"):
        sg.consent.grant("alice", grantee="u-42", purpose="face_swap", evidence=good)
    assert len(sg.consent.grants()) == 1  # nothing half-written by the refusals


def test_spoken_consent_in_the_enrolled_voice(sg, tmp_path):
    sg.consent.enroll("dan", voices=[espeak(tmp_path, "enrol", "Hello, this is my voice for enrolment, spoken "
                                                               "clearly for a few seconds.")])
    ch = sg.consent.challenge("dan", grantee="u-42", purpose="voice_clone")
    assert "My code is" in ch["phrase"]
    other = espeak(tmp_path, "other", ch["phrase"], voice="en+f3", pitch=75)
    with pytest.raises(TamperedEvidenceError, match="not in the subject's enrolled voice"):
        sg.consent.grant("dan", grantee="u-42", purpose="voice_clone", evidence=other, challenge=ch["challenge"])
    with pytest.raises(ValidationError, match="needs the challenge"):
        sg.consent.grant("dan", grantee="u-42", purpose="voice_clone", evidence=other)
    rec = espeak(tmp_path, "rec", ch["phrase"], speed=140)
    g = sg.consent.grant("dan", grantee="u-42", purpose="voice_clone", evidence=rec, challenge=ch["challenge"])
    assert g["evidence"]["kind"] == "spoken" and g["evidence"]["phrase_checked"] is False
    with pytest.raises(ConflictError, match="already used"):
        sg.consent.grant("dan", grantee="u-42", purpose="voice_clone", evidence=espeak(tmp_path, "again", ch["phrase"]),
                         challenge=ch["challenge"])
    clip = espeak(tmp_path, "clip", "Completely different words that the service wants to clone today.")
    r = sg.consent_gate.check([clip], purpose="voice_clone", user="u-42")
    assert r.decision == "allow" and r.persons[0]["subject"] == "dan"
    r = sg.consent_gate.check([clip], purpose="face_swap", user="u-42")  # a voice in the sources of a face swap
    assert r.decision == "deny" and r.persons[0]["code"] == "modality_not_in_purpose"
    tone = Media.from_bytes(wav_bytes(0.5 * np.sin(np.arange(48000) * 2 * np.pi * 200 / 16000)), "tone.wav")
    r = sg.consent_gate.check([tone], purpose="voice_clone", user="u-42")
    assert r.decision == "allow" and r.persons == [] and "no voice found" in r.notes[0]


def test_label_calls_the_gate_and_logs_the_deny(sg, verified_user, alice, tmp_path):
    """DS-15: face swap without consent is refused (exit 5 / HTTP 403); with consent the output names the grant."""
    out = tmp_path / "out.png"
    generated = Media.from_bytes(image_bytes(), "gen.png")
    with pytest.raises(ConsentDeniedError) as err:
        sg.label(generated, user=verified_user, producer="ACME", output=out, sources=[kodak_face("04")],
                 purpose="face_swap")
    assert isinstance(err.value, RefusedError) and err.value.exit_code == 5 and err.value.http_status == 403
    assert err.value.to_dict()["consent"]["persons"][0]["code"] == "no_grant" and not out.exists()
    with sg.db.session() as s:
        entry = sg.ledger.entry(s, sg.ledger.size(s) - 1)
    assert entry.kind == "consent" and entry.body["decision"] == "deny"
    assert entry.body["models"][0]["threshold"] == likeness.FACE_CARD.threshold
    assert "alice" not in json.dumps(entry.body) and "u-42" not in json.dumps(entry.body)  # hashes and refs only
    with pytest.raises(ValidationError, match="purpose is required"):
        sg.label(generated, user=verified_user, producer="ACME", sources=[kodak_face("04")])
    g = sg.consent.grant("alice", grantee=verified_user, purpose="face_swap", evidence=statement(alice, tmp_path))
    r = sg.label(generated, user=verified_user, producer="ACME", output=out, sources=[kodak_face("04")],
                 purpose="face_swap")
    assert r.consent == [g["grant_id"]] and out.exists()
    with sg.db.session() as s:
        generation = sg.ledger.entry(s, r.ledger_index)
        gate_entry = sg.ledger.entry(s, r.ledger_index - 1)
    assert gate_entry.kind == "consent" and gate_entry.body["decision"] == "allow"
    assert gate_entry.body["grants"] == [g["grant_id"]]
    assert gate_entry.body["output_input_sha256"] == generation.body["input_sha256"] == generated.sha256
    assert sg.verify_ledger()["ok"]


def test_enforce_denies_and_records(sg):
    with pytest.raises(ConsentDeniedError, match="matches no enrolled subject"):
        sg.consent_gate.enforce([kodak_face("15")], purpose="face_swap", user="u-1")


def test_scan_flags_ai_content_depicting_a_protected_person(sg, verified_user, tmp_path):
    out = tmp_path / "fake.png"
    sg.label(kodak_face("04"), user=verified_user, producer="ACME", output=out)
    assert all(e["source"] != "consent.protected" for e in sg.scan(out).evidence)  # nobody protected yet
    emb, _ = likeness.enrolment_embedding(kodak_face("04"), "face")  # computed on the victim's device
    sg.consent.enroll("victim-1", protected=True, embeddings=[{
        "modality": "face", "model": likeness.FACE_CARD.name, "embedding": emb.tolist()}])
    res = sg.scan(out)
    assert res.verdict == "ai_generated"
    ev = [e for e in res.evidence if e["source"] == "consent.protected"]
    assert ev and ev[0]["evidence"]["subject"] == "victim-1"
    action = [a for a in res.actions if a.get("subjects") == ["victim-1"]]
    assert action and action[0]["action"] == "remove"
    plain = tmp_path / "plain.png"
    plain.write_bytes(kodak_face("04").data)
    assert sg.scan(plain).verdict == "none"  # not AI: the protected check does not run
    assert all(e["source"] != "consent.protected" for e in sg.scan(plain).evidence)


def test_submitted_embeddings_are_checked(sg):
    good = {"modality": "face", "model": likeness.FACE_CARD.name, "embedding": [0.01] * 128}
    for bad, msg in [({**good, "embedding": [0.1] * 12}, "128 finite"), ({**good, "model": "other"}, "model"),
                     ({**good, "embedding": [float("nan")] * 128}, "finite"),
                     ({**good, "modality": "gait"}, "face or")]:
        with pytest.raises(ValidationError, match=msg):
            sg.consent.enroll("v", protected=True, embeddings=[bad])


def test_export_then_erase(sg, alice, tmp_path):
    """PI-11 / GDPR 15, 20: export all; PI-13 / GDPR 17: erase; the ledger keeps verifying."""
    signed = statement(alice, tmp_path, scope="one birthday video")
    with pytest.raises(ValidationError, match="scope differs"):
        sg.consent.grant("alice", grantee="u-42", purpose="face_swap", scope="anything", evidence=signed)
    g = sg.consent.grant("alice", grantee="u-42", purpose="face_swap", evidence=signed)
    doc = sg.consent.export("alice")
    assert len(doc["templates"][0]["embedding"]) == 128 and doc["grants"][0]["scope"] == "one birthday video"
    assert doc["grants"][0]["evidence"]["file_base64"] and doc["subject"]["signing_key_pem"].startswith("-----BEGIN")
    res = sg.consent.erase("alice")
    assert res["templates_deleted"] == 1 and res["grants_blanked"] == 1
    with sg.db.session() as s:
        row = s.get(ConsentGrant, g["grant_id"])
        assert row.scope_token is None and row.evidence_token is None
        assert s.scalars(select(ConsentTemplate)).first() is None
    assert sg.consent.get_grant(g["grant_id"])["status"] == "erased"
    with pytest.raises(SubjectErasedError):
        sg.consent.export("alice")
    r = sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="u-42")
    assert r.persons[0]["match"] == "unknown"
    with pytest.raises(SubjectErasedError):
        sg.consent.enroll("alice", faces=[kodak_face("04")])
    assert sg.verify_ledger()["ok"]


def test_tenants_do_not_see_each_other(sg, alice):
    with pytest.raises(NotFoundError):
        sg.consent.export("alice", tenant="other")
    # ids are per tenant (issue 18 finding 13): tenant other's "alice" is another person, not a conflict
    other = sg.consent.enroll("alice", faces=[kodak_face("15")], tenant="other")
    assert (other["subject"], other["tenant"], other["templates"]) == ("alice", "other", {"face": 1})
    assert sg.consent.subject("alice", tenant="default")["templates"] == {"face": 1}
    with pytest.raises(ValidationError, match="several tenants"):  # the operator must name the tenant
        sg.consent.subject("alice")
    gate = sg.consent_gate
    assert gate.check([kodak_face("04")], purpose="face_swap", user="u-42", tenant="other").persons[0]["match"] == \
        "unknown"
    assert gate.check([kodak_face("15")], purpose="face_swap", user="u-42", tenant="other").persons[0]["subject"] == \
        "alice"


def test_threshold_settings_override_the_cards(settings):
    s = settings.model_copy(update={"face_match_threshold": 0.4, "voice_match_threshold": 0.9})
    cards = likeness.cards(s)
    assert cards["face"].threshold == 0.4 and cards["voice"].threshold == 0.9
    with pytest.raises(Exception, match="face_match_threshold"):
        Settings.load(face_match_threshold=5)


def test_migration_matches_the_models(sg):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from synthguard.store.base import Base

    with sg.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "consent_" in repr(d)] == []


@pytest.mark.postgres
@pytest.mark.skipif(not __import__("os").environ.get("SYNTHGUARD_TEST_POSTGRES_URL"),
                    reason="SYNTHGUARD_TEST_POSTGRES_URL not set (no Postgres server)")
def test_registry_and_gate_on_postgres(settings, tmp_path):
    import os

    from sqlalchemy import create_engine, text

    url = os.environ["SYNTHGUARD_TEST_POSTGRES_URL"]
    schema = f"sg_consent_{os.getpid()}"
    eng = create_engine(url)
    with eng.begin() as c:
        c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        c.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in url else "?"
    try:
        pg = settings.model_copy(update={"database_url": f"{url}{sep}options=-csearch_path%3D{schema}"})
        with SynthGuard.open(pg) as sg:
            assert sg.db.engine.dialect.name == "postgresql"
            key = tmp_path / "k"
            sg.consent.enroll("alice", faces=[kodak_face("04")], signing_key=generate_key(key))
            g = sg.consent.grant("alice", grantee="u-42", purpose="face_swap", evidence=statement(key, tmp_path),
                                 expires=utcnow() + timedelta(days=1))
            assert sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="u-42").decision == "allow"
            sg.consent.revoke(g["grant_id"])
            revoked = sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="u-42")
            assert revoked.persons[0]["code"] == "revoked"
            sg.consent.erase("alice")
            assert sg.verify_ledger()["ok"]
    finally:
        with eng.begin() as c:
            c.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        eng.dispose()


def test_video_faces_are_deduplicated_and_its_voice_is_checked(sg, tmp_path):
    import av

    from synthguard.codecs.av import audio_samples

    img = np.asarray(kodak_face("04").image().convert("RGB").resize((256, 384)))
    speech = audio_samples(espeak(tmp_path, "v", "Some words spoken in the video by the person on screen."), 16000)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        vs = out.add_stream("libx264", rate=2)
        vs.width, vs.height, vs.pix_fmt = 256, 384, "yuv420p"
        aus = out.add_stream("aac", rate=16000, layout="mono")
        for _ in range(8):  # 4 s: frames sampled at 0, 2 s show the same face
            for pkt in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        for pkt in vs.encode(None):
            out.mux(pkt)
        frame = av.AudioFrame.from_ndarray(speech[None, :].astype(np.float32), format="flt", layout="mono")
        frame.rate = 16000
        for pkt in [*aus.encode(frame), *aus.encode(None)]:
            out.mux(pkt)
    video = Media.from_bytes(buf.getvalue(), "clip.mp4")
    r = sg.consent_gate.check([video], purpose="avatar", user="u-42")
    assert sorted(p["modality"] for p in r.persons) == ["face", "voice"]
    assert r.decision == "deny" and {p["code"] for p in r.persons} == {"unknown_deny"}
    assert "time" in next(p for p in r.persons if p["modality"] == "face")


def test_gallery_cache_follows_erasure_and_enrolment(sg, alice):
    """The decrypted gallery is reused between checks but never outlives an erasure (PI-13)."""
    assert sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="u-42").persons[0]["subject"] == "alice"
    sg.consent.erase("alice")
    sg.consent.enroll("bob", faces=[kodak_face("15")])  # on SQLite it may reuse alice's template row id
    assert sg.consent_gate.check([kodak_face("04")], purpose="face_swap", user="u-42").persons[0]["match"] == "unknown"
    assert sg.consent_gate.check([kodak_face("15")], purpose="face_swap", user="u-42").persons[0]["subject"] == "bob"


def test_migration_0005_downgrades_and_upgrades_alone(tmp_path):
    # 0030 (per-tenant subject ids, issue 18 finding 13) sits on the consent branch, on top of 0005
    down, up = branch_round_trip(tmp_path, "0030", "0030@-2")
    assert not [t for t in down if t.startswith("consent_")]
    assert {"consent_subjects", "consent_grants", "consent_templates", "consent_challenges"} <= up
