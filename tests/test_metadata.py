"""image.metadata: GB 45438 AIGC label in XMP for JPEG/PNG/WebP (LM-10, LM-13, LM-17, LM-22, GB-08..GB-15)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from synthguard.errors import CorruptMediaError, MetadataError, UnsupportedMediaError, ValidationError
from synthguard.marking.aigc import AIGCLabel
from synthguard.marking.base import LabelContext, Marker
from synthguard.marking.image import containers
from synthguard.marking.image.containers import jpeg, png, webp
from synthguard.marking.image.metadata import MetadataMarker
from synthguard.marking.image.xmp import DST_TRAINED, NS_TC260, read_properties, set_properties
from synthguard.media import Media

ROOT = Path(__file__).resolve().parents[1]
KODAK = ROOT / "tests" / "data" / "kodak" / "kodim01.png"
EXIFTOOL_CONFIG = Path(__file__).with_name("exiftool_tc260.config")
PRODUCER = "001191110102MAD55U9H0F10002"
PLATFORM = "001191110102MAD55U9H0F20001"
KEY = b"producer-secret-key-0123456789ab"
CTX = LabelContext(content_id="C-2025-0001", producer=PRODUCER, created=datetime(2025, 9, 1, tzinfo=UTC))
PRIOR_XMP = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:CreatorTool="SynthStudio 3">'
    "<dc:creator><rdf:Seq><rdf:li>Jane Example</rdf:li></rdf:Seq></dc:creator>"
    '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)
VARIANTS = {  # name -> (Pillow format, mode, save options)
    "jpeg": ("JPEG", "RGB", {"quality": 90}),
    "png": ("PNG", "RGB", {}),
    "png-rgba": ("PNG", "RGBA", {}),
    "webp-lossy": ("WEBP", "RGB", {"quality": 80}),
    "webp-lossless": ("WEBP", "RGB", {"lossless": True}),
    "webp-alpha-lossy": ("WEBP", "RGBA", {"quality": 80}),
    "webp-alpha-lossless": ("WEBP", "RGBA", {"lossless": True}),
}


def picture(mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> Image.Image:
    img = Image.new(mode, size)
    img.putdata([((x * 4) % 256, (y * 5) % 256, (x * y) % 256, 128 + x)[: len(mode)] for y in range(size[1])
                 for x in range(size[0])])
    return img


def exif_bytes(comment: str | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SynthCam"
    if comment is not None:
        exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + comment.encode()
    return exif.tobytes()


def encode(variant: str, *, rich: bool = False, comment: str | None = None, img: Image.Image | None = None) -> Media:
    """Encode a synthetic image; ``rich`` adds EXIF, an ICC profile and a prior XMP packet with dc:creator."""
    fmt, mode, opts = VARIANTS[variant]
    img = img if img is not None else picture(mode)
    opts = dict(opts)
    if rich or comment is not None:
        opts["exif"] = exif_bytes(comment)
    if rich:
        opts["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        if fmt == "PNG":
            info = PngImagePlugin.PngInfo()
            info.add_itxt("XML:com.adobe.xmp", PRIOR_XMP)
            opts["pnginfo"] = info
        else:
            opts["xmp"] = PRIOR_XMP.encode()
    buf = io.BytesIO()
    img.save(buf, fmt, **opts)
    return Media.from_bytes(buf.getvalue(), name=f"{variant}.{fmt.lower()}")


def pixels(media: Media) -> tuple[str, bytes]:
    img = Image.open(io.BytesIO(media.data))
    return img.mode, img.tobytes()


def exiftool(media: Media, tmp_path: Path, *tags: str) -> dict:
    tool = shutil.which("exiftool")
    if tool is None:
        pytest.fail("exiftool is not installed: run `make test`, which installs it (libimage-exiftool-perl)")
    path = tmp_path / Path(media.name).name
    path.write_bytes(media.data)
    out = subprocess.run([tool, "-config", str(EXIFTOOL_CONFIG), "-j", "-n", "-G1", *tags, str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)[0]


def non_xmp_parts(media: Media) -> list[tuple[int | bytes, bytes]]:
    """Every segment/chunk except the XMP one, to prove nothing else changed."""
    if media.format == "jpeg":
        segs, rest = jpeg.segments(media.data)
        return [s for s in segs if not s[1].startswith(jpeg.XMP_HEADER)] + [(0xDA, rest)]
    if media.format == "png":
        return [c for c in png.chunks(media.data) if not c[1].startswith(png.XMP_KEYWORD)]
    return [c for c in webp.chunks(media.data)[0] if c[0] not in (b"XMP ", b"VP8X")]


@pytest.fixture
def marker() -> MetadataMarker:
    return MetadataMarker(KEY)


def test_is_a_marker(marker: MetadataMarker) -> None:
    assert isinstance(marker, Marker) and marker.name == "image.metadata"


# --- round trip (GB-15, LM-10, GB-11) ---------------------------------------------------------
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_round_trip_pixels_unchanged(marker: MetadataMarker, variant: str) -> None:
    src = encode(variant)
    out = marker.mark(src, CTX)
    assert pixels(out) == pixels(src)  # no re-encoding, byte-for-byte identical pixels
    r = marker.read(out)
    assert (r.found, r.valid, r.problems) == (True, True, ())
    assert r.data["count"] == 1 and r.data["integrity"] == "valid" and r.data["locations"] == ["xmp"]
    assert r.data["digital_source_type"] == DST_TRAINED
    aigc = r.data["aigc"]
    assert (aigc["Label"], aigc["ContentProducer"], aigc["ProduceID"]) == ("1", PRODUCER, "C-2025-0001")
    # GB-11: first write repeats the producer's values in the propagator fields
    assert (aigc["ContentPropagator"], aigc["PropagateID"], aigc["ReservedCode2"]) == (PRODUCER, "C-2025-0001", "")


@pytest.mark.parametrize("variant", ["webp-lossy", "webp-lossless", "webp-alpha-lossless"])
def test_simple_webp_converted_to_vp8x(marker: MetadataMarker, variant: str) -> None:
    src = encode(variant)
    assert webp.chunks(src.data)[0][0][0] in (b"VP8 ", b"VP8L")
    out = marker.mark(src, CTX)
    parts = webp.chunks(out.data)[0]
    assert parts[0][0] == b"VP8X" and parts[0][1][0] & 0x04
    assert int.from_bytes(parts[0][1][4:7], "little") + 1 == 64
    assert int.from_bytes(parts[0][1][7:10], "little") + 1 == 48
    assert Image.open(io.BytesIO(out.data)).mode == Image.open(io.BytesIO(src.data)).mode


@pytest.mark.parametrize("variant", ["jpeg", "png", "webp-lossy", "webp-alpha-lossless"])
def test_existing_exif_icc_xmp_preserved(marker: MetadataMarker, variant: str, tmp_path: Path) -> None:
    src = encode(variant, rich=True)
    out = marker.mark(src, CTX)
    assert non_xmp_parts(out) == non_xmp_parts(src)  # EXIF, ICC, everything else byte-identical
    props = read_properties(containers.read_xmp(out.data, out.format)[0])
    assert len(props.aigc) == 1
    meta = exiftool(out, tmp_path, "-XMP:all", "-EXIF:Make", "-ICC_Profile:ProfileDescription")
    assert meta["XMP-dc:Creator"] == "Jane Example"
    assert meta["XMP-xmp:CreatorTool"] == "SynthStudio 3"
    assert meta["IFD0:Make"] == "SynthCam"
    assert "sRGB" in meta["ICC_Profile:ProfileDescription"]
    assert json.loads(meta["XMP-TC260:AIGC"]) == marker.read(out).data["aigc"]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_exiftool_cross_check(marker: MetadataMarker, variant: str, tmp_path: Path) -> None:
    out = marker.mark(encode(variant), CTX)
    meta = exiftool(out, tmp_path, "-XMP-TC260:AIGC", "-XMP-iptcExt:DigitalSourceType")
    ours = marker.read(out).data
    assert json.loads(meta["XMP-TC260:AIGC"]) == ours["aigc"]
    assert meta["XMP-iptcExt:DigitalSourceType"] == ours["digital_source_type"] == DST_TRAINED


def test_we_read_what_exiftool_writes(marker: MetadataMarker, tmp_path: Path) -> None:
    label = AIGCLabel("1", PRODUCER, "EXT-1", "", PRODUCER, "EXT-1", "")
    path = tmp_path / "ext.png"
    path.write_bytes(encode("png").data)
    subprocess.run([shutil.which("exiftool") or pytest.fail("exiftool missing: run `make test`"),
                    "-config", str(EXIFTOOL_CONFIG), "-overwrite_original", f"-XMP-TC260:AIGC={label.to_json()}",
                    str(path)], check=True, capture_output=True)
    r = marker.read(Media.open(path))
    assert r.found and r.data["aigc"] == label.to_dict() and r.data["integrity"] == "unknown"


def test_real_kodak_image(marker: MetadataMarker, tmp_path: Path) -> None:
    assert KODAK.is_file(), f"missing test data {KODAK}: tests/data/kodak is part of the repository"
    src = Media.open(KODAK)
    out = marker.mark(src, CTX)
    assert pixels(out) == pixels(src) and marker.read(out).valid
    assert non_xmp_parts(out) == non_xmp_parts(src)
    assert json.loads(exiftool(out, tmp_path, "-XMP-TC260:AIGC")["XMP-TC260:AIGC"])["ProduceID"] == "C-2025-0001"


# --- one block only (GB-08) -------------------------------------------------------------------
@pytest.mark.parametrize("variant", ["jpeg", "png", "webp-lossless"])
def test_relabel_replaces(marker: MetadataMarker, variant: str) -> None:
    first = marker.mark(encode(variant, rich=True), CTX)
    second = marker.mark(first, LabelContext(content_id="C-2", producer=PRODUCER, created=CTX.created))
    r = marker.read(second)
    assert r.data["count"] == 1 and r.data["aigc"]["ProduceID"] == "C-2" and r.valid
    assert len(containers.read_xmp(second.data, second.format)) == 1


def test_two_blocks_flagged_then_writer_keeps_one(marker: MetadataMarker) -> None:
    labeled = marker.mark(encode("png"), CTX)
    parts = png.chunks(labeled.data)
    wild = (b"tEXt", b"AIGC\x00" + AIGCLabel("1", "OTHER", "X-1").to_json().encode())
    doubled = labeled.replace(png._build([*parts[:-1], wild, parts[-1]]))
    r = marker.read(doubled)
    assert r.data["count"] == 2 and r.valid is False
    assert r.data["locations"] == ["xmp", "png:tEXt:AIGC"] and any("GB-08" in p for p in r.problems)
    fixed = marker.mark(doubled, CTX)
    assert marker.read(fixed).data["count"] == 1 and not any(t == b"tEXt" for t, _ in png.chunks(fixed.data))


def test_two_properties_in_one_packet_flagged(marker: MetadataMarker) -> None:
    j = AIGCLabel("1", PRODUCER, "A").to_json().replace('"', "&quot;")
    packet = PRIOR_XMP.replace('xmp:CreatorTool="SynthStudio 3"', f'xmlns:TC260="{NS_TC260}" TC260:AIGC="{j}"')
    packet = packet.replace("</rdf:Description>", f"<TC260:AIGC>{j.replace('&quot;', chr(34))}</TC260:AIGC>"
                                                  "</rdf:Description>")
    media = Media.from_bytes(png.write_xmp(encode("png").data, packet.encode()))
    r = marker.read(media)
    assert r.data["count"] == 2 and not r.valid
    assert marker.read(marker.mark(media, CTX)).data["count"] == 1


@pytest.mark.parametrize("variant", ["jpeg", "png", "webp-lossy"])
def test_exif_user_comment_form_read_and_replaced(marker: MetadataMarker, variant: str, tmp_path: Path) -> None:
    wild = AIGCLabel("1", PRODUCER, "W-1", "", PRODUCER, "W-1", "")
    src = encode(variant, comment=json.dumps({"AIGC": wild.to_dict()}))
    r = marker.read(src)
    assert r.found and r.data["aigc"] == wild.to_dict() and r.data["locations"][0].endswith("UserComment")
    out = marker.mark(src, CTX)
    assert marker.read(out).data["count"] == 1
    assert exiftool(out, tmp_path, "-EXIF:Make")["IFD0:Make"] == "SynthCam"  # EXIF kept, comment blanked


def test_doubao_style_attribute_form_parses(marker: MetadataMarker) -> None:
    j = json.dumps(AIGCLabel("1", PRODUCER, "abc123", "", PRODUCER, "abc123", "").to_dict(), separators=(",", ":"))
    packet = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              f'<rdf:Description rdf:about="" xmlns:TC260="{NS_TC260}" TC260:AIGC="{j.replace(chr(34), "&quot;")}"/>'
              "</rdf:RDF></x:xmpmeta>")
    r = marker.read(Media.from_bytes(jpeg.write_xmp(encode("jpeg").data, packet.encode())))
    assert r.found and r.valid and r.data["aigc"]["ProduceID"] == "abc123" and r.data["integrity"] == "unknown"


# --- integrity (GB-12, LM-22) -----------------------------------------------------------------
def test_tampered_field_is_invalid(marker: MetadataMarker) -> None:
    out = marker.mark(encode("jpeg"), CTX)
    label = AIGCLabel.parse(read_properties(containers.read_xmp(out.data, "jpeg")[0]).aigc[0])
    forged = label.with_(ContentProducer="001191110102MAD55U9H0F19999")
    packet = set_properties(containers.read_xmp(out.data, "jpeg")[0], forged.to_json())
    r = marker.read(out.replace(jpeg.write_xmp(out.data, packet)))
    assert r.data["integrity"] == "invalid" and r.valid is False and any("LM-22" in p for p in r.problems)


def test_pixels_edited_after_labeling_is_invalid(marker: MetadataMarker) -> None:
    out = marker.mark(encode("png"), CTX)
    edited = encode("png", img=picture().rotate(180))
    moved = edited.replace(png.write_xmp(edited.data, containers.read_xmp(out.data, "png")[0]))
    assert marker.read(moved).data["integrity"] == "invalid"


def test_wrong_key_and_other_producer(marker: MetadataMarker) -> None:
    out = marker.mark(encode("png"), CTX)
    assert MetadataMarker(b"another-key").read(out).data["integrity"] == "invalid"
    assert MetadataMarker(b"another-key", producer="SOMEONE-ELSE").read(out).data["integrity"] == "unknown"


def test_platform_propagates(marker: MetadataMarker) -> None:
    produced = marker.mark(encode("webp-lossy", rich=True), CTX)
    platform_key = b"platform-key"
    out = marker.propagate(produced, PLATFORM, "P-77", platform_key)
    r = MetadataMarker(KEY, propagator_key=platform_key).read(out)
    aigc = r.data["aigc"]
    assert (aigc["ContentProducer"], aigc["ProduceID"], aigc["ContentPropagator"], aigc["PropagateID"]) == (
        PRODUCER, "C-2025-0001", PLATFORM, "P-77")
    assert r.data["count"] == 1 and r.data["integrity"] == "valid" and r.data["propagator_integrity"] == "valid"
    assert pixels(out) == pixels(produced)


def test_propagate_without_label(marker: MetadataMarker) -> None:
    plain = encode("png")
    with pytest.raises(MetadataError, match="no readable AIGC"):
        marker.propagate(plain, PLATFORM, "P-1")
    r = marker.read(marker.propagate(plain, PLATFORM, "P-1", label="3"))
    assert r.data["aigc"]["Label"] == "3" and r.data["aigc"]["ContentProducer"] == ""
    assert r.data["digital_source_type"] is None


def test_signed_propagator_on_first_write() -> None:
    out = MetadataMarker(KEY, propagator_key=KEY).mark(encode("png"), CTX)
    assert MetadataMarker(KEY, propagator_key=KEY).read(out).data["propagator_integrity"] == "valid"


# --- bad input --------------------------------------------------------------------------------
def test_chinese_producer_refused_in_strict_mode(marker: MetadataMarker) -> None:
    ctx = LabelContext(content_id="C-1", producer="测试工作室", created=CTX.created)
    with pytest.raises(ValidationError, match="GB-10"):
        marker.mark(encode("png"), ctx)
    spaced = LabelContext(content_id="C-1", producer="Test Studio", created=CTX.created)
    with pytest.raises(ValidationError):
        marker.mark(encode("png"), spaced)
    assert MetadataMarker(KEY, strict_chars=False).read(MetadataMarker(KEY, strict_chars=False).mark(
        encode("png"), spaced)).valid


def test_malformed_xmp(marker: MetadataMarker) -> None:
    broken = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><TC260:AIGC>{"Label":"1"}</TC260:AIGC>'
    media = Media.from_bytes(jpeg.write_xmp(encode("jpeg").data, broken))
    r = marker.read(media)
    assert r.found and r.valid is False and any("malformed XMP" in p for p in r.problems)
    with pytest.raises(MetadataError, match="well-formed"):
        marker.mark(media, CTX)
    fixed = MetadataMarker(KEY, replace_malformed=True).mark(media, CTX)
    assert marker.read(fixed).valid


def test_doctype_refused() -> None:
    with pytest.raises(MetadataError, match="DOCTYPE"):
        set_properties('<!DOCTYPE x [<!ENTITY a "b">]><x/>', "{}")
    with pytest.raises(MetadataError, match="rdf:RDF"):
        set_properties('<x:xmpmeta xmlns:x="adobe:ns:meta/"/>', "{}")


def test_bad_json_in_block_flagged(marker: MetadataMarker) -> None:
    packet = set_properties(None, '{"Label":1,')
    r = marker.read(Media.from_bytes(png.write_xmp(encode("png").data, packet)))
    assert r.found and r.valid is False and r.data["aigc"] is None and any("JSON" in p for p in r.problems)


def test_numeric_label_in_file_flagged(marker: MetadataMarker) -> None:
    packet = set_properties(None, json.dumps({**AIGCLabel("1", PRODUCER, "X").to_dict(), "Label": 1}))
    r = marker.read(Media.from_bytes(png.write_xmp(encode("png").data, packet)))
    assert r.valid is False and any("Label must be a string" in p for p in r.problems)


@pytest.mark.parametrize(
    ("variant", "cut", "match"),
    [("png", -20, "truncated|past the end"), ("jpeg", 30, "past the end|truncated"),
     ("webp-lossy", -10, "truncated")],
)
def test_truncated_files(marker: MetadataMarker, variant: str, cut: int, match: str) -> None:
    media = Media.from_bytes(encode(variant).data[:cut])
    r = marker.read(media)
    assert r.valid is False and not r.found and r.problems
    with pytest.raises(CorruptMediaError, match=match):
        containers.read_xmp(media.data, media.format)
    with pytest.raises(CorruptMediaError):
        marker.mark(media, CTX)


def test_bad_png_crc(marker: MetadataMarker) -> None:
    data = bytearray(marker.mark(encode("png"), CTX).data)
    data[40] ^= 0xFF
    with pytest.raises(CorruptMediaError, match="CRC"):
        containers.read_xmp(bytes(data), "png")
    assert "CRC" in marker.read(Media.from_bytes(bytes(data))).problems[0]


def test_jpeg_segment_limit() -> None:
    big = set_properties(None, "{}").replace(b"</x:xmpmeta>", b" " * 70_000 + b"</x:xmpmeta>")
    with pytest.raises(MetadataError, match="64 KB"):
        jpeg.write_xmp(encode("jpeg").data, big)


def test_unsupported_format(marker: MetadataMarker) -> None:
    buf = io.BytesIO()
    picture().save(buf, "GIF")
    gif = Media.from_bytes(buf.getvalue())
    with pytest.raises(UnsupportedMediaError):
        marker.mark(gif, CTX)
    assert marker.read(gif).found is False


def test_unlabeled_reads_as_absent(marker: MetadataMarker) -> None:
    r = marker.read(encode("jpeg", rich=True))
    assert (r.found, r.valid, r.data["count"], r.data["aigc"]) == (False, None, 0, None)


def test_xml_special_characters_round_trip(tmp_path: Path) -> None:
    ctx = LabelContext(content_id="a&b<c>d'e", producer=PRODUCER, created=CTX.created)
    marker = MetadataMarker(KEY)
    out = marker.mark(encode("jpeg"), ctx)
    assert marker.read(out).data["aigc"]["ProduceID"] == "a&b<c>d'e" and marker.read(out).valid
    assert json.loads(exiftool(out, tmp_path, "-XMP-TC260:AIGC")["XMP-TC260:AIGC"])["ProduceID"] == "a&b<c>d'e"


def test_placement(marker: MetadataMarker) -> None:
    out_png = marker.mark(encode("png", rich=True), CTX)
    types = [t for t, b in png.chunks(out_png.data)]
    xmp_at = next(i for i, (t, b) in enumerate(png.chunks(out_png.data)) if b.startswith(png.XMP_KEYWORD))
    assert xmp_at < types.index(b"IDAT") and types.index(b"iCCP") < types.index(b"IDAT")
    segs, _ = jpeg.segments(marker.mark(encode("jpeg", rich=True), CTX).data)
    assert [m for m, _ in segs[:3]] == [0xE0, 0xE1, 0xE1] and segs[1][1].startswith(b"Exif")


def test_compressed_png_xmp_is_read_and_updated(marker: MetadataMarker) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", PRIOR_XMP, zip=True)
    buf = io.BytesIO()
    picture().save(buf, "PNG", pnginfo=info)
    out = marker.mark(Media.from_bytes(buf.getvalue()), CTX)
    packet = containers.read_xmp(out.data, "png")[0]
    assert b"Jane Example" in packet and marker.read(out).valid
