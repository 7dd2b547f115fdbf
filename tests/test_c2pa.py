"""C2PA manifests: sign, read, validate (EU-09 1.1.1, EU-02, EU-10, US-10)."""

from __future__ import annotations

import io
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import numpy as np
import pytest
from cryptography import x509
from PIL import Image

from synthguard.errors import (
    ConfigError,
    CorruptMediaError,
    KeyMissingError,
    ProvenanceError,
    UnsupportedMediaError,
)
from synthguard.marking.base import LabelContext, Marker
from synthguard.marking.c2pa import (
    RECORD_LABEL,
    TRAINED_ALGORITHMIC_MEDIA,
    C2PAMarker,
    C2PASigner,
    read,
    sign,
)
from synthguard.media import Media
from synthguard.provenance.pki import create_dev_pki

FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
# where each container's compressed pixels start: a flipped byte after this is image data, not manifest
PIXEL_CHUNK = {"jpeg": b"\xff\xda", "png": b"IDAT", "webp": b"VP8"}


def synth(fmt: str, size=(160, 120), seed=0) -> Media:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, FORMATS[fmt])
    return Media.from_bytes(buf.getvalue(), name=f"gen.{fmt}")


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return create_dev_pki(tmp_path_factory.mktemp("keys"))


@pytest.fixture(scope="module")
def signer(pki):
    return C2PASigner(pki.cert_chain, pki.key)


@pytest.fixture(params=sorted(FORMATS))
def fmt(request):
    return request.param


def label(signer, media, content_id="cid-0001", **kw):
    return signer.sign(media, content_id=content_id, producer="ACME", ledger_ref="ledger:42", model="gen-1", **kw)


def test_round_trip_is_valid(signer, fmt):
    media = synth(fmt)
    signed = label(signer, media, created=datetime(2026, 8, 2, tzinfo=UTC))
    assert signed.format == fmt and signed.name == media.name
    assert signed.pixel_sha256 == media.pixel_sha256  # the manifest never touches pixels
    r = read(signed)
    assert (r.present, r.state, r.valid) == (True, "valid", True)
    assert "c2pa.actions.v2" in r.assertions and RECORD_LABEL in r.assertions
    assert r.content_id == "cid-0001"
    assert r.record == {"content_id": "cid-0001", "producer": "ACME", "ledger_ref": "ledger:42", "model": "gen-1",
                        "created": "2026-08-02T00:00:00+00:00"}
    assert r.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert r.signer == "SynthGuard Dev C2PA Signer"
    assert any(p.startswith("signingCredential.untrusted") for p in r.problems)  # why it is not "trusted"


def test_trusted_with_dev_ca_as_anchor(signer, pki, fmt):
    r = read(label(signer, synth(fmt)), trust_anchors=pki.ca_cert)
    assert r.state == "trusted" and r.problems == ()


def test_other_ca_does_not_make_it_trusted(signer, tmp_path):
    other = create_dev_pki(tmp_path, organization="Someone Else")
    r = read(label(signer, synth("jpeg")), trust_anchors=other.ca_cert)
    assert r.state == "valid"


def test_flipped_pixel_byte_is_invalid(signer, pki, fmt):
    data = bytearray(label(signer, synth(fmt)).data)
    i = data.rindex(PIXEL_CHUNK[fmt]) + 60
    data[i] ^= 0x01
    r = read(Media(bytes(data), fmt), trust_anchors=pki.ca_cert)
    assert (r.present, r.state, r.valid) == (True, "invalid", False)
    assert any(p.startswith("assertion.dataHash.mismatch") for p in r.problems)


def test_damaged_manifest_is_invalid_not_an_exception(signer):
    data = bytearray(label(signer, synth("jpeg")).data)
    data[data.index(b"c2pa.signature") + 30] ^= 0xFF
    r = read(Media(bytes(data), "jpeg"))
    assert r.present and r.state == "invalid" and r.problems


def test_reencoded_copy_is_absent(signer, fmt):
    signed = label(signer, synth(fmt))
    buf = io.BytesIO()
    signed.image().save(buf, FORMATS[fmt])
    r = read(Media.from_bytes(buf.getvalue()))
    assert (r.present, r.state, r.assertions, r.problems) == (False, "absent", (), ())


def test_second_signing_keeps_the_first_as_parent(signer, pki, fmt):
    first = label(signer, synth(fmt), content_id="first")
    second = label(signer, first, content_id="second")
    r = read(second, trust_anchors=pki.ca_cert)
    assert r.state == "trusted"
    assert r.content_id == "second" and r.manifests == 2  # EU-10: the earlier manifest is preserved
    assert r.digital_source_type == TRAINED_ALGORITHMIC_MEDIA


def test_wrong_key_is_refused(pki, tmp_path):
    other = create_dev_pki(tmp_path)
    with pytest.raises(ProvenanceError, match="does not match"):
        C2PASigner(pki.cert_chain, other.key)


@pytest.mark.parametrize("which", ["key", "cert_chain"])
def test_missing_file_says_run_keys_init(pki, tmp_path, which):
    paths = {"cert_chain": pki.cert_chain, "key": pki.key, which: tmp_path / "nope.pem"}
    with pytest.raises(KeyMissingError) as info:
        sign(synth("png"), content_id="c", producer="ACME", **paths)
    assert info.value.path == str(tmp_path / "nope.pem")
    assert "synthguard keys init" in info.value.diagnostics()


def test_bad_tsa_url_is_a_config_error(pki):
    with pytest.raises(ConfigError):
        C2PASigner(pki.cert_chain, pki.key, tsa_url="not a url")


def test_not_a_key_is_a_clear_error(pki, tmp_path):
    junk = tmp_path / "junk.key"
    junk.write_text("not a key")
    with pytest.raises(ProvenanceError, match="private key"):
        C2PASigner(pki.cert_chain, junk)


def test_garbage_bytes(signer):
    with pytest.raises(UnsupportedMediaError):
        Media.from_bytes(b"\x00garbage\x00" * 10)
    fake = Media(b"\xff\xd8\xff" + b"garbage" * 10, "jpeg")  # right magic, nothing behind it
    with pytest.raises(CorruptMediaError):
        read(fake)
    with pytest.raises(CorruptMediaError):
        label(signer, fake)


def test_unsupported_media_for_signing(signer):
    with pytest.raises(UnsupportedMediaError):
        label(signer, Media.from_bytes(b"plain text output", name="out.txt"))


def test_unreadable_trust_anchors(signer, tmp_path):
    signed = label(signer, synth("png"))
    with pytest.raises(ConfigError):
        read(signed, trust_anchors=tmp_path / "missing.pem")
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    with pytest.raises(ConfigError):
        read(signed, trust_anchors=bad)


def test_unsigned_image_is_absent():
    assert read(synth("webp")).state == "absent"


def test_concurrent_signing_is_isolated(signer, pki):
    media = [synth("jpeg", seed=i) for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        signed = list(pool.map(lambda iv: label(signer, iv[1], content_id=f"c{iv[0]}"), enumerate(media)))
    reports = [read(m, trust_anchors=pki.ca_cert) for m in signed]
    assert [r.content_id for r in reports] == [f"c{i}" for i in range(8)]
    assert {r.state for r in reports} == {"trusted"}


# --- Marker ---------------------------------------------------------------------------------
def test_marker_protocol(pki):
    marker = C2PAMarker(pki.cert_chain, pki.key, trust_anchors=pki.ca_cert)
    assert isinstance(marker, Marker)
    assert marker.name == "image.c2pa"
    ctx = LabelContext(content_id="cid-9", producer="ACME", created=datetime.now(UTC), ledger_ref="l:9")
    reading = marker.read(marker.mark(synth("png"), ctx))
    assert (reading.marker, reading.found, reading.valid) == ("image.c2pa", True, True)
    assert set(reading.data) == {"present", "state", "assertions", "content_id", "signer", "problems",
                                 "issuer", "serial", "producer", "ledger_ref"}  # issue 19: who signed, what it claims
    assert reading.data["producer"] == "ACME" and reading.data["ledger_ref"] == "l:9"
    assert int(reading.data["serial"]) == x509.load_pem_x509_certificates(pki.cert_chain.read_bytes())[0].serial_number
    assert reading.data["state"] == "trusted" and reading.data["content_id"] == "cid-9"


def test_marker_reads_without_keys(tmp_path):
    marker = C2PAMarker(tmp_path / "none.pem", tmp_path / "none.key")  # keys load on first mark()
    reading = marker.read(synth("jpeg"))
    assert (reading.found, reading.valid, reading.data["state"]) == (False, None, "absent")
    ctx = LabelContext(content_id="c", producer="ACME", created=datetime.now(UTC))
    with pytest.raises(KeyMissingError):
        marker.mark(synth("jpeg"), ctx)


def test_signing_1080p_jpeg_is_fast(signer):
    media = synth("jpeg", size=(1920, 1080))
    label(signer, media)  # warm-up: native library load
    times = []
    for _ in range(5):
        t = time.perf_counter()
        label(signer, media)
        times.append(time.perf_counter() - t)
    assert statistics.median(times) < 0.3
