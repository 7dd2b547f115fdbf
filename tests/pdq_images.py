"""Generated images of every kind PDQ meets in the wild, for the bit-exactness property test (issue 20).

Each kind stresses a different part of the reference: flat colours and symmetric patterns put DCT coefficients
on or next to the median (ties, rounding), ramps make the running sums of the box filter drift, tiny images hit
MIN_HASHABLE_DIM and window size 1, huge ones the multi-pixel windows, and the PIL modes (alpha, grey, palette,
16-bit) the conversion to RGB that the plain and the dihedral hash share.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageDraw


def _size(rng: np.random.Generator, lo: int = 5, hi: int = 400) -> tuple[int, int]:
    return int(rng.integers(lo, hi)), int(rng.integers(lo, hi))


def _rgb(a: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(a.astype(np.uint8)), "RGB")


def flat(rng: np.random.Generator) -> Image.Image:
    return Image.new("RGB", _size(rng), tuple(int(v) for v in rng.integers(0, 256, 3)))


def flat_rect(rng: np.random.Generator) -> Image.Image:
    img = flat(rng)
    w, h = img.size
    x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
    box = (x0, y0, int(rng.integers(x0, w + 1)), int(rng.integers(y0, h + 1)))
    ImageDraw.Draw(img).rectangle(box, fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return img


def ramp(rng: np.random.Generator) -> Image.Image:
    w, h = _size(rng)
    t = np.linspace(0, 1, w)[None, :] if rng.random() < 0.5 else np.linspace(0, 1, h)[:, None]
    if rng.random() < 0.3:
        t = (np.linspace(0, 1, w)[None, :] + np.linspace(0, 1, h)[:, None]) / 2
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    return _rgb(np.broadcast_to(a + (b - a) * t[..., None], (h, w, 3)).round())


def checkerboard(rng: np.random.Generator) -> Image.Image:
    w, h = _size(rng, 8)
    cell = int(rng.integers(1, 64))
    board = ((np.arange(h)[:, None] // cell + np.arange(w)[None, :] // cell) % 2).astype(bool)
    a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
    return _rgb(np.where(board[..., None], a, b))


def stripes(rng: np.random.Generator) -> Image.Image:
    w, h = _size(rng, 8)
    period = int(rng.integers(2, 40))
    axis = np.arange(w)[None, :] if rng.random() < 0.5 else np.arange(h)[:, None]
    band = np.broadcast_to((axis // period) % 2 == 0, (h, w))
    return _rgb(np.where(band[..., None], rng.integers(0, 256, 3), rng.integers(0, 256, 3)))


def text(rng: np.random.Generator) -> Image.Image:
    img = flat(rng)
    draw = ImageDraw.Draw(img)
    w, h = img.size
    for _ in range(int(rng.integers(1, 8))):
        words = "".join(chr(int(c)) for c in rng.integers(33, 127, int(rng.integers(3, 30))))
        draw.text((int(rng.integers(0, w)), int(rng.integers(0, h))), words,
                  fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
    return img


def noise(rng: np.random.Generator) -> Image.Image:
    w, h = _size(rng)
    return _rgb(rng.integers(0, 256, (h, w, 3)))


def tiny(rng: np.random.Generator) -> Image.Image:
    w, h = _size(rng, 1, 12)
    return _rgb(rng.integers(0, 256, (h, w, 3)))


def huge(rng: np.random.Generator) -> Image.Image:
    w, h = _size(rng, 700, 1600)
    small = rng.integers(0, 256, (int(rng.integers(2, 9)), int(rng.integers(2, 9)), 3)).astype(np.uint8)
    return Image.fromarray(small, "RGB").resize((w, h), Image.Resampling.NEAREST)


def alpha(rng: np.random.Generator) -> Image.Image:
    base = ramp(rng) if rng.random() < 0.5 else flat_rect(rng)
    a = rng.integers(0, 256, (base.size[1], base.size[0]), dtype=np.uint8)
    rgba = base.convert("RGBA")
    rgba.putalpha(Image.fromarray(a, "L"))
    return rgba


def grey(rng: np.random.Generator) -> Image.Image:
    return (checkerboard(rng) if rng.random() < 0.5 else ramp(rng)).convert("L")


def palette(rng: np.random.Generator) -> Image.Image:
    return text(rng).convert("P", palette=Image.Palette.ADAPTIVE, colors=int(rng.integers(2, 64)))


def sixteen_bit(rng: np.random.Generator) -> Image.Image:
    w, h = _size(rng)
    t = np.linspace(0, 65535, w)[None, :] * np.ones((h, 1))
    if rng.random() < 0.5:
        t = np.where((np.arange(h)[:, None] // 7) % 2 == 0, t, 65535 - t)
    return Image.fromarray(t.astype(np.uint16))


KINDS = (flat, flat_rect, ramp, checkerboard, stripes, text, noise, tiny, huge, alpha, grey, palette, sixteen_bit)


def generated(count: int, seed: int) -> Iterator[tuple[str, Image.Image]]:
    """``count`` images cycling through every kind; huge ones are one in 25 so the run stays bounded."""
    rng = np.random.default_rng(seed)
    small = [k for k in KINDS if k is not huge]
    for i in range(count):
        kind = huge if i % 25 == 24 else small[i % len(small)]
        yield kind.__name__, kind(rng)
