"""Video and audio in hashes and banks (issue 20): vPDQ in Meta's exchange format matched by its frame-share rule,
audio landmarks, `hash` / `bank create --kind` / `bank add --file` / `bank query`, scans and stay-down, and Meta's
TMK sample videos (grey, sepia and logo-overlay variants match a bank holding the original; unrelated clips do not).
"""

from __future__ import annotations

import json

import pytest

from synthguard.cli import main
from synthguard.core import SynthGuard
from synthguard.errors import UnsupportedMediaError, ValidationError
from synthguard.fingerprint import signals
from synthguard.fingerprint.banks import media_hashes
from synthguard.marking.audio import io as aio
from synthguard.marking.video import encode
from synthguard.marking.video import io as vio
from synthguard.media import Media
from synthguard.moderation.content import UploadBlockedError
from tests.conftest import PG_URL, kodak, shared_file

ORIGINAL = "chair-orig-22-sd-bar.mp4"
VARIANTS = ("chair-22-sd-grey-bar.mp4", "chair-22-sd-sepia-bar.mp4", "chair-22-with-small-logo-bar.mp4")
UNRELATED = ("doorknob-hd-no-bar.mp4", "pattern-sd-grey-bar.mp4")
NCII = {"kind": "intimate_deepfake", "name": "Jane Roe", "email": "jane@example.org", "signature": "Jane Roe",
        "good_faith": True, "description": "fake of me"}


def _meta_features(text: str) -> list[tuple[str, int, float]]:
    """ThreatExchange's VpdqCompactFeature.from_str, re-implemented: "<64 hex>,<quality>,<seconds>"."""
    out = []
    for item in json.loads(text):
        pdq_hex, quality, seconds = item.split(",")
        assert len(pdq_hex) == 64 and int(pdq_hex, 16) >= 0 and 0 <= int(quality) <= 100 and float(seconds) >= 0
        assert seconds == f"{float(seconds):.3f}"
        out.append((pdq_hex, int(quality), float(seconds)))
    return out


def test_tmk_sample_variants_match_the_original_and_unrelated_clips_do_not(sg):
    sg.banks.create("removed-videos", kind="vpdq", actor="t")
    sg.banks.add_media("removed-videos", shared_file("tmk", ORIGINAL), reason="original", actor="t")
    for name in VARIANTS:
        found = [m for m in sg.banks.query_media(shared_file("tmk", name)) if m.bank == "removed-videos"]
        assert len(found) == 1 and found[0].details["query_share"] >= signals.VPDQ_QUERY_SHARE, name
    for name in UNRELATED:
        assert not [m for m in sg.banks.query_media(shared_file("tmk", name)) if m.bank == "removed-videos"], name


def test_hash_prints_vpdq_in_metas_exchange_format_and_audio(capsys, settings):
    clip = vio.synthetic_video("MP4", seconds=3.0)
    path = settings.home / "clip.mp4"
    path.write_bytes(clip.data)
    assert main(["hash", str(path), "--json"]) in (0, None)
    out = json.loads(capsys.readouterr().out)
    features = _meta_features(out["vpdq"])
    assert out["vpdq_frames"] == len(features) >= 2 and [t for _, _, t in features] == sorted(t for _, _, t in features)
    assert out["audio"] and out["sha256"] == clip.sha256
    assert signals.parse_vpdq(out["vpdq"]).frames[0].pdq == features[0][0]  # and it reads back
    silent = settings.home / "silent.mp4"
    silent.write_bytes(vio.synthetic_video("MP4", seconds=2.0, audio=False).data)
    assert main(["hash", str(silent), "--json"]) in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert "audio" not in out and "audio" in out["skipped"]  # said, not silently dropped
    wav = settings.home / "a.wav"
    wav.write_bytes(aio.synthetic_audio("WAV").data)
    assert main(["hash", str(wav), "--json"]) in (0, None)
    assert set(json.loads(capsys.readouterr().out)) == {"sha256", "format", "audio"}


def test_bank_cli_for_video_and_audio(capsys, settings):
    clip = settings.home / "clip.mp4"
    clip.write_bytes(vio.synthetic_video("MP4", seconds=3.0).data)
    copy = settings.home / "copy.mp4"
    copy.write_bytes(encode.reencode(Media.open(clip), crf=30, height=180).data)
    for name, kind in (("vids", "vpdq"), ("sounds", "audio")):
        assert main(["bank", "create", name, "--kind", kind, "--json"]) in (0, None)
        assert json.loads(capsys.readouterr().out)["kind"] == kind
    assert main(["bank", "add", "vids", "--file", str(clip), "--reason", "removed", "--json"]) in (0, None)
    assert main(["bank", "add", "sounds", "--file", str(clip), "--reason", "removed", "--json"]) in (0, None)
    capsys.readouterr()
    assert main(["bank", "query", "--file", str(copy), "--json"]) in (0, None)
    found = json.loads(capsys.readouterr().out)
    assert [(m["bank"], m["kind"]) for m in found] == [("vids", "vpdq")]  # the re-encode dropped the sound
    vpdq = media_hashes(Media.open(copy))["vpdq"]
    assert main(["bank", "query", "--hash", vpdq, "--json"]) in (0, None)
    assert json.loads(capsys.readouterr().out)[0]["bank"] == "vids"
    assert main(["bank", "add", "vids", "--hash", "not a fingerprint", "--reason", "x"]) == 2
    assert main(["bank", "add", "vids", "--file", str(kodak("kodim01.png")), "--reason", "x"]) == 2
    assert main(["bank", "add", "vids", "--file", str(clip), "--reason", "again"]) == 6  # duplicate


def test_bad_fingerprints_are_refused_clearly(sg):
    sg.banks.create("v", kind="vpdq", actor="t")
    sg.banks.create("a", kind="audio", actor="t")
    for bad in ("[]", "{}", '["zz,1,0.0"]', '["' + "0" * 64 + ',101,0.0"]', '["' + "0" * 64 + ',50,-1"]', "[1",
                "x" * (signals.MAX_CHARS + 1)):
        with pytest.raises(ValidationError):
            sg.banks.add("v", bad, reason="r", actor="t")
    for bad in ("00", "zz", "53474131" + "00" * 12):
        with pytest.raises(ValidationError):
            sg.banks.add("a", bad, reason="r", actor="t")
    with pytest.raises(UnsupportedMediaError):
        sg.banks.add_media("a", kodak("kodim01.png"), reason="r", actor="t")
    with pytest.raises(ValidationError):
        sg.banks.create("v2", kind="vpdq", max_distance=200, actor="t")


def test_scan_and_stay_down_for_removed_video_and_audio(sg):
    mod = sg.moderation
    clip = vio.synthetic_video("MP4", seconds=3.0)
    mod.register("acme", "vid-1", clip.data)
    t = mod.submit("acme", NCII | {"location": "vid-1"})
    mod.claim("acme", "rev-1", case_id=mod.case("acme", t["ticket"])["id"])
    mod.act("acme", t["ticket"], "rev-1", "remove", "ncii")
    # the stay-down banks may carry the tenant in their name (removed-content-video.acme): match the prefix
    kinds = {b["name"].split(".")[0]: (b["kind"], b["entries"]) for b in sg.banks.list()
             if b["name"].startswith(("removed-content-video", "removed-content-audio"))}
    assert kinds == {"removed-content-video": ("vpdq", 1), "removed-content-audio": ("audio", 1)}
    copy = encode.reencode(clip, crf=30, height=180)  # new bytes, new resolution, no sound
    assert copy.sha256 != clip.sha256
    with pytest.raises(UploadBlockedError):  # blocked by the vPDQ bank alone: no SHA-256, PDQ or sound match
        mod.register("acme", "vid-2", copy.data)
    song = aio.synthetic_audio("WAV", seconds=8.0)
    mod.register("acme", "song-1", song.data)
    t2 = mod.submit("acme", NCII | {"location": "song-1"})
    mod.claim("acme", "rev-1", case_id=mod.case("acme", t2["ticket"])["id"])
    mod.act("acme", t2["ticket"], "rev-1", "remove", "ncii")
    mp3 = aio.encode_lossy(aio.decode_audio(song).samples, 22050, "mp3", 64000)
    with pytest.raises(UploadBlockedError):
        mod.register("acme", "song-2", mp3)
    mod.register("acme", "other", aio.synthetic_audio("WAV", seconds=8.0).data[:44] + bytes(8 * 22050 * 2))


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="SYNTHGUARD_TEST_POSTGRES_URL not set (no Postgres server)")
def test_long_fingerprints_are_stored_and_matched_on_postgres(pg_settings):
    """Postgres enforces VARCHAR(64) on the key: the fingerprint goes to ``data`` (migration 0020)."""
    import random

    rnd = random.Random(20)
    text = json.dumps([f"{rnd.getrandbits(256):064x},{80},{t:.3f}" for t in range(120)])
    with SynthGuard.open(pg_settings) as sg:
        assert sg.db.engine.dialect.name == "postgresql"
        sg.banks.create("v", kind="vpdq", actor="t")
        entry = sg.banks.add("v", text, reason="r", actor="t")
        [hit] = sg.banks.query("vpdq", text)
        assert (hit.entry_id, hit.distance) == (entry, 0) and len(text) > 8000
