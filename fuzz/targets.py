"""One function per parser we own: bytes in; it must return or raise a SynthGuardError — anything else
(IndexError, struct.error, RecursionError, UnicodeDecodeError, a hang) is a crash.

The same targets run under atheris (``fuzz/run.py``, coverage-guided, ``make fuzz``) and under hypothesis
(``tests/test_fuzz_parsers.py``, bounded, in the default suite).  Seeds are built in code from valid inputs so
the fuzzers start inside the formats, not at random bytes.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from functools import lru_cache

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
    from synthguard.marking.xmp import read_properties, scrape_aigc

    scrape_aigc(data)
    return read_properties(data)


def _container(fmt: str) -> Target:
    def target(data: bytes) -> object:
        from synthguard.marking.containers import read_wild_aigc, read_xmp

        read_wild_aigc(data, fmt)
        return read_xmp(data, fmt)

    target.__name__ = f"container_{fmt}"
    target.__doc__ = f"{fmt.upper()} container: XMP packets and wild AIGC blocks (marking/containers/)."
    return target


def exif_block(data: bytes) -> object:
    """EXIF UserComment AIGC (marking/containers/exif.py)."""
    from synthguard.marking.containers.exif import read_aigc, strip_aigc

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
    """Incident files (law/incident.py): YAML or JSON, then the schema and contradiction checks."""
    from synthguard.law.incident import incident_from_json, parse_text, validate_incident

    text = _text(data)
    doc = incident_from_json(text) if text.lstrip().startswith("{") else parse_text(text)
    return validate_incident(doc)


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


TARGETS: dict[str, Target] = {t.__name__: t for t in (
    aigc_json, xmp_packet, _container("jpeg"), _container("png"), _container("webp"), exif_block, mp4_metadata,
    watermark_payload, incident_yaml, policy_yaml, media_sniff)}


def run(name: str, data: bytes) -> None:
    """Run one target; a SynthGuardError is a clean refusal, anything else propagates (a crash)."""
    try:
        TARGETS[name](data[:MAX_INPUT])
    except SynthGuardError:
        pass


@lru_cache(maxsize=1)
def seeds() -> dict[str, list[bytes]]:
    """Valid inputs per target, made in code (a labelled PNG/JPEG/WebP, an AIGC block, an incident ...)."""
    from PIL import Image

    from synthguard.marking.aigc import AIGCLabel
    from synthguard.marking.xmp import set_properties

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
        "incident_yaml": [incident, b"id: INC-2\ndate: 2026-01-05\njurisdictions: [cn]\n"],
        "policy_yaml": [policy_seed],
        "media_sniff": list(images.values()),
    }
    return out


def _with_xmp(data: bytes, fmt: str, packet: bytes) -> bytes:
    from synthguard.marking.containers import write_xmp

    return write_xmp(data, fmt, packet)
