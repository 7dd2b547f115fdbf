"""Issue 18 findings 15, 16 and 17: private database files, bodies refused before they are read, vault id
collisions through user ids."""

from __future__ import annotations

import stat

import pytest

from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.errors import ValidationError
from synthguard.server.uploads import MAX_OTHER_BODY
from tests.conftest import sqlite_file


@sqlite_file  # the SQLite file's own mode; the Postgres pass has no such file
def test_database_and_home_are_private(tmp_path, keys_template):
    import shutil

    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    shutil.copytree(keys_template, home / "keys")
    with SynthGuard.open(Settings.load(home=home)) as sg:
        sg.moderation.submit("default", {"kind": "unlabeled_ai", "location": "x", "description": "d"})
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    files = list(home.glob("synthguard.db*"))
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files), [
        (f.name, oct(f.stat().st_mode)) for f in files]


@sqlite_file
def test_existing_world_readable_database_is_tightened(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    db = home / "synthguard.db"
    with SynthGuard.open(Settings.load(home=home)):
        pass
    db.chmod(0o644)
    with SynthGuard.open(Settings.load(home=home)):
        pass
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_big_json_bodies_are_refused_before_reading(client):
    """Finding 16: the declared length is enough to refuse; a body without one is cut off while streaming."""
    r = client.post("/v1/complaints", content=b"{}", headers={"Content-Type": "application/json",
                                                               "Content-Length": str(20 << 20)})
    assert r.status_code == 413
    r = client.post("/v1/consent/protected", content=b" " * (2 << 20), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_chunked_json_is_cut_off_while_streaming():
    import asyncio

    from starlette.exceptions import HTTPException

    from synthguard.server.uploads import BodyLimit

    pulled = []

    async def receive():
        pulled.append(1)
        return {"type": "http.request", "body": b" " * 65536, "more_body": True}  # an endless 64 KB stream

    async def app(scope, receive, send):
        while True:
            await receive()

    scope = {"type": "http", "headers": [(b"content-type", b"application/json")]}
    with pytest.raises(HTTPException) as err:
        asyncio.run(BodyLimit(app, max_bytes=200 << 20)(scope, receive, None))
    assert err.value.status_code == 413 and len(pulled) * 65536 <= MAX_OTHER_BODY + 65536


def test_user_ids_cannot_collide_with_vault_subjects(sg):
    """Finding 17: complaint:/likeness:/uploader: are vault subjects of other data; a user may not be named so,
    and erase_user cannot shred them."""
    t = sg.moderation.submit("default", {"kind": "unlabeled_ai", "location": "x", "description": "my notice"})
    victim = f"complaint:{t['ticket']}"
    for bad in (victim, "likeness:alice", "Uploader:acme:u1"):
        with pytest.raises(ValidationError, match="reserved"):
            sg.add_user(bad)
        with pytest.raises(ValidationError, match="reserved"):
            sg.erase_user(bad)
    with sg.db.session() as s:  # the complaint's vaulted description is intact
        from sqlalchemy import select

        from synthguard.store.ledger_tables import PAYLOADS

        assert s.execute(select(PAYLOADS.c.id)).first() is not None
    assert sg.add_user("wechat:123")["id"] == "wechat:123"  # other colons stay allowed
