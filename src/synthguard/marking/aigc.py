"""The GB 45438-2025 Annex E "AIGC" label value, its character rules, provider codes and integrity codes.

- :class:`AIGCLabel` is the 7-field JSON object (GB-09), parsed strictly and serialised compactly.
- :func:`char_problems` checks values against the single-byte printable range (GB-10).
- :func:`parse_provider_code` splits and checks a 27-character provider code (GB-14).
- :func:`integrity_code` / :func:`propagator_integrity_code` compute the ``ReservedCode1`` / ``ReservedCode2``
  values (GB-12, LM-22): a truncated HMAC-SHA256 over the label fields and the pixel hash, prefixed with a
  scheme id (``H1``) so the scheme can evolve.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from synthguard.errors import KeyMissingError, MetadataError, SynthGuardError, ValidationError
from synthguard.limits import DEFAULT_MAX_DEPTH, check_nesting

FIELDS = (
    "Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2",
)
LABELS = {"1": "is AI-generated", "2": "possibly AI-generated", "3": "suspected AI-generated"}
# IPTC DigitalSourceType written beside a "1" label (GB-15): "made by a trained model"
DST_TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SCHEME = "H1"  # HMAC-SHA256 truncated to 16 bytes, lowercase hex
_TAG_BYTES = 16


@dataclass(frozen=True)
class AIGCLabel:
    """The Annex E JSON object (GB-09). Every field is a string; ``Label`` is "1", "2" or "3"."""

    Label: str
    ContentProducer: str
    ProduceID: str
    ReservedCode1: str = ""
    ContentPropagator: str = ""
    PropagateID: str = ""
    ReservedCode2: str = ""

    def __post_init__(self) -> None:
        for f in fields(self):
            if not isinstance(getattr(self, f.name), str):
                raise ValidationError("AIGC field {name} must be a string (GB-09)", values={"name": f.name})
        if self.Label not in LABELS:
            raise ValidationError('AIGC Label must be "1", "2" or "3", got {label!r} (GB-09)',
                                  values={"label": self.Label})

    @classmethod
    def parse(cls, text: str | bytes, *, strict: bool = True, max_depth: int = DEFAULT_MAX_DEPTH) -> AIGCLabel:
        """Parse the JSON of one AIGC block. Raises MetadataError naming the first defect.

        Always rejected: bad JSON, a non-object, non-string values (e.g. numeric ``Label``), a Label outside
        1/2/3. With ``strict`` (default) unknown keys and missing keys are rejected too; otherwise unknown
        keys are ignored and missing ones read as "". Both value forms are accepted in every container (issue 20):
        the bare object and Annex E's ``{"AIGC": {...}}`` (the inner object may also be a JSON string).
        """
        check_nesting(text, max_depth, what="AIGC value", error=MetadataError)  # json.loads recurses per level
        try:
            obj = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MetadataError("AIGC value is not valid JSON: {exc}", values={"exc": exc}) from exc
        obj = _unwrapped(obj)
        if not isinstance(obj, dict):
            raise MetadataError("AIGC value must be a JSON object, got {name} (GB-09)",
                                values={"name": type(obj).__name__})
        unknown = sorted(set(obj) - set(FIELDS))
        missing = [k for k in FIELDS if k not in obj]
        if strict and unknown:
            raise MetadataError("AIGC object has unknown keys {unknown} (GB-09)", values={"unknown": unknown})
        if strict and missing:
            raise MetadataError("AIGC object lacks keys {missing} (GB-09)", values={"missing": missing})
        for key in FIELDS:
            if key in obj and not isinstance(obj[key], str):
                raise MetadataError("AIGC field {key} must be a string, got {dumps} (GB-09)",
                                    values={"key": key, "dumps": json.dumps(obj[key])})
        try:
            return cls(**{k: obj.get(k, "") for k in FIELDS})
        except ValidationError as exc:
            raise MetadataError(exc.template, values=exc.values) from exc

    def to_json(self) -> str:
        """Compact JSON, keys in Annex E order."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def with_(self, **changes: Any) -> AIGCLabel:
        return replace(self, **changes)


def _unwrapped(obj: Any) -> Any:
    """The object inside Annex E's wrapper ``{"AIGC": {...}}``; anything else unchanged (checked by the caller)."""
    if isinstance(obj, dict) and list(obj) == ["AIGC"]:
        inner = obj["AIGC"]
        if isinstance(inner, str):
            try:
                inner = json.loads(inner)
            except ValueError as exc:
                raise MetadataError("AIGC value is not valid JSON: {exc}", values={"exc": exc}) from exc
        return inner
    return obj


# --- GB-10 characters -----------------------------------------------------------------------
def _allowed(ch: str, strict: bool) -> bool:
    o = ord(ch)
    if ch in '"\\':
        return False
    return 0x21 <= o <= 0x7E or (not strict and o == 0x20)


def char_problems(label: AIGCLabel, *, strict: bool = True) -> list[str]:
    """Fields with characters outside 0x21, 0x23-0x5B, 0x5D-0x7E (GB-10); ``strict=False`` also allows space."""
    problems = []
    for key in FIELDS:
        bad = sorted({ch for ch in getattr(label, key) if not _allowed(ch, strict)})
        if bad:
            shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in bad[:5])
            problems.append(f"{key} has characters outside the GB-10 printable range: {shown}")
    return problems


# --- GB-14 provider codes -------------------------------------------------------------------
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@dataclass(frozen=True)
class ProviderCode:
    """A 27-character provider code (GB-14): "00" + 20-char subject code + 5-char service extension."""

    code: str
    format_code: str
    subject_type: str
    binding: str
    uscc: str
    service: str  # "1" generation/synthesis, "2" dissemination
    model: str  # 4 chars chosen by the provider, "0000" if unused


def _uscc_ok(uscc: str) -> bool:
    if len(uscc) != 18 or any(c not in _USCC_CHARS for c in uscc):
        return False
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(uscc[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31] == uscc[17]


def parse_provider_code(code: str, *, strict: bool = True) -> ProviderCode:
    """Split a provider code (GB-14). Raises ValidationError.

    Always: ``^00[0-9A-Z]{25}$``. Strict (default) also: organisation subject ("1" type, "1" USCC binding),
    a USCC with a correct GB 32100 check character, service "1" or "2". Never invent the subject code.
    """
    if not isinstance(code, str) or not re.fullmatch(r"00[0-9A-Z]{25}", code):
        raise ValidationError(
            "provider code {code!r} must be 27 digits/uppercase letters starting with 00 (GB-14)",
            values={"code": code},
            hint="Use the code from your organisation's filing (TC260-PG-20252A), e.g. 001191110102MAD55U9H0F10002.",
        )
    pc = ProviderCode(code, code[:2], code[2], code[3], code[4:22], code[22], code[23:27])
    if strict:
        if pc.subject_type != "1" or pc.binding != "1":
            raise ValidationError("provider code {code!r}: subject code must start with 11 (organisation, GB-14)",
                                  values={"code": code})
        if not _uscc_ok(pc.uscc):
            raise ValidationError("provider code {code!r}: {uscc} is not a valid USCC (check character, GB-14)",
                                  values={"code": code, "uscc": pc.uscc})
        if pc.service not in ("1", "2"):
            raise ValidationError("provider code {code!r}: service digit must be 1 or 2, got {service} (GB-14)",
                                  values={"code": code, "service": pc.service})
    return pc


# --- GB-12 integrity codes ------------------------------------------------------------------
def _mac(key: bytes, domain: str, parts: list[str]) -> str:
    if not isinstance(key, bytes) or not key:
        raise ValidationError("integrity key must be non-empty bytes (GB-12)")
    msg = json.dumps([domain, *parts], ensure_ascii=True, separators=(",", ":")).encode()
    return SCHEME + hmac.new(key, msg, hashlib.sha256).digest()[:_TAG_BYTES].hex()


def integrity_code(key: bytes, label: AIGCLabel, pixel_sha256: str) -> str:
    """``ReservedCode1``: the producer's MAC over Label, ContentProducer, ProduceID and the pixel hash (GB-12)."""
    return _mac(key, "synthguard.aigc.rc1", [label.Label, label.ContentProducer, label.ProduceID, pixel_sha256])


def propagator_integrity_code(key: bytes, label: AIGCLabel, pixel_sha256: str) -> str:
    """``ReservedCode2``: the propagator's MAC over Label, ContentPropagator, PropagateID and the pixel hash."""
    return _mac(key, "synthguard.aigc.rc2", [label.Label, label.ContentPropagator, label.PropagateID, pixel_sha256])


def verify_integrity(key: bytes, label: AIGCLabel, pixel_sha256: str) -> bool:
    """Constant-time check of ``ReservedCode1`` (LM-22: a tampered field fails)."""
    return hmac.compare_digest(label.ReservedCode1.encode(), integrity_code(key, label, pixel_sha256).encode())


def verify_propagator_integrity(key: bytes, label: AIGCLabel, pixel_sha256: str) -> bool:
    """Constant-time check of ``ReservedCode2``."""
    expected = propagator_integrity_code(key, label, pixel_sha256)
    return hmac.compare_digest(label.ReservedCode2.encode(), expected.encode())


def is_our_scheme(code: str) -> bool:
    """True when a reserved code looks like ours (so a mismatch means tampering, not a foreign scheme)."""
    return bool(re.fullmatch(SCHEME + r"[0-9a-f]{32}", code))


def verify_codes(label: AIGCLabel, content_sha256: Callable[[], str], *, integrity_key: bytes | None,
                 propagator_key: bytes | None, producer: str | None, what: str, data: dict[str, Any],
                 problems: list[str]) -> None:
    """Check ReservedCode1 (producer) and ReservedCode2 (propagator) when they are codes of our scheme (GB-12,
    LM-22): ``data["integrity"]`` / ``data["propagator_integrity"]`` become "valid" or "invalid", reasons go to
    ``problems``. ``content_sha256`` is called lazily: a label we cannot check never decodes the content."""
    checks: list[tuple[str, str, bytes, Callable[..., bool]]] = []
    if integrity_key:
        checks.append(("integrity", "ReservedCode1", integrity_key, verify_integrity))
    if propagator_key:
        checks.append(("propagator_integrity", "ReservedCode2", propagator_key, verify_propagator_integrity))
    for slot, field, key, verify in checks:
        if not is_our_scheme(getattr(label, field)) or (slot == "integrity"
                                                         and producer not in (None, label.ContentProducer)):
            continue
        try:
            digest = content_sha256()
        except SynthGuardError as exc:
            problems.append(f"cannot verify {field}: {exc.message}")
            continue
        ok = verify(key, label, digest)
        data[slot] = "valid" if ok else "invalid"
        if not ok:
            problems.append(f"{field} does not verify: a label field or the {what} was altered (GB-12, LM-22)")


def check_integrity_key(key: bytes | None) -> bytes | None:
    """A marker's integrity key (GB-12): non-empty bytes, or None to read labels without checking their codes."""
    if key is not None and (not isinstance(key, bytes) or not key):
        raise ValidationError("integrity_key must be non-empty bytes (GB-12)")
    return key


def integrity_key_of(keys: Any) -> bytes | None:
    """The provider's integrity key, or None: a platform without it still reads labels (integrity "unknown")."""
    try:
        return keys.integrity
    except KeyMissingError:
        return None
