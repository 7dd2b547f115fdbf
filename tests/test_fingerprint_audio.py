"""Audio landmark fingerprints: MP3, resampled, quieter and excerpted copies match at the right offset; unrelated
audio does not; bad files fail clearly.  Music-like signals are synthesised in code (chords with envelopes, noise
bursts, formant sweeps); espeak-ng speech is added when it is installed (never required)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import wave

import numpy as np
import pytest

from synthguard.codecs.av import audio_samples
from synthguard.errors import CorruptMediaError, UnsupportedMediaError, ValidationError
from synthguard.fingerprint import Hasher
from synthguard.fingerprint.audio import RATE, AudioFingerprint, AudioHasher, match
from synthguard.media import Media, Modality
from tests import media

try:
    import av  # noqa: F401  (encodes the MP3 copies)
except ImportError:  # fail loudly, never skip: the suite runs with the video and voice extras installed
    pytest.fail("PyAV is missing: pip install -e '.[video,voice]'", pytrace=False)

SR = 44100


def synth_music(seed: int, seconds: float = 30.0, sr: int = SR) -> np.ndarray:
    """A music-like mono signal in [-1, 1]: random chords with attack/decay envelopes and harmonics, noise-burst
    drums on a beat, and a vowel-like formant sweep; each seed is a different piece."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    out = np.zeros(n, np.float64)
    beat = 60.0 / rng.uniform(80, 140)
    pos = 0.0
    while pos < seconds:  # chords
        dur = beat * rng.choice([1, 2, 4])
        root = rng.integers(40, 64)
        for semis in (0, rng.choice([3, 4]), 7, rng.choice([10, 11, 12])):
            f0 = 440.0 * 2 ** ((root + semis - 69) / 12)
            i0, i1 = int(pos * sr), min(n, int((pos + dur) * sr))
            tt = t[i0:i1] - pos
            env = np.minimum(1.0, tt / 0.01) * np.exp(-tt * rng.uniform(1.5, 4.0))
            for h in range(1, 6):
                out[i0:i1] += env * np.sin(2 * np.pi * f0 * h * tt + rng.uniform(0, 6.3)) / (h * 4)
        pos += dur
    for k in range(int(seconds / beat)):  # drums: filtered noise bursts
        if rng.random() < 0.7:
            i0 = int(k * beat * sr)
            m = min(n - i0, int(0.12 * sr))
            burst = rng.standard_normal(m) * np.exp(-np.arange(m) / (0.02 * sr))
            out[i0:i0 + m] += 0.3 * np.convolve(burst, np.ones(rng.integers(1, 8)) / 4, "same")
    # formant sweep: a glottal pulse train through a resonance that moves (coefficients updated per 10 ms block)
    from scipy.signal import lfilter

    f0 = 110 + 30 * np.sin(2 * np.pi * 0.3 * t + seed)
    pulses = np.diff(np.floor(np.cumsum(f0 / sr)), prepend=0.0)
    rate = rng.uniform(0.1, 0.4)
    vowel, zi, step, r = np.zeros(n), np.zeros(2), sr // 100, 0.97
    for i0 in range(0, n, step):
        formant = 500 + 1500 * (0.5 + 0.5 * np.sin(2 * np.pi * rate * i0 / sr))
        a = [1.0, -2 * r * np.cos(2 * np.pi * formant / sr), r * r]
        vowel[i0:i0 + step], zi = lfilter([1.0], a, pulses[i0:i0 + step], zi=zi)
    gate = (np.sin(2 * np.pi * 0.2 * t + seed) > 0).astype(float)
    out += 0.02 * vowel * gate
    return (0.8 * out / np.max(np.abs(out))).astype(np.float32)


def wav_bytes(x: np.ndarray, sr: int = SR) -> bytes:
    return media.wav_bytes(x, sr)


def mp3_bytes(x: np.ndarray, sr: int = SR, bit_rate: int = 128_000) -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=sr)
        stream.bit_rate = bit_rate
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(x.reshape(1, -1).astype(np.float32), format="fltp", layout="mono")
        frame.sample_rate = sr
        media.mux(out, stream, [frame])
    return buf.getvalue()


def resample(x: np.ndarray, up: int, down: int) -> np.ndarray:
    from scipy.signal import resample_poly

    return resample_poly(x, up, down).astype(np.float32)


@pytest.fixture(scope="module")
def clips() -> dict[str, np.ndarray]:
    return {"a": synth_music(1), "b": synth_music(2), "c": synth_music(3, seconds=10.0)}


@pytest.fixture(scope="module")
def ref(clips) -> AudioFingerprint:
    return AudioHasher().fingerprint(Media.from_bytes(wav_bytes(clips["a"])))


def test_hasher_protocol_and_format(ref, clips):
    hasher = AudioHasher()
    assert isinstance(hasher, Hasher) and Modality.AUDIO in hasher.modalities
    assert 20 * 30 < len(ref) < 200 * 30  # landmarks per second of sound
    h = hasher.hash(Media.from_bytes(wav_bytes(clips["a"])))
    assert h.kind == "audio" and h.value.startswith(b"SGA1".hex()) and h.quality > 20
    back = AudioFingerprint.from_hex(h.value)
    assert np.array_equal(back.hashes, ref.hashes) and np.array_equal(back.times, ref.times)
    assert hasher.distance(h.value, h.value) == 0


@pytest.mark.parametrize("variant", ["mp3_128k", "resampled_22k", "quieter_20db", "excerpt_10s", "mp3_excerpt"])
def test_transformed_copies_match_with_offset(variant, clips, ref):
    x = clips["a"]
    start = 12.345  # deliberately off the 32 ms frame grid
    excerpt = x[int(start * SR): int((start + 10) * SR)]
    data, offset = {
        "mp3_128k": (lambda: mp3_bytes(x), 0.0),
        "resampled_22k": (lambda: wav_bytes(resample(x, 1, 2), SR // 2), 0.0),
        "quieter_20db": (lambda: wav_bytes(0.1 * x), 0.0),
        "excerpt_10s": (lambda: wav_bytes(excerpt), start),
        "mp3_excerpt": (lambda: mp3_bytes(resample(excerpt, 1, 2), SR // 2, 64_000), start),
    }[variant]
    m = AudioHasher().query(Media.from_bytes(data(), name=variant), ref)
    assert m.is_match, m
    assert abs(m.offset - offset) < 0.1, m  # mp3 adds ~50 ms of encoder delay at most


def test_unrelated_audio_does_not_match(clips, ref):
    hasher = AudioHasher()
    for other in ("b", "c"):
        m = hasher.query(Media.from_bytes(wav_bytes(clips[other])), ref)
        assert not m.is_match and m.votes < 10 and m.score < 0.01, (other, m)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed (optional)")
def test_speech_excerpt_matches(tmp_path):
    text = ("Deep synthesis service providers shall add implicit labels to the files of generated content. "
            "Platforms shall check the metadata of uploaded files and remind users to declare synthetic content.")
    wav = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
    speech = audio_samples(Media.open(wav), RATE)
    hasher = AudioHasher()
    ref = hasher.fingerprint(Media.open(wav))
    part = speech[int(2.0 * RATE): int(8.0 * RATE)]
    m = hasher.query(Media.from_bytes(mp3_bytes(0.5 * part, RATE, 64_000)), ref)
    assert m.is_match and abs(m.offset - 2.0) < 0.1, m


def test_decoding_paths_agree(clips):
    """WAV (standard library), MP3 (soundfile or PyAV) and stereo all decode to mono at the fixed rate."""
    x = clips["c"]
    mono = audio_samples(Media.from_bytes(wav_bytes(x)), RATE)
    assert abs(len(mono) - 10 * RATE) <= 1
    stereo = io.BytesIO()
    with wave.open(stereo, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes((np.stack([x, x], 1) * 32767).astype("<i2").tobytes())
    assert np.allclose(audio_samples(Media.from_bytes(stereo.getvalue()), RATE), mono, atol=1e-3)
    mp3 = audio_samples(Media.from_bytes(mp3_bytes(x)), RATE)
    assert abs(len(mp3) - len(mono)) < 0.2 * RATE


def test_sound_track_of_a_video_file_matches(clips):
    """AudioHasher also takes MP4/WebM: the AAC stereo sound track of an MP4 matches the WAV it came from."""
    import av

    x = clips["c"]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("aac", rate=SR)
        stream.bit_rate, stream.layout = 96_000, "stereo"
        frame = av.AudioFrame.from_ndarray(np.stack([x, x]), format="fltp", layout="stereo")
        frame.sample_rate = SR
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    media = Media.from_bytes(buf.getvalue())
    assert media.modality is Modality.VIDEO
    hasher = AudioHasher()
    m = hasher.query(media, hasher.fingerprint(Media.from_bytes(wav_bytes(x))))
    assert m.is_match and abs(m.offset) < 0.1, m  # AAC priming adds ~23 ms


def test_ffmpeg_path_decodes_mp3_when_soundfile_is_absent(clips, ref, monkeypatch):
    from synthguard.codecs import av as decode

    monkeypatch.setattr(decode, "_soundfile_blocks", lambda media: None)
    start = 3.0
    part = clips["a"][int(start * SR): int((start + 10) * SR)]
    m = AudioHasher().query(Media.from_bytes(mp3_bytes(part)), ref)
    assert m.is_match and abs(m.offset - start) < 0.1, m


def test_wav_needs_no_extra_and_mp3_names_the_extra(clips, monkeypatch):
    mp3 = mp3_bytes(clips["c"])
    monkeypatch.setitem(sys.modules, "av", None)  # as if neither PyAV nor soundfile were installed
    monkeypatch.setitem(sys.modules, "soundfile", None)
    assert len(AudioHasher().fingerprint(Media.from_bytes(wav_bytes(clips["c"])))) > 100
    with pytest.raises(UnsupportedMediaError) as err:
        AudioHasher().hash(Media.from_bytes(mp3))
    assert "synthguard[voice]" in err.value.hint


def test_bad_files_fail_clearly(clips):
    hasher = AudioHasher()
    with pytest.raises(CorruptMediaError):
        hasher.hash(Media.from_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00"))  # header cut short
    with pytest.raises(CorruptMediaError):
        hasher.hash(Media.from_bytes(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(3000)))  # no MPEG frames
    with pytest.raises(CorruptMediaError, match="no audio"):
        hasher.hash(Media.from_bytes(wav_bytes(np.zeros(0, np.float32))))
    with pytest.raises(UnsupportedMediaError):
        hasher.hash(Media.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100)))
    with pytest.raises(ValidationError):
        AudioFingerprint.from_hex("53474131" + "00" * 5)
    with pytest.raises(ValidationError):
        AudioFingerprint.from_hex("xyz")
    with pytest.raises(ValidationError):
        AudioHasher(shifts=0)
    silence = hasher.fingerprint(Media.from_bytes(wav_bytes(np.zeros(SR, np.float32))))
    assert len(silence) == 0 and not match(silence, silence).is_match
