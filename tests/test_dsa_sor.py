"""DSA statements of reasons as the Transparency Database takes them (issue 20; DSA-06, DSA-07, DSA-11): every
statement passes the official rules (tests/dsa_tdb.py), names the law and its territorial scope, comes in POSTable
batches of 1 to 100, scans' own restrictions are reported, and the submitter retries against a local stub."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from synthguard.cli import main
from synthguard.core import SynthGuard
from synthguard.errors import ConfigError, DeliveryError, ValidationError
from synthguard.moderation.dsa import BATCH_MAX, Submitter, batches, ndjson
from synthguard.moderation.policy import EEA, load
from synthguard.moderation.reports import render
from tests.conftest import kodak
from tests.dsa_tdb import StubDatabase, statement_errors

NCII = {"kind": "intimate_deepfake", "name": "Jane Roe", "email": "jane@example.org", "signature": "Jane Roe",
        "good_faith": True, "location": "post-1", "description": "fake nude of me"}
ROW_ID = re.compile(r"\b(?:DSA|EU|DS|LM|CC|GB|US)-\d{2}\b")


@pytest.fixture
def eu(settings):
    with SynthGuard.open(settings.model_copy(update={"profile": "eu"})) as sg:
        yield sg


@pytest.fixture
def month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def _scenario(sg: SynthGuard) -> None:
    """A reviewer's removal after a notice, a scan's restriction (victim hash) and a scan's AI label."""
    mod = sg.moderation
    mod.register("acme", "post-1", kodak("kodim23.png").read_bytes())
    t = mod.submit("acme", NCII)
    mod.claim("acme", "rev-1")
    mod.act("acme", t["ticket"], "rev-1", "remove", "ncii")
    sg.banks.create("ncii-victim-reports", kind="pdq", actor="victim-portal", tenant="acme")
    sg.banks.add_media("ncii-victim-reports", kodak("kodim05.png"), reason="victim hash V-1", actor="victim-portal")
    assert mod.register("acme", "up-1", kodak("kodim05.png").read_bytes())["content"]["status"] == "restricted"
    mod.register("acme", "up-2", kodak("kodim08.png").read_bytes(), declared_ai=True)


def test_every_statement_passes_the_official_rules_and_names_the_law(eu, month):
    _scenario(eu)
    statements = eu.moderation.report("acme", month)["statements"]
    assert len(statements) == 3
    for s in statements:
        assert statement_errors(s) == {}, s
        assert s["territorial_scope"] == list(EEA)  # Art. 17(3)(a)
        grounds = " ".join(s.get(k, "") for k in ("illegal_content_legal_ground", "incompatible_content_ground"))
        assert re.search(r"(Regulation|Directive) \((EU|EC)\) \d{4}/\d+|Directive \d{4}/\d+/EU", grounds), grounds
        assert not ROW_ID.search(json.dumps(s)), s  # our requirement row ids are not law
        assert "jane" not in json.dumps(s).lower()  # no personal data (DSA-11)
    removal, restriction, label = statements
    assert removal["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
    assert "Directive (EU) 2024/1385" in removal["illegal_content_legal_ground"]
    assert restriction["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_DEMOTED"]
    assert (restriction["automated_detection"], restriction["automated_decision"]) == (
        "Yes", "AUTOMATED_DECISION_FULLY")
    assert restriction["source_type"] == "SOURCE_VOLUNTARY"
    assert restriction["category"] == "STATEMENT_CATEGORY_CYBER_VIOLENCE"
    assert label["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_LABELLED"]
    assert "Regulation (EU) 2024/1689" in label["incompatible_content_ground"]
    assert len({s["puid"] for s in statements}) == 3


def test_the_validator_is_strict_enough_to_fail():
    """The stub's rules catch what the database would refuse (so a pass above means something)."""
    good = {"decision_visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"], "decision_ground":
            "DECISION_GROUND_ILLEGAL_CONTENT", "illegal_content_legal_ground": "x", "illegal_content_explanation": "y",
            "content_type": ["CONTENT_TYPE_IMAGE"], "category": "STATEMENT_CATEGORY_CYBER_VIOLENCE",
            "content_date": "2026-10-01", "application_date": "2026-10-02", "decision_facts": "z",
            "source_type": "SOURCE_VOLUNTARY", "automated_detection": "No",
            "automated_decision": "AUTOMATED_DECISION_NOT_AUTOMATED", "puid": "a-1"}
    assert statement_errors(good) == {}
    for patch, field in (({"territorial_scope": ["US"]}, "territorial_scope"), ({"puid": "a/1"}, "puid"),
                         ({"illegal_content_legal_ground": None}, "illegal_content_legal_ground"),
                         ({"content_date": "2026-13-01"}, "content_date"), ({"category": "X"}, "category"),
                         ({"content_type": ["CONTENT_TYPE_OTHER"]}, "content_type_other")):
        assert field in statement_errors(good | patch)


def test_batches_hold_1_to_100_and_nothing_is_sent_for_nothing():
    assert list(batches([])) == [] and ndjson([]) == ""
    sizes = [len(b["statements"]) for b in batches([{"puid": str(i)} for i in range(250)])]
    assert sizes == [100, 100, 50] and BATCH_MAX == 100
    lines = ndjson([{"puid": str(i)} for i in range(101)]).splitlines()
    assert [len(json.loads(x)["statements"]) for x in lines] == [100, 1]
    with pytest.raises(ValidationError):
        list(batches([{}], size=101))


def test_report_format_is_one_postable_batch_per_line(eu, month, capsys):
    _scenario(eu)
    text, mime = render(eu.moderation.report("acme", month), "dsa-sor")
    assert mime == "application/x-ndjson" and [len(json.loads(x)["statements"]) for x in text.splitlines()] == [3]
    assert render(eu.moderation.report("acme", "2020-01"), "dsa-sor")[0] == ""  # nothing decided: nothing to send


def test_submitter_retries_then_delivers_to_the_stub(eu, month):
    _scenario(eu)
    statements = eu.moderation.report("acme", month)["statements"]
    many = [s | {"puid": f"{s['puid']}-{i}"} for i in range(70) for s in statements]  # 210 statements
    naps: list[float] = []
    with StubDatabase(fail_first=2) as stub:
        sent = Submitter(stub.url, stub.token, backoff=0.5, sleep=naps.append).submit(many)
        assert [(b.statements, b.status) for b in sent] == [(100, 201), (100, 201), (10, 201)]
        assert sent[0].attempts == 3 and naps == [0.5, 1.0]  # two 503s, exponential backoff
        assert len(stub.accepted) == 210 and len(stub.requests) == 5
        with pytest.raises(ValidationError, match="refused batch 0"):  # a 422 is not retried
            Submitter(stub.url, stub.token, sleep=naps.append).submit(many[:1])
        assert len(stub.requests) == 6
        with pytest.raises(ValidationError, match="HTTP 401"):
            Submitter(stub.url, "wrong", sleep=naps.append).submit([many[0] | {"puid": "fresh"}])
    with pytest.raises(DeliveryError, match="after 3 attempts"):  # the stub is gone: connection refused
        Submitter(stub.url, stub.token, retries=2, sleep=naps.append).submit(many[:1])
    with pytest.raises(ConfigError):
        Submitter("ftp://x", "t")


def test_cli_submits_the_month(eu, month, capsys, monkeypatch):
    _scenario(eu)
    with StubDatabase() as stub:
        monkeypatch.setenv("SYNTHGUARD_PROFILE", "eu")
        monkeypatch.setenv("SYNTHGUARD_DSA_ENDPOINT", stub.url)
        monkeypatch.setenv("SYNTHGUARD_DSA_TOKEN", stub.token)
        assert main(["report", "--period", month, "--tenant", "acme", "--format", "dsa-sor", "--submit",
                     "--json"]) in (0, None)
        out = json.loads(capsys.readouterr().out)
        assert out["batches"] == 1 and out["statements"] == 3 and len(stub.accepted) == 3
    monkeypatch.delenv("SYNTHGUARD_DSA_TOKEN")
    assert main(["report", "--period", month, "--tenant", "acme", "--format", "dsa-sor", "--submit"]) == 3


def test_policy_scope_is_checked():
    policy = load("eu")
    assert policy.territorial_scope == EEA and "NO" in policy.territorial_scope
    from synthguard.moderation.policy import parse

    doc = {"jurisdiction": "eu", "defaults": {"territorial_scope": ["DE", "US"]}}
    with pytest.raises(ValidationError, match="territorial_scope"):
        parse(doc)
