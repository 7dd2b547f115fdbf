"""C2SP conformance of the ledger's checkpoints (issue 20): the specs' own examples, verifier keys, configurable
origins and optional extension lines (c2sp.org/tlog-checkpoint, c2sp.org/signed-note)."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from synthguard.cli import main
from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import ConfigError, LedgerIntegrityError, ValidationError
from synthguard.ledger import (
    default_origin,
    parse_checkpoint,
    parse_vkey,
    sign_checkpoint,
    verify_checkpoint,
    verify_note,
    vkey,
)

# tlog-checkpoint.md, "Transparency Log Checkpoints": a conformant checkpoint without extension lines
SPEC_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "\u2014 example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+"
    "zyWE+xeMcTOAYQ8=\n"
)
# signed-note.md, "Verifier keys / Example": this vkey verifies this note
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = ("This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTg"
             "K7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
ROOT = bytes(range(32))


def test_the_spec_checkpoint_without_extension_lines_parses():
    cp = parse_checkpoint(SPEC_CHECKPOINT)
    assert (cp.origin, cp.tree_size, cp.timestamp, cp.log_id) == ("example.com/behind-the-sofa", 20852163, None, None)
    assert cp.root_hash.hex().startswith("0ac5186a") and cp.to_text() == SPEC_CHECKPOINT


def test_the_spec_vkey_verifies_the_spec_note_and_nothing_else():
    assert verify_note(SPEC_NOTE, SPEC_VKEY) == "This is an example message.\n"
    assert parse_vkey(SPEC_VKEY)[0] == "example.com/foo"
    with pytest.raises(LedgerIntegrityError):
        verify_note(SPEC_NOTE.replace("example message", "example massage"), SPEC_VKEY)
    other = vkey("example.com/foo", Ed25519PrivateKey.generate())
    with pytest.raises(LedgerIntegrityError):
        verify_note(SPEC_NOTE, other)
    for bad in ("example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # key ID off by one
                "example.com/foo+530d903a+AgkyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",  # not type 0x01
                "example.com/foo+530d903a", "+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"):
        with pytest.raises(ValidationError):
            parse_vkey(bad)


@pytest.mark.parametrize("extensions", [True, False])
def test_our_checkpoints_are_signed_notes_under_our_vkey(extensions):
    key = Ed25519PrivateKey.generate()
    cp = sign_checkpoint("example.org/log1", 7, ROOT, key, extensions=extensions)
    text = cp.to_text()
    assert len(cp.body().splitlines()) == (5 if extensions else 3)
    assert verify_note(text, vkey("example.org/log1", key)) == cp.body()  # a generic signed-note verifier agrees
    parsed = parse_checkpoint(text)
    assert parsed == cp
    verify_checkpoint(parsed, key.public_key())
    cosigned = text + "\u2014 witness.example/w1 " + "A" * 92 + "\n"  # unknown signatures are ignored
    assert parse_checkpoint(cosigned) == cp and verify_note(cosigned, vkey("example.org/log1", key))


def test_default_origins_are_unique_per_log_and_origins_are_checked():
    a, b = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    assert default_origin(a) != default_origin(b) and default_origin(a) == default_origin(a.public_key())
    for bad in ("", "has space", "a+b"):
        with pytest.raises(ValidationError):
            sign_checkpoint(bad, 1, ROOT, a)
    with pytest.raises(ConfigError):
        Settings.load(ledger_origin="not unique+ok")


def test_configured_origin_signs_and_verifies_end_to_end(settings, capsys):
    custom = settings.model_copy(update={"ledger_origin": "ledger.example.org/synthguard/7",
                                         "checkpoint_extensions": False})
    with SynthGuard.open(custom) as sg:
        cp = sg.checkpoint()
        assert cp["origin"] == "ledger.example.org/synthguard/7" and cp["note"].count("\n") == 5
        assert verify_note(cp["note"], cp["vkey"]) == cp["signed_body"]
        assert sg.verify_ledger()["ok"]
        assert sg.ledger_vkey() == cp["vkey"]
    with SynthGuard.open(settings) as sg:  # the default: an origin derived from this log's key
        cp = sg.checkpoint()
        assert cp["origin"] == default_origin(sg.keys.ledger_public) and "\nlog-id " in cp["note"]
    assert main(["ledger", "vkey", "--json"]) in (0, None)
    out = json.loads(capsys.readouterr().out)
    assert out["vkey"].startswith(out["origin"] + "+") and parse_vkey(out["vkey"])[0] == out["origin"]
