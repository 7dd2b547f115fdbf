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
from functools import cached_property
from pathlib import Path

from synthguard import ledger, provenance
from synthguard.config import Settings
from synthguard.errors import ConflictError, OutputError
from synthguard.ledger import generate_ledger_key, load_ledger_key, load_ledger_public_key, public_key_pem
from synthguard.media import write_atomic
from synthguard.secret_files import SECRETS, read_secret, watermark_key, write_secret
from synthguard.trust.anchors import anchors

__all__ = ["SECRETS", "Keys", "init_keys"]

LEDGER_KEY = "ledger-ed25519.key"
VAULT_KEY = "vault-master.key"


class Keys:
    """Lazy access to every key; a missing file raises KeyMissingError naming it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.dir = settings.keys_dir

    @cached_property
    def integrity(self) -> bytes:
        return read_secret(self.dir / "integrity.key")

    @cached_property
    def watermark(self) -> bytes:
        return watermark_key(self.settings)

    @cached_property
    def identity_salt(self) -> bytes:
        return read_secret(self.dir / "identity-salt.key")

    @cached_property
    def ledger_private(self):  # type: ignore[no-untyped-def]
        return load_ledger_key(self.dir / LEDGER_KEY)

    @cached_property
    def ledger_public(self):  # type: ignore[no-untyped-def]
        pub = self.dir / "ledger-ed25519.pub"
        return load_ledger_public_key(pub if pub.is_file() else self.dir / LEDGER_KEY)

    @cached_property
    def vault_master(self) -> bytes:
        # a lazy name of the ledger package: the vault module (SQLAlchemy) loads only when asked

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
        if self.settings.c2pa_trust_anchors:
            base: Path | None = self.settings.c2pa_trust_anchors
        else:
            ca = self.dir / "c2pa-ca.pem"
            base = ca if ca.is_file() else None
        return anchors(self.settings, base)


def init_keys(settings: Settings, *, force: bool = False) -> list[Path]:
    """Create every missing development key; with ``force`` replace them all. Returns the files written."""
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
            write_secret(d / name)
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
