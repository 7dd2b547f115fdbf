"""Issue 22: the visible label is read back after resize, crop and re-encoding (the image watermark's attack
set), unlabeled photos are not mistaken for labeled ones, and a report never says "not found" when unsure."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from synthguard.evidence.report import _visible
from synthguard.marking.image.visible import FOUND, VisibleLabelMarker
from synthguard.media import Media
from tests.conftest import kodak

NAMES = ("kodim01.png", "kodim05.png", "kodim15.png", "kodim23.png")


def media(im: Image.Image) -> Media:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return Media.from_bytes(buf.getvalue())


def jpeg(im: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


ATTACKS = {
    "jpeg60": lambda m: jpeg(m, 60),
    "resize0.5": lambda m: m.resize((m.width // 2, m.height // 2), Image.BICUBIC),
    "resize0.5+jpeg75": lambda m: jpeg(m.resize((m.width // 2, m.height // 2), Image.BICUBIC), 75),
    "resize0.3": lambda m: m.resize((int(m.width * 0.3), int(m.height * 0.3)), Image.BICUBIC),
    "resize1.5": lambda m: m.resize((int(m.width * 1.5), int(m.height * 1.5)), Image.BICUBIC),
    "crop5%": lambda m: m.crop((int(m.width * 0.05), int(m.height * 0.05), m.width, m.height)),
    "crop5%-centred": lambda m: m.crop((int(m.width * 0.025), int(m.height * 0.025), int(m.width * 0.975),
                                        int(m.height * 0.975))),
}


@pytest.fixture(scope="module")
def marker() -> VisibleLabelMarker:
    return VisibleLabelMarker()


@pytest.fixture(scope="module")
def labeled(marker) -> dict[str, Image.Image]:
    return {n: marker.render(Image.open(kodak(n)).convert("RGB"))[0].convert("RGB") for n in NAMES}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_label_is_found_after_the_attack(marker, labeled, attack):
    for name, im in labeled.items():
        r = marker.read(media(ATTACKS[attack](im)))
        assert r.found and r.data["certain"], (name, attack, r.data)
        assert r.data["text"] == marker.text and r.valid


def test_unlabeled_photos_are_not_found(marker):
    for name in NAMES:
        im = Image.open(kodak(name)).convert("RGB")
        for copy in (im, im.resize((im.width // 2, im.height // 2)), im.crop((30, 30, im.width, im.height)),
                     jpeg(im.resize((int(im.width * 0.3), int(im.height * 0.3))), 75)):
            r = marker.read(media(copy))
            assert not r.found and r.data["correlation"] < FOUND - 0.05, (name, r.data)


def test_a_label_cut_by_a_crop_is_reported_as_unsure_with_what_was_checked(marker, labeled):
    im = labeled["kodim05.png"]
    cut = im.crop((0, 0, int(im.width * 0.95), int(im.height * 0.95)))  # cuts into the bottom-right label
    r = marker.read(media(cut))
    assert not r.found and r.data["certain"] is False and "bottom-right" in r.data["checked"]
    text = _visible({"found": False, **r.data})
    assert "not found" not in text and text.startswith("not confirmed") and "Look at the image" in text
    plain = _visible({"found": False, "correlation": 0.1, "certain": True, "checked": r.data["checked"]})
    assert "not found" not in plain and "checked this service's label" in plain
