"""Issue 19: provider and witness as separate deployments (own homes, own databases, own keys) over HTTP on
loopback; the provider's CLI asks for a cosignature, and a rewritten history is refused."""

from __future__ import annotations

import json
import shutil

import pytest

from synthguard.cli import main
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.keys import init_keys
from synthguard.server import create_app
from tests.conftest import serve as _serve

pytestmark = pytest.mark.usefixtures("own_databases")  # one database per organisation


def _grow(sg: SynthGuard, n: int, tag: str) -> None:
    with sg.db.session() as s:
        for i in range(n):
            sg.ledger.append(s, "generation", {"content_id": f"{tag}{i}"})
        sg.ledger.checkpoint(s, sg.keys.ledger_private)


@pytest.fixture
def orgs(tmp_path, monkeypatch):
    w_settings = Settings.load(database_url=None, home=tmp_path / "witness", witness_name="witness.example/w1")
    init_keys(w_settings)
    monkeypatch.setenv("SYNTHGUARD_HOME", str(w_settings.home))
    monkeypatch.setenv("SYNTHGUARD_WITNESS_NAME", "witness.example/w1")
    assert main(["witness", "init", "--json"]) == 0
    p_settings = Settings.load(database_url=None, home=tmp_path / "provider")
    init_keys(p_settings)
    provider = SynthGuard.open(p_settings)
    monkeypatch.setenv("SYNTHGUARD_HOME", str(p_settings.home))
    monkeypatch.delenv("SYNTHGUARD_WITNESS_NAME")
    from synthguard.ledger.checkpoint import vkey

    log_vkey = vkey(provider.ledger.origin_for(provider.keys.ledger_private), provider.keys.ledger_private)
    monkeypatch.setenv("SYNTHGUARD_HOME", str(w_settings.home))
    monkeypatch.setenv("SYNTHGUARD_WITNESS_NAME", "witness.example/w1")
    assert main(["witness", "watch", log_vkey]) == 0
    witness_core = SynthGuard.open(Settings.load())
    from synthguard.trust.witness import from_settings

    w_vkey = from_settings(witness_core.settings).vkey
    url, server, thread = _serve(create_app(witness_core.settings, sg=witness_core))
    monkeypatch.setenv("SYNTHGUARD_HOME", str(p_settings.home))
    monkeypatch.delenv("SYNTHGUARD_WITNESS_NAME")
    yield {"provider": provider, "url": url + "/witness", "w_vkey": w_vkey, "p_home": p_settings.home}
    server.should_exit = True
    thread.join(10)
    provider.close()
    witness_core.close()


def test_the_provider_gets_each_new_checkpoint_cosigned_and_a_rewrite_is_refused(orgs, capsys, tmp_path,
                                                                                  monkeypatch):
    p = orgs["provider"]
    for step in range(2):
        _grow(p, 3, f"s{step}-")
        capsys.readouterr()
        assert main(["witness", "cosign", orgs["url"], "--vkey", orgs["w_vkey"], "--json"]) == 0
        got = json.loads(capsys.readouterr().out)
        assert got["tree_size"] == 3 * (step + 1) and got["witness"] == "witness.example/w1"
    # the provider rebuilds its log from an old backup with the same key and tries to get the new history cosigned
    fork_home = tmp_path / "fork"
    shutil.copytree(orgs["p_home"] / "keys", fork_home / "keys")
    fork = SynthGuard.open(Settings.load(database_url=None, home=fork_home))
    _grow(fork, 8, "rewritten-")
    monkeypatch.setenv("SYNTHGUARD_HOME", str(fork_home))
    capsys.readouterr()
    assert main(["witness", "cosign", orgs["url"], "--vkey", orgs["w_vkey"]]) != 0
    err = capsys.readouterr().err
    assert "422" in err or "history" in err
    fork.close()


def test_the_witness_route_answers_with_the_spec_statuses(orgs):
    import httpx

    unknown = "old 0\n\nunknown.example/log\n1\nAAAA\n\n\u2014 x AAAA\n".encode()
    r = httpx.post(orgs["url"] + "/add-checkpoint", content=unknown)
    assert r.status_code == 404
    assert httpx.post(orgs["url"] + "/add-checkpoint", content=b"garbage").status_code == 400
    _grow(orgs["provider"], 2, "a")
    from synthguard.trust.witness_client import cosign_latest

    cosign_latest(orgs["provider"].ledger_service, orgs["url"], orgs["w_vkey"])
    with orgs["provider"].db.session() as s:
        note = orgs["provider"].ledger.latest_checkpoint(s).to_text()
    r = httpx.post(orgs["url"] + "/add-checkpoint", content=f"old 0\n\n{note}".encode())
    assert r.status_code == 409 and r.text == "2\n" and r.headers["content-type"].startswith("text/x.tlog.size")
