"""The key ring's secret files (64 hex characters, mode 0600) on their own, below ``keys``.

A process that only reads one secret -- ``synthguard watermark detect`` on an image needs the watermark key --
imports this module instead of the whole ring, so the ledger's and the C2PA PKI's cryptography stays unloaded
(~20-30 ms of a command that should start in well under a second, issue 24)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from synthguard.config import Settings
from synthguard.errors import KeyMissingError
from synthguard.media import write_atomic

SECRETS = ("integrity.key", "watermark.key", "identity-salt.key")


def write_secret(path: Path) -> None:
    write_atomic(path, secrets.token_hex(32).encode() + b"\n")
    os.chmod(path, 0o600)


def read_secret(path: Path) -> bytes:
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


def watermark_key(settings: Settings) -> bytes:
    """The watermark scheme key (``Keys.watermark``), read without the rest of the ring."""
    return read_secret(settings.keys_dir / "watermark.key")
