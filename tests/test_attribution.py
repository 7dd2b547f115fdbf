"""Issue 19: the trust list inside inspect, scan and verification -- attribution of foreign claims to a trust
entry, C2PA trust anchors from the pinned chains, resolution statuses, the watermark hook's tolerance, and the
standalone verifier's trust lists (its own file and a publisher-signed one)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from synthguard.auth import Role, create_token
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.evidence import build_bundle, write_bundle
from synthguard.inspection import Inspector
from synthguard.ledger.checkpoint import vkey as log_vkey
from synthguard.media import Media
from synthguard.server import create_app
from synthguard.trust.anchors import ANCHORS_FILE
from synthguard.trust.attribution import (
    ATTRIBUTED,
    FAILED,
    NOT_FOUND,
    NOT_VERIFIABLE,
    UNRESOLVED,
    VERIFIED,
    attribute,
)
from synthguard.trust.descriptor import build
from synthguard.trust.resolve import resolve_all
from synthguard.trust.trustlist import for_settings, publish
from tests.conftest import image_bytes
from tests.conftest import org as _org

BASE = "https://acme.example"


pytestmark = pytest.mark.usefixtures("own_databases")  # one database per organisation




@pytest.fixture
def two(tmp_path):
    acme = _org(tmp_path, "acme", producer="P-ACME", service_name="Acme")
    acme.add_user("u-1")
    acme.verify_user("u-1", "mobile", identifier="+86 138 0000 0000", reference="r")
    out = tmp_path / "acme.png"
    cid = acme.label(image_bytes("PNG", size=(320, 240)), user="u-1", output=out).content_id
    acme.checkpoint()
    plat = _org(tmp_path, "plat", producer="P-PLAT")
    yield {"acme": acme, "plat": plat, "file": out, "cid": cid}
    acme.close()
    plat.close()


def root_of(sg: SynthGuard) -> str:
    return (sg.settings.keys_dir / "c2pa-ca.pem").read_text().strip()


def test_trusting_a_provider_anchors_its_c2pa_chain_and_untrusting_removes_it(two):
    acme, plat, path = two["acme"], two["plat"], two["file"]
    anchors = plat.settings.home / ANCHORS_FILE
    before = plat.scan(Media.open(path), log=False)
    c2 = next(e for e in before.evidence if e["source"] == "image.c2pa")
    assert c2["evidence"]["state"] == "valid" and root_of(acme) not in anchors.read_text()
    trust = for_settings(plat.settings)
    trust.add(build(acme, base_url=BASE))
    root = (acme.settings.keys_dir / "c2pa-ca.pem").read_text()
    assert root.strip() in anchors.read_text() and (plat.settings.keys_dir / "c2pa-ca.pem").read_text() \
        .strip() in anchors.read_text()  # our own CA stays an anchor
    # the running deployment's scans see it at once (the cached analysis is not served across the change)
    after = plat.scan(Media.open(path), log=False)
    c2 = next(e for e in after.evidence if e["source"] == "image.c2pa")
    assert c2["evidence"]["state"] == "trusted"
    claims = [e["evidence"] for e in after.evidence if e["source"] == "trust.attribution"]
    assert {c["mark"] for c in claims} == {"aigc", "c2pa"} and {c["status"] for c in claims} == {UNRESOLVED}
    assert all(c["provider"]["name"] == "Acme" for c in claims)
    trust.remove("P-ACME")
    assert root.strip() not in anchors.read_text()
    assert Inspector(plat.settings).inspect(path)["c2pa"]["state"] == "valid"


def test_our_own_tampered_label_stays_invalid_in_the_database_free_inspector(two, tmp_path):
    acme = two["acme"]
    assert Inspector(acme.settings).inspect(two["file"])["attribution"] == []  # ours: nothing to attribute
    out = tmp_path / "ours.md"
    acme.label(Media.from_bytes(b"# Title\n\nGenerated text.\n", "x.md"), user="u-1", output=out)
    text = out.read_text()
    assert Inspector(acme.settings).inspect(out)["aigc_integrity"] == "valid"
    tampered = tmp_path / "tampered.md"
    tampered.write_text(text.replace("Generated text.", "Generated text, edited."))
    ours = Inspector(acme.settings).inspect(tampered)
    assert ours["aigc_integrity"] == "invalid"  # our producer code: tampering, not a foreign label
    theirs = Inspector(two["plat"].settings).inspect(tampered)
    assert theirs["aigc_integrity"] == "unverifiable"  # elsewhere nobody can tell: never "invalid"


def test_resolution_statuses(two):
    acme, plat = two["acme"], two["plat"]
    trust = for_settings(plat.settings)
    trust.add(build(acme, base_url=BASE))
    insp = plat.inspect(Media.open(two["file"]))
    claims = attribute(insp, trust, plat.is_own_claim)
    assert {c["status"] for c in claims} == {ATTRIBUTED}
    assert resolve_all([dict(c) for c in claims], trust)[0]["status"] == UNRESOLVED  # no credential stored
    client = TestClient(create_app(acme.settings, sg=acme))
    token = create_token(acme.db, Role.PLATFORM, "default", "plat")[0]
    trust.set_credential("P-ACME", token)
    assert token not in trust.path.read_text()  # credentials stay out of the (publishable) list
    assert oct(trust.credentials_path.stat().st_mode & 0o777) == "0o600"

    def get(url, headers):
        r = client.get(url.removeprefix(BASE), headers=headers)
        if r.status_code == 404:
            from synthguard.errors import NotFoundError

            raise NotFoundError("no record")
        return r.json()

    media = Media.open(two["file"])
    done = resolve_all([dict(c) for c in claims], trust, sha256=media.sha256, get=get)
    assert {c["status"] for c in done} == {VERIFIED} and done[0]["resolved"]["match"] == "identical"
    other = [dict(c, content_id="SG" + "1" * 26) for c in claims]
    assert {c["status"] for c in resolve_all(other, trust, get=get)} == {NOT_FOUND}

    def lying(url, headers):  # the provider's answer is altered in transit: its proof does not verify
        found = get(url, headers)
        found["proof"]["audit_path"] = ["00" * 32, *found["proof"]["audit_path"][1:]]
        return found

    assert {c["status"] for c in resolve_all([dict(c) for c in claims], trust, get=lying)} == {FAILED}


def test_the_watermark_hook_takes_a_provider_in_any_known_field(two):
    acme, plat = two["acme"], two["plat"]
    trust = for_settings(plat.settings)
    entry = trust.add(build(acme, base_url=BASE))
    never = (lambda cid, producer: False)  # noqa: E731
    for wm in ({"detected": True, "provider": {"origin": entry.origin}, "token": "ab" * 8, "new_field": [1]},
               {"detected": True, "provider": "P-ACME", "payload": "ab" * 8},
               {"detected": True, "producer": "P-ACME", "content_id": two["cid"], "mode": "shared"}):
        (claim,) = attribute({"watermark": wm}, trust, never)
        assert claim["mark"] == "watermark" and claim["provider"]["origin"] == entry.origin
        assert claim["status"] == ATTRIBUTED
    (stranger,) = attribute({"watermark": {"detected": True, "provider": "P-NOBODY"}}, trust, never)
    assert stranger["status"] == NOT_VERIFIABLE and stranger["provider"] is None
    assert attribute({"watermark": {"detected": True, "payload": "ab" * 8}}, trust, never) == []  # ours
    assert attribute({"watermark": {"detected": False, "provider": "P-ACME"}}, trust, never) == []


def test_verify_py_takes_a_publisher_signed_list(two, tmp_path, monkeypatch):
    acme = two["acme"]
    bundle = write_bundle(build_bundle(acme, two["file"]), tmp_path / "b.zip")
    with zipfile.ZipFile(bundle) as zf:
        zf.extract("verify.py", tmp_path)
    reg = Ed25519PrivateKey.generate()
    regulator = for_settings(Settings.load(database_url=None, home=tmp_path / "reg"))
    regulator.add(build(acme))
    signed = publish(regulator.entries(), name="regulator.example/filed", key=reg)
    listed = tmp_path / "filed.json"
    listed.write_text(json.dumps(signed))
    pub = log_vkey("regulator.example/filed", reg)

    def run(*args):
        return subprocess.run([sys.executable, str(tmp_path / "verify.py"), str(bundle), *args],
                              capture_output=True, text=True, timeout=120, check=False)

    done = run("--trust-list", str(listed), "--publisher-key", pub)
    assert done.returncode == 0 and "(list regulator.example/filed SHA256:" in done.stdout, done.stdout
    assert "provider descriptor of Acme (P-ACME" in done.stdout
    assert run("--trust-list", str(listed)).returncode == 1  # a signed list needs its publisher's key
    wrong = log_vkey("regulator.example/filed", Ed25519PrivateKey.generate())
    bad = run("--trust-list", str(listed), "--publisher-key", wrong)
    assert bad.returncode == 1 and "FAILED: cannot read" in bad.stdout
    # the same with evidence-verify at a court that holds no keys and no list of its own
    from synthguard.cli import main

    court = tmp_path / "court"
    court.mkdir()
    monkeypatch.setenv("SYNTHGUARD_HOME", str(court))
    assert main(["evidence-verify", str(bundle), "--trust-list", str(listed), "--publisher-key", pub]) == 0
    assert main(["evidence-verify", str(bundle), "--trust-list", str(listed), "--publisher-key", wrong]) == 7
    assert main(["evidence-verify", str(bundle), "--trust-list", str(listed)]) != 0  # says: a signed list
    assert main(["evidence-verify", str(bundle), "--trusted-key", acme.ledger_vkey()]) == 0
    pinned = run("--trusted-key", acme.ledger_vkey())  # a verifier key instead of a PEM file
    assert pinned.returncode == 0 and "pinned with --trusted-key (verifier key)" in pinned.stdout, pinned.stdout


def test_the_inspection_page_names_the_trusted_provider_or_says_not_verifiable(two):
    from synthguard.server.verdict import verdict

    acme, plat = two["acme"], two["plat"]
    unknown = verdict(plat.inspect(Media.open(two["file"])))
    provider = next(c for c in unknown.checks if c.title == "Provider")
    assert provider.status == "not verifiable here" and provider.state == "no"
    assert not any(c.state == "bad" for c in unknown.checks)  # a foreign label is never "altered"
    entry = for_settings(plat.settings).add(build(acme))
    known = verdict(plat.inspect(Media.open(two["file"])))
    provider = next(c for c in known.checks if c.title == "Provider")
    assert provider.status == "trusted: Acme" and entry.fingerprint in provider.meaning
    assert "pinned by the operator" in provider.meaning
