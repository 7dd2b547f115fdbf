"""Video and audio in hashes and banks (issue 20): vPDQ in Meta's exchange format matched by its frame-share rule,
audio landmarks, `hash` / `bank create --kind` / `bank add --file` / `bank query`, scans and stay-down, and Meta's
TMK sample videos (grey, sepia and logo-overlay variants match a bank holding the original; unrelated clips do not).
"""

from __future__ import annotations

import functools
import json

import pytest

from synthguard.cli import main
from synthguard.codecs import audio as caudio
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import ConfigError, UnsupportedMediaError, ValidationError
from synthguard.fingerprint import signals
from synthguard.fingerprint.banks import Banks, media_hashes
from synthguard.marking.audio import io as aio
from synthguard.marking.video import encode
from synthguard.marking.video import io as vio
from synthguard.media import Media
from synthguard.moderation.content import UploadBlockedError
from synthguard.store import bank_repo
from tests.conftest import PG_URL, data_file, kodak


def _banks(sg, **kw) -> Banks:
    """Banks over the test's database, built as the core builds them (units of work, the light change check)."""
    return Banks(sg.db.unit_of_work, sg.ledger, latest_change=functools.partial(bank_repo.latest_change, sg.db), **kw)

ORIGINAL = "chair-orig-22-sd-bar.mp4"
VARIANTS = ("chair-22-sd-grey-bar.mp4", "chair-22-sd-sepia-bar.mp4", "chair-22-with-small-logo-bar.mp4")
UNRELATED = ("doorknob-hd-no-bar.mp4", "pattern-sd-grey-bar.mp4")
LARGE_LOGO = "chair-22-with-large-logo-bar.mp4"
# ThreatExchange's own vPDQ hashes of the samples (vpdq/sample-hashes: the C++ reference, every frame) compared with
# chair-orig-22-sd-bar by match_VPDQ_hash_brute at its thresholds (distance 31, quality 50): (query %, compared %)
REFERENCE_SHARES = {"chair-22-sd-grey-bar": (100.0, 100.0), "chair-22-sd-sepia-bar": (100.0, 100.0),
                    "chair-22-with-small-logo-bar": (95.08, 95.02), "chair-22-with-large-logo-bar": (11.04, 10.27),
                    "doorknob-hd-no-bar": (0.0, 0.0), "pattern-sd-grey-bar": (0.0, 0.0)}
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
    sg.banks.add_media("removed-videos", data_file("tmk", ORIGINAL), reason="original", actor="t")
    for name in VARIANTS:
        found = [m for m in sg.banks.query_media(data_file("tmk", name)) if m.bank == "removed-videos"]
        assert len(found) == 1 and found[0].details["query_share"] >= signals.VPDQ_QUERY_SHARE, name
    for name in UNRELATED:
        assert not [m for m in sg.banks.query_media(data_file("tmk", name)) if m.bank == "removed-videos"], name


def _reference_vpdq(name: str) -> str:
    """A vpdq/sample-hashes file ("frame,quality,pdq hex,seconds" lines) as Meta's vPDQ exchange JSON."""
    lines = data_file("tmk", "vpdq-hashes", name + ".txt").read_text().split()
    return json.dumps([f"{h},{q},{t}" for _, q, h, t in (line.split(",") for line in lines)])


def test_our_vpdq_rule_gives_threatexchanges_numbers_on_its_own_sample_hashes(sg):
    """Same frame-share rule as ThreatExchange's match_VPDQ_hash_brute, checked on Meta's hashes of the TMK samples:
    the large-logo variant does not match the original in the reference implementation either (issue 20)."""
    original = signals.parse("vpdq", _reference_vpdq("chair-orig-22-sd-bar"))
    for name, expected in REFERENCE_SHARES.items():
        q, c = signals.vpdq_shares(signals.parse("vpdq", _reference_vpdq(name)), original, 31)
        assert (round(100 * q, 2), round(100 * c, 2)) == expected, name
    sg.banks.create("te", kind="vpdq", actor="t")
    sg.banks.add("te", _reference_vpdq("chair-orig-22-sd-bar"), reason="original", actor="t")
    matched = {name for name in REFERENCE_SHARES if sg.banks.query("vpdq", _reference_vpdq(name), banks=["te"])}
    assert matched == {"chair-22-sd-grey-bar", "chair-22-sd-sepia-bar", "chair-22-with-small-logo-bar"}
    # the compared share (0% by default, as in ThreatExchange) is enforced when configured: small logo is 95.02%
    small = [signals.parse("vpdq", _reference_vpdq("chair-22-with-small-logo-bar"))]
    for share, hits in ((0.95, 1), (0.96, 0)):
        strict = _banks(sg, vpdq=signals.VpdqRule(compared_share=share))
        assert len(strict.query_signal("vpdq", small, banks=["te"])) == hits, share
    # and the quality filter: the same frames at quality 49 are not compared at 50, but are at 40
    weak = [signals.parse("vpdq", _reference_vpdq("chair-22-with-small-logo-bar").replace(",100,", ",49,"))]
    assert weak[0].frames[0].quality == 49 and not sg.banks.query_signal("vpdq", weak, banks=["te"])
    assert _banks(sg, vpdq=signals.VpdqRule(quality=40)).query_signal("vpdq", weak, banks=["te"])


def test_large_logo_variant_is_below_vpdqs_thresholds_unless_configured(sg):
    """Meta's chair-22-with-large-logo-bar: a big opaque drawing over the upper right of every frame.  At
    ThreatExchange's thresholds it does not match the original (reference: 11.04% of query frames); the shares are
    settings, and even a 5% query share keeps the unrelated clips out (they share no frame within 31 bits)."""
    sg.banks.create("removed-videos", kind="vpdq", actor="t")
    text = signals.fingerprint_text("vpdq", Media.open(data_file("tmk", ORIGINAL)))  # what add_media banks
    sg.banks.add("removed-videos", text, reason="original", actor="t")
    original = signals.parse("vpdq", text)
    large = signals.media_query("vpdq", Media.open(data_file("tmk", LARGE_LOGO)))
    assert not sg.banks.query_signal("vpdq", large, banks=["removed-videos"])
    q, c = signals.vpdq_shares(large[0], original, 31)
    assert 0.0 < q <= 0.25 and 0.0 < c <= 0.25, (q, c)  # the reference's 11.04% / 10.27%, on 1 fps frames
    loose = _banks(sg, vpdq=signals.VpdqRule(query_share=0.05))
    found = loose.query_signal("vpdq", large, banks=["removed-videos"])
    assert len(found) == 1 and found[0].details["query_share"] == round(q, 3)
    for name in UNRELATED:
        unrelated = signals.media_query("vpdq", Media.open(data_file("tmk", name)))
        assert signals.vpdq_shares(unrelated[0], original, 31) == (0.0, 0.0), name
        assert not loose.query_signal("vpdq", unrelated, banks=["removed-videos"]), name


def test_vpdq_thresholds_are_settings_and_bad_values_are_refused(settings):
    rule = signals.VpdqRule.from_settings(settings)
    assert rule == signals.VpdqRule(50, 0.8, 0.0) == signals.DEFAULT_RULE
    tuned = Settings.load(home=settings.home, vpdq_quality=60, vpdq_query_share=50, vpdq_compared_share=25)
    assert signals.VpdqRule.from_settings(tuned) == signals.VpdqRule(60, 0.5, 0.25)
    with SynthGuard.open(tuned) as core:
        assert core.banks.vpdq == signals.VpdqRule(60, 0.5, 0.25)
    for bad in ({"vpdq_query_share": 0}, {"vpdq_query_share": 101}, {"vpdq_compared_share": -1},
                {"vpdq_quality": 101}):
        with pytest.raises(ConfigError):
            Settings.load(home=settings.home, **bad)
    for bad in ({"query_share": 0.0}, {"compared_share": 1.5}, {"quality": -1}, {"quality": True}):
        with pytest.raises(ValidationError):
            signals.VpdqRule(**bad)


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
    # crf 23 at 180p: frame distances 10-14 of 31.  At crf 30 this noise-textured synthetic clip sits at 26-30,
    # on the threshold, and one loaded CI run crossed it
    copy.write_bytes(encode.reencode(Media.open(clip), crf=23, height=180).data)
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
    copy = encode.reencode(clip, crf=23, height=180)  # new bytes, new resolution, no sound (crf: see above)
    assert copy.sha256 != clip.sha256
    with pytest.raises(UploadBlockedError):  # blocked by the vPDQ bank alone: no SHA-256, PDQ or sound match
        mod.register("acme", "vid-2", copy.data)
    song = aio.synthetic_audio("WAV", seconds=8.0)
    mod.register("acme", "song-1", song.data)
    t2 = mod.submit("acme", NCII | {"location": "song-1"})
    mod.claim("acme", "rev-1", case_id=mod.case("acme", t2["ticket"])["id"])
    mod.act("acme", t2["ticket"], "rev-1", "remove", "ncii")
    mp3 = caudio.encode_lossy(caudio.decode_audio(song).samples, 22050, "mp3", 64000)
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
