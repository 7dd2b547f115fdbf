"""Video fingerprints (vPDQ style): re-encoded copies match, other videos and partial clips do not, bad files fail
clearly.  Videos are made in code with PyAV from Kodak images (tests/data/kodak) panned and zoomed."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest
from PIL import Image

from synthguard.errors import CorruptMediaError, UnsupportedMediaError, ValidationError
from synthguard.fingerprint import Hasher
from synthguard.fingerprint.video import VideoFingerprint, VideoHasher, match
from synthguard.media import Media, Modality
from tests.conftest import data_file
from tests.media import mux

try:
    import av
except ImportError:  # fail loudly, never skip: the suite runs with the video and voice extras installed
    pytest.fail("PyAV is missing: pip install -e '.[video,voice]'", pytrace=False)


def pan_frames(kodak: str, seconds: float = 8.0, fps: int = 25, size: tuple[int, int] = (320, 240)):
    """A camera move over a Kodak image: pan left to right with a slow zoom; yields RGB arrays."""
    img = Image.open(data_file("kodak", kodak)).convert("RGB")
    w, h = img.size
    n = int(seconds * fps)
    for i in range(n):
        a = i / max(1, n - 1)
        cw, ch = int(w * (0.6 - 0.15 * a)), int(h * (0.6 - 0.15 * a))
        x0 = int((w - cw) * a)
        y0 = int((h - ch) * (0.5 + 0.4 * np.sin(2 * np.pi * a)) / 1.0 * 0.9)
        yield np.asarray(img.crop((x0, y0, x0 + cw, y0 + ch)).resize(size, Image.BILINEAR))


# libvpx on one thread: its worker threads spin on busy shared cores (4.5 CPU s for this 8-s clip, 0.4 s on one)
CODEC_OPTIONS = {"libx264": {"preset": "ultrafast"},
                 "libvpx": {"deadline": "realtime", "cpu-used": "16", "threads": "1"}}


def encode_video(frames, fps: int = 25, codec: str = "libx264", container: str = "mp4",
                 bit_rate: int | None = None, size: tuple[int, int] | None = None) -> bytes:
    """Encode RGB frames with PyAV into an in-memory file."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=container) as out:
        stream = None
        for rgb in frames:
            if size is not None:
                rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.BILINEAR))
            if stream is None:
                stream = out.add_stream(codec, rate=fps, options=CODEC_OPTIONS.get(codec, {}))
                stream.width, stream.height = rgb.shape[1], rgb.shape[0]
                stream.pix_fmt = "yuv420p"
                if bit_rate:
                    stream.bit_rate = bit_rate
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")):
                out.mux(packet)
        mux(out, stream, [])  # flush
    return buf.getvalue()


def transcode(data: bytes, **kwargs) -> bytes:
    """Decode a video and encode it again (another codec, bit rate, size or frame rate)."""
    fps = kwargs.pop("fps", 25)
    with av.open(io.BytesIO(data)) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    if fps != 25:  # resample the frame rate by nearest frame
        n = int(len(frames) * fps / 25)
        frames = [frames[min(len(frames) - 1, round(i * 25 / fps))] for i in range(n)]
    return encode_video(frames, fps=fps, **kwargs)


@pytest.fixture(scope="module")
def videos() -> dict[str, bytes]:
    original = encode_video(pan_frames("kodim23.png"), bit_rate=1_500_000)
    return {
        "original": original,
        "reencoded": transcode(original, codec="libvpx", container="webm", bit_rate=250_000, size=(192, 144)),
        "fps30": transcode(original, codec="mpeg4", bit_rate=400_000, size=(240, 180), fps=30),
        "other": encode_video(pan_frames("kodim05.png"), bit_rate=800_000),
    }


@pytest.fixture(scope="module")
def fps(videos) -> dict[str, VideoFingerprint]:
    hasher = VideoHasher()
    return {k: hasher.fingerprint(Media.from_bytes(v, name=k)) for k, v in videos.items()}


def test_hasher_protocol_and_sampling(videos, fps):
    hasher = VideoHasher()
    assert isinstance(hasher, Hasher) and Modality.VIDEO in hasher.modalities
    frames = fps["original"].frames
    assert 6 <= len(frames) <= 8  # 8 s at 1 fps, minus any near-duplicates
    assert all(f.quality >= 50 for f in frames)
    assert [f.t for f in frames] == sorted(f.t for f in frames)
    dense = VideoHasher(fps=4).fingerprint(Media.from_bytes(videos["original"]))
    assert len(dense.frames) > 2 * len(frames)


def test_reencoded_copies_match(fps):
    for name in ("reencoded", "fps30"):
        m = match(fps[name], fps["original"])
        assert m.is_match, (name, m)
        assert m.query_share >= 0.8 and m.target_share >= 0.8


def test_other_video_does_not_match(fps):
    m = match(fps["other"], fps["original"])
    assert not m.is_match and m.query_share < 0.2 and m.target_share < 0.2


def test_partial_clip_is_not_a_full_match(fps):
    """vPDQ's two-sided rule: the first 3 s of a video is contained in it (query share 1) but is not the same video."""
    orig = fps["original"]
    clip = VideoFingerprint(frames=orig.frames[:3], fps=orig.fps)
    m = match(clip, orig)
    assert m.query_share == 1.0 and m.target_share < 0.8 and not m.is_match
    assert match(clip, orig, threshold=0.3).is_match


def test_hash_value_round_trips_and_distance(fps, videos):
    hasher = VideoHasher()
    h = hasher.hash(Media.from_bytes(videos["reencoded"]))
    assert h.kind == "vpdq" and h.quality >= 50
    doc = json.loads(h.value)
    assert doc["v"] == 1 and doc["fps"] == 1.0 and len(doc["frames"][0][1]) == 64
    assert VideoFingerprint.from_json(h.value) == fps["reencoded"]
    assert hasher.distance(h.value, fps["original"].to_json()) <= hasher.match_threshold
    assert hasher.distance(h.value, fps["other"].to_json()) > hasher.match_threshold


def test_static_frames_are_deduplicated_and_flat_frames_dropped():
    still = np.asarray(Image.open(data_file("kodak", "kodim01.png")).convert("RGB").resize((320, 240)))
    flat = np.full((240, 320, 3), 128, np.uint8)
    data = encode_video([still] * 100 + [flat] * 100, bit_rate=1_000_000)
    fp = VideoHasher().fingerprint(Media.from_bytes(data))
    assert len(fp.frames) == 1 and fp.frames[0].t < 0.1


def test_corrupt_and_truncated_files_fail_clearly(videos):
    hasher = VideoHasher()
    with pytest.raises(CorruptMediaError) as err:
        hasher.hash(Media.from_bytes(videos["original"][: len(videos["original"]) // 2]))  # moov atom lost
    assert "container" in err.value.message
    garbage = b"\x00\x00\x00\x18ftypmp42" + np.random.default_rng(1).bytes(5000)
    with pytest.raises(CorruptMediaError):
        hasher.hash(Media.from_bytes(garbage))
    webm = videos["reencoded"]
    with pytest.raises(CorruptMediaError, match="truncated|decoded|corrupt"):
        hasher.hash(Media.from_bytes(webm[: len(webm) // 4]))
    with pytest.raises(UnsupportedMediaError):
        hasher.hash(Media.from_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt "))


def test_missing_extra_names_it(videos, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)  # as if PyAV were not installed
    with pytest.raises(UnsupportedMediaError) as err:
        VideoHasher().hash(Media.from_bytes(videos["original"]))
    assert "synthguard[video]" in err.value.hint


def test_bad_fingerprints_and_parameters_are_rejected(fps):
    with pytest.raises(ValidationError):
        VideoFingerprint.from_json('{"v":1,"fps":1,"frames":[[0,"zz",90]]}')
    with pytest.raises(ValidationError):
        VideoFingerprint.from_json("not json")
    with pytest.raises(ValidationError):
        match(fps["original"], fps["original"], threshold=1.5)
    with pytest.raises(ValidationError):
        VideoHasher(fps=0)
    assert not match(VideoFingerprint(frames=()), fps["original"]).is_match
