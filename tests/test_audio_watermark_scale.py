"""Issue 25: the audio watermark under speed, tempo and pitch changes (LM-11, DS-15: a label a 5% speed-up removes
is not the non-removable implicit label), the second stage's false-positive accounting, and the attack helpers
the benchmark shares.  Each attack is performed here, on short clips, with FFmpeg's own atempo (PyAV)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthguard.codecs.audio import encode_lossy
from synthguard.errors import WatermarkError
from synthguard.marking.audio import attacks
from synthguard.marking.audio.io import decode_bytes, music_like, speech_like
from synthguard.marking.watermark import audio as wma
from synthguard.marking.watermark import audio_scale
from synthguard.marking.watermark import payload as pl
from synthguard.marking.watermark.audio import FALSE_POSITIVE_RATE, AudioWatermarker
from tests.audio_watermarking import KEY, PAYLOAD, marked_clip
from tests.audio_watermarking import found as _found


@pytest.fixture(scope="module")
def wm() -> AudioWatermarker:
    return AudioWatermarker(KEY)


speech = marked_clip(speech_like, 8.0, 16000, seed=3)
music = marked_clip(music_like, 10.0, 44100, seed=2)


@pytest.mark.parametrize(("edit", "factor", "time", "pitch"), [
    ("speed", 1.1, 1.1, 1.1),  # a sped-up repost: tempo and pitch together
    ("tempo", 0.9, 0.9, 1.0),  # slowed, pitch kept (atempo)
    ("pitch", 1.05, 1.0, 1.05),  # pitch up 5%, duration kept
])
def test_speed_tempo_and_pitch_changes_are_undone(wm, speech, edit, factor, time, pitch):
    _, y, rate = speech
    z = getattr(attacks, edit)(y, rate, factor)
    assert not wm.detect(z, rate, scale_search=False).detected  # the offsets-only first stage is blind to it
    r = wm.detect(z, rate)
    assert _found(r)
    assert r.time_scale == pytest.approx(time, rel=0.006) and r.pitch_scale == pytest.approx(pitch, rel=0.006)
    assert r.to_dict()["time_scale"] == r.time_scale


def test_slowed_music_then_mp3(wm, music):
    _, y, rate = music
    z = decode_bytes(encode_lossy(attacks.speed(y, rate, 0.9), rate, "mp3", 64_000))
    r = wm.detect(z.samples, z.rate)
    assert _found(r) and r.time_scale == pytest.approx(0.9, rel=0.006)


def test_verify_mode_after_a_speed_change(wm, speech):
    _, y, rate = speech
    z = attacks.speed(y, rate, 0.92)
    r = wm.detect(z, rate, expected=PAYLOAD)
    assert r.detected and r.bit_accuracy == 1.0
    assert not wm.detect(z, rate, expected=bytes(8)).detected  # another payload does not verify


def test_unmarked_and_foreign_audio_stay_negative_through_the_search(wm, speech):
    x, _, rate = speech
    other = AudioWatermarker(bytes(range(1, 33))).embed(x, rate, PAYLOAD)
    noise = np.random.default_rng(5).normal(0, 0.1, 6 * rate).astype(np.float32)
    for clip in (x, attacks.speed(x, rate, 1.07), attacks.speed(other, rate, 1.07), noise):
        r = wm.detect(clip, rate)
        assert not r.detected and r.payload is None and r.p_value > FALSE_POSITIVE_RATE


def test_false_positive_budget_is_split_exactly():
    """Weighted Bonferroni over the three ways to detect: the shares sum to one and each CRC route fits its share
    (list size 8 in the first stage; 2 candidates x 2 reads at list size 1 in the scale search)."""
    shares = (wma.SHARE_CORRELATION, wma.SHARE_CRC, wma.SHARE_SCALE)
    assert math.isclose(sum(shares), 1.0)
    assert pl.CRC_FALSE_ACCEPT <= wma.SHARE_CRC * FALSE_POSITIVE_RATE
    assert audio_scale.CRC_FALSE_ACCEPT == 4 * 2.0**-pl.CRC_BITS
    assert audio_scale.CRC_FALSE_ACCEPT <= wma.SHARE_SCALE * FALSE_POSITIVE_RATE
    # the Bonferroni count is every (pitch, time, start) of the grid: one cycle of 4-ms starts per time factor
    times = audio_scale.grid(audio_scale.TIMES)
    assert times[0] == pytest.approx(0.85) and times[-1] == pytest.approx(1.15)
    assert audio_scale.n_candidates() == audio_scale.PITCHES * sum(math.ceil(1200 / t) for t in times)


def test_search_is_exact_on_a_synthetic_shift(wm, speech):
    """The grid reads the scales it claims: a resampled copy is found at its own (pitch, time) cell."""
    _, y, rate = speech
    z = wma.to_mono_work(attacks.speed(y, rate, 0.95), rate)[: int(audio_scale.SEARCH_SECONDS * wma.WORK_RATE)]
    best = audio_scale.search(wm.layout, z, keep=1)[0]
    assert best.time == pytest.approx(0.95, rel=0.004) and best.pitch == pytest.approx(0.95, rel=0.008)


def test_cycle_sums_read_every_group_once_where_the_docstring_says():
    """The fast segment and cycle sums (contiguous slices) equal the plain definition of ``search``: candidate
    (t, u0) reads group g of segment k at u0 + round(k SEGMENT 2 S / t) + round((g - k SEGMENT) 2 S / t_c), one
    cycle earlier when its segment would run past the window.  Each group once: the Hoeffding bound is exact."""
    rng = np.random.default_rng(7)
    n_groups, n_seg = wma.N_GROUPS, -(-wma.N_GROUPS // audio_scale.SEGMENT)
    g_local, seg_of = np.arange(n_groups) % audio_scale.SEGMENT, np.arange(n_groups) // audio_scale.SEGMENT
    ts = audio_scale.grid(audio_scale.TIMES)[[0, 1, 2]]  # one coarse class: the slowest time factors
    plan = audio_scale._Plan(audio_scale.grid(audio_scale.CLASSES)[0], ts, g_local, seg_of, n_seg)
    need = plan.rows + int(plan.shear.max())
    for n_rows in (need, plan.n_start + 200):  # a long window, and one where late starts read a cycle back
        gt = rng.standard_normal((n_rows, n_groups)).astype(np.float32)
        gw = rng.random((n_rows, n_groups)).astype(np.float32)
        g = audio_scale._by_local_group(gt, gw, need, n_seg)
        fast = plan.cycle_sums(audio_scale._segment_sums(g, plan.shear, plan.rows), plan.cuts(n_rows))
        ref = np.zeros_like(fast)
        pad_t = np.pad(gt + 1j * gw, ((0, need), (0, 0)))  # zero beyond the audio
        for ti, t in enumerate(ts):
            back = round(audio_scale.CYCLE_ROWS / t)
            for u0 in range(plan.n_start):
                for k in range(n_seg):
                    groups = np.flatnonzero(seg_of == k)
                    off = u0 + round(wma.GROUP_SLOTS * audio_scale.SLOT_ROWS * audio_scale.SEGMENT * k / t)
                    if off + plan.extent[k] >= n_rows and off - back >= 0:
                        off -= back
                    ref[ti, u0] += pad_t[off + plan.shear[g_local[groups]], groups].sum()
        assert np.allclose(fast, ref, rtol=1e-5, atol=1e-3)


@pytest.mark.xfail(strict=True, reason="an 8-s clip is shorter than the room layer's 9.7-s cycle, so it carries v2 "
                                       "alone, and reverberation (RT60 0.3 s, DRR 0 dB) smears v2's 32-ms slot "
                                       "differences; longer clips: test_audio_watermark_room.py")
def test_room_reverb(wm, speech):
    _, y, rate = speech
    assert _found(wm.detect(attacks.room(y, rate, 0.3), rate, scale_search=False))


# --- the attacks themselves ---------------------------------------------------------------------------------------
def _peak_hz(x: np.ndarray, rate: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spec)])


def test_attacks_move_time_and_pitch_as_named():
    rate = 16000
    x = (0.3 * np.sin(2 * np.pi * 440 * np.arange(3 * rate) / rate)).astype(np.float32)
    sped = attacks.speed(x, rate, 1.1)
    assert len(sped) == pytest.approx(len(x) / 1.1, abs=2) and _peak_hz(sped, rate) == pytest.approx(484, abs=3)
    slow = attacks.tempo(x, rate, 0.9)
    assert len(slow) == pytest.approx(len(x) / 0.9, rel=0.01) and _peak_hz(slow, rate) == pytest.approx(440, abs=3)
    up = attacks.pitch(x, rate, 1.05)
    assert len(up) == pytest.approx(len(x), rel=0.01) and _peak_hz(up, rate) == pytest.approx(462, abs=3)


def test_room_impulse_decays_at_its_rt60():
    rate, rt60 = 16000, 0.6
    h = attacks.room_impulse(rate, rt60, drr_db=0.0, seed=1)
    tail = h[1:]
    assert h[0] == 1.0 and np.sum(tail**2) == pytest.approx(1.0)  # 0 dB direct-to-reverberant
    energy = np.cumsum(tail[::-1] ** 2)[::-1]  # Schroeder backward integral
    t20 = np.argmax(10 * np.log10(energy / energy[0]) < -20) / rate  # -20 dB point: a third of RT60
    assert t20 == pytest.approx(rt60 / 3, rel=0.15)
    y = attacks.speaker_mic(np.random.default_rng(0).normal(0, 0.1, rate), rate)
    assert y.shape == (rate,) and np.all(np.isfinite(y))


def test_attack_arguments_are_checked():
    x = np.zeros(16000, np.float32)
    with pytest.raises(WatermarkError):
        attacks.speed(x, 16000, 3.0)
    with pytest.raises(WatermarkError):
        attacks.room_impulse(16000, 10.0)


def test_the_marker_searches_scales_only_when_the_setting_says_so(speech):
    """Scans stay fast by default (settings.audio_scale_search off); a deployment that traces sped-up reposts
    turns it on and the same marker finds them."""
    import io

    import soundfile

    from synthguard.marking.audio.marker import AudioWatermarkMarker
    from synthguard.media import Media

    _, y, rate = speech
    buf = io.BytesIO()
    soundfile.write(buf, attacks.speed(y, rate, 1.1), rate, format="WAV", subtype="FLOAT")
    sped = Media.from_bytes(buf.getvalue(), "repost.wav")
    assert not AudioWatermarkMarker(KEY).read(sped).found
    found = AudioWatermarkMarker(KEY, scale_search=True).read(sped)
    assert found.found and found.data["payload"] == PAYLOAD.hex() and found.data["time_scale"] == pytest.approx(1.1,
                                                                                                            rel=0.01)
