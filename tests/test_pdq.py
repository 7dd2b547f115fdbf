"""PDQ conformance: Meta's reference vectors (tests/data/pdq/expected.json), the C++ reference through ``pdqhash``
on generated images of every kind (issue 20: 0 bits difference), dihedral variants and matching."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from synthguard.fingerprint.banks import dihedral_hashes
from synthguard.fingerprint.pdq import (
    DIHEDRAL,
    MATCH_THRESHOLD,
    PDQHasher,
    bits_to_hex,
    nearest,
    pdq_dihedral,
    pdq_hash,
    rgb_pixels,
)
from synthguard.media import Media
from tests.conftest import data_file, kodak
from tests.pdq_images import KINDS, generated

pdqhash = pytest.importorskip("pdqhash")  # the C++ reference, a test-only oracle

EXPECTED = json.loads(data_file("pdq", "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED["hashes"]))
def test_reference_vectors(name):
    """Within the reference test's own tolerance of its vectors (its decoder is not PIL's), and bit for bit the
    C++ reference's hash of the same decoded pixels."""
    media = Media.open(data_file("pdq", name))
    got = PDQHasher().hash(media)
    assert PDQHasher().distance(got.value, EXPECTED["hashes"][name]) <= EXPECTED["tolerance_bits"]
    want_bits, want_q = pdqhash.compute(rgb_pixels(media.image()))
    assert (got.value, got.quality) == (bits_to_hex(want_bits), want_q)


def _differences(count: int, seed: int) -> tuple[dict[str, int], list[str]]:
    seen: dict[str, int] = {}
    bad = []
    for i, (kind, img) in enumerate(generated(count, seed)):
        rgb = rgb_pixels(img)
        want_bits, want_q = pdqhash.compute(rgb)
        bits, q = pdq_hash(rgb)
        off = int((bits != want_bits).sum())
        seen[kind] = seen.get(kind, 0) + 1
        if off or q != int(want_q):
            bad.append(f"#{i} {kind} {img.mode} {img.size}: {off} bits, quality {q} vs {want_q}")
    return seen, bad


def test_bit_exact_with_the_reference_on_generated_images():
    """Every kind of image, 0 bits and the same quality as Meta's C++ (the issue's graphics were 62-134 bits off)."""
    seen, bad = _differences(int(os.environ.get("SYNTHGUARD_PDQ_IMAGES", "260")), seed=20)
    assert set(seen) == {k.__name__ for k in KINDS}
    assert not bad, bad[:10]


@pytest.mark.slow
def test_bit_exact_with_the_reference_on_2500_generated_images():
    seen, bad = _differences(2500, seed=2026)
    assert sum(seen.values()) == 2500 and not bad, bad[:10]


@pytest.mark.parametrize("case", ["checkerboard", "ramp-1d", "rgba-ramp", "flat-rect"])
def test_the_issue_graphics_are_bit_exact(case):
    """The four images the independent check reported (62, 116, 134 and 75 bits off before)."""
    if case == "checkerboard":
        img = Image.fromarray((np.kron(np.indices((8, 8)).sum(0) % 2, np.ones((32, 32))) * 255).astype(np.uint8))
    elif case == "ramp-1d":
        img = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (64, 1)))
    elif case == "rgba-ramp":
        r = np.tile(np.linspace(0, 255, 400).astype(np.uint8), (300, 1))
        img = Image.fromarray(np.stack([r, 255 - r, r // 2, np.full_like(r, 128)], axis=2), "RGBA")
    else:
        img = Image.new("RGB", (320, 240), (20, 90, 200))
        img.paste((240, 240, 0), (40, 30, 200, 120))
    rgb = rgb_pixels(img)
    want, want_q = pdqhash.compute(rgb)
    bits, q = pdq_hash(rgb)
    assert int((bits != want).sum()) == 0 and q == want_q


def test_kodak_and_odd_sizes_are_bit_exact():
    images = [np.asarray(Image.open(kodak(f"kodim{i:02d}.png")).convert("RGB")) for i in range(1, 25)]
    base = images[4]
    images += [np.ascontiguousarray(base[:h, :w]) for h, w in ((511, 767), (100, 333), (63, 65), (64, 64), (5, 5),
                                                                (4, 900), (1, 1))]
    for rgb in images:
        want_bits, want_q = pdqhash.compute(np.ascontiguousarray(rgb))
        bits, q = pdq_hash(rgb)
        assert int((bits != want_bits).sum()) == 0 and q == int(want_q), rgb.shape


def test_dihedral_variants_equal_the_reference_and_the_transformed_images():
    """Our own DCT sign rules give pdqhash.compute_dihedral's 8 hashes, and each equals (within PDQ's tolerance)
    the plain hash of the image actually rotated or flipped within the match threshold (the box filter is not
    symmetric, so not bit for bit), as do the reference's dih/ vectors."""
    for kind, img in generated(40, seed=7):
        rgb = rgb_pixels(img)
        want, want_q = pdqhash.compute_dihedral(rgb)
        got, q = pdq_dihedral(rgb)
        assert q == want_q and all(int((a != b).sum()) == 0 for a, b in zip(got, want, strict=True)), kind
    rgb = np.asarray(Image.open(kodak("kodim05.png")).convert("RGB"))
    variants = {"original": rgb, "rotate-90": np.rot90(rgb, 1), "rotate-180": np.rot90(rgb, 2),
                "rotate-270": np.rot90(rgb, 3), "flip-x": rgb[::-1], "flip-y": rgb[:, ::-1],
                "flip-plus-1": rgb.transpose(1, 0, 2), "flip-minus-1": np.rot90(rgb, 2).transpose(1, 0, 2)}
    hashes, _ = dihedral_hashes(Media.from_bytes(_png(rgb)))
    h = PDQHasher()
    for name, value in hashes:
        plain = bits_to_hex(pdq_hash(np.ascontiguousarray(variants[name]))[0])
        assert h.distance(value, plain) <= MATCH_THRESHOLD, name
    assert [n for n, _ in hashes] == list(DIHEDRAL)
    original = PDQHasher().hash(Media.open(data_file("pdq", "reg-test-input", "dih", "bridge-1-original.jpg")))
    by_name = dict(dihedral_hashes(Media.open(data_file("pdq", "reg-test-input", "dih", "bridge-1-original.jpg")))[0])
    assert by_name["original"] == original.value
    for i, name in enumerate(DIHEDRAL[1:], start=2):
        f = next(p for p in data_file("pdq", "reg-test-input", "dih").iterdir() if p.name.startswith(f"bridge-{i}-"))
        assert h.distance(PDQHasher().hash(Media.open(f)).value, by_name[name]) <= MATCH_THRESHOLD, name


def test_sixteen_bit_images_hash_by_their_top_byte_not_clipped():
    """PIL's own convert("RGB") clips 16-bit grey at 255 (a white image); PDQ must see the picture."""
    ramp = np.tile(np.linspace(0, 65535, 300).astype(np.uint16), (200, 1))
    deep = Image.fromarray(ramp)
    assert deep.mode.startswith("I;16")
    shallow = Image.fromarray((ramp >> 8).astype(np.uint8), "L")
    assert np.array_equal(rgb_pixels(deep), rgb_pixels(shallow))
    assert pdq_hash(rgb_pixels(deep))[1] > 0


def test_edited_copies_match_and_others_do_not():
    h = PDQHasher()
    orig = h.hash(Media.open(data_file("pdq", "bridge-mods", "aaa-orig.jpg"))).value
    mods = ["blur-a-little.jpg", "shrink-a-lot.jpg", "high-contrast.jpg", "sharpen-a-little.jpg"]
    cands = [(m, h.hash(Media.open(data_file("pdq", "bridge-mods", m))).value) for m in mods]
    cands.append(("other", h.hash(Media.open(data_file("pdq", "misc-images", "c.png"))).value))
    found = {k for k, _ in nearest(orig, cands)}
    assert found == set(mods)


def _png(rgb: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, "PNG")
    return buf.getvalue()
