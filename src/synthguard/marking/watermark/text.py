"""Generation-time text watermark: a keyed green list (Kirchenbauer et al. 2023, "A Watermark for Large Language
Models"), GB-13 / LM Art. 5(2) content implicit label, EU Art. 50(2) and CoP Measure 1.1.2 for free-form text.

At each step the previous ``context`` token ids and the key seed a pseudo-random split of the vocabulary; a share
``gamma`` is "green" and gets ``delta`` added to its logit before sampling. Detection needs only the key and the
token ids: it counts green tokens and runs a one-proportion z-test against ``gamma`` (each distinct
(context, token) pair is scored once, so repeated phrases cannot inflate the score).

Membership is a keyed hash per (context, token), so detection is O(1) per token and ``bias`` is one vectorised
hash over the vocabulary. The watermark is only as strong as the text is random: low-entropy output (code,
lists, quotes) carries little signal, and paraphrasing or translation removes it (see docs/text-watermark.md).
No torch here: :class:`WatermarkLogitsProcessor` adapts to Hugging Face ``transformers`` duck-typed, importing
torch only when it is handed torch tensors.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from synthguard.errors import ValidationError

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser over uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * _M1
        x = (x ^ (x >> np.uint64(27))) * _M2
        return x ^ (x >> np.uint64(31))


def _token_ids(token_ids: Sequence[int]) -> list[int]:
    ids = [int(t) for t in token_ids]
    if any(t < 0 for t in ids):
        raise ValidationError("token ids must be non-negative integers",
                              hint="Pass the tokenizer's input_ids for the text, not logits or offsets.")
    return ids


class GreenListWatermark:
    """Keyed green-list watermark. ``key`` is the scheme key shared with whoever detects.

    ``gamma`` is the green share, ``delta`` the logit boost, ``context`` how many previous tokens seed the list,
    ``z_threshold`` the detection threshold (4.0: one-sided false-positive rate about 3e-5 per text) and
    ``min_tokens`` the fewest scored tokens a verdict needs.
    """

    def __init__(self, key: bytes, gamma: float = 0.25, delta: float = 2.0, context: int = 1, *,
                 z_threshold: float = 4.0, min_tokens: int = 16) -> None:
        if not isinstance(key, bytes) or len(key) < 16:
            raise ValidationError("the text watermark key must be at least 16 bytes",
                                  hint="Use the provider's watermark key (`synthguard keys init`).")
        if not 0.0 < gamma < 1.0:
            raise ValidationError("gamma must be in (0, 1), got {gamma}", values={"gamma": gamma})
        if not (math.isfinite(delta) and delta >= 0.0):
            raise ValidationError("delta must be a finite number >= 0, got {delta}", values={"delta": delta})
        if not isinstance(context, int) or context < 1:
            raise ValidationError("context must be a positive number of tokens, got {context}",
                                  values={"context": context})
        if min_tokens < 1:
            raise ValidationError("min_tokens must be >= 1, got {min_tokens}", values={"min_tokens": min_tokens})
        self.key, self.gamma, self.delta, self.context = key, float(gamma), float(delta), context
        self.z_threshold, self.min_tokens = float(z_threshold), int(min_tokens)
        self._cut = np.uint64(min(int(self.gamma * 2.0**64), 2**64 - 1))

    @classmethod
    def from_keys(cls, keys: Any, **params: Any) -> GreenListWatermark:
        """The provider's text watermark, keyed by a derivation of its watermark scheme key (``keys.watermark``),
        so detecting platforms that hold the scheme key can derive the same key."""
        derived = hmac.new(keys.watermark, b"synthguard.text.greenlist.key.v1", hashlib.sha256).digest()
        return cls(derived, **params)

    # --- the split -------------------------------------------------------------------------------
    def _seed(self, ctx: Sequence[int]) -> np.uint64:
        msg = b"synthguard.text.greenlist.v1:" + b",".join(str(int(t)).encode() for t in ctx)
        return np.uint64(int.from_bytes(hmac.new(self.key, msg, hashlib.sha256).digest()[:8], "little"))

    def green_mask(self, prev_token_ids: Sequence[int], vocab_size: int) -> np.ndarray:
        """Boolean (vocab_size,) mask of the green tokens after ``prev_token_ids`` (all False without context)."""
        if len(prev_token_ids) < self.context:
            return np.zeros(vocab_size, dtype=bool)
        seed = self._seed(list(prev_token_ids)[-self.context:])
        with np.errstate(over="ignore"):
            h = _mix(np.arange(vocab_size, dtype=np.uint64) * _GOLDEN ^ seed)
        return h < self._cut

    def is_green(self, ctx: Sequence[int], token: int) -> bool:
        with np.errstate(over="ignore"):
            h = _mix(np.array([token], dtype=np.uint64) * _GOLDEN ^ self._seed(ctx))
        return bool(h[0] < self._cut)

    # --- generation ------------------------------------------------------------------------------
    def bias(self, prev_token_ids: Any, logits: Any) -> np.ndarray:
        """Logits with ``delta`` added to the green tokens. ``logits`` is (V,) with ``prev_token_ids`` (T,), or
        (B, V) with (B, T). Returns a new float array; the input is not modified."""
        wide = np.asarray(logits).dtype == np.float64
        scores: np.ndarray[Any, np.dtype[np.floating[Any]]] = np.array(logits, dtype=np.float64 if wide else np.float32)
        prev = np.asarray(prev_token_ids, dtype=np.int64)
        if scores.ndim == 1 and prev.ndim == 1:
            scores += self.delta * self.green_mask(prev.tolist(), scores.shape[0])
            return scores
        if scores.ndim != 2 or prev.ndim != 2 or prev.shape[0] != scores.shape[0]:
            raise ValidationError("bias expects logits (V,) with ids (T,) or (B, V) with (B, T); got logits "
                                  "{logits_shape} and ids {ids_shape}",
                                  values={"logits_shape": scores.shape, "ids_shape": prev.shape})
        for row in range(scores.shape[0]):
            scores[row] += self.delta * self.green_mask(prev[row].tolist(), scores.shape[1])
        return scores

    # --- detection -------------------------------------------------------------------------------
    def detect(self, token_ids: Sequence[int]) -> dict[str, Any]:
        """One-proportion z-test of the green count: {z, p_value, green_fraction, n_tokens, detected}.

        ``n_tokens`` counts scored (distinct) tokens; ``p_value`` is the exact binomial tail P(G >= green) under
        "not watermarked with this key"; ``detected`` is ``z > z_threshold`` with at least ``min_tokens``."""
        ids = _token_ids(token_ids)
        seen: set[tuple[int, ...]] = set()
        green = 0
        for i in range(self.context, len(ids)):
            gram = tuple(ids[i - self.context:i + 1])
            if gram in seen:
                continue  # repeated n-grams are scored once
            seen.add(gram)
            green += self.is_green(gram[:-1], gram[-1])
        n = len(seen)
        if n == 0:
            return {"z": 0.0, "p_value": 1.0, "green_fraction": 0.0, "n_tokens": 0, "detected": False}
        from scipy.stats import binom

        z = (green - self.gamma * n) / math.sqrt(n * self.gamma * (1.0 - self.gamma))
        p_value = float(binom.sf(green - 1, n, self.gamma))  # exact tail: the normal one is too thin at small n
        return {"z": z, "p_value": p_value, "green_fraction": green / n,
                "n_tokens": n, "detected": n >= self.min_tokens and z > self.z_threshold}


class TournamentWatermark:
    """SynthID-Text-style tournament sampling (Dathathri et al. 2024, Nature 634), in its closed form for two
    candidates per match: each of ``layers`` keyed binary functions g_l(context, token) reweights the distribution
    as p'(x) = p(x) * (1 + g_l(x) - E_p[g_l]). Unlike the green list it does not change the expected next-token
    distribution over keys (non-distortionary); the detector averages g over tokens and layers, 0.5 when unmarked.
    """

    def __init__(self, key: bytes, layers: int = 12, context: int = 1, *, z_threshold: float = 4.0,
                 min_tokens: int = 16) -> None:
        if not isinstance(layers, int) or not 1 <= layers <= 64:
            raise ValidationError("layers must be between 1 and 64, got {layers}", values={"layers": layers})
        self._split = GreenListWatermark(key, gamma=0.5, delta=0.0, context=context, min_tokens=min_tokens)
        self.layers, self.context = layers, context
        self.z_threshold, self.min_tokens = float(z_threshold), int(min_tokens)

    def _g(self, ctx: Sequence[int], tokens: np.ndarray) -> np.ndarray:
        """(layers, len(tokens)) g-values in {0, 1}."""
        seed = self._split._seed(ctx)
        with np.errstate(over="ignore"):
            base = tokens.astype(np.uint64) * _GOLDEN ^ seed
            rows = [_mix(base ^ _mix(np.array([layer + 1], dtype=np.uint64))) >> np.uint64(63)
                    for layer in range(self.layers)]
        return np.stack(rows).astype(np.float64)

    def probabilities(self, prev_token_ids: Sequence[int], probs: np.ndarray) -> np.ndarray:
        p = np.asarray(probs, dtype=np.float64)
        if len(prev_token_ids) < self.context:
            return p
        g = self._g(list(prev_token_ids)[-self.context:], np.arange(p.shape[0]))
        for layer in g:
            p = p * (1.0 + layer - float(p @ layer))
        return p / p.sum()

    def bias(self, prev_token_ids: Any, logits: Any) -> np.ndarray:
        """Log-probabilities after the tournament, for (V,) logits with (T,) ids or (B, V) with (B, T)."""
        scores = np.asarray(logits, dtype=np.float64)
        prev = np.asarray(prev_token_ids, dtype=np.int64)
        rows = scores[None] if scores.ndim == 1 else scores
        ids = prev[None] if prev.ndim == 1 else prev
        if rows.ndim != 2 or ids.ndim != 2 or ids.shape[0] != rows.shape[0]:
            raise ValidationError("bias expects logits (V,) with ids (T,) or (B, V) with (B, T); got logits "
                                  "{logits_shape} and ids {ids_shape}",
                                  values={"logits_shape": scores.shape, "ids_shape": prev.shape})
        out = np.empty_like(rows)
        for i, (row, ctx) in enumerate(zip(rows, ids, strict=True)):
            p = np.exp(row - row.max())
            with np.errstate(divide="ignore"):
                out[i] = np.log(self.probabilities(ctx.tolist(), p / p.sum()))
        return out[0] if scores.ndim == 1 else out

    def detect(self, token_ids: Sequence[int]) -> dict[str, Any]:
        """Mean g over distinct (context, token) n-grams and layers, z against 0.5: {z, p_value, mean_g, ...}."""
        ids = _token_ids(token_ids)
        grams = list(dict.fromkeys(tuple(ids[i - self.context:i + 1]) for i in range(self.context, len(ids))))
        n = len(grams)
        if n == 0:
            return {"z": 0.0, "p_value": 1.0, "mean_g": 0.5, "n_tokens": 0, "detected": False}
        from scipy.stats import binom

        total = int(sum(self._g(g[:-1], np.array([g[-1]])).sum() for g in grams))
        k = n * self.layers
        z = (total - 0.5 * k) / math.sqrt(0.25 * k)
        return {"z": z, "p_value": float(binom.sf(total - 1, k, 0.5)), "mean_g": total / k, "n_tokens": n,
                "detected": n >= self.min_tokens and z > self.z_threshold}


class WatermarkLogitsProcessor:
    """A Hugging Face ``transformers`` logits processor: ``generate(..., logits_processor=LogitsProcessorList(
    [WatermarkLogitsProcessor(wm)]))``. Called as ``(input_ids, scores) -> scores`` with (B, T) ids and (B, V)
    scores, torch tensors or numpy arrays; torch is imported only when given tensors.

    The signature is exactly ``(input_ids, scores)``: ``LogitsProcessorList`` inspects it and demands every further
    parameter as a keyword (a ``**kwargs`` there made every ``generate`` call fail)."""

    def __init__(self, watermark: GreenListWatermark | TournamentWatermark) -> None:
        self.watermark = watermark

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if isinstance(scores, np.ndarray):
            return self.watermark.bias(np.asarray(input_ids), scores)
        import torch  # lazily: only a caller that already uses torch gets here

        ids = input_ids.detach().cpu().numpy()
        if not isinstance(self.watermark, GreenListWatermark):  # a full transform of the distribution
            out = self.watermark.bias(ids, scores.detach().cpu().float().numpy())
            return torch.from_numpy(out).to(device=scores.device, dtype=scores.dtype)
        masks = np.stack([self.watermark.green_mask(row.tolist(), scores.shape[-1]) for row in ids])
        boost = torch.from_numpy(masks).to(device=scores.device, dtype=scores.dtype)
        return scores + self.watermark.delta * boost


def transformers_processor(watermark: GreenListWatermark | TournamentWatermark) -> Any:
    """The processor as a real ``transformers.LogitsProcessor`` subclass instance (transformers must be
    installed); use this when a pipeline type-checks its processors."""
    from transformers import LogitsProcessor

    class _Processor(WatermarkLogitsProcessor, LogitsProcessor):  # type: ignore[misc, valid-type]
        pass

    return _Processor(watermark)
