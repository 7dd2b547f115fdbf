"""Issue 18 finding 2: stay-down banks are per tenant (CC-12, US-04, US-09 stay-down; CC-11 restoration).

The attack: a reviewer of tenant A removes an item; the platform of tenant B then uploads the same picture
(exact bytes and a recompressed near-duplicate), scans it and reads the match reasons; A then restores its
item.  None of it may touch B: B's uploads go through, B's scans name no case of A, and a restore in A
leaves B's own removal of the same picture in force.
"""

from __future__ import annotations

import pytest

from synthguard.moderation.content import UploadBlockedError, bank_names
from tests.conftest import kodak
from tests.test_moderation import NCII, T0, Clock, jpeg


@pytest.fixture
def mod(sg):
    m = sg.moderation
    m.clock = Clock(T0)
    return m


def _remove(mod, tenant: str, ref: str, data: bytes, *, kind: str = "intimate_deepfake") -> str:
    mod.register(tenant, ref, data)
    t = mod.submit(tenant, NCII | {"kind": kind, "location": f"https://plat.example/c/{ref}"})
    mod.claim(tenant, "rev-1", case_id=mod.case(tenant, t["ticket"])["id"])
    mod.act(tenant, t["ticket"], "rev-1", "remove", kind if kind != "intimate_deepfake" else "ncii")
    return t["ticket"]


def test_removal_in_one_tenant_blocks_nothing_in_another(sg, mod):
    original = kodak("kodim23.png").read_bytes()
    ticket = _remove(mod, "acme", "post-1", original)
    near = jpeg(kodak("kodim23.png"), 70)
    with pytest.raises(UploadBlockedError):
        mod.register("acme", "post-2", near)  # stay-down still works where the removal was decided
    assert mod.register("beta", "b-1", original)["blocked"] is False  # exact bytes
    assert mod.register("beta", "b-2", near)["blocked"] is False  # PDQ near-duplicate
    scan = sg.scan(near, tenant="beta")
    assert scan.matches == [] and ticket not in repr(scan.to_dict())
    assert not any(a["action"] == "block" for a in scan.actions)
    assert {b["tenant"] for b in sg.banks.list() if b["name"] in bank_names("acme")} == {"acme"}


def test_restore_in_one_tenant_does_not_lift_anothers_block(sg, mod):
    data = kodak("kodim23.png").read_bytes()
    t_acme = _remove(mod, "acme", "post-1", data, kind="portrait_forgery")
    _remove(mod, "beta", "b-1", data, kind="portrait_forgery")
    mod.counter_notice("acme", t_acme, {"statement": "it is me, not her", "name": "U. Ploader"}, actor="platform")
    mod.clock.advance(days=15, minutes=1)
    assert mod.sweep()["restored"] == [t_acme]
    assert mod.content("acme", "post-1")["status"] == "visible"
    assert any(a["action"] == "block" for a in sg.scan(data, tenant="beta").actions)  # beta's removal stands
    assert not any(a["action"] == "block" for a in sg.scan(data, tenant="acme").actions)
    with pytest.raises(UploadBlockedError):
        mod.register("beta", "b-2", data)


def test_sharing_a_bank_is_an_explicit_audited_opt_in(sg, mod):
    data = kodak("kodim23.png").read_bytes()
    _remove(mod, "acme", "post-1", data)
    exact = bank_names("acme")[1]
    assert sg.banks.visible("beta") == set()
    sg.banks.share(exact, "beta", actor="acme-admin", reason="industry stay-down agreement")
    assert exact in sg.banks.visible("beta") and exact not in sg.banks.visible("gamma")
    scan = sg.scan(data, tenant="beta")
    assert [m["bank"] for m in scan.matches] == [exact]
    # the owner's decision is evidence for B's reviewers, not an automatic block on B's platform
    assert not any(a["action"] == "block" for a in scan.actions)
    assert any(a["action"] == "review" for a in scan.actions)
    sg.banks.share(exact, "beta", on=False, actor="acme-admin", reason="agreement ended")
    assert sg.scan(data, tenant="beta").matches == []
    audit = [(a["action"], a["details"]["tenant"]) for a in sg.banks.audit(exact)
             if a["action"] in ("share", "unshare")]
    assert audit == [("share", "beta"), ("unshare", "beta")]


def test_tenant_names_map_to_distinct_valid_bank_names():
    assert bank_names("default") == ("removed-content", "removed-content-exact")
    upper, lower = bank_names("Acme"), bank_names("acme")
    assert upper != lower and all(len(n) <= 64 for n in upper + bank_names("x" * 64))


def test_bank_share_cli(sg, capsys):
    import json

    from synthguard.cli import main

    sg.banks.create("victims", kind="sha256", actor="op")
    assert main(["bank", "share", "victims", "*", "--reason", "for every platform", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"bank": "victims", "tenant": "*", "shared": True}
    assert "victims" in sg.banks.visible("any-platform")
    assert main(["bank", "share", "victims", "*", "--off", "--reason", "ended", "--json"]) == 0
    assert "victims" not in sg.banks.visible("any-platform")
