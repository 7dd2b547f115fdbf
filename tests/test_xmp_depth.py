"""Deeply nested XMP (issue 18 finding #7): 8,000 nested elements were a RecursionError in minidom, a 500 on
/v1/inspect and /v1/trace.  Now Settings.max_metadata_depth covers XMP too: the packet is refused with a
MetadataError, and a hostile packet appended to a labeled file leaves its real label and its trace intact."""

from __future__ import annotations

import struct
import zlib

import pytest
from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token
from synthguard.errors import MetadataError
from synthguard.marking.aigc import AIGCLabel
from synthguard.marking.image.containers import png
from synthguard.marking.image.xmp import NS_RDF, NS_X, read_properties, set_properties
from synthguard.server import create_app
from tests.conftest import kodak


def nested_packet(levels: int, aigc: str | None = None) -> bytes:
    """A well-formed XMP packet whose rdf:Description holds ``levels`` nested elements."""
    prop = f' xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/" TC260:AIGC="{aigc}"' if aigc else ""
    return (f'<x:xmpmeta xmlns:x="{NS_X}"><rdf:RDF xmlns:rdf="{NS_RDF}"><rdf:Description rdf:about=""{prop}>'
            + "<a>" * levels + "</a>" * levels + "</rdf:Description></rdf:RDF></x:xmpmeta>").encode()


def with_extra_xmp_chunk(data: bytes, packet: bytes) -> bytes:
    """Insert a second XMP iTXt chunk just before IEND (what an attacker appends to a labeled PNG)."""
    body = png.XMP_KEYWORD + b"\x00\x00\x00\x00\x00" + packet
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    iend = data.rindex(b"IEND") - 4
    return data[:iend] + chunk + data[iend:]


@pytest.mark.parametrize("levels", [33, 8_000, 100_000])
def test_a_deeply_nested_packet_is_a_metadata_error(levels):
    with pytest.raises(MetadataError, match="over 32 levels") as err:
        read_properties(nested_packet(levels))
    assert "SYNTHGUARD_MAX_METADATA_DEPTH" in err.value.hint
    with pytest.raises(MetadataError):
        set_properties(nested_packet(levels), "{}")
    assert b"TC260:AIGC" in set_properties(nested_packet(levels), "{}", replace_malformed=True)


def test_the_depth_limit_is_the_operators_setting():
    assert read_properties(nested_packet(20), max_depth=32).aigc == ()  # 3 wrapper levels + 20
    with pytest.raises(MetadataError, match="over 16 levels"):
        read_properties(nested_packet(20), max_depth=16)
    assert read_properties(nested_packet(900), max_depth=1000).aigc == ()  # the highest setting still parses


def test_the_setting_reaches_the_xmp_reader(sg, verified_user, tmp_path, settings):
    from synthguard.keys import Keys
    from synthguard.media import Media
    from synthguard.plugins import Context

    out = tmp_path / "l.png"
    sg.label(kodak("kodim05.png"), user=verified_user, producer="ACME", output=out)
    hostile = Media.from_bytes(with_extra_xmp_chunk(out.read_bytes(), nested_packet(10)), "x.png")
    for depth, problems in ((32, 0), (8, 1)):
        marker = Context(settings.model_copy(update={"max_metadata_depth": depth}), Keys(settings)
                         ).marker("image.metadata")
        r = marker.read(hostile)
        assert r.found and r.data["aigc"]["ContentProducer"] == "ACME"
        assert sum("nests elements over 8 levels" in p for p in r.problems) == problems


def test_a_deep_packet_appended_to_a_labeled_file_keeps_it_traceable(sg, verified_user, tmp_path, settings):
    out = tmp_path / "labeled.png"
    rec = sg.label(kodak("kodim05.png"), user=verified_user, producer="ACME", output=out)
    sg.checkpoint()
    forged = AIGCLabel(Label="1", ContentProducer="EVIL", ProduceID="SG-forged").to_json().replace('"', "&quot;")
    hostile = with_extra_xmp_chunk(out.read_bytes(), nested_packet(8_000, aigc=forged))
    token = create_token(sg.db, Role.PLATFORM, "acme", "p")[0]
    with TestClient(create_app(settings, sg=sg)) as c:
        seen = c.post("/v1/inspect", files={"file": ("x.png", hostile)})
        assert seen.status_code == 200, seen.text
        body = seen.json()
        assert body["aigc"]["ProduceID"] == rec.content_id  # the real label, read first
        assert body["aigc_count"] == 2  # the forged block is counted and reported (GB-08)
        assert any("nests elements over 32 levels" in p for p in body["problems"])
        t = c.post("/v1/trace", files={"file": ("x.png", hostile)}, headers={"Authorization": f"Bearer {token}"})
        assert t.status_code == 200, t.text
        assert t.json()["found"] and t.json()["content_id"] == rec.content_id and "watermark" in t.json()["via"]
