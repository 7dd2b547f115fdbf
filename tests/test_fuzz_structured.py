"""Structure-aware fuzzing (issue 27), bounded, in the default suite: the generators of fuzz/formats.py build
valid-but-hostile inputs (deep XMP, nested ID3 chapters, MP4 atom trees, RIFF lists, OOXML bombs, JUMBF boxes,
billion-laughs YAML, odd multipart boundaries) and every target must return or refuse with a SynthGuardError,
within a time budget.  The same strategies run under atheris as ``<target>@structured`` (fuzz/run.py)."""

from __future__ import annotations

import time

import pytest
from fuzz.targets import TARGETS, run, seeds, structured
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import refused_within

STRUCTURED = structured()
BUDGET_S = 20.0  # CPU seconds for one input, the slowest decoders included (loaded machine)


@pytest.mark.parametrize("name", sorted(STRUCTURED))
@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_structured_inputs_are_read_or_refused_within_budget(name, data):
    blob = data.draw(STRUCTURED[name])
    t0 = time.process_time()
    run(name, blob)
    assert time.process_time() - t0 < BUDGET_S


@pytest.mark.parametrize("name", sorted(n for n in TARGETS if n.startswith(("audio_", "video_"))))
def test_labeled_media_seeds_carry_one_aigc_block(name):
    """The seeds are real files with a label SynthGuard wrote, so the fuzzers start inside the format."""
    blocks = TARGETS[name](seeds()[name][1])[0]
    assert len(blocks) == 1 and '"ProduceID":"SG01"' in blocks[0][1]


def test_office_c2pa_and_markdown_seeds_are_read():
    from synthguard.marking.c2pa import C2PAReport

    report = TARGETS["c2pa_jpeg"](seeds()["c2pa_jpeg"][0])
    assert isinstance(report, C2PAReport) and report.present
    text, meta, _ = TARGETS["markdown"](seeds()["markdown"][1])
    assert meta.found and meta.data["aigc"]["ProduceID"] == "SG01"
    for fmt in ("docx", "xlsx", "pptx"):
        assert TARGETS[f"office_{fmt}"](seeds()[f"office_{fmt}"][0])[0].body.strip()


# --- regressions: crashes the structure-aware generators found, fixed, kept --------------------------------
def _id3_nested(kind: bytes, depth: int) -> bytes:
    from fuzz.formats import _frame, _syncsafe

    inner = _frame(b"TXXX", b"\x03AIGC\x00{}")
    for i in range(depth):
        head = b"c%d\x00" % i + (bytes(16) if kind == b"CHAP" else b"\x03\x01c0\x00")
        inner = _frame(kind, head + inner)
    return b"ID3\x04\x00\x00" + _syncsafe(len(inner)) + inner + bytes.fromhex("fffb9064") + bytes(413)


@pytest.mark.parametrize("kind", [b"CHAP", b"CTOC"])
def test_nested_id3_chapters_are_a_metadata_error(kind):
    from synthguard.errors import MetadataError
    from synthguard.marking.audio import metadata
    from synthguard.media import Media

    with pytest.raises(MetadataError, match="nests chapter frames too deeply"):  # was RecursionError in mutagen
        metadata.read_blocks(Media.from_bytes(_id3_nested(kind, 2_000), "deep.mp3"))


@pytest.mark.parametrize("kind", [b"moov", b"trak", b"udta"])
def test_deeply_nested_m4a_atoms_are_a_metadata_error(kind):
    from fuzz.formats import atom

    from synthguard.errors import MetadataError
    from synthguard.marking.audio import metadata
    from synthguard.media import Media

    inner = b""
    for _ in range(3_000):
        inner = atom(kind, inner)
    data = atom(b"ftyp", b"M4A \x00\x00\x02\x00M4A isom") + atom(b"moov", inner)
    with pytest.raises(MetadataError, match="nest too deeply"):  # was RecursionError in mutagen's MP4 atoms
        metadata.read_blocks(Media.from_bytes(data, "deep.m4a"))


@pytest.mark.parametrize("yaml", [b"facts: " + b"[" * 1_100 + b"1" + b"]" * 1_100, b"a: " + b"{b: " * 900])
def test_deeply_nested_front_matter_is_a_metadata_error(yaml):
    from synthguard.codecs.text.frontmatter import find
    from synthguard.errors import MetadataError
    from synthguard.marking.text import frontmatter

    fm = find((b"---\n" + yaml + b"\n---\n# text\n").decode())
    with pytest.raises(MetadataError, match="nests .* levels deep"):  # was RecursionError in PyYAML
        frontmatter.load(fm)


def test_a_zip_offset_before_the_archive_is_a_corrupt_media_error():
    import struct

    from synthguard.codecs.text.ooxml import open_package
    from synthguard.errors import CorruptMediaError

    data = bytearray(seeds()["office_docx"][0])
    end = data.rfind(b"PK\x05\x06")  # the central directory now claims to start one byte later
    struct.pack_into("<I", data, end + 16, struct.unpack_from("<I", data, end + 16)[0] + 1)
    with pytest.raises(CorruptMediaError, match="damaged"):  # was ValueError: negative seek value -1 (hypothesis)
        open_package(bytes(data), "x.docx")


def test_an_m4a_whose_stream_has_no_decoder_is_a_corrupt_media_error():
    """atheris (audio_m4a, fresh-clone `make fuzz`): one byte inserted before the ``stsd`` box of a labeled M4A
    leaves a track FFmpeg cannot open a decoder for; PyAV gives it no codec context, which two decoders
    dereferenced (AttributeError on None, a 500 on upload)."""
    from synthguard.codecs.audio import decode_audio
    from synthguard.codecs.av import audio_samples
    from synthguard.errors import CorruptMediaError
    from synthguard.media import Media

    data = seeds()["audio_m4a"][0]
    at = data.find(b"stsd")
    m = Media.from_bytes(data[:at] + b"\xd0" + data[at:], "x.m4a")
    for decode in (decode_audio, lambda m: audio_samples(m, 8000)):
        with pytest.raises(CorruptMediaError, match="no decodable codec"):
            decode(m)


def test_a_zip_part_without_a_name_is_a_corrupt_media_error():
    import io
    import zipfile

    from synthguard.codecs.text.ooxml import open_package
    from synthguard.errors import CorruptMediaError

    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(seeds()["office_xlsx"][0])) as src, zipfile.ZipFile(buf, "w") as out:
        for info in src.infolist():
            out.writestr(info.filename, src.read(info))
        out.writestr(zipfile.ZipInfo(""), b"x")
    with pytest.raises(CorruptMediaError, match="without a name"):  # was IndexError in ZipInfo.is_dir (atheris)
        open_package(buf.getvalue(), "x.xlsx")


def test_a_64_bit_atom_size_in_an_m4a_is_a_metadata_error():
    import struct

    from fuzz.formats import atom

    from synthguard.errors import MetadataError
    from synthguard.marking.audio import metadata
    from synthguard.media import Media

    huge = struct.pack(">I4sQ", 1, b"free", 2**64 - 1)  # largesize 2**64 - 1: mutagen seeks past it
    data = atom(b"ftyp", b"M4A \x00\x00\x02\x00M4A ") + atom(b"moov", atom(b"udta", b"")) + huge
    with pytest.raises(MetadataError, match="M4A atoms"):  # was OverflowError inside mutagen (hypothesis)
        metadata.read_blocks(Media.from_bytes(data, "x.m4a"))


@pytest.mark.parametrize("rate", [546_517, 999_983, 2**32 - 1, 1, 0])
def test_a_wav_declaring_an_unaffordable_sample_rate_is_refused_fast(rate):
    """atheris (audio_wav, long run): a 200-byte WAV declaring 546,517 Hz cost ~3 s of CPU in the fingerprint's
    polyphase resampler (an 11-million-tap filter) and timed out; 2**32 - 1 Hz would have cost far more."""
    import struct

    from synthguard.codecs.audio import decode_audio
    from synthguard.codecs.av import audio_samples
    from synthguard.errors import SynthGuardError, UnsupportedMediaError
    from synthguard.limits import check_sample_rate
    from synthguard.media import Media

    pcm = struct.pack("<78h", *range(78))
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2 % 2**32, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm
    m = Media.from_bytes(b"RIFF" + struct.pack("<I", len(body)) + body, "odd.wav")
    t0 = time.process_time()
    for decode in (decode_audio, lambda m: audio_samples(m, 8000)):
        with pytest.raises(SynthGuardError):  # UnsupportedMediaError (or CorruptMediaError for rate 0)
            decode(m)
    assert time.process_time() - t0 < 1.0
    if rate:
        with pytest.raises(UnsupportedMediaError, match="samples per second"):
            check_sample_rate(rate)
    for ok in (8_000, 11_025, 22_050, 37_800, 44_056, 44_100, 48_000, 96_000, 192_000, 384_000):
        check_sample_rate(ok)


LAUGHS = "[&a0 lol, " + ", ".join(f"&a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)) + "]"


@pytest.mark.parametrize("key", ["version", "title"])
def test_billion_laughs_in_a_policy_is_refused_fast(key):
    """hypothesis (policy_yaml@structured): 12 lines of aliases under `version` made str() build 10**11 nodes
    (the default suite timed out after 300 s)."""
    import yaml

    from synthguard.errors import ValidationError
    from synthguard.moderation.policy import parse

    doc = yaml.safe_load(f"jurisdiction: cn\n{key}: {LAUGHS}\n")
    with refused_within(1.0, ValidationError, match="expands to over 100,000 nodes"):
        parse(doc, "policies/laughs.yaml")


def test_billion_laughs_and_self_reference_in_an_incident_are_refused():
    from synthguard.errors import ValidationError
    from synthguard.law.incident import parse_text

    with pytest.raises(ValidationError, match="expands to over"):
        parse_text(f"id: x\ndate: 2026-01-05\njurisdictions: [CN]\nsources: {LAUGHS}\n")
    with pytest.raises(ValidationError, match="refers to itself"):
        parse_text("id: x\ndate: 2026-01-05\njurisdictions: [CN]\nsources: &s [*s]\n")


def test_the_expansion_counts_shared_nodes_as_expanded_without_expanding_them():
    from synthguard.errors import ValidationError
    from synthguard.limits import check_expansion

    c = [1, 2]  # 3 nodes, reached 4 times: root 1 + keys 3 + a 3 + b 7 + d 5 = 19
    doc = {"a": c, "b": [c, c], "d": {"e": c}}
    check_expansion(doc, max_nodes=19)  # shared, acyclic: not "refers to itself"
    with pytest.raises(ValidationError, match="over 18 nodes"):
        check_expansion(doc, max_nodes=18)
