"""Issue 26: scan on upload. An object-created event -> a scan job per object version -> a signed callback.

Real pieces on loopback: moto's S3 server holds the bucket (read through pyarrow, as batch scans do), and a
callback receiver that fails twice before it accepts checks the HMAC signature of every delivery.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import ValidationError
from synthguard.jobs.objects import SIGNATURE_HEADER, parse_event, sign, verify
from synthguard.server import create_app
from tests.conftest import image_bytes

SECRET = "whsec-test-secret"


class Receiver:
    """A platform's callback endpoint: answers 500 ``fail`` times, then 200; keeps every delivery."""

    def __init__(self, fail: int):
        self.fail, self.calls, self.accepted = fail, 0, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.calls += 1
                ok = outer.calls > outer.fail
                if ok:
                    outer.accepted.append((body, self.headers.get(SIGNATURE_HEADER)))
                self.send_response(200 if ok else 500)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/synthguard"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def bucket(s3):
    s3.put("uploads/u/cat photo.png", image_bytes("PNG", size=(200, 160)))
    s3.put("uploads/u/broken.jpg", b"\xff\xd8\xff\xe0 cut short")
    return s3.url("uploads")


def event(*keys: str, version: str = "v1") -> dict:
    return {"Records": [{"eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                         "s3": {"bucket": {"name": "uploads"},
                                "object": {"key": k.replace(" ", "+"), "size": 1, "versionId": version,
                                           "eTag": "abc"}}} for k in keys]}


@pytest.fixture
def platform(settings, bucket):
    receiver = Receiver(fail=2)
    st = Settings.load(home=settings.home, upload_buckets=[bucket], upload_callback_url=receiver.url,
                       upload_callback_secret=SECRET, job_backoff_seconds=0.05)
    sg = SynthGuard.open(st)
    token = create_token(sg.db, Role.PLATFORM, "acme", "uploads")[0]
    with TestClient(create_app(st, sg=sg)) as client:
        yield {"client": client, "sg": sg, "receiver": receiver, "auth": {"Authorization": f"Bearer {token}"}}
    sg.close()
    receiver.server.shutdown()


def _drain(sg, until, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not until():
        assert time.monotonic() < deadline, "the jobs did not finish"
        sg.jobs.work()
        time.sleep(0.05)


def test_an_event_scans_each_object_and_calls_back_signed_after_two_failures(platform):
    c, sg, rx = platform["client"], platform["sg"], platform["receiver"]
    r = c.post("/v1/hooks/objects", json=event("u/cat photo.png", "u/broken.jpg"), headers=platform["auth"])
    assert r.status_code == 202, r.text
    jobs = r.json()["jobs"]
    assert [j["kind"] for j in jobs] == ["object-scan", "object-scan"]
    _drain(sg, lambda: len(rx.accepted) == 2)
    assert rx.calls == 4  # two 500s, retried with backoff, then both delivered
    bodies = {}
    for raw, sig in rx.accepted:
        assert verify(SECRET, raw, sig)
        assert not verify("another secret", raw, sig)
        doc = json.loads(raw)
        bodies[doc["key"]] = doc
    good, bad = bodies["u/cat photo.png"], bodies["u/broken.jpg"]
    assert good["result"]["verdict"] == "none" and good["error"] is None and good["version"] == "v1"
    assert good["scan_job"] in {j["id"] for j in jobs} and good["delivery"] != good["scan_job"]
    assert bad["result"] is None and bad["error"]["error"] in ("CorruptMediaError", "UnsupportedMediaError")
    done = sg.jobs.get(jobs[0]["id"])
    assert done["state"] == "done" and done["ledger_index"] is not None  # DS-10: the scan is in the ledger


def test_a_repeated_notification_scans_once_and_a_new_version_scans_again(platform):
    c = platform["client"]
    first = c.post("/v1/hooks/objects", json=event("u/cat photo.png"), headers=platform["auth"]).json()["jobs"]
    again = c.post("/v1/hooks/objects", json=event("u/cat photo.png"), headers=platform["auth"]).json()["jobs"]
    newer = c.post("/v1/hooks/objects", json=event("u/cat photo.png", version="v2"),
                   headers=platform["auth"]).json()["jobs"]
    assert first[0]["id"] == again[0]["id"] != newer[0]["id"]
    plain = c.post("/v1/hooks/objects", json={"bucket": "uploads", "key": "u/cat photo.png", "version": "v2"},
                   headers=platform["auth"]).json()["jobs"]
    assert plain[0]["id"] == newer[0]["id"]


def test_only_configured_buckets_and_platform_roles(platform, sg):
    c = platform["client"]
    r = c.post("/v1/hooks/objects", json={"bucket": "someone-elses", "key": "x.png"}, headers=platform["auth"])
    assert r.status_code == 403
    victim = create_token(platform["sg"].db, Role.VICTIM, "acme", "v")[0]
    r = c.post("/v1/hooks/objects", json=event("u/cat photo.png"), headers={"Authorization": f"Bearer {victim}"})
    assert r.status_code == 403
    assert c.post("/v1/hooks/objects", json=event("u/cat photo.png")).status_code == 401
    assert c.post("/v1/hooks/objects", content=b"{" * 50, headers=platform["auth"]).status_code == 400


def test_event_parsing_keeps_created_records_only():
    doc = event("a.png") | {}
    doc["Records"].append({"eventName": "ObjectRemoved:Delete", "s3": {"bucket": {"name": "uploads"},
                                                                     "object": {"key": "gone.png"}}})
    refs = parse_event(doc)
    assert [(r.bucket, r.key, r.version) for r in refs] == [("uploads", "a.png", "v1")]
    with pytest.raises(ValidationError):
        parse_event({"Records": []})
    assert verify(SECRET, b"{}", sign(SECRET, b"{}", int(time.time())))
    assert not verify(SECRET, b"{}", sign(SECRET, b"{}", int(time.time()) - 3600))  # replayed long after
