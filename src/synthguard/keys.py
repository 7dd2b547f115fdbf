"""The provider's key ring under ``<home>/keys``: one file per secret, mode 0600.

=====================  ==========================================================
integrity.key          HMAC key for GB 45438 ReservedCode1 (GB-12) and payload derivation
watermark.key          the watermark scheme key (shared with platforms that detect)
identity-salt.key      salt for hashing real-identity identifiers (DS-07)
ledger-ed25519.key     signs ledger checkpoints
vault-master.key       wraps per-subject data keys (PIPL 47 crypto-shredding)
c2pa-*.pem / .key      development C2PA PKI (production: point the settings at real files)
=====================  ==========================================================
"""

from __future__ import annotations

import os
import secrets
from functools import cached_property
from pathlib import Path

from synthguard.config import Settings
from synthguard.errors import ConflictError, KeyMissingError, OutputError
from synthguard.media import write_atomic

# the ledger (Ed25519 keys), the provenance PKI and the trust anchors (x509) are imported where they are used: a
# process that only reads a secret (`synthguard watermark detect`: the watermark key) skips ~20-30 ms of
# cryptography imports

SECRETS = ("integrity.key", "watermark.key", "identity-salt.key")
LEDGER_KEY = "ledger-ed25519.key"
VAULT_KEY = "vault-master.key"


def _write_secret(path: Path) -> None:
    write_atomic(path, secrets.token_hex(32).encode() + b"\n")
    os.chmod(path, 0o600)


def _read_secret(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
        key = bytes.fromhex(text)
    except FileNotFoundError:
        raise KeyMissingError("key file is missing", path=path) from None
    except ValueError:
        raise KeyMissingError("key file is not 64 hex characters", path=path) from None
    if len(key) < 16:
        raise KeyMissingError("key is shorter than 16 bytes", path=path)
    return key


class Keys:
    """Lazy access to every key; a missing file raises KeyMissingError naming it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.dir = settings.keys_dir

    @cached_property
    def integrity(self) -> bytes:
        return _read_secret(self.dir / "integrity.key")

    @cached_property
    def watermark(self) -> bytes:
        return _read_secret(self.dir / "watermark.key")

    @cached_property
    def identity_salt(self) -> bytes:
        return _read_secret(self.dir / "identity-salt.key")

    @cached_property
    def ledger_private(self):  # type: ignore[no-untyped-def]
        from synthguard.ledger import load_ledger_key

        return load_ledger_key(self.dir / LEDGER_KEY)

    @cached_property
    def ledger_public(self):  # type: ignore[no-untyped-def]
        from synthguard.ledger import load_ledger_public_key

        pub = self.dir / "ledger-ed25519.pub"
        return load_ledger_public_key(pub if pub.is_file() else self.dir / LEDGER_KEY)

    @cached_property
    def vault_master(self) -> bytes:
        from synthguard import ledger  # a lazy name of the package: the vault module (SQLAlchemy) loads only here

        return ledger.load_master_key(self.dir / VAULT_KEY)

    @property
    def c2pa_chain(self) -> Path:
        return self.settings.c2pa_cert or self.dir / "c2pa-signer.pem"

    @property
    def c2pa_key(self) -> Path:
        return self.settings.c2pa_key or self.dir / "c2pa-signer.key"

    @property
    def c2pa_anchors(self) -> Path | None:
        """The configured anchors (else our own CA), plus the roots of the trusted providers' C2PA chains
        (issue 19: the trust list decides whose manifests read as "trusted"; see trust/anchors.py)."""
        from synthguard.trust.anchors import anchors

        if self.settings.c2pa_trust_anchors:
            base: Path | None = self.settings.c2pa_trust_anchors
        else:
            ca = self.dir / "c2pa-ca.pem"
            base = ca if ca.is_file() else None
        return anchors(self.settings, base)


def init_keys(settings: Settings, *, force: bool = False) -> list[Path]:
    """Create every missing development key; with ``force`` replace them all. Returns the files written."""
    from synthguard import ledger, provenance
    from synthguard.ledger import generate_ledger_key, public_key_pem

    d = settings.keys_dir
    try:
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o700)
    except OSError as exc:
        raise OutputError("cannot create the key directory: {strerror}",
                          values={"strerror": exc.strerror}, path=d) from exc
    written: list[Path] = []
    for name in SECRETS:
        if force or not (d / name).exists():
            _write_secret(d / name)
            written.append(d / name)
    if force or not (d / LEDGER_KEY).exists():
        key = generate_ledger_key(d / LEDGER_KEY, overwrite=force)
        write_atomic(d / "ledger-ed25519.pub", public_key_pem(key.public_key()))
        written += [d / LEDGER_KEY, d / "ledger-ed25519.pub"]
    if force or not (d / VAULT_KEY).exists():
        ledger.generate_master_key(d / VAULT_KEY, overwrite=force)  # loads SQLAlchemy (the vault module)
        written.append(d / VAULT_KEY)
    pki = provenance.DevPKI.at(d)  # lazy names: the PKI (x509) loads only here
    if force or not pki.exists():
        try:
            provenance.create_dev_pki(d, force=force)
        except ConflictError:
            raise ConflictError("some C2PA files exist but not all", path=d,
                                hint="Run `synthguard keys init --force` to recreate the development PKI.") from None
        written += [pki.cert_chain, pki.key, pki.ca_cert]
    return written
