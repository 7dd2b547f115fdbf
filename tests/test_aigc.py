"""The Annex E AIGC value: schema (GB-09), characters (GB-10), provider codes (GB-14), integrity (GB-12)."""

from __future__ import annotations

import json

import pytest

from synthguard.errors import MetadataError, ValidationError
from synthguard.marking.aigc import (
    FIELDS,
    AIGCLabel,
    char_problems,
    integrity_code,
    is_our_scheme,
    parse_provider_code,
    propagator_integrity_code,
    verify_integrity,
    verify_propagator_integrity,
)

CODE = "001191110102MAD55U9H0F10002"
PIX = "ab" * 32


def sample(**changes: str) -> AIGCLabel:
    base = AIGCLabel("1", CODE, "C-2025-0001", "", CODE, "C-2025-0001", "")
    return base.with_(**changes)


def as_json(**changes: object) -> str:
    obj: dict[str, object] = sample().to_dict()
    obj.update(changes)
    return json.dumps(obj)


# --- GB-09 schema ---------------------------------------------------------------------------
def test_round_trip_compact_and_ordered() -> None:
    text = sample().to_json()
    assert " " not in text and list(json.loads(text)) == list(FIELDS)
    assert AIGCLabel.parse(text) == sample()


def test_numeric_label_rejected() -> None:
    with pytest.raises(MetadataError, match="Label must be a string"):
        AIGCLabel.parse(as_json(Label=1))


@pytest.mark.parametrize("label", ["0", "4", "", "yes"])
def test_label_outside_1_2_3_rejected(label: str) -> None:
    with pytest.raises(MetadataError, match='"1", "2" or "3"'):
        AIGCLabel.parse(as_json(Label=label))


def test_unknown_key_rejected_in_strict_ignored_in_lenient() -> None:
    text = as_json(Extra="x")
    with pytest.raises(MetadataError, match="unknown keys"):
        AIGCLabel.parse(text)
    assert AIGCLabel.parse(text, strict=False) == sample()


def test_missing_key_rejected_in_strict_defaults_in_lenient() -> None:
    obj = sample().to_dict()
    del obj["ReservedCode2"]
    with pytest.raises(MetadataError, match="lacks keys"):
        AIGCLabel.parse(json.dumps(obj))
    assert AIGCLabel.parse(json.dumps(obj), strict=False).ReservedCode2 == ""


@pytest.mark.parametrize("value", [None, 5, ["x"], {"a": "b"}, True])
def test_non_string_values_rejected(value: object) -> None:
    with pytest.raises(MetadataError, match="ProduceID must be a string"):
        AIGCLabel.parse(as_json(ProduceID=value), strict=False)


@pytest.mark.parametrize("text", ["", "{", "[]", '"Label"', b"\xff\xfe"])
def test_bad_json_clear_error(text: str | bytes) -> None:
    with pytest.raises(MetadataError, match="JSON"):
        AIGCLabel.parse(text)


def test_constructor_validates() -> None:
    with pytest.raises(ValidationError):
        AIGCLabel("5", CODE, "x")
    with pytest.raises(ValidationError):
        AIGCLabel(1, CODE, "x")  # type: ignore[arg-type]


# --- GB-10 characters -----------------------------------------------------------------------
def test_chinese_producer_fails_strict_and_lenient() -> None:
    label = sample(ContentProducer="测试工作室")
    assert any("ContentProducer" in p for p in char_problems(label))
    assert char_problems(label, strict=False)


def test_space_fails_strict_passes_lenient() -> None:
    label = sample(ContentProducer="Test Studio")
    assert char_problems(label) and "U+0020" in char_problems(label)[0]
    assert char_problems(label, strict=False) == []


@pytest.mark.parametrize("bad", ['a"b', "a\\b", "tab\tx", "\x7f", "é"])
def test_excluded_characters(bad: str) -> None:
    assert char_problems(sample(ProduceID=bad), strict=False)


def test_full_printable_range_allowed() -> None:
    allowed = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"\\')
    assert char_problems(sample(ProduceID=allowed)) == []


# --- GB-14 provider codes -------------------------------------------------------------------
def test_provider_code_sample_parses() -> None:
    pc = parse_provider_code(CODE)
    assert (pc.uscc, pc.service, pc.model) == ("91110102MAD55U9H0F", "1", "0002")
    assert (pc.format_code, pc.subject_type, pc.binding) == ("00", "1", "1")


@pytest.mark.parametrize("code", ["", CODE[:-1], CODE + "0", CODE.lower(), "01" + CODE[2:], CODE[:5] + "-" + CODE[6:]])
def test_provider_code_format_rejected(code: str) -> None:
    with pytest.raises(ValidationError, match="27"):
        parse_provider_code(code, strict=False)


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("0011" + "91110102MAD55U9H0E" + "10002", "check character"),
        ("0021" + "91110102MAD55U9H0F" + "10002", "organisation"),
        ("0011" + "91110102MAD55U9H0F" + "30002", "service"),
    ],
)
def test_provider_code_structure_strict_only(code: str, why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        parse_provider_code(code)
    assert parse_provider_code(code, strict=False).code == code


# --- GB-12 integrity ------------------------------------------------------------------------
def test_integrity_code_shape_and_gb10_printable() -> None:
    code = integrity_code(b"k" * 32, sample(), PIX)
    assert code.startswith("H1") and len(code) == 34 and is_our_scheme(code)
    assert char_problems(sample(ReservedCode1=code)) == []
    assert code == integrity_code(b"k" * 32, sample(), PIX)


def test_integrity_verifies_and_detects_tampering() -> None:
    key = b"producer-key"
    signed = sample().with_(ReservedCode1=integrity_code(key, sample(), PIX))
    assert verify_integrity(key, signed, PIX)
    assert not verify_integrity(b"other-key", signed, PIX)
    assert not verify_integrity(key, signed, "cd" * 32)
    for field, value in [("Label", "2"), ("ContentProducer", CODE[:-1] + "3"), ("ProduceID", "C-2025-0002")]:
        assert not verify_integrity(key, signed.with_(**{field: value}), PIX), field
    # propagator fields are not covered by ReservedCode1 (platforms may rewrite them, GB-11)
    assert verify_integrity(key, signed.with_(ContentPropagator="X", PropagateID="Y"), PIX)


def test_propagator_code_covers_propagator_fields_only() -> None:
    key = b"platform-key"
    label = sample(ContentPropagator="002291110102MAD55U9H0F20001", PropagateID="P-9")
    signed = label.with_(ReservedCode2=propagator_integrity_code(key, label, PIX))
    assert verify_propagator_integrity(key, signed, PIX)
    assert verify_propagator_integrity(key, signed.with_(ProduceID="other"), PIX)
    assert not verify_propagator_integrity(key, signed.with_(PropagateID="P-10"), PIX)
    assert propagator_integrity_code(key, label, PIX) != integrity_code(key, label, PIX)  # domain separated


def test_empty_key_rejected() -> None:
    with pytest.raises(ValidationError):
        integrity_code(b"", sample(), PIX)
