"""PDQ conformance against Meta's reference vectors (tests/data/pdq/expected.json) and matching."""

from __future__ import annotations

import json

import pytest

from synthguard.fingerprint.pdq import PDQHasher, nearest
from synthguard.media import Media
from tests.conftest import shared_file

EXPECTED = json.loads(shared_file("pdq", "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED["hashes"]))
def test_reference_vectors(name):
    got = PDQHasher().hash(Media.open(shared_file("pdq", name)))
    assert PDQHasher().distance(got.value, EXPECTED["hashes"][name]) <= EXPECTED["tolerance_bits"]


def test_edited_copies_match_and_others_do_not():
    h = PDQHasher()
    orig = h.hash(Media.open(shared_file("pdq", "bridge-mods", "aaa-orig.jpg"))).value
    mods = ["blur-a-little.jpg", "shrink-a-lot.jpg", "high-contrast.jpg", "sharpen-a-little.jpg"]
    cands = [(m, h.hash(Media.open(shared_file("pdq", "bridge-mods", m))).value) for m in mods]
    cands.append(("other", h.hash(Media.open(shared_file("pdq", "misc-images", "c.png"))).value))
    found = {k for k, _ in nearest(orig, cands)}
    assert found == set(mods)


def test_vectorised_pdq_is_bit_exact_with_the_reference_cpp():
    """Our vectorised PDQ against Meta's C++ (pdqhash) on every Kodak image and odd sizes, colour and grey."""
    import numpy as np
    import pdqhash
    from PIL import Image

    from synthguard.fingerprint.pdq import pdq_hash
    from tests.conftest import kodak

    images = [np.asarray(Image.open(kodak(f"kodim{i:02d}.png")).convert("RGB")) for i in range(1, 25)]
    rng = np.random.default_rng(3)
    base = images[4]
    images += [np.ascontiguousarray(base[:h, :w]) for h, w in ((511, 767), (100, 333), (63, 65), (1, 1))]
    images.append(np.repeat(np.asarray(Image.open(kodak("kodim08.png")).convert("L"))[..., None], 3, axis=2))
    images.append(rng.integers(0, 256, (300, 200, 3), dtype=np.uint8))
    for rgb in images:
        rgb = np.ascontiguousarray(rgb)
        want_bits, want_q = pdqhash.compute(rgb)
        bits, q = pdq_hash(rgb)
        assert int((bits != want_bits).sum()) == 0 and q == int(want_q), rgb.shape
