"""Structure-aware generators (issue 27): valid containers with hostile structure, as hypothesis strategies.

Random bytes rarely build a well-formed tree 8,000 levels deep, so these build the trees themselves: XMP/RDF with
deep nesting, huge attribute counts and many AIGC blocks; ID3 tags with wrong frame sizes and nested chapters; MP4
atom trees (deep, 64-bit and zero sizes, sizes past the end, huge key counts); RIFF chunk lists; OOXML packages
with deep XML, many parts and zip-bomb ratios; C2PA/JUMBF boxes in JPEG APP11; YAML with anchors/aliases (billion
laughs) and deep nesting; multipart bodies with odd boundaries.  ``tests/test_fuzz_structured.py`` runs them
bounded in the default suite; ``fuzz/run.py`` drives the same strategies from atheris (``fuzz_one_input``).
"""

from __future__ import annotations

import io
import struct
import zipfile

from hypothesis import strategies as st

DEPTHS = st.sampled_from([0, 1, 7, 31, 33, 200, 1_100, 8_000])
AIGC = '{"Label":"1","ContentProducer":"001191110102MAD55U9H0F10002","ProduceID":"SG01"}'


# --- XMP / RDF -------------------------------------------------------------------------------------------------
@st.composite
def xmp_packets(draw: st.DrawFn) -> bytes:
    depth, attrs, blocks = draw(DEPTHS), draw(st.sampled_from([0, 3, 5_000])), draw(st.integers(0, 40))
    esc = AIGC.replace('"', "&quot;")
    attr = "".join(f' p:a{i}="{i}"' for i in range(attrs))
    aigc = "".join(f'<TC260:AIGC>{draw(st.sampled_from([AIGC, "[" * 60, "", esc]))}</TC260:AIGC>'
                   for _ in range(blocks))
    inner = "<p:n>" * depth + draw(st.sampled_from(["", "text", "<![CDATA[x]]>"])) + "</p:n>" * depth
    where = draw(st.sampled_from(["inside", "outside"]))
    desc = (f'<rdf:Description rdf:about="" xmlns:p="urn:p" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"'
            f' TC260:AIGC="{esc}"{attr}>{aigc}{inner if where == "inside" else ""}</rdf:Description>')
    body = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/">{"" if where == "inside" else inner}'
            f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">{desc}</rdf:RDF></x:xmpmeta>')
    return draw(st.sampled_from(['<?xpacket begin="\ufeff"?>', ""])).encode() + body.encode()


# --- ID3 (MP3, and ID3 chunks inside WAV) ---------------------------------------------------------------------
def _syncsafe(n: int) -> bytes:
    return bytes(((n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F))


def _frame(fid: bytes, body: bytes, size: int | None = None) -> bytes:
    return fid + _syncsafe(len(body) if size is None else size) + b"\x00\x00" + body


@st.composite
def id3_tags(draw: st.DrawFn) -> bytes:
    frames = [_frame(b"TXXX", b"\x03AIGC\x00" + AIGC.encode())]
    for _ in range(draw(st.integers(0, 4))):
        body = draw(st.binary(max_size=40))
        size = draw(st.sampled_from([None, 0, len(body) + 7, 2**28 - 1]))
        frames.append(_frame(draw(st.sampled_from([b"TXXX", b"TIT2", b"APIC", b"COMM", b"PRIV"])), body, size))
    nested = b""
    for i in range(draw(DEPTHS)):
        kind = draw(st.sampled_from([b"CHAP", b"CTOC"])) if i < 3 else b"CHAP"
        head = b"c%d\x00" % i + (struct.pack(">IIII", 0, 1, 2**32 - 1, 2**32 - 1) if kind == b"CHAP"
                                  else b"\x03\x01c0\x00")
        nested = _frame(kind, head + nested)
    body = b"".join(frames) + nested + b"\x00" * draw(st.integers(0, 16))
    flags = draw(st.sampled_from([0, 0x80, 0x40, 0x10]))  # unsynchronised, extended header, footer
    size = draw(st.sampled_from([len(body), len(body) + 100, 0]))
    mpeg = bytes.fromhex("fffb9064") + b"\x00" * 413
    return b"ID3" + bytes((draw(st.sampled_from([3, 4])), 0, flags)) + _syncsafe(size) + body + mpeg * 2


# --- MP4 / ISO BMFF atom trees --------------------------------------------------------------------------------
def atom(kind: bytes, body: bytes, size: int | None = None) -> bytes:
    if size == 1:  # 64-bit largesize: claim 2**64 - 1
        return struct.pack(">I4sQ", 1, kind, 2**64 - 1) + body
    return struct.pack(">I4s", len(body) + 8 if size is None else size, kind) + body


def _meta(count: int, value: bytes) -> bytes:
    keys = atom(b"keys", b"\x00" * 4 + struct.pack(">I", count) + atom(b"mdta", b"AIGC"))
    ilst = atom(b"ilst", atom(struct.pack(">I", 1), atom(b"data", struct.pack(">II", 1, 0) + value)))
    return atom(b"meta", b"\x00" * 4 + atom(b"hdlr", b"\x00" * 8 + b"mdta" + b"\x00" * 12) + keys + ilst)


@st.composite
def mp4_files(draw: st.DrawFn) -> bytes:
    inner = _meta(draw(st.sampled_from([1, 2, 2**32 - 1])), AIGC.encode())
    for _ in range(draw(DEPTHS)):
        inner = atom(draw(st.sampled_from([b"moov", b"udta", b"trak", b"mdia", b"minf", b"meta"])), inner)
    odd = draw(st.sampled_from([None, 0, 1, 7, 2**32 - 1]))  # zero = to the end, 1 = 64-bit, too small, too big
    tail = atom(draw(st.sampled_from([b"free", b"mdat", b"moov"])), draw(st.binary(max_size=32)), odd)
    brand = draw(st.sampled_from([b"isom", b"M4A ", b"qt  "]))
    return atom(b"ftyp", brand + b"\x00\x00\x02\x00" + brand) + atom(b"moov", inner) + tail


# --- RIFF / WAVE chunk lists ----------------------------------------------------------------------------------
@st.composite
def riff_files(draw: st.DrawFn) -> bytes:
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    chunks = [(b"fmt ", fmt, None)]
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from([b"AIGC", b"aigc", b"id3 ", b"ID3 ", b"LIST", b"JUNK", b"data"]))
        body = draw(id3_tags()) if kind.strip().upper() == b"ID3" else draw(
            st.sampled_from([AIGC.encode(), b"\xff\xfe", b"", b"\x00" * 3]))
        chunks.append((kind, body, draw(st.sampled_from([None, None, 0, 2**32 - 1, len(body) + 1]))))
    chunks.append((b"data", b"\x00\x01" * draw(st.integers(0, 400)), draw(st.sampled_from([None, 2**32 - 1]))))
    body = b"".join(k + struct.pack("<I", len(b) if s is None else s) + b + b"\x00" * (len(b) & 1)
                    for k, b, s in chunks)
    size = draw(st.sampled_from([len(body) + 4, 2**32 - 1, 0]))
    return b"RIFF" + struct.pack("<I", size) + b"WAVE" + body


# --- OOXML packages -------------------------------------------------------------------------------------------
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_CT = ('<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
       'wordprocessingml.document.main+xml"/></Types>')
_RELS = ('<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
         'officeDocument" Target="word/document.xml"/></Relationships>')


@st.composite
def ooxml_packages(draw: st.DrawFn) -> bytes:
    depth = draw(DEPTHS)
    para = f'<w:p><w:r><w:t>{draw(st.sampled_from(["AI-generated", "x" * 500, ""]))}</w:t></w:r></w:p>'
    doc = (f'<?xml version="1.0"?><w:document xmlns:w="{W}"><w:body>{para}' + "<w:sdt><w:sdtContent>" * depth
           + para + "</w:sdtContent></w:sdt>" * depth + "</w:body></w:document>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("word/document.xml", doc)
        for i in range(draw(st.sampled_from([0, 3, 1_500]))):  # many parts
            z.writestr(f"customXml/item{i}.xml", "<a/>")
        bomb = draw(st.sampled_from([0, 1 << 20, 16 << 20]))  # zip-bomb ratio ~1000:1
        if bomb:
            z.writestr("word/media/zeros.bin", b"\x00" * bomb)
    data = buf.getvalue()
    if draw(st.booleans()):  # lie about a size in the central directory
        at = data.rfind(b"PK\x01\x02")
        data = data[:at + 24] + struct.pack("<I", draw(st.sampled_from([0, 1, 2**32 - 1]))) + data[at + 28:]
    return data


# --- C2PA / JUMBF in JPEG APP11 -------------------------------------------------------------------------------
def _box(kind: bytes, body: bytes, size: int | None = None) -> bytes:
    return struct.pack(">I4s", len(body) + 8 if size is None else size, kind) + body


C2PA_UUID = bytes.fromhex("6332706100110010800000aa00389b71")


@st.composite
def jumbf_jpegs(draw: st.DrawFn) -> bytes:
    jumd = _box(b"jumd", C2PA_UUID + b"\x03c2pa\x00")
    inner = _box(b"jumb", _box(b"jumd", bytes.fromhex("6332636c00110010800000aa00389b71") + b"\x03c2pa.claim\x00")
                 + _box(b"cbor", draw(st.binary(max_size=64))))
    for _ in range(draw(st.sampled_from([0, 3, 300, 3_000]))):
        inner = _box(b"jumb", jumd + inner)
    store = _box(b"jumb", jumd + inner, draw(st.sampled_from([None, None, 0, 2**32 - 1, 9])))
    segs, seq = [], 1
    for i in range(0, max(len(store), 1), 65_000):  # JPEG XT: 'JP' + box instance + sequence, then the box
        part = b"JP\x00\x01" + struct.pack(">I", seq) + (store[:8] if i else b"") + store[i:i + 65_000]
        segs.append(b"\xff\xeb" + struct.pack(">H", len(part) + 2) + part)
        seq += 1
    jpeg = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")
    return jpeg + b"".join(segs) + bytes.fromhex("ffd9")


# --- YAML (incidents, policies, front matter) -----------------------------------------------------------------
def _yaml_value(kind: str, n: int, width: int) -> str:
    """A hostile YAML value that is one flow node, so it can replace any key of a valid document."""
    if kind == "laughs":  # each element anchors the next level: width ** n leaves when expanded
        levels = ["&a0 lol"] + [f"&a{i} [{', '.join([f'*a{i - 1}'] * width)}]" for i in range(1, n)]
        return "[" + ", ".join(levels) + "]"
    if kind == "deep_flow":
        return "[" * n + "1" + "]" * n
    if kind == "deep_map":
        return "{a: " * n + "1" + "}" * n
    if kind == "aliases":
        return "[&x {id: p, role: provider}, " + ", ".join(["*x"] * n * 10) + "]"
    return '"' + "x" * n * 100 + '"'


@st.composite
def yaml_docs(draw: st.DrawFn, base: str = "id: INC-1\ndate: 2026-01-05\njurisdictions: [CN]\n") -> bytes:
    """``base`` (a valid document) with one top-level key (one of its own, so validation gets past the schema)
    replaced by a billion-laughs list, deep nesting, thousands of aliases or a huge string."""
    keys = [line.split(":")[0] for line in base.splitlines() if line[:1].isalpha() and ":" in line] or ["x"]
    kind = draw(st.sampled_from(["laughs", "deep_flow", "deep_map", "aliases", "long"]))
    n = draw(st.integers(2, 12)) if kind == "laughs" else draw(DEPTHS.filter(bool))
    value = _yaml_value(kind, n, draw(st.integers(2, 10)))
    key = draw(st.sampled_from(keys))
    kept = "\n".join(line for line in base.splitlines() if not line.startswith(f"{key}:"))
    return f"{kept}\n{key}: {value}\n".encode()


# --- multipart uploads ----------------------------------------------------------------------------------------
@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    """(Content-Type header, body) of a form upload with an odd boundary or odd framing."""
    boundary = draw(st.sampled_from(["b", "x" * 70, "x" * 5_000, '"quoted"', "sp ace", "é", "", "--", "a;b=c"]))
    declared = draw(st.sampled_from([boundary, boundary + "x", f'"{boundary}"', ""]))
    crlf = draw(st.sampled_from([b"\r\n", b"\n", b"\r"]))
    payload = draw(st.sampled_from([b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"", b"--" + boundary.encode() * 3]))
    parts = []
    for _ in range(draw(st.sampled_from([0, 1, 2, 500]))):
        disp = draw(st.sampled_from(['form-data; name="file"; filename="x.png"', 'form-data; name="file"',
                                     'form-data; name="' + "n" * 3_000 + '"', "attachment", 'form-data; name=file;;;']))
        parts.append(b"--" + boundary.encode() + crlf + b"Content-Disposition: " + disp.encode() + crlf + crlf
                     + payload + crlf)
    end = draw(st.sampled_from([b"--" + boundary.encode() + b"--" + crlf, b"", b"--" + boundary.encode()]))
    return f"multipart/form-data; boundary={declared}", b"".join(parts) + end


STRATEGIES = {"xmp": xmp_packets, "id3": id3_tags, "mp4": mp4_files, "riff": riff_files, "ooxml": ooxml_packages,
              "jumbf": jumbf_jpegs, "yaml": yaml_docs}
