"""API tokens: only hashes stored, revocation, roles, tenants, and the `tokens` CLI."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select

from synthguard.auth import PREFIX, Role, authenticate, create_token, list_tokens, revoke_token
from synthguard.cli import main
from synthguard.errors import AuthError, ForbiddenError, NotFoundError, ValidationError
from synthguard.store.auth_tables import ApiToken


def test_create_stores_only_the_hash(sg):
    secret, info = create_token(sg.db, "provider", "acme", "label bot")
    assert secret.startswith(PREFIX) and len(secret) >= 40
    assert info == info | {"role": "provider", "tenant": "acme", "name": "label bot", "revoked": False}
    with sg.db.session() as s:
        row = s.scalars(select(ApiToken)).one()
        assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in repr(vars(row))
    assert "token" not in list_tokens(sg.db)[0] and "token_hash" not in list_tokens(sg.db)[0]


def test_authenticate_and_revoke(sg):
    secret, info = create_token(sg.db, Role.PLATFORM, "plat-1")
    p = authenticate(sg.db, secret)
    assert (p.role, p.tenant, p.token_id) == (Role.PLATFORM, "plat-1", info["id"])
    assert revoke_token(sg.db, info["id"])["revoked"]
    assert revoke_token(sg.db, info["id"])["revoked"]  # idempotent
    with pytest.raises(AuthError, match="revoked"):
        authenticate(sg.db, secret)


@pytest.mark.parametrize("secret", [None, "", "sg_unknown", "Bearer x", "sg_" + "a" * 200])
def test_unknown_tokens_are_401(sg, secret):
    with pytest.raises(AuthError) as err:
        authenticate(sg.db, secret)
    assert err.value.http_status == 401 and not isinstance(err.value, ForbiddenError)


def test_role_gate_is_403(sg):
    p = authenticate(sg.db, create_token(sg.db, "victim", "v")[0])
    assert p.require(Role.VICTIM, Role.ADMIN) is p
    with pytest.raises(ForbiddenError) as err:
        p.require(Role.PROVIDER)
    assert err.value.http_status == 403


@pytest.mark.parametrize("role,tenant", [("god", "t"), ("admin", ""), ("admin", "a b"), ("admin", "x" * 65)])
def test_bad_role_or_tenant(sg, role, tenant):
    with pytest.raises(ValidationError):
        create_token(sg.db, role, tenant)


def test_revoke_unknown(sg):
    with pytest.raises(NotFoundError):
        revoke_token(sg.db, 999)


def test_tokens_cli(capsys, settings):
    assert main(["tokens", "create", "--role", "regulator", "--tenant", "cac", "--name", "desk", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["token"].startswith(PREFIX) and created["role"] == "regulator"
    assert main(["tokens", "list", "--json"]) == 0
    out = capsys.readouterr().out
    assert created["token"] not in out and json.loads(out)[0]["tenant"] == "cac"
    assert main(["tokens", "revoke", str(created["id"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["revoked"] is True
    assert main(["tokens", "create", "--role", "admin", "--tenant", "bad tenant", "--json"]) == 2
    assert main(["tokens", "create", "--role", "nobody", "--tenant", "x"]) == 2
    assert main(["tokens", "revoke", "42", "--json"]) == 4
