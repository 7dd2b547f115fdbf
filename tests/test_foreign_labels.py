"""Issue 19: a genuine label of another provider is "not verifiable here", never "invalid"; our own tampered
labels stay "invalid" (GB-12, LM-22)."""

from __future__ import annotations

import pytest

from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.keys import init_keys
from synthguard.media import Media
from tests.conftest import image_bytes

pytestmark = pytest.mark.usefixtures("own_databases")  # one database per organisation


def _org(tmp_path, name):
    st = Settings.load(database_url=None, home=tmp_path / name, producer=f"P-{name}")
    init_keys(st)
    sg = SynthGuard.open(st)
    sg.add_user("u-1")
    sg.verify_user("u-1", "mobile", identifier="+86 138 0000 0000", reference="r")
    return sg


def test_another_providers_genuine_label_is_unverifiable_not_invalid(tmp_path):
    a, p = _org(tmp_path, "A"), _org(tmp_path, "P")
    for name, data in (("x.png", image_bytes("PNG", size=(320, 240))), ("x.md", b"# Title\n\nGenerated text.\n")):
        out = tmp_path / f"labeled-{name}"
        a.label(Media.from_bytes(data, name), user="u-1", output=out)
        assert a.inspect(Media.open(out))["aigc_integrity"] == "valid"
        seen = p.inspect(Media.open(out))
        assert seen["aigc_integrity"] == "unverifiable", (name, seen["aigc_integrity"])
        assert any("cannot be verified here" in x for x in seen["problems"])
        assert not any("altered" in x for x in seen["problems"])
    a.close()
    p.close()


def test_our_own_tampered_label_is_still_invalid(tmp_path, sg, verified_user):
    out = tmp_path / "ours.md"
    sg.label(Media.from_bytes(b"# Title\n\nGenerated text.\n", "x.md"), user=verified_user, producer="ACME",
             output=out)
    text = out.read_text()
    assert 'ContentProducer: "ACME"' in text
    tampered = text.replace('ContentProducer: "ACME"', 'ContentProducer: "ACMF"', 1)
    seen = sg.inspect(Media.from_bytes(tampered.encode(), "x.md"))
    assert seen["aigc_integrity"] == "invalid"
