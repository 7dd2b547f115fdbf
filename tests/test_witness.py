"""Issue 19: a witness cosigns a provider's checkpoint only after a consistency proof from the last one it
cosigned (c2sp.org/tlog-witness, tlog-cosignature), so a rewritten or forked history is caught."""

from __future__ import annotations

import base64
import shutil

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import ForbiddenError, InputError, NotFoundError, UpstreamError
from synthguard.ledger.checkpoint import vkey as log_vkey
from synthguard.trust import cosign
from synthguard.trust.witness import InconsistentCheckpointError, StaleSizeError, Witness, parse_request
from synthguard.trust.witness_client import cosign_latest, request_body

pytestmark = pytest.mark.usefixtures("own_databases")  # one database per organisation


def _grow(sg: SynthGuard, n: int, tag: str = "x") -> str:
    with sg.db.session() as s:
        for i in range(n):
            sg.ledger.append(s, "generation", {"content_id": f"{tag}{i}"})
        cp = sg.ledger.checkpoint(s, sg.keys.ledger_private)
    return cp.to_text()


@pytest.fixture
def log(sg):
    origin = sg.ledger.origin_for(sg.keys.ledger_private)
    return sg, origin, log_vkey(origin, sg.keys.ledger_private)


@pytest.fixture
def witness(tmp_path, log):
    _, origin, vk = log
    return Witness("witness.example/w1", Ed25519PrivateKey.generate(), {origin: vk}, tmp_path / "w" / "state.json")


def direct(witness):
    """A transport that hands the request to the witness object and maps its errors to the spec's statuses."""
    def post(url, body):
        try:
            return 200, witness.add_checkpoint(body.decode())
        except StaleSizeError as exc:
            return 409, f"{exc.size}\n"
        except Exception as exc:  # noqa: BLE001 - every other refusal is a status with its reason
            return getattr(exc, "http_status", 500), str(exc)
    return post


def test_a_growing_log_is_cosigned_at_every_step(log, witness):
    sg, origin, _ = log
    for step in range(3):
        _grow(sg, 5, f"s{step}-")
        got = cosign_latest(sg.ledger_service, "http://w", witness.vkey, post=direct(witness))
        assert got["witness"] == "witness.example/w1"
        assert cosign.verify(got["checkpoint"], witness.vkey) is not None
        assert witness.latest(origin)["size"] == 5 * (step + 1)
    other = cosign.vkey("witness.example/w1", Ed25519PrivateKey.generate())
    assert cosign.verify(got["checkpoint"], other) is None  # same name, another key: not a cosignature


def test_a_rewritten_history_is_refused_with_422(log, witness, settings, tmp_path):
    sg, origin, _ = log
    _grow(sg, 4)
    cosign_latest(sg.ledger_service, "http://w", witness.vkey, post=direct(witness))
    # the provider restores an older copy of its database and writes a different history with the same key
    fork_home = tmp_path / "fork"
    shutil.copytree(settings.home / "keys", fork_home / "keys")
    fork = SynthGuard.open(Settings.load(database_url=None, home=fork_home))
    fork_note = _grow(fork, 6, "forged-")
    with pytest.raises(InconsistentCheckpointError):
        with fork.db.session() as s:  # a proof from 4 in the forked log does not lead from the cosigned root
            proof = fork.ledger.consistency_proof(s, 4, 6).hashes
        witness.add_checkpoint(request_body(4, proof, fork_note).decode())
    with pytest.raises(UpstreamError, match="422|history"):
        cosign_latest(fork.ledger_service, "http://w", witness.vkey, old_size=4, post=direct(witness))
    assert witness.latest(origin)["size"] == 4  # nothing of the fork was stored
    fork.close()


def test_same_size_other_root_is_a_fork(log, witness, settings, tmp_path):
    sg, _, _ = log
    note = _grow(sg, 3)
    witness.add_checkpoint(request_body(0, (), note).decode())
    fork_home = tmp_path / "fork2"
    shutil.copytree(settings.home / "keys", fork_home / "keys")
    fork = SynthGuard.open(Settings.load(database_url=None, home=fork_home))
    fork_note = _grow(fork, 3, "other-")
    with pytest.raises(InconsistentCheckpointError):
        witness.add_checkpoint(request_body(3, (), fork_note).decode())
    fork.close()


def test_stale_old_size_is_409_with_the_cosigned_size(log, witness):
    sg, _, _ = log
    note = _grow(sg, 2)
    witness.add_checkpoint(request_body(0, (), note).decode())
    note = _grow(sg, 2)
    with pytest.raises(StaleSizeError) as err:
        witness.add_checkpoint(request_body(0, (), note).decode())
    assert err.value.size == 2 and err.value.http_status == 409
    got = cosign_latest(sg.ledger_service, "http://w", witness.vkey, post=direct(witness))  # recovers from the 409
    assert got["tree_size"] == 4


def test_unknown_origin_404_and_forged_signature_403(log, witness, tmp_path):
    sg, origin, _ = log
    other = SynthGuard.open(Settings.load(database_url=None, home=tmp_path / "other"))
    from synthguard.keys import init_keys

    init_keys(other.settings)
    with pytest.raises(NotFoundError):
        witness.add_checkpoint(request_body(0, (), _grow(other, 1)).decode())
    # a checkpoint with our origin but signed by another key
    with other.db.session() as s:
        other.ledger.origin = origin
        forged = other.ledger.checkpoint(s, other.keys.ledger_private).to_text()
    with pytest.raises(ForbiddenError):
        witness.add_checkpoint(request_body(0, (), forged).decode())
    other.close()


def test_request_parsing_follows_the_spec():
    assert parse_request("old 0\n\no\n1\nx\n\n— o AAAA\n").old_size == 0
    h = base64.b64encode(b"\x01" * 32).decode()
    assert len(parse_request(f"old 5\n{h}\n{h}\n\ncp").proof) == 2
    for bad in ("old 01\n\ncp", "old -1\n\ncp", "new 1\n\ncp", "old 1\nnot base64!\n\ncp",
                "old 1\n" + f"{h}\n" * 64 + "\ncp", "old 1\n" + base64.b64encode(b"x").decode() + "\n\ncp"):
        with pytest.raises(InputError):
            parse_request(bad)


def test_cosignature_matches_the_spec_layout():
    key = Ed25519PrivateKey.generate()
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    line = cosign.sign_line("witness.example.com/w1", key, body, timestamp=1679315147)
    blob = base64.b64decode(line.split()[-1])
    assert line.startswith("\u2014 witness.example.com/w1 ") and len(blob) == 4 + 8 + 64
    assert int.from_bytes(blob[4:12], "big") == 1679315147
    key.public_key().verify(blob[12:], b"cosignature/v1\ntime 1679315147\n" + body.encode())
    note = body + "\n\u2014 example.com/behind-the-sofa AAAA\n" + line
    assert cosign.verify(note, cosign.vkey("witness.example.com/w1", key)).timestamp == 1679315147
