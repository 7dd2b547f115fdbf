"""PDQ conformance against Meta's reference vectors (../shared/data/pdq/expected.json) and matching."""

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
