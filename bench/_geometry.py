"""Geometric attacks for the watermark benches (issue 24): the issue's suite and a held-out suite of our own.

``TUNE`` holds the edits the issue lists (the detector was tuned on them, on the odd-numbered Kodak images only);
``HELD_OUT`` are different edits and parameters, never used for tuning, reported on the even-numbered images.
Every attack is a deterministic function ``(image, seed) -> image`` (the seed picks positions and hosts).
"""

from __future__ import annotations

import io

import cv2
import numpy as np
from PIL import Image, ImageFilter

from tests.media import rotate_crop  # bench/_machine.py puts the project root on sys.path


def jpeg(im: Image.Image, q: int) -> Image.Image:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=q)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def mirror(im):
    return im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def vflip(im):
    return im.transpose(Image.Transpose.FLIP_TOP_BOTTOM)


def rot90(im):
    return im.transpose(Image.Transpose.ROTATE_90)


def rot270(im):
    return im.transpose(Image.Transpose.ROTATE_270)


def transpose(im):
    return im.transpose(Image.Transpose.TRANSPOSE)


def aspect(im, fx, fy=1.0):
    return im.resize((round(im.width * fx), round(im.height * fy)), Image.BICUBIC)


def crop(im, area, cx=0.5, cy=0.5):
    f = area**0.5
    w, h = round(im.width * f), round(im.height * f)
    x, y = round((im.width - w) * cx), round((im.height - h) * cy)
    return im.crop((x, y, x + w, y + h))


def shear(im, k):
    a = np.asarray(im)
    h, w = a.shape[:2]
    m = np.array([[1.0, k, -k * h / 2], [0.0, 1.0, 0.0]])
    out = cv2.warpAffine(a, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    return Image.fromarray(out)


def keystone(im, amount, vertical=True):
    """Perspective: one edge shrunk by ``amount`` of its length (a photo of a screen taken slightly from below)."""
    a = np.asarray(im)
    h, w = a.shape[:2]
    d = amount * (w if vertical else h) / 2
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    if vertical:
        dst = np.float32([[d, 0], [w - d, 0], [w, h], [0, h]])
    else:
        dst = np.float32([[0, d], [w, 0], [w, h], [0, h - d]])
    m = cv2.getPerspectiveTransform(src, dst)
    out = cv2.warpPerspective(a, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    return Image.fromarray(out)


def inset(im, frac, host, pos=(0.5, 0.5)):
    """The image scaled to ``frac`` of the host's width and pasted into it at ``pos``."""
    hw = max(host.width, round(im.width / frac * 0.9))
    host = host.resize((hw, round(host.height * hw / host.width)), Image.BICUBIC)
    w = round(host.width * frac)
    r = im.resize((w, round(im.height * w / im.width)), Image.BICUBIC)
    if r.height > host.height:
        host = host.resize((host.width, r.height + 40), Image.BICUBIC)
    x, y = round((host.width - r.width) * pos[0]), round((host.height - r.height) * pos[1])
    out = host.copy()
    out.paste(r, (x, y))
    return out


def recapture(im, seed):
    """Blur + noise + gamma: a rough screen recapture."""
    rng = np.random.default_rng(seed)
    b = im.filter(ImageFilter.GaussianBlur(0.8))
    a = np.asarray(b, dtype=np.float32) / 255.0
    a = a ** 0.85 * 255.0 + rng.normal(0, 3.0, a.shape)
    return jpeg(Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8)), 85)


def _host(seed, hosts):
    return hosts[seed % len(hosts)]


TUNE = {
    "mirror": lambda im, s, h: mirror(im),
    "rot90": lambda im, s, h: rot90(im),
    "aspect0.8": lambda im, s, h: aspect(im, 0.8),
    "keystone5": lambda im, s, h: keystone(im, 0.05),
    "rot10fill": lambda im, s, h: rotate_crop(im, 10, True),
    "rot30fill": lambda im, s, h: rotate_crop(im, 30, True),
    "rot45crop": lambda im, s, h: rotate_crop(im, 45, False),
    "shear0.1": lambda im, s, h: shear(im, 0.1),
    "aspect1.5h": lambda im, s, h: aspect(im, 1.0, 1.5),
    "crop70": lambda im, s, h: crop(im, 0.7),
    "crop25": lambda im, s, h: crop(im, 0.25),
    "inset30": lambda im, s, h: inset(im, 0.3, _host(s, h), (0.3, 0.6)),
    "mirror+jpeg75": lambda im, s, h: jpeg(mirror(im), 75),
    "aspect0.8+crop70": lambda im, s, h: crop(aspect(im, 0.8), 0.7),
}

HELD_OUT = {
    "vflip": lambda im, s, h: vflip(im),
    "rot270": lambda im, s, h: rot270(im),
    "transpose": lambda im, s, h: transpose(im),
    "rot37crop": lambda im, s, h: rotate_crop(im, 37, False),
    "rot-23fill": lambda im, s, h: rotate_crop(im, -23, True),
    "mirror+crop50": lambda im, s, h: crop(mirror(im), 0.5, 0.2, 0.7),
    "aspect1.6": lambda im, s, h: aspect(im, 1.0, 1.6),
    "aspect0.6+jpeg80": lambda im, s, h: jpeg(aspect(im, 0.6), 80),
    "shear0.15": lambda im, s, h: shear(im, 0.15),
    "keystone8h": lambda im, s, h: keystone(im, 0.08, vertical=False),
    "inset40": lambda im, s, h: inset(im, 0.4, _host(s + 7, h), (0.85, 0.15)),
    "recapture": lambda im, s, h: recapture(im, s),
    "rot90+crop40+jpeg70": lambda im, s, h: jpeg(crop(rot90(im), 0.4, 0.3, 0.4), 70),
    "mirror+aspect0.75+rot5": lambda im, s, h: rotate_crop(aspect(mirror(im), 0.75), 5, True),
}
