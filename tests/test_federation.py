"""Issue 19, as separate organisations: providers A and B, platform P and witness W, each with its own home,
database and keys, talking HTTP on loopback.  What is built so far: descriptors, trust lists, lookup with proofs,
witness cosignatures with a quorum, and monitoring.  (Detection of stripped copies across deployments is not built
yet: P attributes labeled files by their GB 45438 ProduceID here.)"""

from __future__ import annotations

import shutil

import httpx
import pytest

from synthguard.auth import Role, create_token
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import LedgerIntegrityError, NotFoundError, UpstreamError
from synthguard.ledger.checkpoint import vkey as log_vkey
from synthguard.media import Media
from synthguard.server import create_app
from synthguard.trust import monitor
from synthguard.trust.descriptor import verify as verify_descriptor
from synthguard.trust.resolve import NotTrustedError, resolve
from synthguard.trust.trustlist import TrustList
from synthguard.trust.witness import from_settings, watch
from synthguard.trust.witness_client import cosign_latest
from tests.conftest import image_bytes
from tests.conftest import org as _org
from tests.conftest import serve as _serve

pytestmark = pytest.mark.usefixtures("own_databases")  # one database per organisation




@pytest.fixture
def world(tmp_path):
    servers, orgs = [], {}
    for name, code in (("A", "P-AAA"), ("B", "P-BBB")):
        sg = _org(tmp_path, name, producer=code, service_name=f"provider {name}")
        sg.add_user("u-1")
        sg.verify_user("u-1", "mobile", identifier="+86 138 0000 0000", reference="r")
        url, server, thread = _serve(create_app(sg.settings, sg=sg))
        servers.append((server, thread))
        orgs[name] = {"sg": sg, "url": url}
    w = _org(tmp_path, "W", witness_name="witness.example/w1")
    from synthguard.ledger.checkpoint import generate_ledger_key
    from synthguard.trust.witness import KEY_FILE

    generate_ledger_key(w.settings.keys_dir / KEY_FILE)
    for name in ("A", "B"):
        sg = orgs[name]["sg"]
        watch(w.settings.home, log_vkey(sg.ledger.origin_for(sg.keys.ledger_private), sg.keys.ledger_private))
    w_url, server, thread = _serve(create_app(w.settings, sg=w))
    servers.append((server, thread))
    orgs["W"] = {"sg": w, "url": w_url + "/witness", "vkey": from_settings(w.settings).vkey}
    orgs["P"] = {"sg": _org(tmp_path, "P"), "trust": TrustList(tmp_path / "P" / "trust-list.json")}
    yield orgs
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)
    for o in orgs.values():
        o["sg"].close()


def test_four_deployments(world, tmp_path):
    A, B, W, P = world["A"], world["B"], world["W"], world["P"]
    # A and B publish descriptors; P pins each after comparing the fingerprint the provider gave out of band
    for org in (A, B):
        signed = httpx.get(org["url"] + "/.well-known/synthguard.json").json()
        fp = verify_descriptor(signed)["fingerprint"]
        P["trust"].add(signed, expected_fingerprint=fp)
    P["trust"].set_witnesses("P-AAA", [W["vkey"]], 1)
    # both providers label; A's checkpoint is cosigned by W
    made = {}
    for name, org in (("A", A), ("B", B)):
        res = org["sg"].label(image_bytes("PNG", size=(320 if name == "A" else 336, 240)), user="u-1",
                              output=tmp_path / f"{name}.png")
        org["sg"].checkpoint()
        made[name] = res.content_id
    cosigned = cosign_latest(A["sg"].ledger_service, W["url"], W["vkey"])
    assert cosigned["witness"] == "witness.example/w1"
    tokens = {n: create_token(world[n]["sg"].db, Role.PLATFORM, "default", "platform P")[0] for n in ("A", "B")}
    # P reads the label on each file and resolves it at the right provider, verified against the pinned key
    for name in ("A", "B"):
        label = P["sg"].inspect(Media.open(tmp_path / f"{name}.png"))["aigc"]
        got = resolve(P["trust"], label["ContentProducer"], label["ProduceID"], token=tokens[name])
        assert got["verified"] and got["content_id"] == made[name]
        assert got["key_source"] == "pinned by the operator"
        assert got["witnesses"] == (["witness.example/w1"] if name == "A" else [])
    # B's content is never attributed to A: A has no such record
    with pytest.raises(NotFoundError):
        resolve(P["trust"], "P-AAA", made["B"], token=tokens["A"])
    # a provider P does not trust: not verifiable here (not "invalid")
    with pytest.raises(NotTrustedError):
        resolve(P["trust"], "P-CCC", made["A"], token=tokens["A"])
    # P monitors A; A rewrites its history from a backup with the same key: W refuses to cosign, monitor alarms
    state = tmp_path / "P" / "monitor.json"
    pinned_a = P["trust"].find("P-AAA").vkey
    assert monitor.check(A["url"], pinned_a, state)["tree_size"] >= 1
    fork_home = tmp_path / "A-fork"
    shutil.copytree(A["sg"].settings.home / "keys", fork_home / "keys")
    fork = SynthGuard.open(Settings.load(database_url=None, home=fork_home, producer="P-AAA"))
    with fork.db.session() as s:
        for i in range(5):
            fork.ledger.append(s, "generation", {"content_id": f"rewritten-{i}"})
    fork.checkpoint()
    with pytest.raises(UpstreamError):
        cosign_latest(fork.ledger_service, W["url"], W["vkey"], old_size=cosigned["tree_size"])
    fork_url, server, thread = _serve(create_app(fork.settings, sg=fork))
    try:
        with pytest.raises(LedgerIntegrityError, match="ALARM"):
            monitor.check(fork_url, pinned_a, state)
    finally:
        server.should_exit = True
        thread.join(10)
        fork.close()


def test_a_bundle_from_another_provider_verifies_only_through_the_trust_list(world, tmp_path, monkeypatch):
    """Evidence made at provider A, checked at platform P: trusted via P's trust list (naming the entry and its
    source); before A is pinned, "origin not verified"; a bundle re-signed with a swapped key fails too."""
    from synthguard.cli import main

    A, P = world["A"], world["P"]
    out = tmp_path / "a.png"
    A["sg"].label(image_bytes("PNG", size=(320, 240)), user="u-1", output=out)
    A["sg"].checkpoint()
    bundle = tmp_path / "evidence.zip"
    monkeypatch.setenv("SYNTHGUARD_HOME", str(A["sg"].settings.home))
    assert main(["evidence", str(out), "-o", str(bundle)]) == 0
    monkeypatch.setenv("SYNTHGUARD_HOME", str(P["sg"].settings.home))
    assert main(["evidence-verify", str(bundle)]) == 7  # A is not trusted here yet: origin not verified
    signed = httpx.get(A["url"] + "/.well-known/synthguard.json").json()
    P["trust"].add(signed, expected_fingerprint=verify_descriptor(signed)["fingerprint"])
    import json as _json

    from synthguard.evidence import verify_bundle
    from synthguard.trust.trustlist import trusted_keys

    result = verify_bundle(bundle, trusted_keys(P["trust"]))
    assert result["ok"] and result["trusted_key"]["source"] == "trust-list"
    assert "pinned by the operator" in result["trusted_key"]["label"]
    assert main(["evidence-verify", str(bundle), "--json"]) == 0
    assert _json.dumps(result)  # serialisable for the report
