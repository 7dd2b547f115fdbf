"""The second photo set (tests/data/photos, issue 24): present, sized, licensed file by file, and marked exactly."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from synthguard.marking.watermark import ImageWatermarker
from tests.conftest import TEST_DATA

PHOTOS = TEST_DATA / "photos"
LICENCES = re.compile(r"^(public domain|CC0-1\.0|CC-BY-4\.0|CC-BY-SA-3\.0|GPL-2\+)(\s|$)")


def _photos() -> list:
    files = sorted(PHOTOS.glob("p*.jpg"))
    assert len(files) >= 24, f"expected >= 24 photos in {PHOTOS} (tests/data is part of the repository)"
    return files


def _readme_rows() -> dict[str, list[str]]:
    """The photos/ section's table: file name -> its cells."""
    text = (TEST_DATA / "README.md").read_text(encoding="utf-8")
    section = text.split("## photos/", 1)[1]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| p")]
    names = [r[0] for r in rows]
    assert len(names) == len(set(names)), "a photo is listed twice"
    return {r[0]: r for r in rows}


def test_photo_set_is_present_sized_and_small():
    files = _photos()
    assert [f.name[:3] for f in files] == [f"p{k:02d}" for k in range(1, len(files) + 1)]
    for f in files:
        with Image.open(f) as im:
            assert im.format == "JPEG" and im.size in ((768, 512), (512, 768)), (f.name, im.format, im.size)
            assert im.mode in ("RGB", "L"), (f.name, im.mode)
    assert sum(f.stat().st_size for f in files) < 4_000_000


def test_every_photo_has_one_licensed_row_in_the_readme():
    rows = _readme_rows()
    files = _photos()
    assert set(rows) == {f.name for f in files}
    for name, cells in rows.items():
        assert len(cells) == 5 and all(cells), (name, cells)
        assert LICENCES.match(cells[4]), (name, cells[4])
        assert re.search(r"\((PyPI|npm|Debian)\)", cells[2]), (name, cells[2])  # the package it came from
    grey = {f.name for f in files if Image.open(f).mode == "L"}
    assert grey == {n for n, c in rows.items() if "grey" in c[1]}  # grey only where the table says the original is


@pytest.mark.parametrize("name", ["p14-seeding.jpg", "p17-wine.jpg"])  # a landscape and a portrait photo
def test_round_trip_through_jpeg75_on_the_second_set(name):
    wm = ImageWatermarker(bytes(range(32)))
    payload = bytes.fromhex("0f1e2d3c4b5a6978")
    marked = wm.embed(Image.open(PHOTOS / name).convert("RGB"), payload)
    buf = io.BytesIO()
    marked.save(buf, "JPEG", quality=75)
    r = wm.detect(Image.open(io.BytesIO(buf.getvalue())))
    assert r.detected and r.payload == payload, r
    assert wm.detect(Image.open(PHOTOS / name)).detected is False  # the unmarked original is not reported
