"""Platform scan verdicts (LM-13..LM-17, DS-21) on real files from our labeler and from third-party writers."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from synthguard.core import SynthGuard
from synthguard.detection import Detection
from synthguard.detection.marks import KNOWN_PAYLOADS
from synthguard.marking.aigc import AIGCLabel
from synthguard.media import Media
from synthguard.scan import decide, load_notices, scan
from tests.conftest import kodak

PRODUCER = "001191110102MAD55U9H0F10002"
PLATFORM = "001191110102MAD55U9H0F20001"
EXIFTOOL_CONFIG = Path(__file__).with_name("exiftool_tc260.config")


def sources(result) -> dict[str, dict]:
    return {e["source"]: e for e in result.evidence}


def action(result, name: str) -> dict:
    return next(a for a in result.actions if a["action"] == name)


def exiftool_write(path: Path, *tags: str) -> None:
    tool = shutil.which("exiftool") or pytest.fail("exiftool is not installed: run `make test`")
    subprocess.run([tool, "-config", str(EXIFTOOL_CONFIG), "-overwrite_original", *tags, str(path)],
                   check=True, capture_output=True)


def load_imwatermark_maxdct():
    """imwatermark's dwtDct embedder, loaded without its package __init__ (which imports torch)."""
    spec = importlib.util.find_spec("imwatermark")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("invisible-watermark is not installed in the test environment")
    path = Path(next(iter(spec.submodule_search_locations))) / "maxDct.py"
    mod_spec = importlib.util.spec_from_file_location("_imwatermark_maxdct", path)
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    return module


def sd_watermarked(name: str = "kodim09.png", payload: str = "sdxl") -> bytes:
    """What an SD/SDXL pipeline writes: RGB -> BGR, imwatermark dwtDct with the public payload, back to RGB."""
    maxdct = load_imwatermark_maxdct()
    rgb = np.asarray(Image.open(kodak(name)).convert("RGB"))
    bits = list(KNOWN_PAYLOADS[payload])
    enc = maxdct.EmbedMaxDct(bits, wmLen=len(bits)).encode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    buf = io.BytesIO()
    Image.fromarray(cv2.cvtColor(enc, cv2.COLOR_BGR2RGB)).save(buf, "PNG")
    return buf.getvalue()


# --- ai_generated (LM-13) ------------------------------------------------------------------------
def test_our_labeled_output_is_ai_generated_and_propagated(sg: SynthGuard, verified_user: str, tmp_path: Path):
    out = tmp_path / "gen.png"
    sg.label(kodak(), user=verified_user, producer=PRODUCER, output=out)
    r = scan(sg.scanner, out, propagator=PLATFORM, propagate_id="POST-77")
    assert (r.verdict, r.label_value) == ("ai_generated", "1")
    ev = sources(r)
    assert ev["image.aigc"]["kind"] == "label" and ev["image.aigc"]["evidence"]["integrity"] == "valid"
    assert ev["image.watermark"]["kind"] == "label" and ev["image.watermark"]["confidence"] > 0.999
    assert ev["image.c2pa"]["kind"] == "label"
    notice = action(r, "notice")
    assert notice["badge"] == {"zh": "AI生成", "en": "AI-generated"} and notice["citations"][0]["row"] == "LM-13"
    write = action(r, "write_propagator")
    assert write["status"] == "written" and "note" in write  # the C2PA manifest no longer binds the new bytes
    aigc = sg.inspect(r.output)["aigc"]  # LM-17: one block, producer fields kept, propagator fields ours
    assert aigc["ContentProducer"] == PRODUCER and aigc["ContentPropagator"] == PLATFORM
    assert aigc["PropagateID"] == "POST-77" and aigc["Label"] == "1"
    assert not [a for a in r.actions if a["action"] == "flag"]
    json.dumps(r.to_dict())  # the JSON contract is serialisable


def test_exiftool_written_tc260_label_is_ai_generated(sg: SynthGuard, tmp_path: Path):
    path = tmp_path / "ext.png"
    shutil.copy(kodak("kodim05.png"), path)
    label = AIGCLabel("1", PRODUCER, "EXT-1", "", PRODUCER, "EXT-1", "")
    exiftool_write(path, f"-XMP-TC260:AIGC={label.to_json()}")
    r = scan(sg.scanner, path)
    assert (r.verdict, r.label_value) == ("ai_generated", "1")
    assert sources(r)["image.aigc"]["evidence"]["aigc"]["ProduceID"] == "EXT-1"
    assert sources(r)["image.aigc"]["evidence"]["integrity"] == "unknown"  # not our key: unverifiable, still a label
    assert action(r, "write_propagator")["status"] == "pending"  # no platform code given


def test_exiftool_written_iptc_source_type_is_ai_generated(sg: SynthGuard, tmp_path: Path):
    path = tmp_path / "iptc.png"
    shutil.copy(kodak("kodim06.png"), path)
    exiftool_write(path, "-XMP-iptcExt:DigitalSourceType="
                         "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic")
    r = scan(sg.scanner, path, propagator=PLATFORM, propagate_id="P-9")
    assert r.verdict == "ai_generated"
    assert sources(r)["image.iptc"]["kind"] == "label"
    aigc = sg.inspect(r.output)["aigc"]  # no AIGC block yet: a new one with the verdict's Label (LM-17)
    assert aigc["Label"] == "1" and aigc["ContentPropagator"] == PLATFORM and aigc["ContentProducer"] == ""


def test_c2pa_signed_with_another_key_is_ai_generated(sg: SynthGuard, tmp_path: Path):
    from synthguard.marking import c2pa
    from synthguard.provenance import create_dev_pki

    pki = create_dev_pki(tmp_path / "other-pki", organization="Other Generator Inc")
    signed = c2pa.sign(Media.open(kodak("kodim07.png")), cert_chain=pki.cert_chain, key=pki.key,
                       content_id="OTHER-1", producer="OTHER")
    r = scan(sg.scanner, signed.data)
    assert (r.verdict, r.label_value) == ("ai_generated", "1")
    c = sources(r)["image.c2pa"]
    assert c["kind"] == "label" and c["evidence"]["state"] == "valid"  # valid, not anchored in our trust list
    assert "Other Generator" in (c["evidence"]["signer"] or "")


def test_c2pa_with_broken_binding_is_a_trace_and_the_scan_continues(sg: SynthGuard, tmp_path: Path):
    import struct
    import zlib

    from synthguard.marking import c2pa
    from synthguard.provenance import create_dev_pki

    pki = create_dev_pki(tmp_path / "pki")
    signed = c2pa.sign(Media.open(kodak("kodim08.png")), cert_chain=pki.cert_chain, key=pki.key,
                       content_id="X", producer="X").data
    body = b"tEXt" + b"Comment\x00edited after signing"
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    iend = signed.rindex(b"IEND") - 4
    tampered = signed[:iend] + chunk + signed[iend:]  # bytes covered by the hard binding changed
    r = scan(sg.scanner, tampered)
    c = sources(r)["image.c2pa"]
    assert c["kind"] == "trace" and c["label_value"] == "3" and c["evidence"]["state"] == "invalid"
    assert any("does not validate" in p for p in c["problems"])
    assert (r.verdict, r.label_value) == ("suspected_ai", "3")


# --- possibly_ai (LM-14) -----------------------------------------------------------------------
def test_declared_only_is_possibly_ai(sg: SynthGuard):
    r = scan(sg.scanner, kodak("kodim10.png"), declared_ai=True, propagator=PLATFORM, propagate_id="P-2")
    assert (r.verdict, r.label_value) == ("possibly_ai", "2")
    assert sources(r)["upload.declaration"]["kind"] == "declaration"
    assert action(r, "notice")["badge"]["en"] == "Possibly AI-generated"
    assert sg.inspect(r.output)["aigc"]["Label"] == "2"


def test_a_label_outranks_the_declaration(sg: SynthGuard, verified_user: str, tmp_path: Path):
    out = tmp_path / "gen.png"
    sg.label(kodak(), user=verified_user, producer=PRODUCER, output=out, c2pa=False)
    assert scan(sg.scanner, out, declared_ai=True).verdict == "ai_generated"


# --- suspected_ai (LM-15) and DS-21 ------------------------------------------------------------
def test_sd_dwtdct_watermark_is_suspected_and_flagged_as_stripped(sg: SynthGuard):
    r = scan(sg.scanner, sd_watermarked(), propagator=PLATFORM, propagate_id="P-3")
    assert (r.verdict, r.label_value) == ("suspected_ai", "3")
    wm = sources(r)["image.dwtdct"]
    assert wm["kind"] == "trace" and wm["evidence"]["payload"] == "sdxl"
    assert wm["evidence"]["bits_agreeing"] >= 46 and wm["evidence"]["false_match_probability"] < 1e-9
    assert wm["confidence"] > 0.999999
    assert action(r, "flag")["flag"] == "metadata_stripped"  # DS-21
    assert sg.inspect(r.output)["aigc"]["Label"] == "3"


def test_our_watermark_without_metadata_is_flagged_stripped(sg: SynthGuard, verified_user: str, tmp_path: Path):
    out = tmp_path / "gen.png"
    sg.label(kodak(), user=verified_user, producer=PRODUCER, output=out, c2pa=False)
    stripped = io.BytesIO()
    Image.open(out).save(stripped, "PNG")  # re-encode: every metadata chunk gone, pixels (and mark) kept
    r = scan(sg.scanner, stripped.getvalue())
    assert r.verdict == "ai_generated"  # our watermark is a label (LM-11)
    assert "image.aigc" not in sources(r)
    assert sources(r)["scan.ds21"]["evidence"]["flag"] == "metadata_stripped"
    assert action(r, "flag")["citations"][0]["row"] == "DS-21"


class _Fixed:
    """A test detector with a calibrated threshold, as an ONNX adapter reports it."""

    name = "image.test-classifier"
    modalities = frozenset()

    def __init__(self, score: float, threshold: float = 0.5):
        self.score, self.threshold = score, threshold

    def detect(self, media):
        over = self.score >= self.threshold
        return [Detection(self.name, "classifier", self.score, self.score if over else 0.0, "3" if over else None,
                          {"threshold": self.threshold}, advisory=True)]


def test_detector_over_threshold_is_suspected_and_goes_to_review(sg: SynthGuard):
    r = scan(sg.scanner, kodak("kodim11.png"), detectors=[_Fixed(0.9)])
    assert (r.verdict, r.label_value) == ("suspected_ai", "3")
    assert action(r, "review")["reason"].startswith("advisory detector")
    assert scan(sg.scanner, kodak("kodim11.png"), detectors=[_Fixed(0.2)]).verdict == "none"


def test_crashing_detector_is_recorded_and_the_scan_continues(sg: SynthGuard):
    class Broken(_Fixed):
        def detect(self, media):
            raise RuntimeError("boom")

    r = scan(sg.scanner, kodak("kodim11.png"), detectors=[Broken(0.0)])
    assert r.verdict == "none"
    assert "boom" in sources(r)["image.test-classifier"]["problems"][0]


# --- none, malformed labels ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["kodim01.png", "kodim23.png"])
def test_clean_kodak_image_is_none(sg: SynthGuard, name: str):
    r = scan(sg.scanner, kodak(name))
    assert (r.verdict, r.label_value, r.actions, r.matches) == ("none", None, [], [])
    assert [e for e in r.evidence if e["kind"] != "info"] == []
    assert r.fingerprints["pdq_quality"] >= 50 and len(r.fingerprints["pdq"]) == 64


def test_malformed_aigc_json_is_reported_and_the_scan_continues(sg: SynthGuard, tmp_path: Path):
    path = tmp_path / "bad.png"
    shutil.copy(kodak("kodim12.png"), path)
    exiftool_write(path, '-XMP-TC260:AIGC={"Label":"1","ContentProducer":')
    r = scan(sg.scanner, path, declared_ai=True)
    aigc = sources(r)["image.aigc"]
    assert aigc["kind"] == "error" and any("not valid JSON" in p for p in aigc["problems"])
    assert (r.verdict, r.label_value) == ("possibly_ai", "2")  # the declaration still counts


def test_corrupt_upload_raises_a_clear_error(sg: SynthGuard):
    from synthguard.errors import CorruptMediaError

    data = kodak().read_bytes()
    with pytest.raises(CorruptMediaError):
        scan(sg.scanner, data[: len(data) // 3])


# --- banks (DS-09) -------------------------------------------------------------------------------
def test_bank_match_is_reported_and_sent_to_review(sg: SynthGuard):
    from synthguard.fingerprint.banks import Banks
    from synthguard.store import bank_repo

    banks = Banks(sg.db.unit_of_work, sg.ledger, latest_change=lambda: bank_repo.latest_change(sg.db))
    banks.create("removed-content", kind="pdq", description="removed after review", actor="mod-1")
    banks.add_media("removed-content", kodak("kodim15.png"), reason="takedown T-1", actor="mod-1")
    resized = io.BytesIO()
    Image.open(kodak("kodim15.png")).resize((512, 341)).save(resized, "JPEG", quality=85)
    r = scan(sg.scanner, resized.getvalue())
    assert r.matches and r.matches[0]["bank"] == "removed-content" and r.matches[0]["kind"] == "pdq"
    assert r.matches[0]["distance"] <= 31 and r.matches[0]["reason"] == "takedown T-1"
    assert action(r, "review")["banks"] == ["removed-content"]


# --- decision table and notices ---------------------------------------------------------------------
def test_decide_orders_tiers_and_ignores_errors():
    def d(kind, value):
        return Detection("x", kind, label_value=value)

    assert decide([]) == ("none", None)
    assert decide([d("trace", "3"), d("declaration", "2")]) == ("possibly_ai", "2")
    assert decide([d("trace", "3"), d("label", "1")]) == ("ai_generated", "1")
    assert decide([d("error", "1")]) == ("none", None)


def test_notices_are_bilingual_and_cited():
    notices = load_notices()["notices"]
    for verdict in ("ai_generated", "possibly_ai", "suspected_ai", "none"):
        n = notices[verdict]
        assert n["text"]["zh"] and n["text"]["en"] and n["citations"]
    assert [notices[v]["label_value"] for v in ("ai_generated", "possibly_ai", "suspected_ai")] == ["1", "2", "3"]


def test_priors_search_finds_resized_copies_and_defers_the_rest(settings, verified_user, tmp_path: Path):
    """scan_watermark_search=priors: a re-encoded, resized copy is still found (its geometry is a prior); a rotated
    copy is left to the deep scan, which the scan asks for with a `deep_scan` action instead of claiming `none`."""
    with SynthGuard.open(settings) as sg:
        out = tmp_path / "gen.png"
        sg.label(kodak(), user=verified_user, producer=PRODUCER, output=out, c2pa=False)
    fast = settings.model_copy(update={"scan_watermark_search": "priors"})
    img = Image.open(out).convert("RGB")
    resized, rotated = io.BytesIO(), io.BytesIO()
    img.resize((img.width * 3 // 5, img.height * 3 // 5), Image.LANCZOS).save(resized, "JPEG", quality=80)
    img.rotate(3, resample=Image.BICUBIC).crop((40, 40, img.width - 40, img.height - 40)).save(rotated, "JPEG",
                                                                                             quality=90)
    with SynthGuard.open(fast) as sg:
        r = scan(sg.scanner, resized.getvalue())
        assert r.verdict == "ai_generated" and sources(r)["image.watermark"]["kind"] == "label"
        assert not any(a["action"] == "deep_scan" for a in r.actions)
        shallow = scan(sg.scanner, rotated.getvalue())
        assert shallow.verdict == "none" and action(shallow, "deep_scan")["sources"] == ["image.watermark"]
        assert sources(shallow)["image.watermark"]["evidence"]["full_search"] == "not run"
        clean = scan(sg.scanner, kodak("kodim03.png"))
        assert clean.verdict == "none" and action(clean, "deep_scan")
    with SynthGuard.open(settings) as sg:  # the full search (what the deep scan runs) finds the rotated copy
        deep = scan(sg.scanner, rotated.getvalue())
        assert deep.verdict == "ai_generated" and not any(a["action"] == "deep_scan" for a in deep.actions)


def test_a_crashing_detector_is_reported_without_the_servers_paths(sg: SynthGuard):
    """A plugin's exception text can carry server paths (an ImportError names the module's file, an OSError the
    file it opened); the problem shown to API clients and the public check page names only the last component."""

    class Broken:
        name = "image.broken"
        modalities = frozenset()

        def detect(self, media):
            raise ImportError("cannot import name 'x' from 'pkg.mod' (/srv/app/venv/lib/python3.11/pkg/mod.py)")

    result = scan(sg.scanner, kodak(), detectors=[Broken()])
    (problem,) = [p for d in result.evidence if d["source"] == "image.broken" for p in d["problems"]]
    assert problem == "image.broken crashed: ImportError: cannot import name 'x' from 'pkg.mod' (mod.py)"


def test_without_paths_cuts_posix_and_windows_paths():
    from synthguard.errors import without_paths

    assert without_paths("[Errno 2] No such file: '/var/lib/sg/keys/watermark.key'") == (
        "[Errno 2] No such file: 'watermark.key'")
    assert without_paths(r"cannot open C:\Users\ops\sg\ledger.db now") == "cannot open ledger.db now"
    assert without_paths("ratio 3/4 and a/b stay") == "ratio 3/4 and a/b stay"
