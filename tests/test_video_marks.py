"""Video labels: probing and bad input, the explicit label (LM-06, GB-05), the AIGC tag (LM-10, GB-08, GB-12, GB-16),
C2PA (EU-09), the content digest, and the provider's journey end to end (DS-19, DS-21)."""

from __future__ import annotations

import io
import json
import subprocess

import av
import numpy as np
import pytest

from synthguard.codecs import video as cvideo
from synthguard.errors import CorruptMediaError, MediaTooLargeError, UnsupportedMediaError
from synthguard.marking.video import encode
from synthguard.marking.video import io as vio
from synthguard.marking.video.marker import VideoMetadataMarker, VideoVisibleMarker
from synthguard.marking.video.metadata import aigc_blocks
from synthguard.media import Media, sniff
from synthguard.testing import sample_context


@pytest.fixture(scope="module")
def clip() -> Media:
    return vio.synthetic_video("MP4")  # 320x240, 3 s, 30 fps, AAC tone


@pytest.fixture(scope="module")
def clips() -> dict[str, Media]:
    return {f: vio.synthetic_video(f, seconds=1.0) for f in ("MOV", "MKV", "WEBM")}


def _exiftool(data: bytes, suffix: str, tmp_path) -> dict:
    path = tmp_path / f"f.{suffix}"
    path.write_bytes(data)
    out = subprocess.run(["exiftool", "-j", "-a", "-G1", str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


# --- sniffing, probing, bad input ------------------------------------------------------------------------------
def test_containers_are_sniffed_from_their_bytes(clip, clips):
    assert clip.format == "mp4" and clip.mime == "video/mp4"
    assert [clips[f].format for f in ("MOV", "MKV", "WEBM")] == ["mov", "mkv", "webm"]
    assert sniff(clips["MOV"].data[:64]) == "mov" and clips["MKV"].mime == "video/x-matroska"


def test_probe_reports_the_streams(clip):
    info = clip.video()
    assert (info.width, info.height, info.codec, info.pix_fmt) == (320, 240, "h264", "yuv420p")
    assert info.fps == pytest.approx(30) and info.duration == pytest.approx(3.0, abs=0.1)
    assert info.audio["codec"] == "aac" and not info.variable_frame_rate


def test_corrupt_container_is_rejected(clip):
    broken = Media.from_bytes(clip.data[:40] + bytes(2000), name="broken.mp4")
    with pytest.raises(CorruptMediaError) as e:
        broken.decode()
    assert "What to do" in e.value.diagnostics()


def test_zero_length_video_is_rejected():
    buf = io.BytesIO()
    with av.open(buf, "w", format="matroska") as dst:  # a header and a video track, no frame
        v = dst.add_stream("libx264", rate=30)
        v.width, v.height, v.pix_fmt = 320, 240, "yuv420p"
        dst.start_encoding()
    with pytest.raises(CorruptMediaError, match="no decodable frame|cannot open"):
        Media.from_bytes(buf.getvalue(), name="empty.mkv").decode()


def test_audio_only_mp4_has_no_video_stream():
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as dst:
        a = dst.add_stream("aac", rate=48000)
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        fr.sample_rate, fr.pts = 48000, 0
        dst.mux(a.encode(fr))
        dst.mux(a.encode(None))
    with pytest.raises(UnsupportedMediaError, match="no video stream"):
        Media.from_bytes(buf.getvalue(), name="sound.mp4").decode()


def test_unknown_codec_is_unsupported():
    mkv = vio.synthetic_video("MKV", seconds=0.5, audio=False).data
    i = mkv.find(b"V_MPEG4/ISO/AVC")
    assert i > 0
    with pytest.raises(UnsupportedMediaError, match="codec"):
        Media.from_bytes(mkv[:i] + b"V_SYNTHGUARDXX1" + mkv[i + 15:], name="odd.mkv").decode()


def test_too_long_video_is_refused_before_anything_is_written(sg, verified_user, clip, tmp_path):
    from synthguard.core import SynthGuard

    short = SynthGuard.open(sg.settings.model_copy(update={"max_video_seconds": 1.0}))
    try:
        with pytest.raises(MediaTooLargeError, match="limit of 1 s"):
            short.label(clip, user=verified_user, producer="ACME", output=tmp_path / "o.mp4")
    finally:
        short.close()
    assert not (tmp_path / "o.mp4").exists()


# --- the explicit label (GB-05) --------------------------------------------------------------------------------
def test_visible_label_shows_for_the_opening_seconds_only(sg, clip):
    """GB-05: label from t=0 for >= 2 s (3 s here, the default), glyphs >= 5% of the shorter side; gone after."""
    marker = sg.marker("video.visible")
    assert not marker.read(clip).found
    long = vio.synthetic_video("MP4", seconds=4.0, audio=False)
    out = marker.mark(long, sample_context())
    r = marker.read(out)
    assert r.found and r.valid and r.data["ratio"] >= 0.05 and r.data["frames_checked"] == 3
    assert r.data["persistent"] is False  # the frame at 3.5 s is clean
    assert "生成" in r.data["text"]  # CJK text rendered (GB-02 elements: AI + 生成)
    lay = marker.layout((320, 240))
    assert lay["glyph_height"] >= 12 and lay["seconds"] >= 2.0  # 5% of 240 px, recorded with its duration


def test_persistent_label_stays_on_every_frame(sg):
    from synthguard.marking.image.visible import VisibleLabelMarker

    marker = VideoVisibleMarker(VisibleLabelMarker(position="top-left"), seconds=2.0, persistent=True)
    out = marker.mark(vio.synthetic_video("MP4", seconds=3.0, audio=False), sample_context())
    r = marker.read(out)
    assert r.found and r.data["persistent"] is True and r.data["position"] == "top-left"


def test_label_shorter_than_two_seconds_is_reported(sg):
    marker = sg.marker("video.visible")
    out = marker.mark(vio.synthetic_video("MP4", seconds=1.0, audio=False), sample_context())
    r = marker.read(out)
    assert r.found and r.valid is False and "GB-05" in r.problems[0]


# --- the implicit metadata label (GB-16) -----------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["MP4", "MOV", "MKV", "WEBM"])
def test_aigc_tag_round_trip_read_by_exiftool(sg, clip, clips, fmt, tmp_path):
    media = clip if fmt == "MP4" else clips[fmt]
    marker: VideoMetadataMarker = sg.marker("video.metadata")
    out = marker.mark(media, sample_context())
    r = marker.read(out)
    assert r.found and r.valid and r.data["count"] == 1 and r.data["integrity"] == "valid"
    assert r.data["aigc"]["ProduceID"] == sample_context().content_id
    tags = _exiftool(out.data, media.format, tmp_path)
    value = tags.get("Keys:AIGC") or tags.get("Matroska:Aigc")
    assert value is not None and json.loads(value)["ContentProducer"] == "TESTPRODUCER"
    if fmt in ("MP4", "MOV"):
        assert r.data["locations"] == ["moov/udta/meta/keys"]  # GB-16: moov/udta/meta keys + ilst


def test_relabeling_keeps_exactly_one_block(sg, clip):
    marker = sg.marker("video.metadata")
    once = marker.mark(clip, sample_context("SG01FIRST"))
    twice = marker.mark(once, sample_context("SG01SECOND"))
    blocks = aigc_blocks(twice)
    assert len(blocks) == 1 and "SG01SECOND" in blocks[0][1]  # GB-08


def test_integrity_binds_the_label_and_the_content(sg, clip):
    marker = sg.marker("video.metadata")
    out = marker.mark(clip, sample_context())
    label = json.loads(aigc_blocks(out)[0][1])
    forged = out.replace(encode.remux(out, {"AIGC": json.dumps(label | {"ContentProducer": "OTHER"})}))
    assert marker.read(forged).data["integrity"] == "invalid"
    re_encoded = out.replace(encode.transcode(out, lambda i, t, a: None, metadata={"AIGC": json.dumps(label)}))
    r = marker.read(re_encoded)
    assert r.data["integrity"] == "invalid" and not r.valid and "GB-12" in r.problems[0]


def test_content_digest_ignores_metadata_and_c2pa_but_not_pixels(sg, clip):
    tagged = sg.marker("video.metadata").mark(clip, sample_context())
    signed = sg.marker("video.c2pa").mark(tagged, sample_context())
    fresh = Media.from_bytes(signed.data)
    assert cvideo.content_digest(fresh) == cvideo.content_digest(clip)
    assert cvideo.content_digest(encode.reencode(clip, crf=18)) != cvideo.content_digest(clip)


# --- C2PA ------------------------------------------------------------------------------------------------------
def test_c2pa_manifest_binds_the_bytes(sg, clip):
    marker = sg.marker("video.c2pa")
    out = marker.mark(clip, sample_context())
    r = marker.read(out)
    assert r.found and r.data["state"] in ("valid", "trusted") and r.data["content_id"] == sample_context().content_id
    data = bytearray(out.data)
    i = data.rfind(b"mdat") + 200  # flip media bytes covered by the BMFF hash
    data[i] ^= 0xFF
    assert marker.read(Media.from_bytes(bytes(data))).data["state"] == "invalid"


def test_c2pa_refuses_webm_with_a_hint(sg, clips):
    with pytest.raises(UnsupportedMediaError) as e:
        sg.marker("video.c2pa").mark(clips["WEBM"], sample_context())
    assert "SYNTHGUARD_C2PA" in e.value.hint
    assert not sg.marker("video.c2pa").read(clips["WEBM"]).found


# --- the journey -----------------------------------------------------------------------------------------------
def test_label_inspect_then_trace_a_stripped_recompressed_clip(sg, verified_user, tmp_path):
    """label -> every mark reads back; strip metadata, H.264 CRF 28, cut a 2 s clip -> trace via the watermark."""
    src = vio.synthetic_video("MP4", size=(640, 360), seconds=3.0)
    r = sg.label(src, user=verified_user, producer="ACME", output=tmp_path / "o.mp4", model="v-1")
    assert r.marks == ["video.visible", "video.watermark", "video.metadata", "video.c2pa"]
    seen = sg.inspect(tmp_path / "o.mp4")
    assert seen["modality"] == "video" and seen["visible_label"]["found"]
    assert seen["aigc"]["ProduceID"] == r.content_id and seen["aigc_integrity"] == "valid" and seen["aigc_count"] == 1
    assert seen["c2pa"]["state"] == "trusted" and seen["c2pa"]["content_id"] == r.content_id
    assert seen["watermark"]["detected"] and seen["watermark"]["payload"] == r.watermark_payload
    assert seen["watermark"]["p_value"] <= 1e-6 and seen["watermark"]["frames_tested"] >= 30
    sg.checkpoint()
    copy = encode.reencode(Media.open(tmp_path / "o.mp4"), crf=28, start=0.7, duration=2.0)
    assert not aigc_blocks(copy) and copy.video().duration == pytest.approx(2.0, abs=0.1)
    found = sg.trace(copy)
    assert found["found"] and "watermark" in found["via"] and found["content_id"] == r.content_id
    assert found["proof"]["verified"]


def test_webm_labels_without_c2pa(sg, verified_user, clips, tmp_path):
    r = sg.label(clips["WEBM"], user=verified_user, producer="ACME", output=tmp_path / "o.webm", c2pa=False)
    assert r.marks == ["video.visible", "video.watermark", "video.metadata"]
    seen = sg.inspect(tmp_path / "o.webm")
    assert seen["format"] == "webm" and seen["aigc_integrity"] == "valid" and seen["watermark"]["detected"]


def test_tiny_video_is_labelled_with_a_watermark_warning(sg, verified_user, tmp_path):
    tiny = vio.synthetic_video("MP4", size=(128, 96), seconds=1.0, audio=False)
    r = sg.label(tiny, user=verified_user, producer="ACME", output=tmp_path / "o.mp4", c2pa=False)
    assert "video.watermark" not in r.marks and "video.visible" in r.marks
    assert r.warnings and "144 px" in r.warnings[0]


def test_cli_watermark_embed_and_detect_on_video(capsys, settings, tmp_path):
    from synthguard.cli import main

    src = tmp_path / "in.mp4"
    src.write_bytes(vio.synthetic_video("MP4", seconds=1.0, audio=False).data)
    assert main(["watermark", "embed", str(src), str(tmp_path / "o.mp4"), "--payload", "00112233AABBCCDD"]) == 0
    capsys.readouterr()
    assert main(["watermark", "detect", str(tmp_path / "o.mp4"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["detected"] and result["payload"] == "00112233aabbccdd" and result["frames_tested"] >= 20


def test_label_and_watermark_share_one_encode(sg):
    """The watermark marker restarts from the visible marker's source and applies both in one pass: the output is
    one H.264 generation from the input, not two."""
    src = vio.synthetic_video("MP4", seconds=1.0, audio=False)
    visible = sg.marker("video.visible").mark(src, sample_context())
    both = sg.marker("video.watermark").mark(visible, sample_context())
    note = both._cache["video_edit"]
    assert note.source is src and len(note.ops) == 2  # label op, then label + watermark op
    assert sg.marker("video.visible").read(both).found and sg.marker("video.watermark").read(both).found
    alone = sg.marker("video.watermark").mark(src, sample_context())  # no note: marks its own input
    assert alone._cache["video_edit"].source is src and not sg.marker("video.visible").read(alone).found


def test_phone_video_keeps_its_rotation_and_an_upright_label(sg):
    """A portrait phone clip is stored landscape with a display rotation: the output keeps the rotation, and the
    label is upright and bottom-right *as displayed* (so, in the stored frame, turned and at the top right)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as dst:
        v = dst.add_stream("libx264", rate=30)
        v.width, v.height, v.pix_fmt = 320, 240, "yuv420p"
        v.set_display_rotation(-90)  # 90 degrees clockwise for display, as phones record portrait
        for i, frame in enumerate(av.open(io.BytesIO(vio.synthetic_video("MP4", seconds=1.0).data)).decode(video=0)):
            frame.pts = i
            dst.mux(v.encode(frame))
        dst.mux(v.encode(None))
    clip = Media.from_bytes(buf.getvalue(), name="phone.mp4")
    assert clip.video().rotation == -90
    marker = sg.marker("video.visible")
    out = marker.mark(clip, sample_context())
    assert Media.from_bytes(out.data).video().rotation == -90
    from synthguard.marking.video.visible import LabelOverlay

    left, top, right, bottom = LabelOverlay.render(marker.label, 320, 240, -90).box
    assert left > 160 and top < 120 and bottom - top > right - left  # text runs down the stored frame
    assert marker.read(out).found


def test_duplicate_blocks_are_counted_and_labelling_leaves_one(sg):
    """GB-08: a Matroska file with a global and a per-stream AIGC tag reads as two blocks (non-compliant); labelling
    replaces both with one, and keeps the stream's other tags."""
    src = vio.synthetic_video("MKV", seconds=0.5)
    buf = io.BytesIO()
    with av.open(io.BytesIO(src.data)) as inp, av.open(buf, "w", format="matroska") as dst:
        dst.metadata["AIGC"] = '{"Label":"1"}'
        out = {s.index: dst.add_stream_from_template(s) for s in inp.streams}
        out[0].metadata.update({"AIGC": '{"Label":"2"}', "language": "fra"})
        for packet in inp.demux():
            if packet.size:
                packet.stream = out[packet.stream_index]
                dst.mux(packet)
    two = Media.from_bytes(buf.getvalue(), name="two.mkv")
    marker = sg.marker("video.metadata")
    r = marker.read(two)
    assert r.data["count"] == 2 and not r.valid and "GB-08" in r.problems[0]
    labelled = marker.mark(two, sample_context())
    assert marker.read(labelled).data["count"] == 1
    with av.open(io.BytesIO(labelled.data)) as c:
        assert c.streams.video[0].language == "fra"
