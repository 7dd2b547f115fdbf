"""Where the GB 45438 Annex E ``AIGC`` JSON lives in each audio container (LM Art. 5, GB-08, GB-17).

TC260-PG-202510A (audio practice guide, GB-17): WAV carries it in a RIFF sub-chunk with the id ``AIGC``; MP3 in
an ID3v2 ``TXXX`` frame whose description is ``AIGC``.  For the containers whose annex details we could not
retrieve we use each format's own free-form tag, the way the guide does for MP3: a Vorbis comment ``AIGC=`` in
FLAC and OGG, and the iTunes free-form atom ``----:com.apple.iTunes:AIGC`` in M4A.

WAV tools ignore an unknown chunk (exiftool and ffprobe show nothing for ``AIGC``), so the WAV writer mirrors the
same text into a ``LIST``/``INFO`` item and an ``id3 `` chunk's ``TXXX:AIGC`` (issue 20); the reader reads all
three and counts identical mirrors once.

Reading finds every block a file carries -- ours and in-the-wild variants (an ``id3 `` chunk inside a WAV, a
lower-case ``aigc`` comment, a ``TXXX`` in an M4A's ID3) -- so GB-08 ("exactly one AIGC block") can be checked.
Writing removes every existing block first and adds exactly one.  None of these edits touches the audio data, so
the decoded samples (and ``Media.content_sha256``) stay the same.
"""

from __future__ import annotations

import io
import struct
from typing import Any

from synthguard.errors import CorruptMediaError, MetadataError, UnsupportedMediaError
from synthguard.media import Media

CHUNK_ID = b"AIGC"
TAG = "AIGC"
MP4_KEY = "----:com.apple.iTunes:AIGC"
FORMATS = ("wav", "mp3", "flac", "ogg", "m4a")


def read_blocks(media: Media) -> list[tuple[str, str]]:
    """Every AIGC block in the file as (location, JSON text)."""
    fmt = media.format
    if fmt == "wav":
        return _wav_read(media)
    if fmt == "mp3":
        return _id3_blocks(_load_id3(media.data, media.name), "id3")
    if fmt in ("flac", "ogg"):
        return _vorbis_read(media)
    if fmt == "m4a":
        return _mp4_read(media)
    raise UnsupportedMediaError("audio.metadata supports {formats}, not {fmt}", path=media.name,
                                values={"formats": ", ".join(FORMATS), "fmt": fmt})


def write_block(media: Media, text: str) -> bytes:
    """The file's bytes with every AIGC block removed and exactly one (``text``) added."""
    fmt = media.format
    if fmt == "wav":
        return _wav_write(media, text)
    if fmt == "mp3":
        return _mp3_write(media, text)
    if fmt in ("flac", "ogg"):
        return _vorbis_write(media, text)
    if fmt == "m4a":
        return _mp4_write(media, text)
    raise UnsupportedMediaError("audio.metadata supports {formats}, not {fmt}", path=media.name,
                                values={"formats": ", ".join(FORMATS), "fmt": fmt})


# --- WAV: RIFF chunks -------------------------------------------------------------------------------------------
def riff_chunks(data: bytes, name: str = "<bytes>") -> list[tuple[bytes, int, int]]:
    """(id, payload offset, payload size) of each top-level chunk of a RIFF/WAVE file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise CorruptMediaError("not a RIFF/WAVE file", path=name)
    chunks = []
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if pos + 8 + size > len(data):
            if cid == b"data":  # streaming writers leave a too-large data size; libsndfile reads it
                size = len(data) - pos - 8
            else:
                raise CorruptMediaError("RIFF chunk {cid!r} runs past the end of the file", path=name,
                                        values={"cid": cid})
        chunks.append((cid, pos + 8, size))
        pos += 8 + size + (size & 1)
    return chunks


_ID3_CHUNKS = (b"id3 ", b"ID3 ", b"ID32")


def _wav_read(media: Media) -> list[tuple[str, str]]:
    blocks = []
    for cid, off, size in riff_chunks(media.data, media.name):
        payload = media.data[off:off + size]
        if cid.upper() == CHUNK_ID:
            blocks.append((f"riff:{cid.decode('latin-1')}", _text(payload.rstrip(b"\x00"), media.name)))
        elif cid in _ID3_CHUNKS:
            blocks += _id3_blocks(_load_id3(payload, media.name), "riff:id3")
        elif cid == b"LIST" and payload[:4] == b"INFO":
            blocks += [(f"riff:LIST/INFO:{iid.decode('latin-1')}", _text(body.rstrip(b"\x00"), media.name))
                       for iid, body in _info_items(payload) if iid.upper() == CHUNK_ID]
    return _merge_mirrors(blocks)


def _merge_mirrors(blocks: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """One label mirrored in the three WAV places counts once (GB-08): copies with the same text in *different*
    places merge into one entry naming them all; a second copy in the same place, or a different text, stays a
    separate block, so a real duplicate is still reported."""
    merged: list[tuple[list[str], str]] = []
    for where, text in blocks:
        place = where.rsplit(":", 1)[0]
        for wheres, other in merged:
            if other == text and place not in {w.rsplit(":", 1)[0] for w in wheres}:
                wheres.append(where)
                break
        else:
            merged.append(([where], text))
    return [("+".join(wheres), text) for wheres, text in merged]


def _info_items(payload: bytes) -> list[tuple[bytes, bytes]]:
    """(id, value) of each item of a ``LIST``/``INFO`` payload; stops at a malformed item."""
    items, pos = [], 4
    while pos + 8 <= len(payload):
        iid, size = payload[pos:pos + 4], struct.unpack("<I", payload[pos + 4:pos + 8])[0]
        if pos + 8 + size > len(payload):
            break
        items.append((iid, payload[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return items


def _chunk(cid: bytes, payload: bytes) -> bytes:
    return cid + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")


def wav_without_aigc(media: Media) -> list[tuple[bytes, bytes]]:
    """(id, payload) of the WAV's chunks with every AIGC block taken out: the ``AIGC`` chunk, ``TXXX:AIGC`` in an
    ``id3 `` chunk, the ``AIGC`` item of ``LIST``/``INFO`` (a chunk left empty is dropped)."""
    chunks = []
    for cid, off, size in riff_chunks(media.data, media.name):
        payload = media.data[off:off + size]
        if cid.upper() == CHUNK_ID:
            continue
        if cid in _ID3_CHUNKS:
            payload = _id3_without_aigc(payload, media.name)
        elif cid == b"LIST" and payload[:4] == b"INFO":
            payload = b"INFO" + b"".join(_chunk(iid, body) for iid, body in _info_items(payload)
                                         if iid.upper() != CHUNK_ID)
            if payload == b"INFO":
                continue
        if payload or cid not in _ID3_CHUNKS:
            chunks.append((cid, payload))
    return chunks


def riff_bytes(chunks: list[tuple[bytes, bytes]], name: str) -> bytes:
    body = b"".join(_chunk(cid, payload) for cid, payload in chunks)
    if len(body) + 4 > 0xFFFFFFFF:
        raise MetadataError("the WAV file is too large for a RIFF size field", path=name)
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WAVE" + body


def _wav_write(media: Media, text: str) -> bytes:
    """The TC260 ``AIGC`` chunk (GB-17) plus two mirrors that common tools show: an ``AIGC`` item in
    ``LIST``/``INFO`` (ffprobe lists INFO items under their id) and ``TXXX:AIGC`` in an ``id3 `` chunk (exiftool,
    ffprobe and mutagen read it), all after the samples and all holding the same text."""
    from mutagen.id3 import ID3, TXXX

    chunks = wav_without_aigc(media)
    value = text.encode("utf-8")
    chunks.append((CHUNK_ID, value))
    info = next((i for i, (cid, p) in enumerate(chunks) if cid == b"LIST" and p[:4] == b"INFO"), None)
    item = _chunk(CHUNK_ID, value + b"\x00")
    if info is None:
        chunks.append((b"LIST", b"INFO" + item))
    else:
        chunks[info] = (b"LIST", chunks[info][1] + item)
    at = next((i for i, (cid, _) in enumerate(chunks) if cid in _ID3_CHUNKS), None)
    tags = (_load_id3(chunks[at][1], media.name) if at is not None else None) or ID3()
    tags.add(TXXX(encoding=3, desc=TAG, text=[text]))
    buf = io.BytesIO()
    tags.save(buf, v2_version=4)
    if at is None:
        chunks.append((b"id3 ", buf.getvalue()))
    else:
        chunks[at] = (chunks[at][0], buf.getvalue())
    return riff_bytes(chunks, media.name)


def _text(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MetadataError("an AIGC block is not UTF-8 text: {exc}", path=name, values={"exc": exc}) from exc


# --- ID3 (MP3, and ID3 chunks inside WAV) --------------------------------------------------------------------------
def _load_id3(data: bytes, name: str) -> Any:
    from mutagen.id3 import ID3, ID3NoHeaderError
    from mutagen.id3._util import error as ID3Error

    try:
        return ID3(io.BytesIO(data))
    except ID3NoHeaderError:
        return None
    except (ID3Error, ValueError, struct.error, OverflowError) as exc:  # OverflowError: 64-bit sizes
        raise MetadataError("malformed ID3 tag: {exc}", path=name, values={"exc": exc}) from exc
    except RecursionError:  # mutagen parses CHAP/CTOC sub-frames recursively (issue 27: 200 nested chapters)
        raise MetadataError("the ID3 tag nests chapter frames too deeply", path=name) from None


def _id3_blocks(tags: Any, where: str) -> list[tuple[str, str]]:
    if tags is None:
        return []
    return [(f"{where}:TXXX", str(v)) for frame in tags.getall("TXXX") if frame.desc.upper() == TAG
            for v in frame.text]


def _id3_without_aigc(payload: bytes, name: str) -> bytes:
    tags = _load_id3(payload, name)
    if tags is None:
        return payload
    tags.delall(f"TXXX:{TAG}")
    for frame in list(tags.getall("TXXX")):
        if frame.desc.upper() == TAG:
            tags.delall(frame.HashKey)
    if not tags.keys():
        return b""  # nothing else in the tag: the chunk goes
    buf = io.BytesIO()
    tags.save(buf, v2_version=4)
    return buf.getvalue()


def _mp3_write(media: Media, text: str) -> bytes:
    from mutagen.id3 import ID3, TXXX

    tags = _load_id3(media.data, media.name) or ID3()
    for frame in list(tags.getall("TXXX")):
        if frame.desc.upper() == TAG:
            tags.delall(frame.HashKey)
    tags.add(TXXX(encoding=3, desc=TAG, text=[text]))
    buf = io.BytesIO(media.data)
    try:
        tags.save(buf, v2_version=4)
    except Exception as exc:  # mutagen raises several types on damaged headers
        raise MetadataError("cannot write the ID3 tag: {exc}", path=media.name, values={"exc": exc}) from exc
    return buf.getvalue()


# --- FLAC and OGG Vorbis comments --------------------------------------------------------------------------------
def _vorbis_file(data: bytes, fmt: str, name: str) -> Any:
    from mutagen import MutagenError
    from mutagen.flac import FLAC
    from mutagen.oggvorbis import OggVorbis

    try:
        f = FLAC(io.BytesIO(data)) if fmt == "flac" else OggVorbis(io.BytesIO(data))
    # IndexError: mutagen reads a truncated comment's framing byte past the end (found by tests/test_fuzz_parsers.py)
    except (MutagenError, ValueError, IndexError, struct.error, OverflowError, RecursionError) as exc:
        raise MetadataError("cannot read the {format} tags: {exc_type}: {exc}", path=name,
                            hint="Only OGG Vorbis is supported among OGG codecs; re-export intact files.",
                            values={"format": fmt.upper(), "exc_type": type(exc).__name__, "exc": exc}) from exc
    return f


def _vorbis_read(media: Media) -> list[tuple[str, str]]:
    f = _vorbis_file(media.data, media.format, media.name)
    if f.tags is None:
        return []
    keys = sorted({k for k in f.tags.keys() if k.upper() == TAG})
    return [("vorbis:" + k, v) for k in keys for v in f.tags[k]]


def _vorbis_write(media: Media, text: str) -> bytes:
    f = _vorbis_file(media.data, media.format, media.name)
    if f.tags is None:
        f.add_tags()
    for k in [k for k in f.tags.keys() if k.upper() == TAG]:
        del f.tags[k]
    f.tags[TAG] = [text]
    buf = io.BytesIO(media.data)
    f.save(buf)
    return buf.getvalue()


# --- M4A free-form atoms ------------------------------------------------------------------------------------------
def _mp4_file(media: Media) -> Any:
    from mutagen import MutagenError
    from mutagen.mp4 import MP4

    try:
        return MP4(io.BytesIO(media.data))
    except (MutagenError, ValueError, struct.error, OverflowError) as exc:  # OverflowError: a 2**64 atom size
        raise MetadataError("cannot read the M4A atoms: {exc}", path=media.name, values={"exc": exc}) from exc
    except RecursionError:  # mutagen walks container atoms recursively (issue 27: 500 nested moov/trak/udta)
        raise MetadataError("the M4A atoms nest too deeply", path=media.name) from None


def _mp4_read(media: Media) -> list[tuple[str, str]]:
    f = _mp4_file(media)
    out = []
    for key, values in (f.tags or {}).items():
        if key.startswith("----:") and key.rsplit(":", 1)[-1].upper() == TAG:
            out += [("mp4:" + key, _text(bytes(v), media.name)) for v in values]
    return out


def _mp4_write(media: Media, text: str) -> bytes:
    from mutagen.mp4 import MP4FreeForm

    f = _mp4_file(media)
    if f.tags is None:
        f.add_tags()
    for key in [k for k in f.tags.keys() if k.startswith("----:") and k.rsplit(":", 1)[-1].upper() == TAG]:
        del f.tags[key]
    f.tags[MP4_KEY] = [MP4FreeForm(text.encode("utf-8"))]
    buf = io.BytesIO(media.data)
    f.save(buf)
    return buf.getvalue()
