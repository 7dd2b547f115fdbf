"""Limits with safe defaults, all configurable: upload size (413), pixel count (decompression bombs), nesting depth of
embedded metadata, and the request rate per API token (429 + Retry-After)."""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from synthguard.auth import Role, create_token
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import ConfigError, MediaTooLargeError, RateLimitedError
from synthguard.server import create_app
from synthguard.server.ratelimit import TokenBucket
from tests.conftest import image_bytes

PNG = image_bytes("PNG", size=(120, 90))


def test_the_defaults_are_safe_and_bad_values_are_config_errors():
    s = Settings.load()
    assert s.max_bytes == 200 * 1024 * 1024 and s.max_pixels == 64_000_000
    assert s.max_metadata_depth == 32 and s.rate_limit_per_minute == 600 and s.rate_limit_burst == 120
    assert s.job_lease_seconds == 300 and s.job_max_attempts == 5
    for bad in ({"max_metadata_depth": 1}, {"rate_limit_per_minute": -1}, {"rate_limit_burst": 0},
                {"job_lease_seconds": 0}, {"job_max_attempts": 0}):
        with pytest.raises(ConfigError):
            Settings.load(**bad)


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SYNTHGUARD_RATE_LIMIT_PER_MINUTE", "5")
    monkeypatch.setenv("SYNTHGUARD_MAX_METADATA_DEPTH", "8")
    s = Settings.load()
    assert s.rate_limit_per_minute == 5 and s.max_metadata_depth == 8


def test_a_decompression_bomb_is_refused_before_decoding(settings):
    big = io.BytesIO()
    Image.new("L", (5000, 5000)).save(big, "PNG")  # 25 Mpx in ~25 KB
    with SynthGuard.open(settings.model_copy(update={"max_pixels": 1_000_000})) as sg:
        with pytest.raises(MediaTooLargeError, match="decompression-bomb"):
            sg.scan(big.getvalue())
        with pytest.raises(MediaTooLargeError):  # the async path refuses it when the job runs, with the same error
            sg.media(big.getvalue()).decode()


def test_oversized_uploads_get_413_on_the_async_route(settings):
    small = settings.model_copy(update={"max_bytes": 2000})
    with SynthGuard.open(small) as sg, TestClient(create_app(small, sg=sg)) as c:
        token = create_token(sg.db, Role.PLATFORM, "acme")[0]
        r = c.post("/v1/jobs/scan", files={"file": ("x.png", PNG[:3000], "image/png")},
                   headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 413 and r.json()["hint"]
        assert sg.jobs.queue.stats()["queued"] == 0


def test_the_token_bucket_allows_a_burst_then_the_rate():
    now = [0.0]
    b = TokenBucket(60, 3, clock=lambda: now[0])  # one per second, bursts of 3
    assert [b.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take("k") == pytest.approx(1.0)
    assert b.take("other") == 0.0  # buckets are per key
    now[0] = 0.5
    assert b.take("k") == pytest.approx(0.5)  # a refused request costs nothing
    now[0] = 1.0
    assert b.take("k") == 0.0
    assert TokenBucket(0, 1).take("x") == 0.0 and TokenBucket(0, 1).rate == 0


def test_requests_over_the_rate_get_429_with_retry_after_per_token(settings):
    limited = settings.model_copy(update={"rate_limit_per_minute": 2, "rate_limit_burst": 2})
    with SynthGuard.open(limited) as sg, TestClient(create_app(limited, sg=sg)) as c:
        a = create_token(sg.db, Role.PLATFORM, "acme")[0]
        b = create_token(sg.db, Role.PLATFORM, "acme")[0]
        codes = [c.get("/v1/jobs", headers={"Authorization": f"Bearer {a}"}).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = c.get("/v1/jobs", headers={"Authorization": f"Bearer {a}"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        assert r.json()["error"] == "RateLimitedError" and "Retry-After" in r.json()["hint"]
        assert c.get("/v1/jobs", headers={"Authorization": f"Bearer {b}"}).status_code == 200  # another token
        assert c.get("/v1/jobs").status_code == 401  # no token: authentication first, no bucket charged


def test_the_rate_limit_can_be_switched_off(settings):
    off = settings.model_copy(update={"rate_limit_per_minute": 0, "rate_limit_burst": 1})
    with SynthGuard.open(off) as sg, TestClient(create_app(off, sg=sg)) as c:
        a = create_token(sg.db, Role.PLATFORM, "acme")[0]
        assert {c.get("/v1/jobs", headers={"Authorization": f"Bearer {a}"}).status_code for _ in range(5)} == {200}
    assert RateLimitedError.http_status == 429 and RateLimitedError.exit_code == 9


def test_deeply_nested_aigc_metadata_in_an_upload_is_a_problem_not_a_crash(sg):
    from synthguard.marking.containers import write_xmp
    from synthguard.marking.xmp import set_properties

    packet = set_properties(None, "[" * 5000 + "]" * 5000)
    data = write_xmp(PNG, "png", packet)
    reading = sg.inspect(data)
    assert reading["aigc"] is None and any("levels deep" in p for p in reading["problems"])
    result = sg.scan(data, log=False)  # the scan goes on; the defect is named in its evidence
    assert any("levels deep" in p for e in result.evidence for p in e["problems"])
