"""GB 45438 labels exchanged with other tools (issue 20): both value forms in every container, the MP4 iTunes
free-form atom, WAV's three places, each checked against an independent reader (exiftool, FFmpeg via PyAV,
mutagen) and against files other implementations write, built here the way they document them."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

import av
import mutagen
import pytest
from mutagen.id3 import ID3, TXXX
from mutagen.mp4 import MP4, MP4FreeForm

from synthguard.errors import MetadataError
from synthguard.marking.aigc import AIGCLabel
from synthguard.marking.audio import metadata as audio_meta
from synthguard.marking.audio.marker import AudioMetadataMarker, strip_metadata
from synthguard.marking.image.metadata import MetadataMarker
from synthguard.marking.video import io as vio
from synthguard.media import Media
from synthguard.testing import sample_context, synthetic_media

EXIFTOOL_CONFIG = Path(__file__).with_name("exiftool_tc260.config")
PRODUCER = "001191110102MAD55U9H0F10002"
LABEL = AIGCLabel("1", PRODUCER, "EXT-7", "", PRODUCER, "EXT-7", "")
WRAPPED = json.dumps({"AIGC": LABEL.to_dict()}, ensure_ascii=False)
KEY = b"i" * 32


def _exiftool(path: Path, *args: str) -> dict:
    tool = shutil.which("exiftool") or pytest.fail("exiftool is not installed (libimage-exiftool-perl)")
    out = subprocess.run([tool, "-config", str(EXIFTOOL_CONFIG), "-j", "-a", "-u", "-G1", *args, str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def _ffmpeg_tags(path: Path) -> dict[str, str]:
    with av.open(str(path)) as c:
        return dict(c.metadata)


# --- both value forms ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [LABEL.to_json(), WRAPPED, json.dumps({"AIGC": LABEL.to_json()})])
def test_parse_accepts_the_bare_and_the_annex_e_wrapped_form(text):
    assert AIGCLabel.parse(text) == LABEL


@pytest.mark.parametrize("text", ['{"AIGC": {"Label": "1"}, "x": 1}', '{"AIGC": 3}', '{"AIGC": "not json"}',
                                  '{"AIGC": {"Label": 1}}'])
def test_wrapped_form_is_still_checked(text):
    with pytest.raises(MetadataError):
        AIGCLabel.parse(text)


def test_xmp_written_by_exiftool_in_the_wrapped_form_is_read(tmp_path):
    """Was "unknown keys ['AIGC'] (GB-09)": an XMP TC260:AIGC holding {"AIGC": {...}}, written by exiftool."""
    path = tmp_path / "w.png"
    path.write_bytes(synthetic_media("PNG").data)
    subprocess.run([shutil.which("exiftool") or pytest.fail("exiftool missing"), "-config", str(EXIFTOOL_CONFIG),
                    "-overwrite_original", f"-XMP-TC260:AIGC={WRAPPED}", str(path)], check=True, capture_output=True)
    r = MetadataMarker(KEY).read(Media.open(path))
    assert r.found and r.valid and r.data["aigc"] == LABEL.to_dict()


def test_id3_txxx_in_the_wrapped_form_is_read():
    """An MP3 tagged by mutagen as the audio guide documents (TXXX, description AIGC), value wrapped."""
    mp3 = synthetic_media("MP3")
    tags = ID3()
    tags.add(TXXX(encoding=3, desc="AIGC", text=[WRAPPED]))
    buf = io.BytesIO(mp3.data)
    tags.save(buf, v2_version=3)
    r = AudioMetadataMarker(None).read(Media.from_bytes(buf.getvalue()))
    assert r.found and r.valid and r.data["aigc"] == LABEL.to_dict()


# --- MP4: the iTunes free-form atom --------------------------------------------------------------------------------
def test_mp4_itunes_freeform_atom_written_by_mutagen_is_read(sg, tmp_path):
    path = tmp_path / "ff.mp4"
    path.write_bytes(vio.synthetic_video("MP4", seconds=1.0, audio=False).data)
    f = MP4(str(path))
    if f.tags is None:
        f.add_tags()
    f.tags["----:com.apple.iTunes:AIGC"] = [MP4FreeForm(WRAPPED.encode())]
    f.save()
    assert json.loads(_exiftool(path)["iTunes:AIGC"]) == json.loads(WRAPPED)  # as exiftool and FFmpeg see it
    assert json.loads(_ffmpeg_tags(path)["AIGC"]) == json.loads(WRAPPED)
    marker = sg.marker("video.metadata")
    r = marker.read(Media.open(path))
    assert r.found and r.data["count"] == 1 and r.data["aigc"] == LABEL.to_dict()
    assert r.data["locations"] == ["moov/udta/meta/ilst/----:com.apple.iTunes:AIGC"]
    relabelled = marker.mark(Media.open(path), sample_context())
    again = marker.read(relabelled)
    assert again.data["count"] == 1 and again.data["aigc"]["ProduceID"] == sample_context().content_id  # GB-08


# --- WAV: the AIGC chunk, LIST/INFO and id3 ------------------------------------------------------------------------
def test_wav_label_is_seen_by_exiftool_ffmpeg_and_mutagen(tmp_path):
    out = AudioMetadataMarker(KEY).mark(synthetic_media("WAV"), sample_context())
    path = tmp_path / "l.wav"
    path.write_bytes(out.data)
    want = AudioMetadataMarker(KEY).read(out)
    assert want.valid and want.data["count"] == 1  # three mirrors of one label count once (GB-08)
    assert want.data["locations"] == ["riff:AIGC+riff:LIST/INFO:AIGC+riff:id3:TXXX"]
    exif = _exiftool(path)
    assert json.loads(exif["ID3v2_4:UserDefinedText"].removeprefix("(AIGC) ")) == want.data["aigc"]
    assert json.loads(_ffmpeg_tags(path)["AIGC"]) == want.data["aigc"]
    wave = mutagen.File(str(path))
    assert [json.loads(t.text[0]) for t in wave.tags.getall("TXXX:AIGC")] == [want.data["aigc"]]
    assert Media.open(path).audio().samples.shape == synthetic_media("WAV").audio().samples.shape


def _riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(c + struct.pack("<I", len(p)) + p + (b"\x00" if len(p) & 1 else b"") for c, p in chunks)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body


def _plain_wav_chunks() -> list[tuple[bytes, bytes]]:
    data = synthetic_media("WAV").data
    return [(cid, data[off:off + size]) for cid, off, size in audio_meta.riff_chunks(data)]


def test_wav_with_only_a_list_info_item_is_read():
    """RIFF INFO as the Multimedia Programming Interface spec lays it out: LIST, "INFO", then id/size/z-string."""
    value = WRAPPED.encode() + b"\x00"
    info = b"INFO" + b"ISFT" + struct.pack("<I", 6) + b"tool1\x00" + b"AIGC" + struct.pack("<I", len(value)) + value
    wav = Media.from_bytes(_riff([*_plain_wav_chunks(), (b"LIST", info + (b"\x00" if len(value) & 1 else b""))]))
    r = AudioMetadataMarker(None).read(wav)
    assert r.found and r.valid and r.data["aigc"] == LABEL.to_dict() and r.data["locations"] == [
        "riff:LIST/INFO:AIGC"]
    out = AudioMetadataMarker(KEY).mark(wav, sample_context())
    assert AudioMetadataMarker(KEY).read(out).data["count"] == 1
    assert b"ISFT" in out.data  # the other INFO items are kept


def test_wav_with_only_an_id3_chunk_written_by_mutagen_is_read(tmp_path):
    path = tmp_path / "m.wav"
    path.write_bytes(synthetic_media("WAV").data)
    wave = mutagen.File(str(path))
    wave.add_tags()
    wave.tags.add(TXXX(encoding=3, desc="AIGC", text=[LABEL.to_json()]))
    wave.save()
    r = AudioMetadataMarker(None).read(Media.open(path))
    assert r.found and r.valid and r.data["aigc"] == LABEL.to_dict() and r.data["locations"] == ["riff:id3:TXXX"]


def test_wav_places_that_disagree_are_two_blocks():
    out = AudioMetadataMarker(KEY).mark(synthetic_media("WAV"), sample_context())
    other = AIGCLabel("2", PRODUCER, "OTHER", "", PRODUCER, "OTHER", "").to_json().encode()
    chunks = [(cid, out.data[off:off + size]) for cid, off, size in audio_meta.riff_chunks(out.data)]
    chunks = [(cid, other if cid == b"AIGC" else p) for cid, p in chunks]
    r = AudioMetadataMarker(KEY).read(Media.from_bytes(_riff(chunks)))
    assert r.data["count"] == 2 and any("GB-08" in p for p in r.problems)
    doubled = Media.from_bytes(_riff([*chunks, (b"AIGC", other)]))  # the same text twice in one place: not merged
    assert AudioMetadataMarker(KEY).read(doubled).data["count"] == 3


def test_wav_strip_removes_all_three_places(tmp_path):
    out = AudioMetadataMarker(KEY).mark(synthetic_media("WAV"), sample_context())
    stripped = strip_metadata(out)
    path = tmp_path / "s.wav"
    path.write_bytes(stripped.data)
    assert not AudioMetadataMarker(KEY).read(stripped).found
    assert "AIGC" not in _ffmpeg_tags(path) and "UserDefinedText" not in json.dumps(_exiftool(path))
    assert stripped.content_sha256 == out.content_sha256
