"""One function per parser we own: bytes in; it must return or raise a SynthGuardError — anything else
(IndexError, struct.error, RecursionError, UnicodeDecodeError, a hang) is a crash.

The same targets run under atheris (``fuzz/run.py``, coverage-guided, ``make fuzz``) and under hypothesis
(``tests/test_fuzz_parsers.py``, bounded, in the default suite).  Seeds are built in code from valid inputs so
the fuzzers start inside the formats, not at random bytes: real files of each format, written by the libraries
SynthGuard itself uses (Pillow, soundfile, PyAV, python-docx/openpyxl/python-pptx, c2pa-python) and labeled by
SynthGuard's own writers.  ``STRUCTURED`` pairs targets with the structure-aware generators of ``fuzz/formats.py``
(deep trees, wrong sizes, bombs), which atheris drives too (``<target>@structured``).

Beyond the parsers we own, the targets cover the readers we wrap, on the paths SynthGuard calls them: PIL
(media_sniff), PyAV (audio_*/video_* decode and probe), mutagen (audio_mp3/flac/ogg/m4a), lxml (office_*),
PyYAML (incident/policy/markdown front matter), c2pa-python (c2pa_jpeg) and the multipart parser under FastAPI
(multipart_upload).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from functools import cache, lru_cache

import numpy as np

from synthguard.errors import SynthGuardError

Target = Callable[[bytes], object]
MAX_INPUT = 64 * 1024


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def aigc_json(data: bytes) -> object:
    """GB 45438 Annex E AIGC JSON (marking/aigc.py), strict and lenient."""
    from synthguard.marking.aigc import AIGCLabel, parse_provider_code

    strict = bool(data[:1]) and data[0] & 1 == 1
    try:
        parse_provider_code(_text(data[:64]), strict=strict)
    except SynthGuardError:
        pass
    return AIGCLabel.parse(data[1:], strict=strict)


def xmp_packet(data: bytes) -> object:
    """XMP/RDF packets (marking/xmp.py): properties and the raw AIGC scrape."""
    from synthguard.marking.image.xmp import read_properties, scrape_aigc

    scrape_aigc(data)
    return read_properties(data)


def _named(target: Target, name: str, doc: str) -> Target:
    """A target function as the fuzzer lists it: its name and what it exercises."""
    target.__name__, target.__doc__ = name, doc
    return target


def _container(fmt: str) -> Target:
    def target(data: bytes) -> object:
        from synthguard.marking.image.containers import read_wild_aigc, read_xmp

        read_wild_aigc(data, fmt)
        return read_xmp(data, fmt)

    return _named(target, f"container_{fmt}",
                  f"{fmt.upper()} container: XMP packets and wild AIGC blocks (marking/containers/).")


def exif_block(data: bytes) -> object:
    """EXIF UserComment AIGC (marking/containers/exif.py)."""
    from synthguard.marking.image.containers.exif import read_aigc, strip_aigc

    strip_aigc(data)
    return read_aigc(data)


def mp4_metadata(data: bytes) -> object:
    """MP4/MOV ``moov/udta/meta`` AIGC items (marking/video/metadata.py)."""
    from synthguard.marking.video.metadata import mp4_aigc_blocks

    return mp4_aigc_blocks(data)


def watermark_payload(data: bytes) -> object:
    """Watermark payload decoding (marking/watermark/payload.py): soft values from the fuzzer's bytes."""
    from synthguard.marking.watermark import payload

    raw = np.frombuffer(data[: (len(data) // 8) * 8], dtype=np.float64)
    n = payload.CODED_BITS
    soft = np.resize(raw, n) if raw.size else np.zeros(n)
    payload.decode(soft, list_size=1 + (data[0] % payload.LIST_SIZE) if data else 1)
    try:
        payload.decode(raw)  # the wrong length must be a clear error
    except SynthGuardError:
        pass
    return payload.decode_hard(np.resize(np.frombuffer(data, dtype=np.uint8) & 1, n) if data else np.zeros(n))


def incident_yaml(data: bytes) -> object:
    """Incident files (law/incident.py): YAML or JSON, the schema and contradiction checks, then the assessment
    engine (law/) on what validates, as ``synthguard assess`` and POST /v1/assess run it."""
    from synthguard.law import assess
    from synthguard.law.incident import incident_from_json, parse_text, validate_incident

    text = _text(data)
    doc = incident_from_json(text) if text.lstrip().startswith("{") else parse_text(text)
    return assess(validate_incident(doc), trace=False)


def policy_yaml(data: bytes) -> object:
    """Moderation policy YAML (moderation/policy.py)."""
    import yaml

    from synthguard.errors import ValidationError
    from synthguard.limits import check_nesting
    from synthguard.moderation.policy import parse

    text = _text(data)
    check_nesting(text, what="policy")  # policies are operator files; PyYAML itself recurses per level
    try:
        doc = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:  # PyYAML's errors (ValueError: impossible dates)
        raise ValidationError(f"not YAML: {type(exc).__name__}") from exc
    if not isinstance(doc, dict):
        raise ValidationError("a policy is a mapping")
    return parse(doc, "<fuzz>")


def media_sniff(data: bytes) -> object:
    """Sniffing and decoding an upload (media.py), with small limits so bombs are refused fast."""
    from synthguard.media import Media

    m = Media.from_bytes(data, "fuzz", max_bytes=MAX_INPUT, max_pixels=4_000_000)
    return m.decode()


def _media(data: bytes, name: str) -> object:
    from synthguard.media import Media

    return Media.from_bytes(data, name, max_bytes=MAX_INPUT * 16, max_pixels=4_000_000)


def _audio(fmt: str) -> Target:
    def target(data: bytes) -> object:
        from synthguard.codecs.audio import decode_audio
        from synthguard.codecs.av import audio_samples
        from synthguard.marking.audio import metadata

        m = _media(data, f"fuzz.{fmt}")
        blocks = metadata.read_blocks(m)  # RIFF walk (ours) or mutagen (ID3, Vorbis comments, MP4 atoms)
        return blocks, decode_audio(m), audio_samples(m, 8000, max_seconds=30)  # PyAV/soundfile: marks, hashes

    return _named(target, f"audio_{fmt}",
                  f"{fmt.upper()} audio: AIGC blocks (marking/audio/metadata.py) and decoding (PyAV/soundfile).")


def _video(fmt: str) -> Target:
    def target(data: bytes) -> object:
        from synthguard.codecs.av import video_frames
        from synthguard.codecs.video import probe_video
        from synthguard.marking.video.metadata import aigc_blocks

        m = _media(data, f"fuzz.{fmt}")
        frames = list(video_frames(m, fps=2.0, max_seconds=30))  # PyAV as the video fingerprint decodes
        return aigc_blocks(m), probe_video(m, max_seconds=30), frames  # our atom walk / FFmpeg's tags, PyAV

    return _named(target, f"video_{fmt}",
                  f"{fmt.upper()} video: AIGC blocks (marking/video/metadata.py) and the PyAV probe.")


def _text_doc(fmt: str) -> Target:
    def target(data: bytes) -> object:
        from synthguard.codecs.text import decode_text
        from synthguard.marking.text.marker import TextNoticeMarker
        from synthguard.marking.text.metadata import TextMetadataMarker

        m = _media(data, f"fuzz.{fmt}")
        return decode_text(m), TextMetadataMarker(b"k").read(m), TextNoticeMarker().read(m)

    return _named(target, "markdown" if fmt == "md" else f"office_{fmt}",
                  f"{fmt.upper()} documents: text, AIGC properties/front matter, notices (marking/text/).")


def c2pa_jpeg(data: bytes) -> object:
    """C2PA manifests (JUMBF in JPEG APP11) through c2pa-python, as marking/c2pa.py reads them."""
    from synthguard.marking import c2pa

    return c2pa.read(_media(data, "fuzz.jpg"))


def multipart_upload(data: bytes) -> object:
    """A form upload to /v1/inspect, parsed by FastAPI's multipart parser: first line = the boundary."""
    boundary, _, body = data.partition(b"\n")
    r = _client().post("/v1/inspect", content=body, headers={  # type: ignore[dict-item]  (raw header bytes)
        "content-type": b"multipart/form-data; boundary=" + boundary.strip().replace(b"\r", b"")[:8000]})
    if r.status_code >= 500 and r.status_code != 503:
        raise AssertionError(f"/v1/inspect answered {r.status_code}: {r.text[:300]}")
    return r.status_code


@lru_cache(maxsize=1)
def _client():  # type: ignore[no-untyped-def]
    import atexit
    import shutil
    import tempfile
    from pathlib import Path

    from fastapi.testclient import TestClient

    from synthguard.config import Settings
    from synthguard.core import SynthGuard
    from synthguard.keys import init_keys
    from synthguard.server import create_app

    home = Path(tempfile.mkdtemp(prefix="sg-fuzz-upload-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    st = Settings.load(home=home, rate_limit_per_minute=0, max_bytes=MAX_INPUT * 16)
    init_keys(st)
    return TestClient(create_app(st, sg=SynthGuard.open(st)), raise_server_exceptions=False)


TARGETS: dict[str, Target] = {t.__name__: t for t in (
    aigc_json, xmp_packet, _container("jpeg"), _container("png"), _container("webp"), exif_block, mp4_metadata,
    watermark_payload, incident_yaml, policy_yaml, media_sniff, *map(_audio, ("wav", "mp3", "flac", "ogg", "m4a")),
    _video("mp4"), _video("mkv"), *map(_text_doc, ("docx", "xlsx", "pptx", "md")), c2pa_jpeg, multipart_upload)}


def _example(path: str) -> str:
    from importlib.resources import files

    return files("synthguard").joinpath(*path.split("/")).read_text(encoding="utf-8")


def _front_matter(data: bytes) -> bytes:
    return b"---\n" + data + b"\n---\n# text\n"


def _multipart(form: tuple[str, bytes]) -> bytes:
    return form[0].split("boundary=", 1)[1].encode("utf-8", "replace") + b"\n" + form[1]


def structured() -> dict[str, object]:
    """target -> a hypothesis strategy of hostile-but-valid inputs for it (fuzz/formats.py)."""
    from fuzz import formats as f

    return {"xmp_packet": f.xmp_packets(), "container_jpeg": f.jumbf_jpegs(), "mp4_metadata": f.mp4_files(),
            "audio_mp3": f.id3_tags(), "audio_wav": f.riff_files(), "audio_m4a": f.mp4_files(),
            "video_mp4": f.mp4_files(), "office_docx": f.ooxml_packages(), "c2pa_jpeg": f.jumbf_jpegs(),
            "incident_yaml": f.yaml_docs(_example("law/examples/zao_2019.yaml")),
            "policy_yaml": f.yaml_docs(_example("policies/cn.yaml")),
            "markdown": f.yaml_docs("title: x\nAIGC: '{}'\n").map(_front_matter),
            "multipart_upload": f.multipart_bodies().map(_multipart)}


def run(name: str, data: bytes) -> None:
    """Run one target; a SynthGuardError is a clean refusal, anything else propagates (a crash)."""
    try:
        TARGETS[name](data[:MAX_INPUT])
    except SynthGuardError:
        pass


@cache
def seeds(only: str | None = None) -> dict[str, list[bytes]]:
    """Valid inputs per target, made in code (a labelled PNG/JPEG/WebP, an AIGC block, an incident, labeled
    audio/video/office files ...); ``only`` builds just that target's media seeds (a fuzzing child needs one)."""
    from PIL import Image

    from synthguard.marking.aigc import AIGCLabel
    from synthguard.marking.image.xmp import set_properties

    label = AIGCLabel(Label="1", ContentProducer="001191110102MAD55U9H0F10002", ProduceID="SG01",
                      ReservedCode1="", ContentPropagator="", PropagateID="", ReservedCode2="")
    packet = set_properties(None, label.to_json())
    images = {}
    for fmt in ("PNG", "JPEG", "WEBP"):
        buf = io.BytesIO()
        Image.new("RGB", (16, 12), (200, 30, 60)).save(buf, fmt)
        images[fmt] = _with_xmp(buf.getvalue(), fmt.lower(), packet)
    incident = json.dumps({"id": "INC-1", "date": "2026-01-05", "jurisdictions": ["cn"]}).encode()
    from importlib.resources import files

    policy = files("synthguard").joinpath("policies", "cn.yaml")
    policy_seed = policy.read_bytes() if policy.is_file() else b"jurisdiction: cn\n"
    out = {
        "aigc_json": [b"\x01" + label.to_json().encode(), b"\x00{}"],
        "xmp_packet": [packet],
        "container_jpeg": [images["JPEG"]], "container_png": [images["PNG"]], "container_webp": [images["WEBP"]],
        "exif_block": [b"Exif\x00\x00II*\x00\x08\x00\x00\x00\x00\x00\x00\x00"],
        "mp4_metadata": [b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x00\x00\x00\x08moov"],
        "watermark_payload": [np.ones(64, dtype=np.float64).tobytes()],
        "incident_yaml": [incident, b"id: INC-2\ndate: 2026-01-05\njurisdictions: [cn]\n",
                          *(p.read_bytes() for p in sorted(files("synthguard.law").joinpath("examples").iterdir())
                            if p.name.endswith(".yaml"))],  # the real incidents shipped with the package
        "policy_yaml": [policy_seed],
        "media_sniff": list(images.values()),
    }
    out.update(_media_seeds(label.to_json(), only))
    out["mp4_metadata"] += out.get("video_mp4", [])  # a real MP4 with the AIGC key FFmpeg writes
    out["multipart_upload"] = [b"b\n" + _form("b", images["PNG"]), b"x" * 70 + b"\n" + _form("x" * 70, images["JPEG"])]
    return out


def _form(boundary: str, data: bytes) -> bytes:
    b = boundary.encode()
    return (b"--" + b + b'\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + data + b"\r\n--" + b + b"--\r\n")


def _media_seeds(aigc: str, only: str | None = None) -> dict[str, list[bytes]]:
    """Real files per format, made by the libraries SynthGuard uses and labeled by SynthGuard's writers."""
    from synthguard.marking.audio import metadata
    from synthguard.marking.audio.io import synthetic_audio
    from synthguard.marking.text.io import synthetic_text
    from synthguard.marking.video.encode import remux, synthetic_clip
    from synthguard.media import Media

    def want(name: str) -> bool:
        return only is None or only == name or (only == "mp4_metadata" and name == "video_mp4")

    out: dict[str, list[bytes]] = {}
    for fmt in ("wav", "mp3", "flac", "ogg", "m4a"):
        if want(f"audio_{fmt}"):
            plain = synthetic_audio(fmt.upper(), seconds=0.25)
            out[f"audio_{fmt}"] = [plain.data, metadata.write_block(plain, aigc)]
    for fmt in ("mp4", "mkv"):
        if want(f"video_{fmt}"):
            clip = synthetic_clip(fmt.upper(), size=(32, 32), seconds=0.2, fps=5, audio=False)
            out[f"video_{fmt}"] = [clip.data, remux(clip, {"AIGC": aigc})]
    for fmt in ("docx", "xlsx", "pptx"):
        if want(f"office_{fmt}"):
            out[f"office_{fmt}"] = [synthetic_text(fmt.upper()).data]
    if want("markdown"):
        out["markdown"] = [synthetic_text("MD").data,
                           f"---\ntitle: x\nAIGC: {aigc}\n---\n# AI-generated\ntext\n".encode()]
    if want("c2pa_jpeg"):
        out["c2pa_jpeg"] = [_c2pa_seed(Media)]
    return {k: [v for v in vs if len(v) <= MAX_INPUT] or vs[:1] for k, vs in out.items()}


def _c2pa_seed(media_cls: type) -> bytes:
    """A JPEG with a manifest signed by a throwaway development PKI (keys.init_keys), as `label` writes it."""
    import shutil
    import tempfile
    from pathlib import Path

    from PIL import Image

    from synthguard.config import Settings
    from synthguard.keys import Keys, init_keys
    from synthguard.marking import c2pa

    home = Path(tempfile.mkdtemp(prefix="sg-fuzz-c2pa-"))
    try:
        st = Settings.load(home=home)
        init_keys(st)
        keys = Keys(st)
        buf = io.BytesIO()
        Image.new("RGB", (16, 12), (20, 90, 160)).save(buf, "JPEG")
        signed = c2pa.sign(media_cls.from_bytes(buf.getvalue(), "seed.jpg"), cert_chain=keys.c2pa_chain,
                           key=keys.c2pa_key, content_id="SG01FUZZ", producer="ACME")
        return bytes(signed.data)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _with_xmp(data: bytes, fmt: str, packet: bytes) -> bytes:
    from synthguard.marking.image.containers import write_xmp

    return write_xmp(data, fmt, packet)
