"""Named hash banks (DS-09 feature library with audit; US-04 / CC-12 stay-down; StopNCII-style hash-only intake)."""

from __future__ import annotations

import functools
import json

import pytest
from sqlalchemy import text

from synthguard.cli import main
from synthguard.errors import ConflictError, NotFoundError, StoreError, UnsupportedMediaError, ValidationError
from synthguard.fingerprint.banks import BankMatch, Banks, check_hash
from synthguard.fingerprint.pdq import PDQHasher
from synthguard.media import Media
from synthguard.store import bank_repo
from tests.conftest import data_file, image_bytes, kodak


def _banks(sg, **kw) -> Banks:
    """Banks over the test's database, built as the core builds them (units of work, the light change check)."""
    return Banks(sg.db.unit_of_work, sg.ledger, latest_change=functools.partial(bank_repo.latest_change, sg.db), **kw)

BRIDGE = ["aaa-orig.jpg", "blur-a-little.jpg", "blur-a-lot.jpg", "high-contrast.jpg", "high-saturation.jpg",
          "sharpen-a-little.jpg", "sharpen-a-lot.jpg", "shrink-a-little.jpg", "shrink-a-lot.jpg",
          "square-128x128.jpg", "square-256x256.jpg", "square-512x512.jpg"]
DIH = ["bridge-2-rotate-90.jpg", "bridge-3-rotate-180.jpg", "bridge-4-rotate-270.jpg", "bridge-5-flipx.jpg",
       "bridge-6-flipy.jpg", "bridge-7-flip-plus-1.jpg", "bridge-8-flip-minus-1.jpg"]
H0 = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"


def near(h: str, bits: int) -> str:
    """``h`` with its lowest ``bits`` bits flipped (Hamming distance exactly ``bits``)."""
    return f"{int(h, 16) ^ ((1 << bits) - 1):064x}"


def pdq(*parts: str) -> str:
    return PDQHasher().hash(Media.open(data_file(*parts))).value


@pytest.fixture
def banks(sg) -> Banks:
    return _banks(sg)


def test_round_trip_create_add_query_remove(banks):
    created = banks.create("ncii-victim-reports", description="TAKE IT DOWN requests (US-04)")
    assert created == {"name": "ncii-victim-reports", "kind": "pdq", "max_distance": 31, "enabled": True,
                       "tenant": "default", "description": "TAKE IT DOWN requests (US-04)", "entries": 0, "removed": 0}
    e1 = banks.add("ncii-victim-reports", H0.upper(), reason="request R-1", actor="trust-op-1", quality=90)
    e2 = banks.add("ncii-victim-reports", near(H0, 40), reason="request R-2", actor="trust-op-1")
    assert banks.query("pdq", near(H0, 3)) == [BankMatch("ncii-victim-reports", e1, 3, "request R-1", kind="pdq")]
    assert [(m.entry_id, m.distance) for m in banks.query("pdq", near(H0, 31))] == [(e2, 9), (e1, 31)]  # closest first
    assert banks.query("pdq", near(H0, 32)) == [BankMatch("ncii-victim-reports", e2, 8, "request R-2", kind="pdq")]
    removed = banks.remove("ncii-victim-reports", e1, reason="requester withdrew", actor="trust-op-2")
    assert removed["removed_by"] == "trust-op-2" and removed["removed_reason"] == "requester withdrew"
    assert banks.query("pdq", H0) == []
    [row] = banks.list()
    assert (row["entries"], row["removed"]) == (1, 1)
    entries = banks.entries("ncii-victim-reports")
    assert [e["id"] for e in entries] == [e1, e2] and entries[0]["hash"] == H0 and entries[0]["quality"] == 90
    assert [e["id"] for e in banks.entries("ncii-victim-reports", include_removed=False)] == [e2]
    with pytest.raises(ConflictError, match="already removed"):
        banks.remove("ncii-victim-reports", e1, reason="again", actor="trust-op-2")
    # removed hashes may be re-added
    assert banks.add("ncii-victim-reports", H0, reason="new request R-3", actor="trust-op-1") > e2


def test_disable_and_bank_filter(banks):
    banks.create("removed-content")
    banks.create("labeled-outputs")
    a = banks.add("removed-content", H0, reason="case C-1 removal", actor="mod-1")
    b = banks.add("labeled-outputs", near(H0, 2), reason="record SG01", actor="system")
    assert {(m.bank, m.entry_id) for m in banks.query("pdq", H0)} == {("removed-content", a), ("labeled-outputs", b)}
    assert banks.query("pdq", H0)[0].bank == "removed-content"  # closest first
    assert [m.bank for m in banks.query("pdq", H0, banks=["labeled-outputs"])] == ["labeled-outputs"]
    assert banks.enable("removed-content", False, actor="mod-2", reason="audit")["enabled"] is False
    assert [m.bank for m in banks.query("pdq", H0)] == ["labeled-outputs"]
    assert banks.query("pdq", H0, banks=["removed-content"]) == []
    banks.enable("removed-content", True, actor="mod-2")
    assert len(banks.query("pdq", H0)) == 2
    with pytest.raises(NotFoundError, match="no bank 'nope'"):
        banks.query("pdq", H0, banks=["nope"])


def test_per_bank_thresholds(banks):
    banks.create("strict", max_distance=4)
    banks.create("loose", max_distance=60)
    s = banks.add("strict", H0, reason="r", actor="a")
    lo = banks.add("loose", H0, reason="r", actor="a")
    assert [(m.bank, m.entry_id) for m in banks.query("pdq", near(H0, 4))] == [("loose", lo), ("strict", s)]
    assert [m.bank for m in banks.query("pdq", near(H0, 5))] == ["loose"]
    assert [m.bank for m in banks.query("pdq", near(H0, 60))] == ["loose"]
    assert banks.query("pdq", near(H0, 61)) == []
    for bad in (-1, 129, "31", 1.5, True):
        with pytest.raises(ValidationError, match="max distance"):
            banks.create("x-bad", max_distance=bad)
    with pytest.raises(ValidationError, match=r"0\.\.0"):
        banks.create("sha-bad", kind="sha256", max_distance=3)


def test_sha256_bank_exact(banks):
    img = image_bytes()
    sha = Media.from_bytes(img).sha256
    assert banks.create("removed-files", kind="sha256")["max_distance"] == 0
    e = banks.add_media("removed-files", img, reason="case C-9", actor="mod-1")
    assert banks.entries("removed-files")[0]["hash"] == sha
    assert banks.query("sha256", sha) == [BankMatch("removed-files", e, 0, "case C-9", kind="sha256")]
    assert banks.query("sha256", near(sha, 1)) == []
    assert banks.query("pdq", sha) == []  # a PDQ query never looks at SHA-256 banks
    got = banks.query_media(img)
    assert [(m.bank, m.distance) for m in got] == [("removed-files", 0)]
    # SHA-256 banks take any file type; PDQ banks only images
    wav = wav_bytes()
    w = banks.add_media("removed-files", wav, reason="case C-10 audio", actor="mod-1")
    assert [m.entry_id for m in banks.query_media(wav)] == [w]
    banks.create("pdq-bank")
    with pytest.raises(UnsupportedMediaError, match="expected an image"):
        banks.add_media("pdq-bank", wav, reason="r", actor="a")


def wav_bytes() -> bytes:
    import io
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(8000)
        f.writeframes(bytes(1600))
    return buf.getvalue()


def test_audit_rows_and_ledger_events(sg, banks):
    banks.create("ncii-victim-reports", actor="admin-1")
    e = banks.add("ncii-victim-reports", H0, reason="request R-1", actor="op-1")
    banks.enable("ncii-victim-reports", False, actor="op-9", reason="maintenance")
    banks.remove("ncii-victim-reports", e, reason="duplicate", actor="op-2")
    log = banks.audit("ncii-victim-reports")
    assert [(a["action"], a["actor"], a["reason"], a["entry_id"]) for a in log] == [
        ("create", "admin-1", "", None), ("add", "op-1", "request R-1", e),
        ("disable", "op-9", "maintenance", None), ("remove", "op-2", "duplicate", e)]
    assert all(a["at"] and a["ledger_index"] is not None for a in log)
    with sg.db.session() as s:  # DS-09: the ledger holds hashes only, never the free-text reason
        entry = sg.ledger.entry(s, log[1]["ledger_index"])
    assert entry.kind == "feature"
    assert entry.body["hash"] == H0 and entry.body["event"] == "bank_add"
    assert "request R-1" not in json.dumps(entry.body)
    sg.checkpoint()
    assert sg.verify_ledger()["ok"] is True


def test_audit_table_is_append_only(sg, banks):
    banks.create("b1")
    for stmt in ("UPDATE hash_bank_audit SET actor = 'mallory'", "DELETE FROM hash_bank_audit"):
        with pytest.raises(StoreError, match="append-only"), sg.db.session() as s:
            s.execute(text(stmt))
    assert banks.audit()[0]["actor"] == "system"


def test_failed_add_writes_nothing(sg, banks):
    banks.create("b1")
    with pytest.raises(ValidationError):
        banks.add("b1", "xyz", reason="r", actor="a")
    assert len(banks.audit()) == 1 and banks.entries("b1") == []


@pytest.mark.parametrize("value, match", [
    ("", "got 0 characters"),
    ("abc", "got 3 characters"),
    (H0[:-1] + "g", "non-hex 'g'"),
    (H0 + "00", "got 66 characters"),
    ("0x" + H0[2:], "non-hex 'x'"),
])
def test_hash_validation_names_the_format(banks, value, match):
    banks.create("ncii")
    banks.create("files", kind="sha256")
    with pytest.raises(ValidationError, match=match) as err:
        banks.add("ncii", value, reason="r", actor="a")
    assert "a pdq hash must be 64 hexadecimal characters" in err.value.message
    assert "never the image" in err.value.hint
    with pytest.raises(ValidationError, match="sha256 hash must be 64 hexadecimal characters"):
        banks.add("files", value, reason="r", actor="a")
    with pytest.raises(ValidationError, match="pdq hash must be"):
        banks.query("pdq", value)


def test_other_bad_input(banks):
    banks.create("ncii")
    with pytest.raises(ValidationError, match="unknown hash kind 'md5'"):
        banks.create("md5s", kind="md5")
    with pytest.raises(ValidationError, match="bad bank name"):
        banks.create("Has Spaces")
    with pytest.raises(ValidationError, match="reason is required"):
        banks.add("ncii", H0, reason=" ", actor="a")
    with pytest.raises(ValidationError, match="actor is required"):
        banks.add("ncii", H0, reason="r", actor="")
    with pytest.raises(ValidationError, match="quality"):
        banks.add("ncii", H0, reason="r", actor="a", quality=101)
    with pytest.raises(ValidationError, match="PDQ quality 10 is below 50"):
        banks.add("ncii", H0, reason="r", actor="a", quality=10)
    with pytest.raises(ValidationError, match="unknown hash kind"):
        banks.query("phash", H0)
    check_hash("sha256", " " + H0.upper() + "\n")  # surrounding whitespace and case are forgiven


def test_conflicts_and_not_found(banks):
    banks.create("ncii")
    with pytest.raises(ConflictError, match="bank 'ncii' already exists"):
        banks.create("ncii", kind="sha256")
    e = banks.add("ncii", H0, reason="r", actor="a")
    with pytest.raises(ConflictError, match=f"as entry {e}"):
        banks.add("ncii", H0.upper(), reason="r2", actor="a")
    for call in (lambda: banks.add("nope", H0, reason="r", actor="a"), lambda: banks.entries("nope"),
                 lambda: banks.remove("nope", e, reason="r", actor="a"), lambda: banks.enable("nope", False),
                 lambda: banks.add_media("nope", kodak(), reason="r", actor="a")):
        with pytest.raises(NotFoundError, match="no bank 'nope'") as err:
            call()
        assert err.value.exit_code == 4 and "bank list" in err.value.hint
    banks.create("other")
    with pytest.raises(NotFoundError, match=f"no entry {e} in bank 'other'"):
        banks.remove("other", e, reason="r", actor="a")


def test_add_via_file_and_low_quality_refused(banks):
    banks.create("removed-content")
    e = banks.add_media("removed-content", data_file("pdq", "bridge-mods", "aaa-orig.jpg"), reason="C-1",
                        actor="mod")
    [row] = banks.entries("removed-content")
    assert row["id"] == e and row["quality"] == 100 and row["hash"] == pdq("pdq", "bridge-mods", "aaa-orig.jpg")
    with pytest.raises(ValidationError, match="PDQ quality 0 is below 50") as err:
        banks.add_media("removed-content", data_file("pdq", "misc-images", "small.jpg"), reason="C-2", actor="mod")
    assert err.value.path and err.value.path.endswith("small.jpg")
    assert len(banks.entries("removed-content")) == 1


def test_bridge_mods_match_the_original(banks):
    """Meta's bridge edits (blur, contrast, sharpen, shrink, crops) all match the original within 31 bits."""
    banks.create("removed-content")
    e = banks.add_media("removed-content", data_file("pdq", "bridge-mods", "aaa-orig.jpg"), reason="C-1",
                        actor="mod")
    dist = {}
    for name in BRIDGE:
        got = banks.query_media(data_file("pdq", "bridge-mods", name))
        assert [m.entry_id for m in got] == [e], name
        dist[name] = got[0].distance
    assert max(dist.values()) <= 16 and dist["aaa-orig.jpg"] == 0  # measured: 0..16, share 12/12
    assert banks.query_media(data_file("pdq", "misc-images", "c.png")) == []
    assert banks.query_media(kodak()) == []


def test_flips_and_rotations_need_dihedral_queries(banks):
    """PDQ is not flip/rotation-invariant (plain distances 106..128); the 8 dihedral query hashes find them all."""
    banks.create("ncii-victim-reports")
    banks.add("ncii-victim-reports", pdq("pdq", "reg-test-input", "dih", "bridge-1-original.jpg"),
              reason="victim-submitted hash", actor="portal")
    for name in DIH:
        path = data_file("pdq", "reg-test-input", "dih", name)
        assert banks.query_media(path) == [], name
        [m] = banks.query_media(path, dihedral=True)
        assert m.distance <= 8 and m.transform is not None, name
    [m] = banks.query_media(data_file("pdq", "reg-test-input", "dih", "bridge-1-original.jpg"), dihedral=True)
    assert (m.distance, m.transform) == (0, None)


def test_index_follows_other_processes(sg, banks):
    """A second Banks (another worker or the CLI) changes the DB; the first one's index catches up."""
    banks.create("removed-content")
    assert banks.query("pdq", H0) == []  # loads the (empty) index
    other = _banks(sg)
    e = other.add("removed-content", H0, reason="r", actor="worker-2")
    assert [m.entry_id for m in banks.query("pdq", H0)] == [e]
    other.create("late-bank")
    other.add("late-bank", near(H0, 1), reason="r", actor="worker-2")
    other.remove("removed-content", e, reason="undo", actor="worker-2")
    assert [m.bank for m in banks.query("pdq", H0)] == ["late-bank"]
    other.enable("late-bank", False)
    assert banks.query("pdq", H0) == []
    banks.rebuild()
    assert banks.query("pdq", H0) == []
    other.enable("late-bank", True)
    assert len(banks.query("pdq", H0)) == 1



def test_visibility_follows_shares_made_by_another_process(sg, banks):
    """visible() is remembered between uploads (issue 28), but a share or unshare made by another worker is seen
    by the next lookup: every bank change writes the audit row the cache is keyed on (issue 18 finding 2)."""
    banks.create("acme-removed", tenant="acme")
    assert banks.visible("beta") == set() and banks.visible("acme") == {"acme-removed"}
    other = _banks(sg)
    other.share("acme-removed", "beta", actor="acme-admin", reason="agreement")
    assert banks.visible("beta") == {"acme-removed"}
    other.create("beta-own", tenant="beta")
    assert banks.visible("beta") == {"acme-removed", "beta-own"}
    other.share("acme-removed", "beta", on=False, actor="acme-admin", reason="ended")
    assert banks.visible("beta") == {"beta-own"}


def test_pinned_lookups_share_one_synchronisation(sg, banks):
    """Inside pinned() one upload's queries see one state of the banks; the next upload sees later changes."""
    banks.create("removed-content")
    assert banks.query("pdq", H0) == []  # the bank's index is in memory
    other = _banks(sg)
    with banks.pinned():
        e = other.add("removed-content", H0, reason="r", actor="worker-2")
        assert banks.query("pdq", H0) == []  # added after this upload's snapshot
    assert [m.entry_id for m in banks.query("pdq", H0)] == [e]

def run(capsys, *args: str):
    code = main(list(args))
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else None), out.err


@pytest.fixture
def cli(settings, capsys):
    import synthguard.cli.bank  # noqa: F401  (until the lead adds it to _register())

    return lambda *args: run(capsys, *args)


def test_cli_bank_journey(cli, tmp_path):
    orig = str(data_file("pdq", "bridge-mods", "aaa-orig.jpg"))
    code, data, _ = cli("bank", "create", "ncii-victim-reports", "--description", "TAKE IT DOWN", "--json")
    assert code == 0 and data["max_distance"] == 31
    assert cli("bank", "create", "removed-files", "--kind", "sha256", "--json")[1]["kind"] == "sha256"
    code, hashes, _ = cli("hash", orig, "--json")
    assert code == 0 and set(hashes) == {"sha256", "pdq", "pdq_quality", "pixel_sha256", "size", "format"}
    assert hashes["format"] == "jpeg" and hashes["pdq_quality"] == 100
    code, added, _ = cli("bank", "add", "ncii-victim-reports", "--hash", hashes["pdq"], "--reason", "R-1",
                         "--actor", "portal", "--json")
    assert code == 0 and added == {"bank": "ncii-victim-reports", "entry_id": added["entry_id"]}
    assert cli("bank", "add", "removed-files", "--file", orig, "--json")[0] == 0
    code, found, _ = cli("bank", "query", "--file", str(data_file("pdq", "bridge-mods", "blur-a-lot.jpg")),
                         "--json")
    assert [(m["bank"], m["distance"]) for m in found] == [("ncii-victim-reports", 4)]
    code, found, _ = cli("bank", "query", "--hash", hashes["sha256"], "--json")
    assert [m["bank"] for m in found] == ["removed-files"]
    lst = cli("bank", "list", "--json")[1]
    assert {b["name"]: b["entries"] for b in lst} == {"ncii-victim-reports": 1, "removed-files": 1}
    code, rem, _ = cli("bank", "remove", "ncii-victim-reports", str(added["entry_id"]), "--reason", "withdrawn",
                       "--json")
    assert code == 0 and rem["removed_reason"] == "withdrawn"
    ent = cli("bank", "entries", "ncii-victim-reports", "--json")[1]
    assert ent[0]["removed_at"] is not None
    assert [a["action"] for a in cli("bank", "audit", "--json")[1]] == ["create", "create", "add", "add", "remove"]
    assert cli("bank", "disable", "removed-files", "--json")[1]["enabled"] is False


def test_cli_errors(cli):
    cli("bank", "create", "ncii", "--json")
    code, _, err = cli("bank", "create", "ncii", "--json")
    assert code == 6 and json.loads(err)["error"] == "ConflictError"
    code, _, err = cli("bank", "add", "ncii", "--hash", "abc", "--json")
    assert code == 2 and "64 hexadecimal characters" in json.loads(err)["message"]
    code, _, err = cli("bank", "add", "ncii", "--json")
    assert code == 2 and "exactly one of --file or --hash" in json.loads(err)["message"]
    code, _, err = cli("bank", "entries", "nope")
    assert code == 4 and "no bank 'nope'" in err
    assert cli("bank", "query", "--hash", H0, "--json")[:2] == (0, [])
