"""Issue 19 end to end, as four organisations that share nothing: provider A, provider B, platform P and witness W
each run their own SynthGuard server on a loopback port, with their own home, keys and database (their own SQLite
file, or their own Postgres schema in the Postgres pass).  They talk only HTTP, and trust only what they pinned.

- A and B label images; P pins both from their descriptors (fingerprints compared), requires W's cosignature on
  their checkpoints, and stores the credentials A and B issued it;
- P scans the files over HTTP and attributes each to the right provider and content id with a verified inclusion
  proof and a cosigned checkpoint (AIGC label and C2PA manifest, the C2PA signer anchored by the trust list);
  B's files are never attributed to A; a label forged with A's producer code resolves to nothing;
- copies stripped of metadata, re-encoded and cropped carry only the watermark (A's public, B's shared with a
  grant to P): P attributes and resolves them by the watermark token;
- P's evidence bundle verifies offline (sockets blocked) with `evidence-verify --trust-list` and the bundled
  verify.py, naming the key trusted and where it came from; a witness quorum the checkpoint lacks fails, and so does
  the bundle re-signed with another key;
- A rewriting its history is refused by W and raises monitor's alarm.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from synthguard.auth import Role, create_token
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import LedgerIntegrityError, UpstreamError
from synthguard.inspection import Inspector
from synthguard.keys import init_keys
from synthguard.ledger.checkpoint import generate_ledger_key, sign_checkpoint
from synthguard.ledger.checkpoint import vkey as log_vkey
from synthguard.server import create_app
from synthguard.trust import cosign, monitor, wmkeys
from synthguard.trust.descriptor import build, canonical
from synthguard.trust.descriptor import verify as verify_descriptor
from synthguard.trust.trustlist import for_settings
from synthguard.trust.witness import KEY_FILE, from_settings, watch
from synthguard.trust.witness_client import cosign_latest
from tests.conftest import postgres_schema
from tests.conftest import serve as _serve

BACKEND = "postgres" if os.environ.get("SYNTHGUARD_TEST_BACKEND") == "postgres" else "sqlite"
WITNESS = "witness.example/w1"
KODAK = Path(__file__).parent / "data" / "kodak" / "kodim03.png"


class World:
    """The four deployments, their servers and what they made."""

    def __init__(self, root: Path, stack: contextlib.ExitStack):
        self.root, self.stack = root, stack
        self.sg: dict[str, SynthGuard] = {}
        self.url: dict[str, str] = {}
        self.made: dict[str, str] = {}
        self.files: dict[str, Path] = {}

    def org(self, name: str, *, serve: bool = True, **extra) -> SynthGuard:
        url = self.stack.enter_context(postgres_schema()) if BACKEND == "postgres" else None
        st = Settings.load(database_url=url, home=self.root / name, **extra)
        init_keys(st)
        sg = SynthGuard.open(st)
        self.stack.callback(sg.close)
        self.sg[name] = sg
        if serve:
            base, server, thread = _serve(create_app(st, sg=sg))
            self.stack.callback(thread.join, 10)
            self.stack.callback(setattr, server, "should_exit", True)
            self.url[name] = base
        return sg

    def env(self, name: str) -> dict[str, str]:
        """What the CLI of deployment ``name`` is started with."""
        st = self.sg[name].settings
        return {"SYNTHGUARD_HOME": str(st.home), **({"SYNTHGUARD_DATABASE_URL": st.database_url}
                                                      if st.database_url else {})}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with contextlib.ExitStack() as stack, pytest.MonkeyPatch.context() as mp:
        mp.delenv("SYNTHGUARD_DATABASE_URL", raising=False)  # every organisation has its own database
        w = World(tmp_path_factory.mktemp("orgs"), stack)
        # A's image watermark is public (anyone detects it, only A resolves it), B's shared (P gets B's key sealed)
        for name, code, mode in (("A", "P-AAA", "public"), ("B", "P-BBB", "shared")):
            sg = w.org(name, producer=code, service_name=f"Provider {name}", watermark_mode=mode)
            sg.add_user("u-1")
            sg.verify_user("u-1", "mobile", identifier="+86 138 0000 0000", reference="r")
        wit = w.org("W", serve=False, witness_name=WITNESS)
        generate_ledger_key(wit.settings.keys_dir / KEY_FILE)
        for name in ("A", "B"):  # W learns the providers' log keys out of band
            key = w.sg[name].keys.ledger_private
            watch(wit.settings.home, log_vkey(w.sg[name].ledger.origin_for(key), key))
        base, server, thread = _serve(create_app(wit.settings, sg=wit))
        stack.callback(thread.join, 10)
        stack.callback(setattr, server, "should_exit", True)
        w.url["W"] = base + "/witness"
        w_vkey = from_settings(wit.settings).vkey
        p = w.org("P", producer="P-PPP", service_name="Platform P")
        trust = for_settings(p.settings)
        for name in ("A", "B"):
            signed = httpx.get(w.url[name] + "/.well-known/synthguard.json").json()
            told = verify_descriptor(build(w.sg[name]))["fingerprint"]  # the fingerprint A gave P out of band
            trust.add(signed, expected_fingerprint=told)
            trust.set_witnesses(f"P-{name * 3}", [w_vkey], 1)
            token = create_token(w.sg[name].db, Role.PLATFORM, "default", "platform P")[0]
            trust.set_credential(f"P-{name * 3}", token)
        trust.accept_grant("P-BBB", wmkeys.grant(w.sg["B"], trust.recipient(), platform="P"))
        for name, photo in (("A", "kodim23.png"), ("B", "kodim15.png")):  # real photos: PDQ survives a crop
            out, buf = w.root / f"{name}.png", io.BytesIO()
            Image.open(KODAK.parent / photo).convert("RGB").crop((0, 0, 512, 384)).save(buf, "PNG")
            w.made[name] = w.sg[name].label(buf.getvalue(), user="u-1", output=out).content_id
            w.files[name] = out
            w.sg[name].checkpoint()
            got = cosign_latest(w.sg[name].ledger_service, w.url["W"], w_vkey)
            assert got["witness"] == WITNESS
        w.w_vkey = w_vkey  # type: ignore[attr-defined]
        w.p_token = create_token(p.db, Role.PLATFORM, "default", "uploads")[0]  # type: ignore[attr-defined]
        yield w


def _scan(world: World, path: Path) -> dict:
    with path.open("rb") as fh:
        r = httpx.post(world.url["P"] + "/v1/scan", files={"file": (path.name, fh)},
                       headers={"authorization": f"Bearer {world.p_token}"}, timeout=300)
    assert r.status_code == 200, r.text
    return r.json()


def _attributions(result: dict) -> list[dict]:
    return [e["evidence"] for e in result["evidence"] if e["source"] == "trust.attribution"]


def test_each_organisation_has_its_own_database(world):
    urls = {name: sg.settings.db_url for name, sg in world.sg.items()}
    assert len(set(urls.values())) == len(urls) == 4, urls
    prefix = "postgresql" if BACKEND == "postgres" else "sqlite:///"
    assert all(u.startswith(prefix) for u in urls.values()), urls


def test_the_platform_attributes_each_file_to_its_provider_with_a_verified_proof(world):
    for name, other in (("A", "B"), ("B", "A")):
        result = _scan(world, world.files[name])
        found = _attributions(result)
        assert {"aigc", "c2pa"} <= {a["mark"] for a in found} <= {"aigc", "c2pa", "watermark"}, found
        for a in found:
            assert a["provider"]["producer"] == f"P-{name * 3}" != f"P-{other * 3}"  # never the other provider
            assert a["provider"]["key_source"] == "pinned by the operator"
            assert a["provider"]["key_fingerprint"] == for_settings(world.sg["P"].settings).find(
                f"P-{name * 3}").fingerprint
            assert a["content_id"] == world.made[name] and a["status"] == "verified", a
            assert a["proof"]["verified"] and a["proof"]["witnesses"] == [WITNESS]
            assert a["proof"]["match"] == "identical"
        aigc = next(e for e in result["evidence"] if e["source"] == "image.aigc")
        assert aigc["evidence"]["integrity"] == "unverifiable"  # another provider's code: never "invalid"
        assert not any("altered" in p for p in aigc["problems"])
        assert result["verdict"] == "ai_generated"


def test_inspect_names_the_trust_entry_and_the_trust_list_anchors_c2pa(world, tmp_path):
    path = world.files["A"]
    with path.open("rb") as fh:
        seen = httpx.post(world.url["P"] + "/v1/inspect", files={"file": (path.name, fh)}, timeout=120).json()
    assert seen["aigc_integrity"] == "unverifiable"
    assert seen["c2pa"]["state"] == "trusted"  # A's chain root is an anchor because P trusts A
    by_mark = {a["mark"]: a for a in seen["attribution"]}
    assert by_mark["c2pa"]["provider"]["name"] == "Provider A" and by_mark["c2pa"]["status"] == "attributed"
    assert by_mark["aigc"]["provider"]["key_source"] == "pinned by the operator"
    # the CLI's database-free inspector says the same
    assert {a["mark"] for a in Inspector(world.sg["P"].settings).inspect(path)["attribution"]} == {"aigc", "c2pa"}
    # a deployment that trusts nobody: valid but untrusted manifest, and "not verifiable here" -- never "invalid"
    stranger = Settings.load(database_url=None, home=tmp_path / "stranger")
    init_keys(stranger)
    alone = Inspector(stranger).inspect(path)
    assert alone["aigc_integrity"] == "unverifiable" and alone["c2pa"]["state"] == "valid"
    assert {a["status"] for a in alone["attribution"]} == {"not verifiable here"}
    assert all(a["provider"] is None for a in alone["attribution"])


def _strip_reencode_crop(src: Path, out: Path) -> Path:
    im = Image.open(src).convert("RGB")
    w, h = im.size
    im = im.crop((w // 20, h // 20, w - w // 20, h - h // 20))  # 90% crop, every metadata block dropped
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    out.write_bytes(buf.getvalue())
    return out


def test_stripped_copies_are_never_misattributed(world, tmp_path):
    for name, other in (("A", "B"), ("B", "A")):
        copy_ = _strip_reencode_crop(world.files[name], tmp_path / f"{name}-copy.jpg")
        result = _scan(world, copy_)
        assert not any(e["source"].endswith((".aigc", ".c2pa")) and e["kind"] == "label" for e in result["evidence"])
        for a in _attributions(result):
            assert (a["provider"] or {}).get("producer") != f"P-{other * 3}", a


def test_stripped_copies_are_attributed_by_the_watermark(world, tmp_path):
    """Metadata stripped, re-encoded, cropped: only the watermark is left.  P reads A's public and B's shared mark
    with one search, attributes each to its provider and resolves the token at that provider, with the proof."""
    for name in ("A", "B"):
        result = _scan(world, _strip_reencode_crop(world.files[name], tmp_path / f"{name}-wm.jpg"))
        found = [a for a in _attributions(result) if a["mark"] == "watermark"]
        assert found and found[0]["provider"]["producer"] == f"P-{name * 3}", result["evidence"]
        assert found[0]["content_id"] == world.made[name] and found[0]["status"] == "verified"
        assert found[0]["proof"]["witnesses"] == [WITNESS]



def test_a_mark_forged_onto_a_real_photo_is_present_not_resolved(world, tmp_path):
    """Anyone can embed A's public pattern with a made-up token: P reports the mark as present, attributed to A's
    key, and not resolved (A has no such record); the verdict stays none."""
    from synthguard.marking.watermark import federated as fed

    public = bytes.fromhex(for_settings(world.sg["P"].settings).find("P-AAA").descriptor["descriptor"]["watermark"]
                           ["detection_key"])
    photo = Image.open(KODAK.parent / "kodim21.png").convert("RGB")
    forged = tmp_path / "forged-mark.png"
    fed.FederatedWatermarker(public).embed(photo, b"madeup!!").save(forged, "PNG")
    result = _scan(world, forged)
    marks = [e for e in result["evidence"] if e["source"] == "image.federated.watermark"]
    assert [m["evidence"]["status"] for m in marks] == ["mark_present_not_resolved"], result["evidence"]
    assert marks[0]["evidence"]["provider"] == "Provider A" and marks[0]["evidence"]["content_id"] is None
    assert not any(a["status"] == "verified" for a in _attributions(result))
    assert result["verdict"] == "none"

def test_a_label_forged_with_a_providers_code_resolves_to_nothing(world, tmp_path):
    """Mallory labels a real photo claiming A's producer code: P attributes the claim to A, asks A, and A has no
    such record -- the claim is never reported as verified."""
    from synthguard.core import SynthGuard as SG

    st = Settings.load(database_url=None, home=tmp_path / "M", producer="P-AAA")
    init_keys(st)
    with SG.open(st) as m:
        m.add_user("u-1")
        m.verify_user("u-1", "mobile", identifier="+86 138 0000 0001", reference="r")
        forged = tmp_path / "forged.png"
        m.label(KODAK.read_bytes(), user="u-1", output=forged)
    result = _scan(world, forged)
    found = _attributions(result)
    assert found and all(a["status"] != "verified" for a in found), found
    assert any(a["status"] == "no such record at the provider" and a["provider"]["producer"] == "P-AAA"
               for a in found)
    assert not any(a["mark"] == "c2pa" and a["provider"] for a in found)  # Mallory's signer is in no pinned chain


@contextlib.contextmanager
def _no_network(monkeypatch):
    def refuse(*_a, **_k):
        raise OSError("network access during offline verification")

    with monkeypatch.context() as m:
        m.setattr(socket.socket, "connect", refuse)
        m.setattr(socket, "getaddrinfo", refuse)
        yield


OFFLINE_PY = ("import runpy, socket, sys\n"
              "def refuse(*a, **k):\n    raise OSError('network access during offline verification')\n"
              "socket.socket.connect = refuse\nsocket.getaddrinfo = refuse\nsocket.create_connection = refuse\n"
              "sys.argv = sys.argv[1:]\nrunpy.run_path(sys.argv[0], run_name='__main__')\n")


def _verify_py(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", OFFLINE_PY, str(folder / "verify.py"), *args],
                          capture_output=True, text=True, timeout=120, check=False)


def _resign(bundle: Path, out: Path) -> Path:
    """The bundle-swap attack: checkpoint and descriptor re-signed with a key the forger made, bundle made
    self-consistent again (evidence.json, checkpoint.txt, key, MANIFEST)."""
    from synthguard.evidence.verify import manifest_text
    from synthguard.ledger import public_key_pem
    from synthguard.ledger.checkpoint import log_id

    evil = Ed25519PrivateKey.generate()
    with zipfile.ZipFile(bundle) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    doc = json.loads(files["evidence.json"])
    cp = doc["trace"]["checkpoint"]
    note = sign_checkpoint(cp["origin"], cp["tree_size"], bytes.fromhex(cp["root"]), evil)
    cp.update(note=note.to_text(), signed_body=note.body(), signature=base64.b64encode(note.signature).decode(),
              public_key=public_key_pem(evil.public_key()).decode(), log_id=log_id(evil.public_key()))
    desc = copy.deepcopy(json.loads(files["provider-descriptor.json"]))
    desc["descriptor"]["log"]["vkey"] = log_vkey(cp["origin"], evil)
    desc["signature"] = base64.b64encode(evil.sign(canonical(desc["descriptor"]))).decode()
    files.update({"evidence.json": json.dumps(doc).encode(), "checkpoint.txt": cp["note"].encode(),
                  "ledger-public-key.pem": cp["public_key"].encode(),
                  "provider-descriptor.json": json.dumps(desc).encode()})
    files.pop("MANIFEST.sha256")
    files["MANIFEST.sha256"] = manifest_text(files).encode()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return out


def test_the_platforms_evidence_verifies_offline_against_the_trust_list(world, tmp_path, monkeypatch, capsys):
    from synthguard.cli import main

    bundle = tmp_path / "evidence.zip"
    for k, v in world.env("P").items():
        monkeypatch.setenv(k, v)
    assert main(["evidence", str(world.files["A"]), "-o", str(bundle), "--json"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert made["found"] and made["content_id"] == world.made["A"] and made["verified"], made
    with zipfile.ZipFile(bundle) as zf:
        assert "provider-descriptor.json" in zf.namelist()
        assert f"\u2014 {WITNESS} " in zf.read("checkpoint.txt").decode()  # the cosigned checkpoint relied on
        zf.extractall(tmp_path / "unpacked")
    # a court: its own empty home, P's trust list handed over as a file; no network at all
    court = tmp_path / "court"
    court.mkdir()
    trust_file = court / "trust-list.from-p.json"
    shutil.copy(for_settings(world.sg["P"].settings).path, trust_file)
    monkeypatch.setenv("SYNTHGUARD_HOME", str(court))
    monkeypatch.delenv("SYNTHGUARD_DATABASE_URL", raising=False)
    with _no_network(monkeypatch):
        assert main(["evidence-verify", str(bundle)]) == 7  # the court trusts nobody yet: origin not verified
        capsys.readouterr()
        assert main(["evidence-verify", str(bundle), "--trust-list", str(trust_file), "--json"]) == 0
    checked = json.loads(capsys.readouterr().out)
    assert checked["trusted_key"]["source"] == "trust-list"
    assert "Provider A (pinned by the operator)" in checked["trusted_key"]["label"]
    assert checked["trusted_key"]["fingerprint"].startswith("SHA256:")
    names = {c["check"] for c in checked["checks"] if c["ok"]}
    assert {"witness-cosignatures", "provider-descriptor", "checkpoint-signature", "inclusion-proof"} <= names
    done = _verify_py(tmp_path / "unpacked", str(bundle), "--trust-list", str(trust_file))
    assert done.returncode == 0 and done.stdout.strip().endswith("OK"), done.stdout + done.stderr
    assert "witness cosignatures: 1 of the 1 required verify (witness.example/w1)" in done.stdout
    assert "of Provider A, log id" in done.stdout and "(pinned by the operator)" in done.stdout
    assert "provider descriptor of Provider A (P-AAA" in done.stdout

    # the list requires two witnesses: the checkpoint carries one cosignature, so it fails
    strict = json.loads(trust_file.read_text())
    other_witness = cosign.vkey("witness.example/w2", Ed25519PrivateKey.generate())
    for e in strict["providers"]:
        e["witnesses"], e["quorum"] = [*e["witnesses"], other_witness], 2
    strict_file = court / "strict.json"
    strict_file.write_text(json.dumps(strict))
    with _no_network(monkeypatch):
        assert main(["evidence-verify", str(bundle), "--trust-list", str(strict_file)]) == 7
    assert "1 of the 2 required witness cosignatures" in capsys.readouterr().out
    done = _verify_py(tmp_path / "unpacked", str(bundle), "--trust-list", str(strict_file))
    assert done.returncode == 1 and "FAIL  witness cosignatures: 1 of the 2" in done.stdout, done.stdout

    # the bundle re-signed with another key: every verifier refuses it
    forged = _resign(bundle, tmp_path / "resigned.zip")
    with _no_network(monkeypatch):
        assert main(["evidence-verify", str(forged), "--trust-list", str(trust_file)]) == 7
    assert "origin not verified" in capsys.readouterr().out
    done = _verify_py(tmp_path / "unpacked", str(forged), "--trust-list", str(trust_file))
    assert done.returncode == 1 and "FAIL  origin not verified" in done.stdout, done.stdout
    assert "FAIL  provider descriptor" in done.stdout


def test_a_provider_rewriting_its_history_is_caught_by_the_witness_and_the_monitor(world, tmp_path, monkeypatch,
                                                                                  capsys):
    from synthguard.cli import main

    a = world.sg["A"]
    pinned = for_settings(world.sg["P"].settings).find("P-AAA").vkey
    for k, v in world.env("P").items():
        monkeypatch.setenv(k, v)
    assert main(["monitor", world.url["A"], "--vkey", pinned, "--json"]) == 0  # P follows A's log
    capsys.readouterr()
    size = a.latest_checkpoint()["tree_size"]
    # A restores its keys into a fresh database and writes another history: same key, same origin
    fork = World(tmp_path, world.stack)
    fork_home = tmp_path / "A-fork"
    shutil.copytree(a.settings.home / "keys", fork_home / "keys")
    sg = fork.org("A-fork", producer="P-AAA")
    with sg.db.session() as s:
        for i in range(size + 2):
            sg.ledger.append(s, "generation", {"content_id": f"rewritten-{i}"})
    sg.checkpoint()
    with pytest.raises(UpstreamError, match="422"):  # W: no consistency with what it cosigned
        cosign_latest(sg.ledger_service, world.url["W"], world.w_vkey, old_size=size)
    with pytest.raises(LedgerIntegrityError, match="ALARM"):
        monitor.check(fork.url["A-fork"], pinned, world.sg["P"].settings.home / "monitor-state.json")
    assert main(["monitor", fork.url["A-fork"], "--vkey", pinned]) == 7


def test_evidence_over_http_at_the_platform(world):
    """The same journey through the platform's HTTP API: a bundle for B's file, then P verifies it (no network)."""
    headers = {"authorization": f"Bearer {world.p_token}"}
    with world.files["B"].open("rb") as fh:
        r = httpx.post(world.url["P"] + "/v1/evidence", files={"file": ("B.png", fh)}, headers=headers, timeout=300)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text[:300]
    assert r.headers["x-synthguard-found"] == "true"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        doc = json.loads(zf.read("evidence.json"))
        assert json.loads(zf.read("provider-descriptor.json"))["descriptor"]["producer"] == "P-BBB"
    assert doc["trace"]["content_id"] == world.made["B"] and doc["provider"]["producer"] == "P-BBB"
    assert doc["provider"]["key_source"] == "pinned by the operator" and doc["verification"]["ok"]
    v = httpx.post(world.url["P"] + "/v1/evidence/verify", files={"bundle": ("e.zip", r.content)}, headers=headers,
                   timeout=120).json()
    assert v["ok"] and v["content_id"] == world.made["B"] and "Provider B" in v["trusted_key"]["label"]
    # a victim's server that never heard of B: not verifiable there, unless the victim pins B's verifier key
    a = world.url["A"]
    tok = create_token(world.sg["A"].db, Role.VICTIM, "default", "victim")[0]
    auth = {"authorization": f"Bearer {tok}"}
    v = httpx.post(a + "/v1/evidence/verify", files={"bundle": ("e.zip", r.content)}, headers=auth, timeout=120).json()
    assert not v["ok"] and v["trusted_key"] is None
    b_vkey = for_settings(world.sg["P"].settings).find("P-BBB").vkey
    v = httpx.post(a + "/v1/evidence/verify", files={"bundle": ("e.zip", r.content)}, data={"trusted_key": [b_vkey]},
                   headers=auth, timeout=120).json()
    assert v["ok"] and v["trusted_key"]["source"] == "pinned", v
