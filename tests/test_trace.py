"""Trace: a stripped copy still finds its record with a verifiable proof; forged pointers never 'found'."""

from __future__ import annotations

import io
import sqlite3

import pytest
from PIL import Image

from synthguard.cli import main
from synthguard.errors import StoreError
from synthguard.ledger import leaf_hash, verify_inclusion
from synthguard.marking.watermark import ImageWatermarker
from tests.conftest import image_bytes, kodak, sqlite_file


def strip_and_reencode(path, scale=0.6, quality=75) -> bytes:
    im = Image.open(path).convert("RGB")
    im = im.resize((int(im.width * scale), int(im.height * scale)), Image.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality)  # Pillow writes no XMP/C2PA: every metadata mark is gone
    return buf.getvalue()


@pytest.fixture
def labeled(sg, verified_user, tmp_path):
    out = tmp_path / "labeled.png"
    r = sg.label(kodak("kodim05.png"), user=verified_user, producer="ACME", output=out)
    sg.checkpoint()
    return r, out


def _check_proof(t):
    p = t["proof"]
    assert p["verified"] and t["checkpoint"] and p["root"] == t["checkpoint"]["root"]
    assert leaf_hash(p["entry"].encode()).hex() == p["leaf_hash"]
    assert verify_inclusion(bytes.fromhex(p["leaf_hash"]), p["leaf_index"], p["tree_size"],
                            [bytes.fromhex(h) for h in p["audit_path"]], bytes.fromhex(p["root"]))


def test_trace_labeled_file(sg, labeled):
    r, out = labeled
    t = sg.trace(out)
    assert t["found"] and t["content_id"] == r.content_id and t["producer"] == "ACME"
    assert {"watermark", "aigc", "c2pa", "sha256"} <= set(t["via"])
    assert t["record"]["user"] == "u-42" and t["record"]["output_sha256"] == r.sha256
    _check_proof(t)


def test_trace_after_stripping_and_jpeg(sg, labeled):
    """The product's promise: metadata stripped + re-encoded + resized still traces, via the watermark."""
    r, out = labeled
    t = sg.trace(strip_and_reencode(out))
    assert t["found"] and t["content_id"] == r.content_id
    assert t["via"][0] == "watermark" and "aigc" not in t["via"] and "c2pa" not in t["via"]
    assert t["confirmed"] == ("pdq" in t["via"])
    _check_proof(t)


def test_trace_via_pdq_without_watermark(sg, verified_user, tmp_path):
    out = tmp_path / "o.png"
    r = sg.label(kodak("kodim08.png"), user=verified_user, producer="ACME", output=out, watermark=False)
    t = sg.trace(strip_and_reencode(out, scale=0.8))
    assert t["found"] and t["content_id"] == r.content_id and t["via"] == ["pdq"]


def test_unrelated_image_not_found(sg, labeled):
    t = sg.trace(kodak("kodim19.png"))
    assert not t["found"] and t["record"] is None and t["proof"] is None


def test_forged_watermark_payload_not_found(sg, labeled, settings):
    """A valid watermark (scheme key) whose payload names no record must not be 'found'."""
    forged = ImageWatermarker(sg.keys.watermark).embed(Image.open(kodak("kodim20.png")), bytes(8))
    buf = io.BytesIO()
    forged.save(buf, "PNG")
    t = sg.trace(buf.getvalue())
    assert not t["found"] and any("names no record" in p for p in t["problems"])


def test_forged_aigc_label_not_found(sg, labeled, tmp_path):
    """Copying a real ProduceID into another image's metadata: ReservedCode1 fails, so no 'found' (LM-22)."""
    r, out = labeled
    from synthguard.marking.image.containers import read_xmp, write_xmp
    from synthguard.media import Media

    packet = read_xmp(out.read_bytes(), "png")[0]
    victim = Media.open(kodak("kodim21.png"))
    forged = write_xmp(victim.data, "png", packet)
    t = sg.trace(forged)
    assert t["marks"]["aigc"]["ProduceID"] == r.content_id and t["marks"]["aigc_integrity"] == "invalid"
    assert not t["found"] and any("integrity" in p for p in t["problems"])


def test_record_lookup(sg, labeled):
    r, _ = labeled
    data = sg.record(r.content_id)
    assert data["record"]["content_id"] == r.content_id and data["proof"]["verified"]


@sqlite_file
def test_tampered_ledger_detected_and_named(sg, labeled, settings, capsys):
    r, _ = labeled
    db = settings.home / "synthguard.db"
    sg.close()
    con = sqlite3.connect(db)
    row = con.execute("select idx, data from ledger_entries where kind='generation'").fetchone()
    con.execute("update ledger_entries set data=? where idx=?", (row[1].replace(b"ACME", b"EVIL"), row[0]))
    con.commit()
    con.close()
    assert main(["ledger", "verify", "--json"]) == 7
    report = __import__("json").loads(capsys.readouterr().out)
    assert not report["ok"] and any(p["kind"] == "edited" and p["index"] == row[0] for p in report["problems"])


@sqlite_file
def test_corrupt_database_gives_store_error(settings):
    from synthguard.core import SynthGuard

    (settings.home / "synthguard.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError) as ei:
        SynthGuard.open(settings)
    assert "database" in ei.value.diagnostics()


def test_trace_cli_not_found_exit_code(capsys, settings):
    assert main(["trace", str(kodak()), "--json"]) == 4


def test_trace_bad_input(sg, labeled):
    from synthguard.errors import CorruptMediaError

    with pytest.raises(CorruptMediaError):
        sg.trace(image_bytes("JPEG")[:500])
