"""Benchmark: the text watermark (detection power, false positives, edit robustness, speed) and text labeling.

Two toy language models stand in for an LLM (no weights are downloaded): a smoothed word-bigram model trained on a
paragraph (V=59, low entropy) and a random softmax model (V=5000, entropy about 5 nats per token, closer to an
LLM's sampling at temperature 1). Prints tables and writes bench/results/text.json.
Green list: gamma=0.25, delta=2, context=1; tournament: 12 layers, context=1; both detect at z > 4.
Run: `.venv/bin/python bench/text.py` (a few minutes on one core).
"""

from __future__ import annotations

from _machine import cpu_model, single_thread  # noqa: E402

single_thread()

import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from synthguard.marking.text.marker import TextMetadataMarker, TextNoticeMarker  # noqa: E402
from synthguard.marking.watermark.text import GreenListWatermark, TournamentWatermark  # noqa: E402
from synthguard.media import Media  # noqa: E402
from synthguard.testing import sample_context  # noqa: E402
from tests.test_text_watermark import CORPUS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class Bigram:
    def __init__(self) -> None:
        vocab = sorted(set(CORPUS))
        idx = {w: i for i, w in enumerate(vocab)}
        counts = np.full((len(vocab), len(vocab)), 0.3)
        for a, b in zip(CORPUS, CORPUS[1:], strict=False):
            counts[idx[a], idx[b]] += 1
        self.logits = np.log(counts / counts.sum(1, keepdims=True))
        self.V = len(vocab)

    def next_logits(self, tokens: list[int]) -> np.ndarray:
        return self.logits[tokens[-1]]


class RandomSoftmax:
    """Logits depend on the previous token through a fixed random projection (cheap, high entropy)."""

    def __init__(self, V: int = 5000, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.V = V
        self.base = rng.normal(0, 1.5, V)
        self.shift = rng.normal(0, 1.0, (64, V))

    def next_logits(self, tokens: list[int]) -> np.ndarray:
        return self.base + self.shift[tokens[-1] % 64]


def generate(lm, n: int, rng: np.random.Generator, wm: GreenListWatermark | TournamentWatermark | None) -> list[int]:
    tokens = [int(rng.integers(lm.V))]
    for _ in range(n - 1):
        logits = lm.next_logits(tokens)
        if wm is not None:
            logits = wm.bias(tokens, logits)
        p = np.exp(logits - logits.max())
        tokens.append(int(rng.choice(lm.V, p=p / p.sum())))
    return tokens


def power(lm, wm, rng, lengths=(25, 50, 100, 200), samples=60, clean=400) -> list[dict]:
    rows = []
    for n in lengths:
        wz = [wm.detect(generate(lm, n, rng, wm)) for _ in range(samples)]
        cz = [wm.detect(generate(lm, n, rng, None)) for _ in range(clean)]
        rows.append({"tokens": n, "tpr": sum(r["detected"] for r in wz) / samples,
                     "median_z": statistics.median(r["z"] for r in wz),
                     "fpr": sum(r["detected"] for r in cz) / clean, "max_clean_z": max(r["z"] for r in cz)})
    return rows


def robustness(lm, wm, rng, n=200, samples=40, shares=(0.0, 0.1, 0.2, 0.3, 0.4, 0.5)) -> list[dict]:
    rows = []
    texts = [generate(lm, n, rng, wm) for _ in range(samples)]
    for share in shares:
        zs = []
        for t in texts:
            t = list(t)
            for i in rng.choice(n, size=int(share * n), replace=False):
                t[i] = int(rng.integers(lm.V))
            zs.append(wm.detect(t))
        rows.append({"edited_share": share, "tpr": sum(r["detected"] for r in zs) / samples,
                     "median_z": statistics.median(r["z"] for r in zs)})
    return rows


def speed(wm: GreenListWatermark) -> dict:
    out = {}
    for V in (32_000, 128_000):
        logits = np.zeros(V, dtype=np.float32)
        t = time.perf_counter()
        for i in range(200):
            wm.bias([i], logits)
        out[f"bias_ms_per_step_V{V}"] = (time.perf_counter() - t) / 200 * 1000
    tokens = list(np.random.default_rng(0).integers(0, 32_000, 20_000))
    t = time.perf_counter()
    wm.detect(tokens)
    out["detect_tokens_per_s"] = len(tokens) / (time.perf_counter() - t)
    return out


def labeling() -> dict:
    import docx

    para = "The committee met on Tuesday to review the draft budget. 会议讨论了明年的预算草案。 "
    txt = Media.from_bytes(("\n\n".join([para * 4] * 300) + "\n").encode(), name="big.txt")
    d = docx.Document()
    for _ in range(500):
        d.add_paragraph(para * 2)
    buf = io.BytesIO()
    d.save(buf)
    big_docx = Media.from_bytes(buf.getvalue(), name="big.docx")
    notice, meta = TextNoticeMarker(), TextMetadataMarker(b"k" * 32)
    out = {}
    for name, media in (("txt_" + str(len(txt.data) // 1024) + "KiB", txt),
                        ("docx_500_paragraphs_" + str(len(big_docx.data) // 1024) + "KiB", big_docx)):
        times = []
        for _ in range(5):
            m = Media.from_bytes(media.data, name=media.name)
            t = time.perf_counter()
            meta.mark(notice.mark(m, sample_context()), sample_context())
            times.append(time.perf_counter() - t)
        out[f"label_ms_{name}"] = statistics.median(times) * 1000
    return out


def main() -> None:
    rng = np.random.default_rng(7)
    wm = GreenListWatermark(bytes(range(32)), gamma=0.25, delta=2.0, context=1)
    results = {"machine": {"cpu": cpu_model(), "python": platform.python_version(), "threads": 1},
               "params": {"gamma": 0.25, "delta": 2.0, "context": 1, "z_threshold": 4.0}}
    tournament = TournamentWatermark(bytes(range(32)), layers=12)
    for label, lm in (("bigram_V59", Bigram()), ("softmax_V5000", RandomSoftmax())):
        results[f"power_{label}"] = power(lm, wm, rng)
        results[f"robustness_{label}"] = robustness(lm, wm, rng)
        results[f"tournament12_power_{label}"] = power(lm, tournament, rng, lengths=(25, 50, 100), clean=200)
        results[f"tournament12_robustness_{label}"] = robustness(lm, tournament, rng, samples=20)
        for key in (f"power_{label}", f"robustness_{label}", f"tournament12_power_{label}",
                    f"tournament12_robustness_{label}"):
            print(f"\n{key}")
            for row in results[key]:
                print("  " + "  ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
    results["speed"] = speed(wm)
    results["labeling"] = labeling()
    for key in ("speed", "labeling"):
        print(f"\n{key}")
        for k, v in results[key].items():
            print(f"  {k}: {v:,.2f}")
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "text.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
