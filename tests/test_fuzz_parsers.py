"""Every parser we own, fuzzed (bounded) with hypothesis: any input returns or raises a SynthGuardError with a
message and a hint — never IndexError, RecursionError, struct.error ... (the same targets `make fuzz` runs with
atheris; crashes found there are kept below as regression inputs)."""

from __future__ import annotations

import pytest
from fuzz.targets import MAX_INPUT, TARGETS, run, seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthguard.errors import MetadataError, ValidationError
from synthguard.limits import DEFAULT_MAX_DEPTH, check_nesting, nesting_depth

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


@st.composite
def mutated(draw, name: str) -> bytes:
    """A seed of the target's format with a few random edits: flips, cuts, inserts, duplicated spans."""
    data = bytearray(draw(st.sampled_from(seeds()[name])))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(("flip", "cut", "insert", "dup", "truncate")))
        i = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut" and data:
            del data[i:i + draw(st.integers(1, 64))]
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=32))
        elif op == "dup" and data:
            data[i:i] = data[i:i + draw(st.integers(1, 256))] * draw(st.integers(1, 8))
        elif op == "truncate":
            del data[i:]
    return bytes(data[:MAX_INPUT])


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_are_accepted_or_cleanly_refused(name):
    for data in seeds()[name]:
        run(name, data)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_container_seeds_start_inside_the_format(fmt):
    """The fuzzers must begin from inputs the parser accepts, or they fuzz the error path only."""
    from synthguard.marking.aigc import AIGCLabel
    from synthguard.marking.image.xmp import read_properties

    packets = TARGETS[f"container_{fmt}"](seeds()[f"container_{fmt}"][0])
    assert len(packets) == 1 and AIGCLabel.parse(read_properties(packets[0]).aigc[0]).Label == "1"
    assert TARGETS["aigc_json"](seeds()["aigc_json"][0]).Label == "1"


@pytest.mark.parametrize("name", sorted(TARGETS))
@FUZZ
@given(data=st.data())
def test_mutated_inputs_never_crash_a_parser(name, data):
    run(name, data.draw(mutated(name)))


@pytest.mark.parametrize("name", sorted(TARGETS))
@FUZZ
@given(blob=st.binary(max_size=2048))
def test_random_bytes_never_crash_a_parser(name, blob):
    run(name, blob)


# --- regressions: crashes the fuzzers found, fixed, kept -----------------------------------------------
def test_an_integer_key_at_the_top_of_an_incident_is_a_validation_error():
    from synthguard.law.incident import parse_text, validate_incident

    with pytest.raises(ValidationError, match="1111111111"):  # was IndexError in _loc (atheris, incident_yaml)
        validate_incident(parse_text("1111111111: d"))


@pytest.mark.parametrize("date", ["1013-01-00", "2026-13-01", "2026-02-30"])
def test_an_impossible_yaml_date_in_an_incident_is_a_validation_error(date):
    from synthguard.law.incident import parse_text

    with pytest.raises(ValidationError, match="impossible date") as err:  # was ValueError from PyYAML (atheris)
        parse_text(f"id: INC-2\ndate: {date}\njurisdictions: [cn]\n")
    assert "YYYY-MM-DD" in err.value.hint


@pytest.mark.parametrize("doc", [
    {"jurisdiction": "cn", "defaults": {"alerts": "Z0.5, 0.75]"}},  # was ValueError (hypothesis, policy_yaml)
    {"jurisdiction": "cn", "complaint_types": {"x": "not a mapping"}},  # was AttributeError
    {"jurisdiction": "cn", "complaint_types": {"x": {"deadline_hours": 1, "actions": ["remove"]}}},  # KeyError
])
def test_a_malformed_policy_is_a_validation_error(doc):
    from synthguard.moderation.policy import parse

    with pytest.raises(ValidationError) as err:
        parse(doc, "policies/fuzz.yaml")
    assert err.value.message.startswith("policies/fuzz.yaml") and err.value.hint


DEEP = [("aigc_json", b"\x01" + b"[" * 60_000), ("incident_yaml", b'{"a":' * 20_000),
        ("incident_yaml", b"- " + b"[" * 50_000), ("incident_yaml", b"- " * 30_000 + b"x"),
        ("policy_yaml", b"[" * 50_000), ("policy_yaml", b"- " * 30_000 + b"x")]


@pytest.mark.parametrize(("name", "data"), DEEP, ids=[f"{n}-{i}" for i, (n, _) in enumerate(DEEP)])
def test_deeply_nested_documents_are_refused_not_a_recursion_error(name, data):
    run(name, data)  # was RecursionError from json.loads / PyYAML (found by fuzz/run.py)


def test_the_aigc_nesting_limit_is_a_metadata_error_with_a_hint():
    from synthguard.marking.aigc import AIGCLabel

    with pytest.raises(MetadataError) as err:
        AIGCLabel.parse("[" * 100 + "]" * 100)
    assert "nests 100 levels" in err.value.message and "MAX_METADATA_DEPTH" in err.value.hint
    with pytest.raises(MetadataError, match="JSON object"):
        AIGCLabel.parse("[" * 5 + "]" * 5, max_depth=8)  # under the limit: the ordinary error


def test_nesting_depth_ignores_brackets_in_strings():
    assert nesting_depth('{"a": "[[[[[[[[", "b": [[1]]}') == 3
    assert nesting_depth(b'"\\"[[["') == 0
    check_nesting("[" * DEFAULT_MAX_DEPTH)
    with pytest.raises(ValidationError):
        check_nesting("[" * (DEFAULT_MAX_DEPTH + 1))


def test_the_setting_reaches_the_metadata_reader(settings):
    from synthguard.keys import Keys
    from synthguard.plugins import Context

    marker = Context(settings.model_copy(update={"max_metadata_depth": 5}), Keys(settings)).marker("image.metadata")
    assert marker.max_depth == 5
