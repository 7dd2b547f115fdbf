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
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from synthguard.errors import MetadataError, ValidationError

FIELDS = (
    "Label", "ContentProducer", "ProduceID", "ReservedCode1", "ContentPropagator", "PropagateID", "ReservedCode2",
)
LABELS = {"1": "is AI-generated", "2": "possibly AI-generated", "3": "suspected AI-generated"}
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
                raise ValidationError(f"AIGC field {f.name} must be a string (GB-09)")
        if self.Label not in LABELS:
            raise ValidationError(f'AIGC Label must be "1", "2" or "3", got {self.Label!r} (GB-09)')

    @classmethod
    def parse(cls, text: str | bytes, *, strict: bool = True) -> AIGCLabel:
        """Parse the JSON of one AIGC block. Raises MetadataError naming the first defect.

        Always rejected: bad JSON, a non-object, non-string values (e.g. numeric ``Label``), a Label outside
        1/2/3. With ``strict`` (default) unknown keys and missing keys are rejected too; otherwise unknown
        keys are ignored and missing ones read as "".
        """
        try:
            obj = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MetadataError(f"AIGC value is not valid JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise MetadataError(f"AIGC value must be a JSON object, got {type(obj).__name__} (GB-09)")
        unknown = sorted(set(obj) - set(FIELDS))
        missing = [k for k in FIELDS if k not in obj]
        if strict and unknown:
            raise MetadataError(f"AIGC object has unknown keys {unknown} (GB-09)")
        if strict and missing:
            raise MetadataError(f"AIGC object lacks keys {missing} (GB-09)")
        for key in FIELDS:
            if key in obj and not isinstance(obj[key], str):
                raise MetadataError(f"AIGC field {key} must be a string, got {json.dumps(obj[key])} (GB-09)")
        try:
            return cls(**{k: obj.get(k, "") for k in FIELDS})
        except ValidationError as exc:
            raise MetadataError(exc.message) from exc

    def to_json(self) -> str:
        """Compact JSON, keys in Annex E order."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def with_(self, **changes: Any) -> AIGCLabel:
        return replace(self, **changes)


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
            f"provider code {code!r} must be 27 digits/uppercase letters starting with 00 (GB-14)",
            hint="Use the code from your organisation's filing (TC260-PG-20252A), e.g. 001191110102MAD55U9H0F10002.",
        )
    pc = ProviderCode(code, code[:2], code[2], code[3], code[4:22], code[22], code[23:27])
    if strict:
        if pc.subject_type != "1" or pc.binding != "1":
            raise ValidationError(f"provider code {code!r}: subject code must start with 11 (organisation, GB-14)")
        if not _uscc_ok(pc.uscc):
            raise ValidationError(f"provider code {code!r}: {pc.uscc} is not a valid USCC (check character, GB-14)")
        if pc.service not in ("1", "2"):
            raise ValidationError(f"provider code {code!r}: service digit must be 1 or 2, got {pc.service} (GB-14)")
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
