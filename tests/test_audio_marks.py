"""Audio labels end to end: decoding and bad input, the GB 45438 metadata per container (GB-08..GB-12, GB-17),
the spoken/rhythm notice (LM-04, GB-04), the label -> inspect -> strip -> trace journey and the CLI."""

from __future__ import annotations

import io
import json
import struct
import subprocess

import mutagen
import numpy as np
import pytest
import soundfile

from synthguard.cli import main
from synthguard.codecs import audio as caudio
from synthguard.errors import ConfigError, CorruptMediaError, MediaError, MediaTooLargeError, UnsupportedMediaError
from synthguard.marking.audio import io as aio
from synthguard.marking.audio import notice as notice_mod
from synthguard.marking.audio.marker import (
    AudioMetadataMarker,
    AudioNoticeMarker,
    AudioWatermarkMarker,
    strip_metadata,
)
from synthguard.media import Media, sniff
from synthguard.testing import sample_context, synthetic_media

KEY = b"i" * 32


def wav_bytes(samples: np.ndarray, rate: int = 16000, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    soundfile.write(buf, samples, rate, format="WAV", subtype=subtype)
    return buf.getvalue()


def riff_aigc(data: bytes) -> list[str]:
    """Independent RIFF walk (not the library's): the payloads of every ``AIGC`` chunk."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    out, pos = [], 12
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if cid == b"AIGC":
            out.append(data[pos + 8:pos + 8 + size].decode())
        pos += 8 + size + (size & 1)
    return out


# --- formats and decoding --------------------------------------------------------------------------------------
def test_sniff_audio_containers():
    assert sniff(synthetic_media("OGG").data[:64]) == "ogg"
    assert sniff(synthetic_media("M4A").data[:64]) == "m4a"
    assert sniff(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2") == "mp4"  # video stays video


@pytest.mark.parametrize("fmt", aio.SYNTHETIC_FORMATS)
def test_decode_and_encode_like_keep_the_format(fmt):
    media = synthetic_media(fmt)
    audio = media.audio()
    assert audio.rate == 22050 and audio.channels == 1 and 5.9 < audio.duration < 6.2
    again = media.replace(caudio.encode_like(audio, media))
    assert again.format == media.format and abs(again.audio().duration - audio.duration) < 0.15


def test_content_digest_survives_metadata_but_not_sample_edits():
    media = synthetic_media("WAV")
    labelled = AudioMetadataMarker(KEY).mark(media, sample_context())
    fresh = Media.from_bytes(labelled.data)
    assert fresh.content_sha256 == media.content_sha256 and fresh.sha256 != media.sha256
    samples = media.audio().samples.copy()
    samples[1000] += 0.01
    edited = Media.from_bytes(wav_bytes(samples, 22050))
    assert edited.content_sha256 != media.content_sha256


def test_bad_audio_inputs_have_clear_errors():
    header_only = wav_bytes(np.zeros((0, 1), np.float32))
    with pytest.raises(CorruptMediaError, match="zero length|no audio"):
        Media.from_bytes(header_only).decode()
    good = synthetic_media("MP3").data
    garbage = good[:10] + bytes(range(256)) * 40  # an ID3 header followed by noise
    with pytest.raises(MediaError) as exc:
        Media.from_bytes(garbage, name="x.mp3").decode()
    assert exc.value.hint
    flac = synthetic_media("FLAC").data
    with pytest.raises(CorruptMediaError):
        Media.from_bytes(flac[:200], name="cut.flac").decode()
    # a WAV whose format tag names a codec nobody decodes
    wav = bytearray(wav_bytes(np.zeros((1600, 1), np.float32)))
    wav[20:22] = struct.pack("<H", 0x7777)
    with pytest.raises(MediaError, match="WAV|decode|codec"):
        Media.from_bytes(bytes(wav), name="odd.wav").decode()
    with pytest.raises(UnsupportedMediaError):
        AudioWatermarkMarker(KEY).mark(synthetic_media("PNG"), sample_context())


# --- metadata --------------------------------------------------------------------------------------------------
def exiftool(data: bytes, suffix: str, tmp_path) -> dict:
    path = tmp_path / f"f.{suffix}"
    path.write_bytes(data)
    return json.loads(subprocess.run(["exiftool", "-j", str(path)], capture_output=True, text=True,
                                     check=True).stdout)[0]


@pytest.mark.parametrize("fmt", ["WAV", "MP3", "FLAC", "OGG", "M4A"])
def test_metadata_round_trip_read_by_independent_tools(fmt, tmp_path):
    marker = AudioMetadataMarker(KEY)
    media = synthetic_media(fmt)
    ctx = sample_context()
    out = marker.mark(media, ctx)
    reading = marker.read(Media.from_bytes(out.data))
    assert reading.found and reading.valid and reading.data["integrity"] == "valid" and reading.data["count"] == 1
    assert reading.data["aigc"]["ProduceID"] == ctx.content_id
    f = fmt.lower()
    if f == "wav":  # GB-17: a RIFF sub-chunk with id AIGC
        blocks = riff_aigc(out.data)
    elif f == "mp3":  # GB-17: ID3v2 TXXX with description AIGC
        tags = exiftool(out.data, f, tmp_path)
        blocks = [tags["UserDefinedText"].removeprefix("(AIGC) ")]
    else:  # Vorbis comment AIGC= / iTunes free-form atom
        tags = exiftool(out.data, f, tmp_path)
        blocks = [v for k, v in tags.items() if k.upper() == "AIGC"]
    assert len(blocks) == 1 and json.loads(blocks[0])["ContentProducer"] == ctx.producer
    assert Media.from_bytes(out.data).audio().samples.shape == media.audio().samples.shape


def test_exactly_one_block_and_tamper_detection():
    marker = AudioMetadataMarker(KEY)
    media = synthetic_media("MP3")
    out = marker.mark(media, sample_context())
    f = mutagen.File(io.BytesIO(out.data))
    from mutagen.id3 import TXXX

    f.tags.add(TXXX(encoding=3, desc="aigc", text=['{"Label":"1"}']))
    buf = io.BytesIO(out.data)
    f.tags.save(buf)
    doubled = Media.from_bytes(buf.getvalue())
    r = marker.read(doubled)
    assert r.data["count"] == 2 and any("GB-08" in p for p in r.problems) and not r.valid
    again = marker.mark(doubled, sample_context("SG01OTHERCONTENTID000000000"))
    assert marker.read(again).data["count"] == 1  # relabelling leaves exactly one block
    # the sound changed after labelling -> ReservedCode1 no longer verifies (GB-12, LM-22)
    wav = marker.mark(synthetic_media("WAV"), sample_context())
    data = bytearray(wav.data)
    data[5000] ^= 0x40
    r = marker.read(Media.from_bytes(bytes(data)))
    assert r.found and r.data["integrity"] == "invalid" and not r.valid
    # a platform without the key reads the label, integrity unknown
    r = AudioMetadataMarker(None).read(wav)
    assert r.found and r.data["integrity"] == "unknown"


def test_strip_metadata_removes_every_block():
    marker = AudioMetadataMarker(KEY)
    for fmt in ("WAV", "MP3", "FLAC"):
        out = marker.mark(synthetic_media(fmt), sample_context())
        stripped = strip_metadata(out)
        assert not marker.read(stripped).found and stripped.content_sha256 == out.content_sha256


# --- notice ----------------------------------------------------------------------------------------------------
def test_spoken_notice_at_start_and_end(tmp_path):
    marker = AudioNoticeMarker("speech", position="start_end", cache_dir=tmp_path / "cache")
    media = synthetic_media("WAV")
    out = marker.mark(media, sample_context())
    assert out.audio().duration > media.audio().duration + 2 * notice_mod.GAP_SECONDS
    r = marker.read(out)
    assert r.found and r.data["kind"] == "speech" and [p["where"] for p in r.data["positions"]] == ["start", "end"]
    assert list((tmp_path / "cache").glob("*.wav")), "the rendering is cached"
    assert not marker.read(media).found
    spec = marker.spec()
    assert spec["kind"] == "speech" and spec["duration"] > 1.0  # GB-04(b): a spoken sentence, not a beep


def test_rhythm_notice_survives_mp3_and_is_short_long_short_short():
    marker = AudioNoticeMarker("rhythm", position="end")
    out = marker.mark(synthetic_media("MP3"), sample_context())
    r = marker.read(Media.from_bytes(out.data))
    assert r.found and r.data["kind"] == "rhythm" and r.data["positions"][-1]["where"] == "end"
    tones = [s for kind, s in notice_mod.RHYTHM if kind == "tone"]
    assert tones[1] >= 2.5 * tones[0] and tones[0] == tones[2] == tones[3]


def test_missing_espeak_falls_back_to_rhythm(monkeypatch):
    monkeypatch.setattr(notice_mod, "espeak_path", lambda: None)
    marker = AudioNoticeMarker("speech")
    assert marker.kind == "rhythm" and "espeak-ng" in marker.spec()["warning"]
    assert marker.read(marker.mark(synthetic_media("FLAC"), sample_context())).found


# --- the journey -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["WAV", "MP3"])
def test_label_inspect_strip_reencode_trace(sg, verified_user, tmp_path, fmt):
    src = synthetic_media(fmt)
    out = tmp_path / f"labelled.{fmt.lower()}"
    res = sg.label(src.data, user=verified_user, producer="ACME", output=out)
    assert res.marks == ["audio.notice", "audio.watermark", "audio.metadata"] and not res.warnings
    insp = sg.inspect(str(out))
    assert insp["modality"] == "audio" and insp["aigc"]["ProduceID"] == res.content_id
    assert insp["aigc_integrity"] == "valid" and insp["aigc_count"] == 1
    assert insp["watermark"]["detected"] and insp["watermark"]["payload"] == res.watermark_payload
    assert insp["visible_label"]["found"] and insp["visible_label"]["kind"] == "speech"
    assert insp["visible_label"]["positions"][0]["at"] < 3.0  # GB-04: the cue is in the first 3 s
    # a platform strips every tag and re-encodes at 64 kbit/s: the watermark still finds the record
    stripped = strip_metadata(Media.from_bytes(out.read_bytes()))
    audio = stripped.audio()
    copy = caudio.encode_lossy(audio.samples, audio.rate, "mp3", 64_000)
    assert sg.inspect(copy)["aigc"] is None
    t = sg.trace(copy)
    assert t["found"] and t["content_id"] == res.content_id and "watermark" in t["via"]


def test_short_and_silent_audio_are_labelled_with_a_warning(sg, verified_user):
    short = wav_bytes(aio.speech_like(1.5, 16000)[:, None])
    res = sg.label(short, user=verified_user, producer="ACME", visible=False)
    assert "audio.watermark" not in res.marks and any("watermark skipped" in w for w in res.warnings)
    assert res.marks == ["audio.metadata"]
    silent = wav_bytes(np.zeros((8 * 16000, 1), np.float32))
    res = sg.label(silent, user=verified_user, producer="ACME", visible=False)
    assert "audio.watermark" not in res.marks and any("silent" in w for w in res.warnings)
    res = sg.label(silent, user=verified_user, producer="ACME")  # the notice itself then carries the mark
    assert res.marks == ["audio.notice", "audio.watermark", "audio.metadata"]


def test_no_visible_skips_the_notice(sg, verified_user):
    res = sg.label(synthetic_media("FLAC").data, user=verified_user, producer="ACME", visible=False)
    assert res.marks == ["audio.watermark", "audio.metadata"]


# --- the CLI -----------------------------------------------------------------------------------------------------
def test_watermark_cli_on_audio(capsys, settings, tmp_path):
    src, out = tmp_path / "in.wav", tmp_path / "out.wav"
    src.write_bytes(synthetic_media("WAV").data)
    assert main(["watermark", "embed", str(src), str(out), "--payload", "00112233445566ff", "--json"]) == 0
    capsys.readouterr()
    assert main(["watermark", "detect", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["detected"] is True and data["payload"] == "00112233445566ff" and data["p_value"] < 1e-6
    assert main(["watermark", "detect", str(src), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["detected"] is False and data["payload"] is None


def test_duration_limit_and_settings(settings):
    with pytest.raises(MediaTooLargeError, match="over the limit"):
        AudioWatermarkMarker(KEY, max_seconds=2.0).mark(synthetic_media("WAV"), sample_context())
    from synthguard.config import Settings

    s = Settings.load(home=settings.home, audio_notice="rhythm", audio_notice_position="start_end")
    marker = AudioNoticeMarker.from_settings(s, None)  # type: ignore[arg-type]
    assert marker.kind == "rhythm" and marker.position == "start_end"
    with pytest.raises(ConfigError):
        Settings.load(home=settings.home, audio_notice="beep")
