"""Generation-time text watermark (GB-13, LM Art. 5(2), EU-02, EU-09 Measure 1.1.2): a keyed green list.

A tiny bigram language model is trained here on a paragraph of text and sampled with and without the logits
processor: watermarked generations must score z > 4, unwatermarked ones must not (false-positive check over many
samples), and detection must survive a share of edited tokens.
"""

from __future__ import annotations

import numpy as np
import pytest

from synthguard.errors import ValidationError
from synthguard.marking.watermark.text import GreenListWatermark, TournamentWatermark, WatermarkLogitsProcessor

CORPUS = """the committee met on tuesday to review the draft budget for the coming year and members asked for a
clearer breakdown of travel costs and of the new training programme the chair said the budget would be revised
before the next meeting and that the training programme would start in spring if the board agreed the treasurer
reported that travel costs had risen because of new rules on hotels and that the office would look for cheaper
options members also discussed the annual report the website and the plan to hire two new staff for the training
programme""".split()
KEY = bytes(range(32))


class BigramLM:
    """Add-k smoothed word bigram model: enough entropy per step for a green list to bite, like a real LM."""

    def __init__(self, corpus: list[str], k: float = 0.3):
        self.vocab = sorted(set(corpus))
        index = {w: i for i, w in enumerate(self.vocab)}
        counts = np.full((len(self.vocab), len(self.vocab)), k)
        for a, b in zip(corpus, corpus[1:], strict=False):
            counts[index[a], index[b]] += 1
        self.logp = np.log(counts / counts.sum(axis=1, keepdims=True))

    def generate(self, n: int, rng: np.random.Generator, processor=None) -> list[int]:
        tokens = [int(rng.integers(len(self.vocab)))]
        for _ in range(n - 1):
            logits = self.logp[tokens[-1]][None, :]
            if processor is not None:
                logits = processor(np.array([tokens]), logits)
            p = np.exp(logits[0] - logits[0].max())
            tokens.append(int(rng.choice(len(self.vocab), p=p / p.sum())))
        return tokens


@pytest.fixture(scope="module")
def lm() -> BigramLM:
    return BigramLM(CORPUS)


@pytest.fixture(scope="module")
def wm() -> GreenListWatermark:
    return GreenListWatermark(KEY, gamma=0.25, delta=2.0, context=1)


def test_watermarked_generations_are_detected(lm, wm):
    rng = np.random.default_rng(1)
    proc = WatermarkLogitsProcessor(wm)
    for _ in range(10):
        r = wm.detect(lm.generate(200, rng, proc))
        assert r["detected"] and r["z"] > 4 and r["p_value"] < 1e-4 and r["green_fraction"] > 0.45


def test_unwatermarked_generations_are_not_detected(lm, wm):
    """False-positive check: 300 clean texts, none over z = 4; z behaves like a standard normal."""
    rng = np.random.default_rng(2)
    zs = np.array([wm.detect(lm.generate(200, rng))["z"] for _ in range(300)])
    assert (zs <= 4).all()
    assert abs(zs.mean()) < 0.4 and 0.6 < zs.std() < 1.4
    assert (zs > 2.0).mean() < 0.08  # the normal tail is 2.3 %


def test_another_key_does_not_detect(lm, wm):
    rng = np.random.default_rng(3)
    tokens = lm.generate(200, rng, WatermarkLogitsProcessor(wm))
    assert not GreenListWatermark(bytes(reversed(range(32)))).detect(tokens)["detected"]


@pytest.mark.parametrize("share", [0.1, 0.2])
def test_survives_edited_tokens(lm, wm, share):
    """Replace a share of tokens with random words: each edit spoils two scores (its own and the next's)."""
    rng = np.random.default_rng(4)
    for _ in range(5):
        tokens = lm.generate(300, rng, WatermarkLogitsProcessor(wm))
        at = rng.choice(len(tokens), size=int(share * len(tokens)), replace=False)
        for i in at:
            tokens[i] = int(rng.integers(len(lm.vocab)))
        assert wm.detect(tokens)["z"] > 4


def test_repeated_ngrams_are_scored_once(wm):
    """A text that repeats one green bigram must not look watermarked."""
    vocab = 64
    a = 5
    b = next(t for t in range(vocab) if wm.is_green([a], t))
    r = wm.detect([a, b] * 200)
    assert r["n_tokens"] == 2 and not r["detected"]


def test_min_tokens(lm, wm):
    tokens = lm.generate(12, np.random.default_rng(5), WatermarkLogitsProcessor(wm))
    r = wm.detect(tokens)
    assert r["n_tokens"] < wm.min_tokens and not r["detected"]
    assert wm.detect([])["n_tokens"] == 0 and not wm.detect([1])["detected"]


def test_green_share_and_bias_shape(wm):
    mask = wm.green_mask([17], 50_000)
    assert abs(mask.mean() - 0.25) < 0.01
    assert not wm.green_mask([], 10).any()  # no context, no bias
    logits = np.zeros((2, 1000), dtype=np.float32)
    out = wm.bias(np.array([[1, 2], [3, 4]]), logits)
    assert out.dtype == np.float32 and out.shape == (2, 1000) and not logits.any()
    assert set(np.unique(out)) == {0.0, 2.0}
    assert (out[0] == 2.0).tolist() == wm.green_mask([2], 1000).tolist()
    assert all(wm.is_green([2], t) == bool(mask_t) for t, mask_t in enumerate(wm.green_mask([2], 200)))


def test_context_two(lm):
    wm2 = GreenListWatermark(KEY, context=2)
    rng = np.random.default_rng(6)
    assert wm2.detect(lm.generate(200, rng, WatermarkLogitsProcessor(wm2)))["detected"]
    assert not wm2.detect(lm.generate(200, rng))["detected"]


@pytest.mark.parametrize("kwargs", [{"key": b"short"}, {"gamma": 0.0}, {"gamma": 1.0}, {"delta": -1.0},
                                    {"delta": float("nan")}, {"context": 0}, {"min_tokens": 0}])
def test_bad_parameters(kwargs):
    args = {"key": KEY} | kwargs
    with pytest.raises(ValidationError):
        GreenListWatermark(**args)


def test_bias_and_detect_reject_bad_input(wm):
    with pytest.raises(ValidationError):
        wm.bias(np.array([[1, 2]]), np.zeros((3, 10)))
    with pytest.raises(ValidationError):
        wm.detect([3, -1, 4])
    with pytest.raises(ValidationError):
        TournamentWatermark(KEY).detect([-5, 2])


def test_key_from_the_provider_key_ring(sg, lm):
    """The text key is derived from the watermark scheme key (domain-separated, never the raw image key)."""
    a, b = GreenListWatermark.from_keys(sg.keys), GreenListWatermark.from_keys(sg.keys, gamma=0.5)
    assert a.key == b.key != sg.keys.watermark and len(a.key) == 32 and b.gamma == 0.5
    tokens = lm.generate(150, np.random.default_rng(8), WatermarkLogitsProcessor(a))
    assert b.detect(tokens)["n_tokens"] > 0 and a.detect(tokens)["detected"]


def test_logits_processor_with_torch_like_tensors(wm, monkeypatch):
    """The torch path of the HF adapter, exercised with a stand-in module (torch is never installed here)."""
    import sys
    import types

    class Tensor:
        def __init__(self, a):
            self.a, self.shape, self.device, self.dtype = np.asarray(a), np.asarray(a).shape, "cpu", "float32"

        def detach(self):
            return self

        def cpu(self):
            return self

        def numpy(self):
            return self.a

        def to(self, device=None, dtype=None):
            return Tensor(self.a.astype(np.float32))

        def __mul__(self, k):
            return Tensor(self.a * k)

        __rmul__ = __mul__

        def __add__(self, other):
            return Tensor(self.a + other.a)

    fake = types.ModuleType("torch")
    fake.from_numpy = lambda arr: Tensor(arr)
    monkeypatch.setitem(sys.modules, "torch", fake)
    ids, scores = Tensor(np.array([[3, 9], [4, 1]])), Tensor(np.zeros((2, 300), dtype=np.float32))
    out = WatermarkLogitsProcessor(wm)(ids, scores)
    assert np.array_equal(out.a, wm.bias(ids.a, scores.a))


# --- SynthID-style tournament variant --------------------------------------------------------------------
def test_tournament_detects_and_does_not_false_alarm(lm):
    tw = TournamentWatermark(KEY, layers=8)
    rng = np.random.default_rng(9)
    proc = WatermarkLogitsProcessor(tw)
    marked = [tw.detect(lm.generate(150, rng, proc)) for _ in range(5)]
    assert all(r["detected"] and r["z"] > 4 and r["mean_g"] > 0.55 for r in marked)
    clean = np.array([tw.detect(lm.generate(150, rng))["z"] for _ in range(60)])
    assert (clean <= 4).all() and abs(clean.mean()) < 0.5
    assert not TournamentWatermark(bytes(reversed(range(32))), layers=8).detect(
        lm.generate(150, rng, proc))["detected"]


def test_tournament_is_non_distortionary_over_keys():
    """Averaged over keys, the tournament leaves the next-token distribution unchanged (unlike the green list)."""
    p = np.array([0.4, 0.25, 0.15, 0.1, 0.05, 0.05])
    avg = np.mean([TournamentWatermark(i.to_bytes(2, "big") * 16, layers=4).probabilities([7], p)
                   for i in range(1500)], axis=0)
    assert np.abs(avg - p).max() < 0.02
    def green(i: int) -> np.ndarray:
        q = np.exp(GreenListWatermark(i.to_bytes(2, "big") * 16).bias([7], np.log(p)))
        return q / q.sum()

    shifted = np.mean([green(i) for i in range(1500)], axis=0)
    assert p[0] - shifted[0] > 0.025 > p[0] - avg[0]  # the green list flattens the distribution on average
    single = TournamentWatermark(KEY, layers=4).probabilities([7], p)
    assert abs(single.sum() - 1) < 1e-9 and (single >= 0).all()


def test_tournament_parameters():
    with pytest.raises(ValidationError):
        TournamentWatermark(KEY, layers=0)
    with pytest.raises(ValidationError):
        TournamentWatermark(b"short")
    tw = TournamentWatermark(KEY)
    assert tw.detect([])["n_tokens"] == 0 and tw.bias([], np.zeros(5)).shape == (5,)
