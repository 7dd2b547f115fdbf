"""Every platform scan is logged to the ledger with hashes and the verdict only (DS-10, LM-16)."""

from tests.conftest import kodak


def test_scan_is_logged(sg):
    result = sg.scan(kodak("kodim03.png"))
    with sg.db.session() as s:
        entry = sg.ledger.entry(s, sg.ledger.size(s) - 1)
    assert entry.kind == "scan" and entry.body["sha256"] == result.sha256
    assert entry.body["verdict"] == result.verdict == "none"
    assert sg.scan(kodak("kodim03.png"), log=False).verdict == "none"
    with sg.db.session() as s:
        assert sg.ledger.size(s) == entry.index + 1
