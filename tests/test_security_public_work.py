"""Issue 18 finding 5: cheap anonymous uploads must not buy unbounded CPU or memory (LM-22 public inspection).

Each attack of the review is performed: an OOXML zip bomb, a PNG with a 10 MB XMP packet, a video longer than
anonymous requests may decode, a pixel bomb and a slow file against the public routes' memory and time budget,
every worker slot taken, and one address flooding the routes.
"""

from __future__ import annotations

import io
import resource
import time

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from synthguard.codecs.text.ooxml import open_package
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import CorruptMediaError, MetadataError
from synthguard.marking.image.xmp import read_properties
from synthguard.server import create_app
from synthguard.server.sandbox import BusyError, Sandbox
from tests.conftest import image_bytes, refused_within
from tests.media import docx_bomb, long_video, png_with_xmp


def test_ooxml_ratio_bomb_is_refused_before_parsing():
    bomb = docx_bomb()
    assert len(bomb) < 1 << 20
    with refused_within(1.0, CorruptMediaError, match="zip bomb"):
        open_package(bomb, "bomb.docx")


def test_oversized_xmp_is_refused_before_parsing():
    with pytest.raises(MetadataError, match="over the limit"):
        read_properties(png_with_xmp(10 << 20))
    with pytest.raises(MetadataError, match="over the limit"):
        read_properties("<x:xmpmeta/>" + " " * (3 << 20))


@pytest.fixture
def public(keys_template, _isolated_home):
    """A server whose public budget is small enough for the attacks to hit it within a test."""
    import shutil

    shutil.copytree(keys_template, _isolated_home / "keys")

    def make(**overrides):
        settings = Settings.load(home=_isolated_home, **({"public_seconds": 20, "public_memory_mb": 256} | overrides))
        return TestClient(create_app(settings, sg=SynthGuard.open(settings)))
    return make


def post(client, data: bytes, name: str = "x.png", path: str = "/v1/inspect"):
    return client.post(path, files={"file": (name, data, "application/octet-stream")})


def test_public_inspect_of_the_bombs_answers_in_bounded_time(public):
    with public() as client:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        r = post(client, docx_bomb(), "bomb.docx")
        assert r.status_code in (413, 422) and "bomb" in r.json()["message"], r.text
        r = post(client, png_with_xmp(10 << 20), "xmp.png")
        assert r.status_code == 200 and any("over the limit" in p for p in r.json()["problems"]), r.text[:300]
        # nothing of that work happened in the server process
        assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 << 10  # KiB


def test_pixel_bomb_hits_the_memory_budget_not_the_server(public):
    buf = io.BytesIO()
    Image.new("RGB", (7900, 7900), (10, 10, 10)).save(buf, "PNG")  # 62 MP: under max_pixels, ~1 GB to analyse
    with public(public_memory_mb=128) as client:
        r = post(client, buf.getvalue(), "big.png")
    assert r.status_code == 413 and r.json()["error"] == "WorkBudgetError", r.text[:300]


def test_slow_files_hit_the_wall_clock(public):
    buf = io.BytesIO()
    # 24 MP: seconds of decoding, marks and hashing, over the 1-s budget however fast the machine (memory room
    # is raised so that the wall clock, not the memory limit, is what stops it)
    Image.radial_gradient("L").resize((6000, 4000)).convert("RGB").save(buf, "PNG")
    with public(public_seconds=1, public_memory_mb=4096) as client:
        post(client, image_bytes(size=(64, 64)))  # the worker pool is up
        t0 = time.monotonic()
        r = post(client, buf.getvalue(), "slow.png")
        assert r.status_code == 413 and "s of" in r.json()["message"], r.text[:300]
        assert time.monotonic() - t0 < 10


def test_long_video_is_refused_on_public_routes(public, tmp_path):

    data = long_video(tmp_path / "long.mp4", (64, 64), 70)  # 70 s at 1 fps: over the 60 s anonymous budget
    with public() as client:
        r = post(client, data, "long.mp4")
    assert r.status_code == 413 and "60" in r.json()["message"], r.text[:300]


def test_a_full_house_answers_busy(tmp_path):
    box = Sandbox(Settings.load(home=tmp_path, public_workers=1, public_seconds=1))
    assert box._slots.acquire(timeout=1)
    with pytest.raises(BusyError) as err:
        box.run("inspect", image_bytes(), "a.png")
    assert err.value.http_status == 503


def test_one_address_cannot_flood_the_public_routes(public):
    with public(public_rate_per_minute=3, public_sandbox=False) as client:
        codes = [post(client, image_bytes(size=(64, 64))).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
