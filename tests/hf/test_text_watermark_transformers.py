"""The text watermark's torch branch with real PyTorch + Hugging Face transformers (GB-13, LM Art. 5(2), EU-09).

Skipped where torch or transformers is missing (SynthGuard's own venv never has them); run it in the side venv:
``bash scripts/hf_venv.sh && .venv-hf/bin/python -m pytest -q tests/hf``. Nothing is downloaded: the causal LM is
a one-layer GPT-2 with random weights and the tokenizer a word-level one, both built here from a fixed seed. The
weights are drawn wide (``initializer_range=0.4``) so next-token entropy is about 4 nats of ln(512) = 6.2: peaked
like a trained LM's, not uniform.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from synthguard.marking.watermark.text import (
    GreenListWatermark,
    TournamentWatermark,
    WatermarkLogitsProcessor,
    transformers_processor,
)

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

V = 512  # vocabulary: <pad>, <eos> and 510 made-up words
PAD, EOS = 0, 1
PROMPT = 8
KEY = bytes(range(32))
OTHER_KEY = bytes(reversed(range(32)))
SCHEMES = {
    "greenlist": lambda key: GreenListWatermark(key, gamma=0.25, delta=2.0, context=1),
    "tournament": lambda key: TournamentWatermark(key, layers=12, context=1),
}


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)  # a tiny model: threads only contend on the 2-core build machines
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=V, n_positions=320, n_embd=32, n_layer=1, n_head=2,
                                     initializer_range=0.4, bos_token_id=EOS, eos_token_id=EOS, pad_token_id=PAD)
    lm = transformers.GPT2LMHeadModel(config).eval()
    lm.generation_config.pad_token_id = PAD
    return lm


@pytest.fixture(scope="module")
def tokenizer():
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]  # 70
    words = [a + b for a in syllables for b in syllables][: V - 2]
    vocab = {"<pad>": PAD, "<eos>": EOS} | {w: i + 2 for i, w in enumerate(words)}
    backend = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<pad>"))
    backend.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    backend.decoder = tokenizers.decoders.WordPiece(prefix="##")  # joins words with spaces
    return transformers.PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="<eos>")


def prompts(batch: int, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, V, (batch, PROMPT), generator=g)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}


def generate(model, processor=None, *, seed: int = 1, batch: int = 1, new: int = 200, **kwargs):
    """Sampled generation of exactly ``new`` tokens (<pad>/<eos> suppressed: -inf scores reach the processor)."""
    torch.manual_seed(seed)
    procs = transformers.LogitsProcessorList([processor] if processor is not None else [])
    args = {"do_sample": True, "max_new_tokens": new, "min_new_tokens": new, "suppress_tokens": [PAD, EOS]} | kwargs
    with torch.no_grad():
        return model.generate(**prompts(batch), logits_processor=procs, **args)


def scored(wm, row) -> list[int]:
    """The generated tokens with the last prompt token as context, so every new token is scored."""
    return row[PROMPT - wm.context:].tolist()


@pytest.mark.parametrize("wrap", ["duck", "subclass"])
@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_sampled_generation_is_detected_and_clean_is_not(model, tokenizer, scheme, wrap):
    wm = SCHEMES[scheme](KEY)
    proc = WatermarkLogitsProcessor(wm) if wrap == "duck" else transformers_processor(wm)
    assert isinstance(proc, transformers.LogitsProcessor) == (wrap == "subclass")

    marked = generate(model, proc)[0]
    clean = generate(model)[0]  # the same seed, no processor
    assert marked.shape == clean.shape == (PROMPT + 200,) and not torch.equal(marked, clean)

    r = wm.detect(scored(wm, marked))
    assert r["detected"] and r["z"] > 8 and r["p_value"] < 1e-10 and r["n_tokens"] > 150, r
    c = wm.detect(scored(wm, clean))
    assert not c["detected"] and c["z"] < 3 and c["p_value"] > 1e-3, c
    assert not SCHEMES[scheme](OTHER_KEY).detect(scored(wm, marked))["detected"]

    # through text: decode, re-tokenize with the same tokenizer, detect (the documented detection path)
    text = tokenizer.decode(marked[PROMPT - 1:])
    assert wm.detect(tokenizer(text)["input_ids"])["detected"]


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_batch_and_num_return_sequences(model, scheme):
    """Each (B * num_return_sequences) row is marked with its own context; rows sample independently."""
    wm = SCHEMES[scheme](KEY)
    out = generate(model, WatermarkLogitsProcessor(wm), seed=2, batch=3, new=120, num_return_sequences=2)
    assert out.shape == (6, PROMPT + 120)
    assert torch.equal(out[0, :PROMPT], out[1, :PROMPT]) and not torch.equal(out[0], out[1])
    assert len({tuple(row.tolist()) for row in out}) == 6
    for row in out:
        r = wm.detect(scored(wm, row))
        assert r["detected"] and r["z"] > 6, r
    clean = generate(model, seed=2, batch=3, new=120, num_return_sequences=2)
    assert not any(wm.detect(scored(wm, row))["detected"] for row in clean)


def expected_scores(wm, prev: list[int], logits: np.ndarray) -> np.ndarray:
    if isinstance(wm, GreenListWatermark):
        return logits + wm.delta * wm.green_mask(prev, logits.shape[-1])
    return wm.bias(np.asarray(prev), logits.astype(np.float64))


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_greedy_choices_follow_the_watermarked_scores(model, scheme):
    """Greedy decoding: the processor is applied (with each step's own context) and the argmax is taken on the
    watermarked scores, so the green list / tournament still moves greedy choices; the output is deterministic."""
    wm = SCHEMES[scheme](KEY)
    proc = WatermarkLogitsProcessor(wm)
    kwargs = {"do_sample": False, "new": 40, "return_dict_in_generate": True, "output_scores": True,
              "output_logits": True}
    marked = generate(model, proc, **kwargs)
    again = generate(model, proc, seed=99, **kwargs)
    plain = generate(model, **kwargs)
    seq = marked.sequences[0]
    assert torch.equal(seq, again.sequences[0]) and not torch.equal(seq, plain.sequences[0])
    moved = 0
    for step, (raw, processed) in enumerate(zip(marked.logits, marked.scores, strict=True)):
        prev = seq[:PROMPT + step].tolist()
        logits = raw[0].numpy().copy()
        logits[[PAD, EOS]] = -np.inf  # suppress_tokens, applied before the user's processor
        want = expected_scores(wm, prev, logits)
        np.testing.assert_allclose(processed[0].numpy(), want, rtol=1e-5, atol=1e-5)
        assert int(seq[PROMPT + step]) == int(np.argmax(want))
        moved += int(np.argmax(want)) != int(np.argmax(logits))
    assert moved >= 5  # the watermark changed greedy choices, not only the scores


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_beam_search(model, scheme):
    """Beam search hands the processor (B * num_beams, T) ids and log-softmaxed scores; it runs, returns the
    requested sequences, and the beams carry the mark more than plain beam search does."""
    wm = SCHEMES[scheme](KEY)
    kwargs = {"do_sample": False, "num_beams": 4, "num_return_sequences": 2, "batch": 2, "new": 60}
    marked = generate(model, WatermarkLogitsProcessor(wm), **kwargs)
    plain = generate(model, **kwargs)
    assert marked.shape == plain.shape == (4, PROMPT + 60)
    for m, p in zip(marked, plain, strict=True):
        zm, zp = wm.detect(scored(wm, m))["z"], wm.detect(scored(wm, p))["z"]
        assert zm > 4 and zp < 4 and zm > zp + 2, (zm, zp)


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_processor_keeps_dtype_and_device(scheme, dtype):
    """generate passes float32 CPU scores; a custom loop may pass half precision. The result keeps the dtype and
    device, leaves the input untouched, keeps -inf as -inf, and matches the float64 reference at that precision."""
    wm = SCHEMES[scheme](KEY)
    dt = getattr(torch, dtype)
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(2, V, (3, 10), generator=g)
    scores = (torch.randn(3, V, generator=g) * 3).to(dt)
    scores[:, [PAD, EOS]] = -torch.inf
    before = scores.clone()
    for proc in (WatermarkLogitsProcessor(wm), transformers_processor(wm)):
        out = proc(ids, scores)
        assert out.dtype == dt and out.device == scores.device and out.shape == scores.shape
        assert torch.equal(scores, before)
        assert torch.isneginf(out[:, [PAD, EOS]]).all() and not out.isnan().any()
        want = np.stack([expected_scores(wm, ids[i].tolist(), scores[i].double().numpy()) for i in range(3)])
        tol = {"float32": 1e-5, "bfloat16": 0.1, "float16": 0.02}[dtype]
        np.testing.assert_allclose(out.double().numpy(), want, rtol=tol, atol=tol)
