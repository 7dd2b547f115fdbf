"""The numpy speaker encoder (DS-15 voice matching) against the original resemblyzer/torch model, and its guards."""

from __future__ import annotations

import base64
import io
import pickle
from pathlib import Path

import numpy as np
import pytest

from synthguard.consent import voices
from synthguard.consent.voice_weights import _Restricted, load_state_dict, locate_weights
from synthguard.errors import ConfigError
from synthguard.media import Media
from tests.media import espeak_wav, wav_bytes

# Made by resemblyzer 0.1.4 + torch 2.13 (scripts/check_voice_encoder.py's environment) on ``_synthetic()``:
# VoiceEncoder().embed_utterance(wav) as float16, and wav_to_mel_spectrogram(wav).sum() / [50, 10].
TORCH_EMBEDDING = (
    "AAAAAEgvAAAAAAAAAACbJQAAhiadLBkg5SkAAAAAAACGL34qAAAAAG8xAAAAAAAAAABkKAAAAAAAAAAAAADrKQAAAAAMKiAhEjIAABsl1CYAAAAAaT"
    "ChLQAAAADHLAAAAAARDgAA1C0AAAAAAAAAAAAA1ykwMNcwAAAAAMsk6i6hLSgpAAAAAAAAAAAAAEcpAADnKAAAAAAAAAAAAADTKQAAAAAXLMskAAAA"
    "AAAALysAAPAwAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAALAqAAAAAAAAAAAGKAAAuyQAABQz0ywAAAAAgy4AAAAA0DEOL2YsJixuJL0vwizsLQ"
    "AAAAAAAAAAAAAAAAAAAAASKAAAnCkAAOokAABYLQEkcixcKbgvAAAAAAAA5iwAAAAARyvkKQAAAAAAAJ4x4y0AAAAAdytuMmUsfDBXJwAAtyoAAAAA"
    "AAAAAAYuAAAnMAAAtSXBKQAAaSAAAHQpAAAvLAAAAABdHgAAZiu6LwAAAAAJJgAAFjBnMQAA8ST1LwAAAADhLAAAAAAAAAAA2S8AAAAAdyYAABknqj"
    "AAAAAAAAAAAPkxAADALgAAAAAAADArUiEAAKkrAAAAAAAAAAAAAAAAAAA9NKYnAACKK2QseTAAAAAAAzUAAAAAmjEAAJooAAAAAAAA7igAANYrAAA="
)
TORCH_MEL_SUM, TORCH_MEL_50_10 = 866.2166137695312, 0.005064928438514471


def _synthetic() -> np.ndarray:
    """A voiced, syllable-rhythm test signal anyone can regenerate (no recording needed)."""
    sr = 16000
    t = np.arange(int(2.5 * sr)) / sr
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 12))
    env = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) ** 2
    return (0.1 * x * env).astype(np.float32)


def espeak(tmp: Path, name: str, text: str, voice: str = "en+m3", speed: int = 150, pitch: int = 50) -> Media:
    return Media.open(espeak_wav(tmp / f"{name}.wav", text, voice, speed, pitch))


def test_weights_load_from_the_installed_package_without_torch():
    state, sha = load_state_dict(locate_weights())
    assert state["lstm.weight_ih_l0"].shape == (1024, 40) and state["linear.weight"].shape == (256, 256)
    assert len(sha) == 64
    import sys

    assert "torch" not in sys.modules


def test_restricted_unpickler_refuses_other_globals(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    with pytest.raises(pickle.UnpicklingError, match="refusing to load global builtins.print"):
        _Restricted(io.BytesIO(pickle.dumps(Evil()))).load()
    bad = tmp_path / "pretrained.pt"
    bad.write_bytes(pickle.dumps(123))
    with pytest.raises(ConfigError, match="speaker-encoder weights"):
        load_state_dict(bad)


def test_mel_front_end_matches_librosa():
    mel = voices.mel_spectrogram(_synthetic())
    assert mel.shape == (251, 40)
    assert float(mel.sum()) == pytest.approx(TORCH_MEL_SUM, rel=1e-5)
    assert float(mel[50, 10]) == pytest.approx(TORCH_MEL_50_10, rel=1e-4)


def test_encoder_matches_resemblyzer_torch():
    ref = np.frombuffer(base64.b64decode(TORCH_EMBEDDING), "<f2").astype(np.float32)
    ours = voices.embed_wav(_synthetic(), trim=False).embedding
    assert ours.shape == (256,) and float(np.linalg.norm(ours)) == pytest.approx(1.0, abs=1e-5)
    assert float(ours @ ref) / float(np.linalg.norm(ref)) > 0.9995
    assert float(np.abs(ours - ref).max()) < 2e-3  # float16 reference


@pytest.mark.parametrize("kind", ["silence", "white noise", "steady tone", "beeps"])
def test_non_speech_is_refused_not_embedded(kind):
    sr = 16000
    t = np.arange(3 * sr) / sr
    signal = {"silence": np.zeros_like(t), "white noise": np.random.default_rng(0).normal(0, 0.1, t.size),
              "steady tone": 0.5 * np.sin(2 * np.pi * 200 * t),
              "beeps": np.sin(2 * np.pi * 300 * t) * (np.sin(2 * np.pi * 3 * t) > 0)}[kind]
    with pytest.raises(voices.NoSpeechError) as err:
        voices.embed_media(Media.from_bytes(wav_bytes(signal.astype(np.float32)), f"{kind}.wav"))
    assert err.value.exit_code == 2 and "speech" in err.value.message


def test_same_voice_scores_above_and_other_voice_below_the_threshold(tmp_path):
    from synthguard.consent.likeness import VOICE_CARD

    a1 = voices.embed_media(espeak(tmp_path, "a1", "The quick brown fox jumps over the lazy dog near the river bank."))
    a2 = voices.embed_media(espeak(tmp_path, "a2", "I agree that this service may clone my voice for an avatar.",
                                   speed=135))
    b = voices.embed_media(espeak(tmp_path, "b", "The quick brown fox jumps over the lazy dog near the river bank.",
                                  voice="en+f3", pitch=75))
    assert VOICE_CARD.matches(float(a1.embedding @ a2.embedding))
    assert not VOICE_CARD.matches(float(a1.embedding @ b.embedding))
    assert a1.speech_seconds > 1.5
