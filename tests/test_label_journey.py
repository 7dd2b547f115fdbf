"""The provider's labeling journey end to end (DS-07, DS-18, DS-19, LM-05, LM-10, GB-03, GB-09, GB-11)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from synthguard.errors import (
    CorruptMediaError,
    IdentityNotVerifiedError,
    MediaTooLargeError,
    NotFoundError,
    OutputError,
    UnsupportedMediaError,
    ValidationError,
)
from synthguard.store.schema import Record
from tests.conftest import image_bytes, kodak

ALL_MARKS = ["image.visible", "image.watermark", "image.metadata", "image.c2pa"]


def _records(sg) -> int:
    with sg.db.session() as s:
        return s.scalar(select(func.count()).select_from(Record))


@pytest.mark.parametrize("fmt,save", [("JPEG", {"quality": 92}), ("PNG", {}), ("WEBP", {"quality": 90})])
def test_label_then_inspect_round_trip(sg, verified_user, tmp_path, fmt, save):
    src = tmp_path / f"in.{fmt.lower()}"
    src.write_bytes(image_bytes(fmt, **save))
    out = tmp_path / f"out.{fmt.lower()}"
    r = sg.label(src, user=verified_user, producer="ACME", output=out, model="m-1")
    assert r.marks == ALL_MARKS
    assert out.read_bytes()[:2] == src.read_bytes()[:2]  # same container format
    seen = sg.inspect(out)
    assert seen["aigc"]["ProduceID"] == r.content_id
    assert seen["aigc"]["Label"] == "1" and seen["aigc"]["ContentProducer"] == "ACME"
    assert seen["aigc"]["ContentPropagator"] == "ACME" and seen["aigc"]["PropagateID"] == r.content_id  # GB-11
    assert seen["aigc_integrity"] == "valid" and seen["aigc_count"] == 1
    assert seen["digital_source_type"].endswith("/trainedAlgorithmicMedia")
    assert seen["c2pa"]["present"] and seen["c2pa"]["state"] == "trusted"
    assert "org.synthguard.record" in seen["c2pa"]["assertions"] and seen["c2pa"]["content_id"] == r.content_id
    assert seen["watermark"]["detected"] and seen["watermark"]["payload"] == r.watermark_payload
    assert seen["visible_label"]["found"]


def test_visible_label_geometry_is_recorded(sg, verified_user, tmp_path):
    """GB-03: a 1000x600 image gets glyphs at least 30 px high at an edge; the ratio is stored (DS-19)."""
    src = tmp_path / "in.png"
    src.write_bytes(image_bytes("PNG", size=(1000, 600)))
    r = sg.label(src, user=verified_user, producer="ACME", output=tmp_path / "o.png", watermark=False, c2pa=False)
    lay = r.visible_label
    assert lay["glyph_height"] >= 30 and lay["ratio"] >= 0.05
    left, top, right, bottom = lay["box"]
    assert right <= 1000 and bottom <= 600 and (bottom > 600 - 40 or top < 40)
    with sg.db.session() as s:
        assert s.get(Record, r.content_id).details["visible_label"]["ratio"] >= 0.05


def test_no_visible_skips_the_pixel_label(sg, verified_user, tmp_path):
    src = kodak()
    r = sg.label(src, user=verified_user, producer="ACME", output=tmp_path / "o.png", visible=False)
    assert "image.visible" not in r.marks
    assert not sg.inspect(tmp_path / "o.png")["visible_label"]["found"]


def test_record_and_ledger_entry_written(sg, verified_user, tmp_path):
    r = sg.label(kodak(), user=verified_user, producer="ACME", output=tmp_path / "o.png")
    with sg.db.session() as s:
        rec = s.get(Record, r.content_id)
        assert rec.output_sha256 == r.sha256 and rec.user_id == verified_user
        entry = sg.ledger.entry(s, rec.ledger_index)
    assert entry.kind == "generation" and entry.body["content_id"] == r.content_id
    assert entry.body["output_sha256"] == r.sha256
    assert verified_user not in entry.data.decode()  # pseudonymous in the log


def test_unverified_user_refused(sg, tmp_path):
    """DS-07: no publication service for unverified users (cn profile default)."""
    sg.add_user("u-7")
    out = tmp_path / "o.png"
    with pytest.raises(IdentityNotVerifiedError) as ei:
        sg.label(kodak(), user="u-7", producer="ACME", output=out)
    assert ei.value.exit_code != 0 and ei.value.http_status == 403
    assert not out.exists() and _records(sg) == 0


def test_unverified_user_allowed_when_policy_off(settings, tmp_path):
    from synthguard.core import SynthGuard

    sg = SynthGuard.open(settings.model_copy(update={"profile": "eu"}))
    sg.add_user("u-7")
    assert sg.label(kodak(), user="u-7", producer="ACME", output=tmp_path / "o.png").content_id.startswith("SG")


def test_identity_stores_only_a_salted_hash(sg):
    from synthguard.store.schema import IdentityVerification

    sg.add_user("u-1")
    sg.verify_user("u-1", "id_number", identifier="110101199003071234", reference="ref-9")
    with sg.db.session() as s:
        row = s.scalars(select(IdentityVerification)).one()
    assert row.identifier_hash and "110101199003071234" not in row.identifier_hash and len(row.identifier_hash) == 64
    assert row.method == "id_number" and row.result == "verified"


def test_unknown_user_and_method(sg, tmp_path):
    with pytest.raises(NotFoundError):
        sg.label(kodak(), user="ghost", producer="ACME", output=tmp_path / "o.png")
    sg.add_user("u-1")
    with pytest.raises(ValidationError):
        sg.verify_user("u-1", "palm-reading")


@pytest.mark.parametrize("producer", ["测试工作室", "Test Studio", 'a"b'])
def test_producer_code_characters(sg, verified_user, tmp_path, producer):
    """GB-10: printable single-byte characters only."""
    with pytest.raises(ValidationError):
        sg.label(kodak(), user=verified_user, producer=producer, output=tmp_path / "o.png")


def test_strict_provider_code(settings, tmp_path):
    from synthguard.core import SynthGuard

    sg = SynthGuard.open(settings.model_copy(update={"strict_producer_code": True, "profile": "none"}))
    sg.add_user("u")
    with pytest.raises(ValidationError):
        sg.label(kodak(), user="u", producer="ACME", output=tmp_path / "o.png")
    r = sg.label(kodak(), user="u", producer="001191110102MAD55U9H0F10002", output=tmp_path / "o.png")
    assert r.producer == "001191110102MAD55U9H0F10002"


# --- bad input: clear error, non-zero code, nothing written ---------------------------------------
def _bad(sg, user, tmp_path, data: bytes, exc: type[Exception]):
    src = tmp_path / "bad.bin"
    src.write_bytes(data)
    out = tmp_path / "out.png"
    with pytest.raises(exc) as ei:
        sg.label(src, user=user, producer="ACME", output=out)
    assert str(src) in ei.value.diagnostics() and "What to do" in ei.value.diagnostics()
    assert not out.exists() and _records(sg) == 0
    assert not list(tmp_path.glob(".out.png.*"))


def test_text_is_labeled_not_refused(sg, verified_user, tmp_path):
    """Text is a labeled modality now (LM-03, LM-10): notice + AIGC trailer, integrity valid."""
    src = tmp_path / "in.txt"
    src.write_bytes(b"hello, I am text\n")
    r = sg.label(src, user=verified_user, producer="ACME", output=tmp_path / "out.txt")
    assert r.marks == ["text.notice", "text.metadata"]
    seen = sg.inspect(tmp_path / "out.txt")
    assert seen["modality"] == "text" and seen["visible_label"]["found"] and seen["aigc_integrity"] == "valid"


def test_unsupported_container(sg, verified_user, tmp_path):
    """A ZIP that is not an office document is refused (nothing we can label)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("data.csv", "a,b\n1,2\n")
    _bad(sg, verified_user, tmp_path, buf.getvalue(), UnsupportedMediaError)


def test_garbage_bytes(sg, verified_user, tmp_path):
    _bad(sg, verified_user, tmp_path, bytes(range(256)) * 4, UnsupportedMediaError)


def test_truncated_jpeg(sg, verified_user, tmp_path):
    data = image_bytes("JPEG")
    _bad(sg, verified_user, tmp_path, data[: len(data) // 2], CorruptMediaError)


def test_truncated_png(sg, verified_user, tmp_path):
    data = image_bytes("PNG")
    _bad(sg, verified_user, tmp_path, data[: len(data) // 3], CorruptMediaError)


def test_decompression_bomb(settings, tmp_path):
    from synthguard.core import SynthGuard

    sg = SynthGuard.open(settings.model_copy(update={"max_pixels": 100_000}))
    sg.add_user("u")
    sg.verify_user("u", "netid")
    _bad(sg, "u", tmp_path, image_bytes("PNG", size=(640, 400)), MediaTooLargeError)


def test_unsupported_format(sg, verified_user, tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (300, 300), "gray").save(buf, "BMP")
    _bad(sg, verified_user, tmp_path, buf.getvalue(), UnsupportedMediaError)


def test_animated_gif_refused(sg, verified_user, tmp_path):
    frames = [Image.new("RGB", (300, 300), c) for c in ("red", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    _bad(sg, verified_user, tmp_path, buf.getvalue(), UnsupportedMediaError)


def test_unwritable_output(sg, verified_user, tmp_path):
    with pytest.raises(OutputError):
        sg.label(kodak(), user=verified_user, producer="ACME", output=tmp_path / "no" / "such" / "dir.png")
    assert _records(sg) == 0  # the record rolled back with the failed write


def test_missing_key(sg, verified_user, tmp_path, settings):
    from synthguard.errors import KeyMissingError

    (settings.keys_dir / "c2pa-signer.key").unlink()
    with pytest.raises(KeyMissingError) as ei:
        sg.label(kodak(), user=verified_user, producer="ACME", output=tmp_path / "o.png")
    assert "keys init" in ei.value.diagnostics()
    assert not (tmp_path / "o.png").exists() and _records(sg) == 0


def test_small_image_labels_without_watermark(sg, verified_user, tmp_path):
    src = tmp_path / "small.png"
    src.write_bytes(image_bytes("PNG", size=(200, 120)))
    r = sg.label(src, user=verified_user, producer="ACME", output=tmp_path / "o.png")
    assert "image.watermark" not in r.marks and r.warnings and "watermark skipped" in r.warnings[0]
    assert sg.inspect(tmp_path / "o.png")["aigc"]["ProduceID"] == r.content_id


def test_alpha_and_colour_profile_preserved(sg, verified_user, tmp_path):
    """Relabeling must not drop transparency or the ICC profile (issue: watermark bad input)."""
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im = Image.open(kodak()).convert("RGBA")
    alpha = Image.new("L", im.size, 255)
    alpha.paste(0, (0, 0, 100, 100))
    im.putalpha(alpha)
    src = tmp_path / "rgba.png"
    im.save(src, "PNG", icc_profile=icc)
    r = sg.label(src, user=verified_user, producer="ACME", output=tmp_path / "o.png")
    assert "image.watermark" in r.marks
    out = Image.open(tmp_path / "o.png")
    assert out.mode == "RGBA" and out.info.get("icc_profile") == icc
    assert out.getchannel("A").getpixel((10, 10)) == 0 and out.getchannel("A").getpixel((400, 300)) == 255
    assert sg.inspect(tmp_path / "o.png")["watermark"]["detected"]
