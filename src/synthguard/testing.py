"""Contract checks every Marker plugin must pass, plus synthetic media for plugin authors' tests.

Use from a plugin's own test suite::

    from synthguard.testing import check_marker
    def test_contract(): check_marker(MyMarker(...))
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import numpy as np
from PIL import Image

from synthguard.marking.base import LabelContext, Marker, Reading
from synthguard.media import Media, Modality


def synthetic_image(fmt: str = "PNG", size: tuple[int, int] = (640, 400), seed: int = 7) -> Media:
    """Gradients plus noise: enough texture for watermarks, deterministic for tests."""
    w, h = size
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 / w, y * 255 / h, (x + y) * 127 / (w + h) + 64], axis=-1)
    pixels = np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buf, fmt)
    return Media.from_bytes(buf.getvalue(), name=f"synthetic.{fmt.lower()}")


def sample_context(content_id: str = "SG01TESTCONTENTID0000000000") -> LabelContext:
    return LabelContext(content_id=content_id, producer="TESTPRODUCER", created=datetime.now(UTC),
                        watermark_payload=bytes.fromhex("0123456789abcdef"), ledger_ref=f"test#{content_id}")


IMAGE_FORMATS = ("PNG", "JPEG", "WEBP")


def synthetic_media(fmt: str = "PNG") -> Media:
    """A small deterministic sample of any modality, by format name ("PNG", "WAV", "MP4", "MD", ...).

    Images are made here; audio, video and text samples come from their modules' ``synthetic_*`` makers."""
    f = fmt.upper()
    if f in IMAGE_FORMATS:
        return synthetic_image(f)
    from importlib import import_module

    for module, maker in (("synthguard.marking.audio.io", "synthetic_audio"),
                          ("synthguard.marking.video.io", "synthetic_video"),
                          ("synthguard.marking.text.io", "synthetic_text")):
        try:
            mod = import_module(module)
        except ImportError:
            continue
        formats = getattr(mod, "SYNTHETIC_FORMATS", ())
        if f in formats:
            return getattr(mod, maker)(f)  # type: ignore[no-any-return]
    raise ValueError(f"no synthetic sample for format {fmt!r}")


def check_marker(marker: Marker, fmt: str = "PNG") -> None:
    """The Marker contract: named modality.technique; mark returns new Media of the same format; read finds
    the mark on marked media and returns a not-found Reading (never raises) on clean media."""
    assert isinstance(marker, Marker), "does not implement the Marker protocol"
    modality, _, technique = marker.name.partition(".")
    assert technique and Modality(modality) in marker.modalities, f"bad name {marker.name!r}"
    clean = synthetic_media(fmt)
    before = marker.read(clean)
    assert isinstance(before, Reading) and before.marker == marker.name and not before.found
    marked = marker.mark(clean, sample_context())
    assert isinstance(marked, Media) and marked is not clean and marked.format == clean.format
    after = marker.read(marked)
    assert after.found, f"{marker.name} cannot read back its own mark: {after.problems}"
