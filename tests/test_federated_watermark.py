"""Issue 19 item 3: detection across deployments -- the federated image watermark (one common sync pattern, a
payload keyed per provider), shared and public modes, attribution, forged marks, and the cost that must not grow
with the trust list (DS-15, LM-11, LM-13, LM-15)."""

from __future__ import annotations

import copy
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from synthguard.auth import Role, create_token
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import LedgerIntegrityError, NotFoundError, ValidationError, WatermarkError
from synthguard.keys import init_keys
from synthguard.marking.watermark import ImageWatermarker
from synthguard.marking.watermark import federated as fed
from synthguard.marking.watermark import image as wm_image
from synthguard.marking.watermark import payload as pl
from synthguard.server import create_app
from synthguard.trust import descriptor as desc
from synthguard.trust import resolve as res
from synthguard.trust import wmkeys
from synthguard.trust.trustlist import TrustList
from tests.deployments import provider

KODAK = Path(__file__).parent / "data" / "kodak"
KEY_A = fed.derive(hashlib.sha256(b"provider A").digest(), "shared")
KEY_B = fed.derive(hashlib.sha256(b"provider B").digest(), "public")
DECOYS = {fed.key_id(k): k for k in (hashlib.sha256(b"decoy %d" % i).digest() for i in range(98))}


def kodak(n: int) -> Image.Image:
    return Image.open(KODAK / f"kodim{n:02d}.png").convert("RGB")


def jpeg(im: Image.Image, q: int = 85) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=q)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def two() -> dict[str, bytes]:
    return {fed.key_id(KEY_A): KEY_A, fed.key_id(KEY_B): KEY_B}


# --- the scheme ------------------------------------------------------------------------------------------------
def test_each_providers_mark_is_attributed_to_its_key_and_never_to_the_other():
    im = kodak(5)
    a = fed.FederatedWatermarker(KEY_A).embed(im, b"\x01" * 8)
    b = fed.FederatedWatermarker(KEY_B).embed(im, b"\xb2" * 8)
    for keys in (two(), two() | DECOYS):
        det = fed.FederatedDetector(keys)
        ra, rb = det.detect(jpeg(a)), det.detect(jpeg(b.resize((512, 341))))
        assert ra.present and ra.attribution.key_id == fed.key_id(KEY_A) and ra.attribution.payload == b"\x01" * 8
        assert rb.present and rb.attribution.key_id == fed.key_id(KEY_B) and rb.attribution.payload == b"\xb2" * 8
        assert ra.attribution.false_attribution <= fed.DECODE_TRIES * pl.CRC_FALSE_ACCEPT
    # A platform that holds only A's key sees that B's mark is there, but never reads it as A's
    only_a = fed.FederatedDetector({fed.key_id(KEY_A): KEY_A}).detect(jpeg(b))
    assert only_a.present and only_a.attribution is None
    assert not fed.FederatedWatermarker(KEY_A).detect(b).detected


def test_geometry_survives_a_rotation_and_a_crop():
    im = kodak(8)
    marked = fed.FederatedWatermarker(KEY_B).embed(im, b"rotcrop!")
    det = fed.FederatedDetector(two() | DECOYS)
    for attacked in (marked.rotate(9, resample=Image.BICUBIC), marked.crop((100, 60, 600, 460))):
        r = det.detect(jpeg(attacked, 80))
        assert r.present and r.attribution.payload == b"rotcrop!" and r.attribution.key_id == fed.key_id(KEY_B)


def test_unmarked_photos_and_private_marks_are_not_federated_marks():
    det = fed.FederatedDetector(two() | DECOYS)
    for n in (1, 2, 13, 23):
        r = det.detect(kodak(n))
        assert not r.present and r.attribution is None and r.p_value > 1e-6
    # the private scheme (a deployment's own key) has another pilot: not a federated mark, and vice versa
    private = ImageWatermarker(hashlib.sha256(b"private").digest()).embed(kodak(3), b"p" * 8)
    assert not det.detect(private).present
    assert not ImageWatermarker(KEY_A).detect(fed.FederatedWatermarker(KEY_A).embed(kodak(3), b"q" * 8)).detected


def test_the_search_runs_once_whatever_the_number_of_trusted_providers(monkeypatch):
    """Cost scaling: the geometric work (folds) and the decodes do not grow from 1 to 100 keys."""
    folds, decodes = [0], [0]
    real_fold, real_decode = wm_image.fold, wm_image.ImageWatermarker._decode_at

    def fold(*a, **k):
        folds[0] += 1
        return real_fold(*a, **k)

    def decode_at(*a, **k):
        decodes[0] += 1
        return real_decode(*a, **k)

    monkeypatch.setattr(wm_image, "fold", fold)
    monkeypatch.setattr(wm_image.ImageWatermarker, "_decode_at", staticmethod(decode_at))
    marked = jpeg(fed.FederatedWatermarker(KEY_A).embed(kodak(7), b"cost-one"))
    rotated = jpeg(marked.rotate(6, resample=Image.BICUBIC))
    counts = {}
    for n, keys in ((1, {fed.key_id(KEY_A): KEY_A}), (100, two() | DECOYS)):
        det = fed.FederatedDetector(keys)
        for name, im in (("unmarked", kodak(7)), ("marked", marked), ("rotated", rotated)):
            folds[0] = decodes[0] = 0
            r = det.detect(im)
            assert r.keys == n and r.decodes == decodes[0]
            assert r.present == (name != "unmarked")
            counts[(n, name)] = (folds[0], decodes[0])
    for name in ("unmarked", "marked", "rotated"):
        assert counts[(1, name)] == counts[(100, name)], counts
    assert counts[(100, "unmarked")][1] == 1  # the CRC route: exactly one decode, with 100 keys as with 1
    assert counts[(100, "marked")] == (1, 1)  # fast path: one fold, one decode


def test_the_false_positive_bound_is_the_image_watermarks():
    """Same Bonferroni count, same CRC credit (one decode): p = 2 min(p_corr, 8 * 2^-24)."""
    r = fed.FederatedDetector(two() | DECOYS).detect(kodak(11))
    assert r.p_value == 1.0 or r.p_value >= 2 * pl.CRC_FALSE_ACCEPT * 0.999
    assert fed.N_PILOT == int((~fed.COMMON.pilot).size - pl.CODED_BITS * 11)
    # the payload chips of two providers are independent signs; the pilot is shared
    la, lb = fed.layout_for(KEY_A), fed.layout_for(KEY_B)
    assert np.array_equal(la.signs[la.pilot], lb.signs[lb.pilot])
    agree = float(np.mean(la.signs[~la.pilot] == lb.signs[~lb.pilot]))
    assert 0.45 < agree < 0.55


def test_keys_are_distinct_per_mode_and_checked():
    wm = hashlib.sha256(b"x").digest()
    assert fed.derive(wm, "shared") != fed.derive(wm, "public")
    with pytest.raises(WatermarkError):
        fed.derive(wm, "private")


# --- deployments: providers A (shared) and B (public), platform P -----------------------------------------------
pytestmark = pytest.mark.usefixtures("own_databases")  # one database per organisation


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def world(tmp_path, monkeypatch):
    a = provider(tmp_path, "acme", "shared", "P-ACME")
    b = provider(tmp_path, "beta", "public", "P-BETA")
    st = Settings.load(database_url=None, home=tmp_path / "platform", service_name="platform")
    init_keys(st)
    p = SynthGuard.open(st)
    clients = {"https://acme.example": TestClient(create_app(a.settings, sg=a)),
               "https://beta.example": TestClient(create_app(b.settings, sg=b))}

    def get(url, headers):  # the platform's HTTP client, routed to the providers' apps
        base = next(k for k in clients if url.startswith(k))
        r = clients[base].get(url.removeprefix(base), headers=headers)
        if r.status_code == 404:
            raise NotFoundError("the provider has no record {url}", values={"url": url})
        assert r.status_code == 200, r.text
        return r.json()

    monkeypatch.setattr(res, "_httpx_get", get)
    trust = TrustList(st.home / "trust-list.json")
    for sg, base in ((a, "https://acme.example"), (b, "https://beta.example")):
        trust.add(desc.build(sg, base_url=base))
        sg.checkpoint()
    yield {"a": a, "b": b, "p": p, "trust": trust}
    for sg in (a, b, p):
        sg.close()


def _label(sg, n):
    made = sg.label(_png(kodak(n)), user="u-1", visible=False, output=Path(sg.settings.home) / f"out{n}.png")
    sg.checkpoint()
    return made


def _stripped(sg, made) -> bytes:
    """A copy with its metadata stripped: decoded and re-encoded as JPEG."""
    out = Image.open(io.BytesIO(Path(made.output).read_bytes())).convert("RGB")
    buf = io.BytesIO()
    out.save(buf, "JPEG", quality=88)
    return buf.getvalue()


def _fed(result) -> list[dict]:
    return [e for e in result.evidence if e["source"] == "image.federated.watermark"]


def _grant(world):
    recipient = wmkeys.recipient_public(world["p"].settings.home)
    signed = wmkeys.grant(world["a"], recipient, platform="P")
    key = wmkeys.open_grant(signed, world["trust"].find("P-ACME"), world["p"].settings.home)
    world["trust"].set_watermark_key("P-ACME", key.hex())
    return signed


def test_descriptor_carries_the_material_and_verifies(world):
    da, db = desc.build(world["a"], base_url="https://acme.example"), desc.build(world["b"], base_url="https://b.e")
    wa, wb = desc.verify(da)["descriptor"]["watermark"], desc.verify(db)["descriptor"]["watermark"]
    assert wa["mode"] == "shared" and wa["detection_key"] is None and wa["scheme"] == fed.SCHEME
    assert wb["mode"] == "public" and fed.key_id(bytes.fromhex(wb["detection_key"])) == wb["key_id"]
    assert wa["sync"] == wb["sync"] == fed.SYNC_NAME.decode()
    assert world["a"].keys.watermark.hex() not in json.dumps(da) + json.dumps(db)
    # a detection key swapped into the descriptor breaks its signature
    forged = copy.deepcopy(db)
    forged["descriptor"]["watermark"]["detection_key"] = KEY_A.hex()
    with pytest.raises(LedgerIntegrityError):
        desc.verify(forged)
    # a public key whose id is not the one the signed descriptor names is not used
    entry = world["trust"].find("P-BETA")
    assert wmkeys.detection_key(entry)[0] == "public"
    assert wmkeys.detection_key(world["trust"].find("P-ACME")) is None  # shared: nothing until a grant


def test_a_shared_key_reaches_only_its_recipient_and_only_from_the_pinned_key(world, tmp_path):
    signed = _grant(world)
    assert world["trust"].find("P-ACME").watermark_key == fed.derive(world["a"].keys.watermark, "shared").hex()
    assert fed.derive(world["a"].keys.watermark, "shared").hex() not in json.dumps(signed)
    entry = world["trust"].find("P-ACME")
    wmkeys.recipient_public(tmp_path / "other")  # another platform, with its own recipient key
    with pytest.raises(ValidationError):  # cannot open it
        wmkeys.open_grant(signed, entry, tmp_path / "other")
    with pytest.raises(LedgerIntegrityError):  # B's signature does not make it A's grant
        wmkeys.open_grant(signed, world["trust"].find("P-BETA"), world["p"].settings.home)
    tampered = copy.deepcopy(signed)
    tampered["grant"]["key_id"] = "0" * 16
    with pytest.raises(LedgerIntegrityError):
        wmkeys.open_grant(tampered, entry, world["p"].settings.home)
    with pytest.raises(ValidationError):  # public mode publishes its key; nothing to grant
        wmkeys.grant(world["b"], wmkeys.recipient_public(world["p"].settings.home))


def test_the_platform_attributes_and_resolves_every_trusted_providers_marks(world):
    ra, rb = _label(world["a"], 4), _label(world["b"], 19)
    p = world["p"]
    # before the grant and without credentials: B (public) is read, A (shared) is not
    scan_b = p.scan(_stripped(world["b"], rb))
    (fb,) = _fed(scan_b)
    assert fb["evidence"]["provider"] == "beta" and fb["evidence"]["token"] == rb.watermark_payload
    assert fb["evidence"]["status"] == "mark_present_not_resolved" and fb["kind"] == "trace"  # no credential yet
    assert "not resolved" in fb["problems"][0]
    assert not [e for e in _fed(p.scan(_stripped(world["a"], ra))) if e["evidence"].get("provider")]  # no key yet
    _grant(world)
    (fa,) = _fed(p.scan(_stripped(world["a"], ra)))  # shared mode, no credential: only key holders can embed it
    assert fa["evidence"]["provider"] == "acme" and fa["evidence"]["status"] == "mark_present_not_resolved"
    assert fa["kind"] == "label" and fa["confidence"] == 0.9 and fa["evidence"]["token"] == ra.watermark_payload
    for who, sg in (("P-ACME", world["a"]), ("P-BETA", world["b"])):
        world["trust"].set_lookup_token(who, create_token(sg.db, Role.PLATFORM, "default", "platform P")[0])
    for sg, made, name in ((world["a"], ra, "acme"), (world["b"], rb, "beta")):
        result = p.scan(_stripped(sg, made))
        (f,) = _fed(result)
        ev = f["evidence"]
        assert ev["provider"] == name and ev["status"] == "resolved" and ev["resolved"]
        assert ev["content_id"] == made.content_id and ev["token"] == made.watermark_payload
        assert ev["key_fingerprint"] == world["trust"].find(name).fingerprint
        assert ev["resolution"]["verified"] and f["kind"] == "label" and result.verdict == "ai_generated"
        assert ev["decodes"] == 1 and ev["keys"] == 2


def test_a_forged_public_mark_on_a_real_photo_is_present_not_resolved(world):
    world["trust"].set_lookup_token("P-BETA", create_token(world["b"].db, Role.PLATFORM, "default", "P")[0])
    public = bytes.fromhex(world["trust"].find("P-BETA").descriptor["descriptor"]["watermark"]["detection_key"])
    forged = fed.FederatedWatermarker(public).embed(kodak(21), b"madeup!!")  # anyone can: the key is published
    result = world["p"].scan(_png(jpeg(forged)))
    (f,) = _fed(result)
    assert f["evidence"]["token"] == b"madeup!!".hex() and f["evidence"]["provider"] == "beta"
    assert f["evidence"]["status"] == "mark_present_not_resolved" and not f["evidence"]["resolved"]
    assert f["evidence"]["content_id"] is None and f["kind"] == "info" and f["label_value"] is None
    assert "mark present, not resolved" in f["problems"][0]
    assert result.verdict == "none"  # a forger cannot brand a real photo as AI-generated
    # and the provider's lookup refuses the token outright
    with pytest.raises(NotFoundError):
        res.resolve_token(world["trust"], "P-BETA", b"madeup!!".hex(),
                          credential=world["trust"].credential(world["trust"].find("P-BETA").origin))


def test_a_provider_scans_its_own_federated_marks_with_its_own_ledger(world):
    made = _label(world["a"], 15)
    result = world["a"].scan(_stripped(world["a"], made))
    own = [e for e in result.evidence if e["source"] == "image.watermark"]
    assert own and own[0]["evidence"]["status"] == "resolved" and own[0]["evidence"]["content_id"] == made.content_id
    assert not _fed(result) or all(e["kind"] != "label" for e in _fed(result))  # covered: no second search
    traced = world["a"].trace(_stripped(world["a"], made))
    assert traced["found"] and traced["content_id"] == made.content_id and "watermark" in traced["via"]


def test_a_genuine_token_copied_onto_another_photo_is_not_a_resolved_record_of_it(world):
    """The copy attack (public mode: anyone reads the token and re-embeds it): the token resolves, but to a record
    whose output is another picture -- flagged for review, never "AI-generated" on the strength of the mark."""
    made = _label(world["b"], 17)
    world["trust"].set_lookup_token("P-BETA", create_token(world["b"].db, Role.PLATFORM, "default", "P")[0])
    public = bytes.fromhex(world["trust"].find("P-BETA").descriptor["descriptor"]["watermark"]["detection_key"])
    copied = fed.FederatedWatermarker(public).embed(kodak(22), bytes.fromhex(made.watermark_payload))
    result = world["p"].scan(_png(jpeg(copied)))
    (f,) = _fed(result)
    ev = f["evidence"]
    assert ev["token"] == made.watermark_payload and ev["resolution"]["content_id"] == made.content_id
    assert ev["status"] == "resolved_other_content" and ev["resolution"]["pdq_distance"] > 31
    assert f["kind"] == "trace" and f["advisory"] and result.verdict != "ai_generated"


def test_the_grant_journey_through_the_cli(tmp_path, monkeypatch, capsys):
    """provider descriptor -> trust add -> trust recipient -> provider grant-wm-key -> trust wm-key / credential."""
    from synthguard.cli import main

    def as_(home: str, mode: str | None = None) -> None:
        monkeypatch.setenv("SYNTHGUARD_HOME", str(tmp_path / home))
        if mode:
            monkeypatch.setenv("SYNTHGUARD_WATERMARK_MODE", mode)
        else:
            monkeypatch.delenv("SYNTHGUARD_WATERMARK_MODE", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    as_("acme", "shared")
    assert run("keys", "init")[0] == 0
    code, out, err = run("provider", "descriptor", "--base-url", "https://acme.example")
    assert code == 0, err
    (tmp_path / "acme.json").write_text(out)
    origin = json.loads(out)["descriptor"]["log"]["origin"]
    as_("platform")
    assert run("keys", "init")[0] == 0
    assert run("trust", "add", str(tmp_path / "acme.json"), "--yes")[0] == 0
    code, recipient, _ = run("trust", "recipient")
    assert code == 0 and len(base64_decode(recipient.strip())) == 32
    as_("acme", "shared")
    code, _, err = run("provider", "grant-wm-key", recipient.strip(), "--platform", "P", "-o", str(tmp_path / "g.json"))
    assert code == 0, err
    as_("platform")
    tampered = json.loads((tmp_path / "g.json").read_text())
    tampered["grant"]["platform"] = "someone else"  # the signature covers every field
    (tmp_path / "bad.json").write_text(json.dumps(tampered))
    assert run("trust", "wm-key", origin, str(tmp_path / "bad.json"))[0] != 0
    code, out, err = run("trust", "wm-key", origin, str(tmp_path / "g.json"), "--json")
    assert code == 0 and json.loads(out)["watermark_key"] == "held", err
    held = TrustList(tmp_path / "platform" / "trust-list.json").find(origin).watermark_key
    wm_key = bytes.fromhex((tmp_path / "acme" / "keys" / "watermark.key").read_text().strip())
    assert held == fed.derive(wm_key, "shared").hex() and held not in run("trust", "list", "--json")[1]
    assert run("trust", "credential", origin)[0] != 0  # neither a token nor --forget
    code, out, _ = run("trust", "credential", origin, "--token", "sg_abc", "--json")
    assert code == 0 and json.loads(out)["credential"] == "stored"
    assert json.loads(run("trust", "list", "--json")[1])[0]["credential"] == "held"


def base64_decode(text: str) -> bytes:
    import base64

    return base64.b64decode(text, validate=True)
