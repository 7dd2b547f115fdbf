"""Issue 19: ``monitor`` follows a provider's log from outside and alarms on a rewritten history or a split view;
k-of-n witness cosignatures."""

from __future__ import annotations

import shutil

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import LedgerIntegrityError
from synthguard.ledger.checkpoint import vkey
from synthguard.server import create_app
from synthguard.trust import cosign
from synthguard.trust.monitor import check

pytestmark = pytest.mark.usefixtures("own_databases")  # one database per organisation

BASE = "https://provider.example"


def _grow(sg, n, tag):
    with sg.db.session() as s:
        for i in range(n):
            sg.ledger.append(s, "generation", {"content_id": f"{tag}{i}"})
        sg.ledger.checkpoint(s, sg.keys.ledger_private)


def _getter(sg):
    client = TestClient(create_app(sg.settings, sg=sg))

    def get(url):
        r = client.get(url.removeprefix(BASE))
        assert r.status_code == 200, r.text
        return r.json()
    return get


def test_monitor_follows_growth_and_alarms_on_a_rewrite(sg, settings, tmp_path):
    pinned = vkey(sg.ledger.origin_for(sg.keys.ledger_private), sg.keys.ledger_private)
    state = tmp_path / "monitor.json"
    _grow(sg, 3, "a")
    first = check(BASE, pinned, state, get=_getter(sg))
    assert first["tree_size"] == 3 and first["consistent"] is None
    _grow(sg, 4, "b")
    assert check(BASE, pinned, state, get=_getter(sg))["consistent"] is True
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    # the provider restores a backup and rewrites history with the same key: signed, but not consistent
    fork_home = tmp_path / "fork"
    shutil.copytree(settings.home / "keys", fork_home / "keys")
    fork = SynthGuard.open(Settings.load(database_url=None, home=fork_home))
    _grow(fork, 9, "rewritten")
    with pytest.raises(LedgerIntegrityError, match="ALARM"):
        check(BASE, pinned, state, get=_getter(fork))
    fork.close()


def test_monitor_refuses_a_checkpoint_not_signed_by_the_pinned_key(sg, tmp_path):
    _grow(sg, 2, "x")
    other = vkey(sg.ledger.origin_for(sg.keys.ledger_private), Ed25519PrivateKey.generate())
    with pytest.raises(LedgerIntegrityError):
        check(BASE, other, tmp_path / "m.json", get=_getter(sg))


def test_k_of_n_witness_cosignatures():
    body = "example.org/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    keys = {f"w{i}.example/w": Ed25519PrivateKey.generate() for i in range(3)}
    lines = "".join(cosign.sign_line(n, k, body) for n, k in list(keys.items())[:2])
    note = body + "\n\u2014 example.org/log AAAA\n" + lines
    vkeys = [cosign.vkey(n, k) for n, k in keys.items()]
    assert len(cosign.quorum(note, vkeys, 2)) == 2
    with pytest.raises(LedgerIntegrityError, match="2 of the required 3"):
        cosign.quorum(note, vkeys, 3)
