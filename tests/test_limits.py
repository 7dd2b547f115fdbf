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
from synthguard.server.ratelimit import DatabaseBucket, TokenBucket, limiter
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


def burst_then_rate(b, now: list[float]) -> None:
    """The contract of both bucket stores: one token per second, bursts of 3, per key, refusals cost nothing."""
    t0 = now[0]
    assert [b.take("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take("k") == pytest.approx(1.0)
    assert b.take("other") == 0.0  # buckets are per key
    now[0] = t0 + 0.5
    assert b.take("k") == pytest.approx(0.5)  # a refused request costs nothing
    now[0] = t0 + 1.0
    assert b.take("k") == 0.0


def test_the_token_bucket_allows_a_burst_then_the_rate():
    now = [0.0]
    burst_then_rate(TokenBucket(60, 3, clock=lambda: now[0]), now)
    assert TokenBucket(0, 1).take("x") == 0.0 and TokenBucket(0, 1).rate == 0


def test_the_shared_bucket_behaves_like_the_memory_one(backend_settings):
    now = [1000.0]
    with SynthGuard.open(backend_settings) as sg:
        b = DatabaseBucket(sg.db.engine, 60, 3, clock=lambda: now[0])
        burst_then_rate(b, now)
        now[0] = 990.0  # a host whose clock is behind refills nothing and drains nothing
        assert b.take("k") == pytest.approx(1.0)
        now[0] = 5000.0  # a long pause refills to the burst, not beyond
        assert [b.take("k") for _ in range(4)][-1] > 0


def test_the_shared_bucket_is_exact_under_concurrent_processes(backend_settings):
    """8 threads (each with its own connection, as separate server processes would have) charge one key 25 times
    each: exactly `burst` requests pass, whatever the interleaving."""
    from concurrent.futures import ThreadPoolExecutor

    with SynthGuard.open(backend_settings) as sg:
        buckets = [DatabaseBucket(sg.db.engine, 1, 50, clock=lambda: 7000.0) for _ in range(8)]

        def charge(b: DatabaseBucket) -> int:
            return sum(b.take("hot") == 0.0 for _ in range(25))

        with ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(charge, buckets)) == 50


def test_two_server_processes_share_one_rate_when_shared(backend_settings):
    for shared, expected in ((True, [200, 200, 429, 429]), (False, [200, 200, 200, 200])):
        limited = backend_settings.model_copy(update={"rate_limit_per_minute": 2, "rate_limit_burst": 2,
                                                      "rate_limit_shared": shared})
        with SynthGuard.open(limited) as sg, TestClient(create_app(limited, sg=sg)) as c1, \
                TestClient(create_app(limited, sg=sg)) as c2:
            a = {"Authorization": f"Bearer {create_token(sg.db, Role.PLATFORM, 'acme')[0]}"}
            assert [c.get("/v1/jobs", headers=a).status_code for c in (c1, c2, c1, c2)] == expected, shared


def test_the_default_store_follows_the_database(backend_settings):
    with SynthGuard.open(backend_settings) as sg:
        expected = DatabaseBucket if sg.db.engine.dialect.name == "postgresql" else TokenBucket
        assert type(limiter(sg)) is expected


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
    from synthguard.marking.image.containers import write_xmp
    from synthguard.marking.image.xmp import set_properties

    packet = set_properties(None, "[" * 5000 + "]" * 5000)
    data = write_xmp(PNG, "png", packet)
    reading = sg.inspect(data)
    assert reading["aigc"] is None and any("levels deep" in p for p in reading["problems"])
    result = sg.scan(data, log=False)  # the scan goes on; the defect is named in its evidence
    assert any("levels deep" in p for e in result.evidence for p in e["problems"])


@pytest.mark.parametrize("fmt", ["WAV", "MP3"])
def test_audio_over_the_duration_limit_is_refused_by_every_journey(settings, fmt):
    """max_audio_seconds bounds decoding for scans and traces too, not only labeling (memory: 4 h of 48 kHz stereo
    is 5.5 GB of float32)."""
    from synthguard.marking.audio.io import synthetic_audio

    clip = synthetic_audio(fmt, seconds=6.0).data
    with SynthGuard.open(settings.model_copy(update={"max_audio_seconds": 5.0})) as sg:
        with pytest.raises(MediaTooLargeError, match="over the limit of 5 s") as exc:
            sg.scan(clip)
        assert "SYNTHGUARD_MAX_AUDIO_SECONDS" in exc.value.hint
        with pytest.raises(MediaTooLargeError):
            sg.trace(clip)
    with SynthGuard.open(settings.model_copy(update={"max_audio_seconds": 7.0})) as sg:
        assert sg.scan(clip).verdict == "none"


def test_video_over_the_duration_limit_is_a_413_on_the_scan_route(settings):
    from synthguard.marking.video.io import synthetic_video

    clip = synthetic_video("MP4", seconds=2.0, audio=False).data
    short = settings.model_copy(update={"max_video_seconds": 1.0})
    with SynthGuard.open(short) as sg, TestClient(create_app(short, sg=sg)) as c:
        token = create_token(sg.db, Role.PLATFORM, "acme")[0]
        r = c.post("/v1/scan", files={"file": ("x.mp4", clip, "video/mp4")},
                   headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 413 and "SYNTHGUARD_MAX_VIDEO_SECONDS" in r.json()["hint"], r.json()
