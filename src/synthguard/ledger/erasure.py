"""Personal data linked to ledger entries: per-subject encryption, crypto-shredding and retention purge.

Why this shape.  Ledger leaves can never be deleted or edited without breaking the Merkle tree, yet the law
asks for both: keep logs >= 6 months (DS-18, LM-20, CSL-01) and delete personal data on request or when no
longer needed (PIPL Art. 47, PI-13; GAI-03).  So the ledger holds only hashes and pseudonymous ids, and any
personal datum that must accompany an entry (an IP address, a recipient's name) lives here, encrypted
under a random AES-256-GCM key of its own subject:

* :meth:`SubjectVault.erase` destroys the subject's key (crypto-shredding): every copy of that subject's
  ciphertext — in this table, in backups, in exports — becomes unreadable at once, and an ``erasure`` entry is
  appended to the ledger.  The ledger still verifies: nothing hashed changed.
* :func:`purge_expired` deletes *ciphertexts* older than the retention period, never ledger entries; it
  refuses periods below :data:`MIN_RETENTION_DAYS` (183 days, CSL-01) and appends a ``purge`` entry.

Subject keys are wrapped with a 32-byte master key (a file under the keys directory, mode 0600) using
AES-256-GCM with the subject id as associated data, so a wrapped key cannot be moved to another subject.
Ciphertext tokens likewise bind the subject id.  Where a legal hold applies (PI-13: retention not expired),
callers should delay ``erase`` until the hold ends, or accept that erasure wins over the log duty for that datum.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from synthguard.errors import ConflictError, KeyMissingError, NotFoundError, SubjectErasedError, ValidationError
from synthguard.ledger.log import Entry, Ledger
from synthguard.store import ledger_repo
from synthguard.store.base import utcnow
from synthguard.store.ledger_repo import Session, store_errors

MIN_RETENTION_DAYS = 183  # CSL-01 (>= 6 months), DS-18, LM-20
DEFAULT_RETENTION_DAYS = 190
_TOKEN_PREFIX = "sgv1."
_PEM_LABEL = b"SYNTHGUARD VAULT MASTER KEY"


def subject_ref(subject_id: str) -> str:
    """The pseudonym written to the ledger for a subject (a hash, never the id itself)."""
    return hashlib.sha256(b"synthguard-subject\x00" + subject_id.encode()).hexdigest()


def generate_master_key(path: str | Path, *, overwrite: bool = False) -> bytes:
    """Write a random 32-byte master key as a small PEM-style text file, mode 0600."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise ConflictError("vault master key {path} already exists", values={"path": path},
                            hint="Keep it: without it no subject data can be decrypted.", path=path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = AESGCM.generate_key(bit_length=256)
    text = b"-----BEGIN %s-----\n%s\n-----END %s-----\n" % (_PEM_LABEL, base64.b64encode(key), _PEM_LABEL)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(text)
    os.chmod(path, 0o600)
    return key


def load_master_key(path: str | Path) -> bytes:
    try:
        text = Path(path).read_bytes()
    except FileNotFoundError:
        raise KeyMissingError("the vault master key does not exist", path=path) from None
    body = b"".join(line.strip() for line in text.splitlines() if not line.startswith(b"-----"))
    try:
        key = base64.b64decode(body, validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise KeyMissingError("the vault master key file is damaged (expected 32 base64 bytes)", path=path)
    return key


@dataclass(frozen=True)
class PurgeReport:
    cutoff: datetime
    purged: int
    dry_run: bool
    entry: Entry | None  # the "purge" ledger entry, when something was purged


class SubjectVault:
    """Per-subject AES-256-GCM encryption with crypto-shredding (PI-13, PI-06 sensitive data at rest)."""

    def __init__(self, master_key: bytes, *, ledger: Ledger | None = None):
        if len(master_key) != 32:
            raise KeyMissingError("the vault master key must be 32 bytes")
        self._master = AESGCM(master_key)
        self.ledger = ledger or Ledger()

    # --- keys ------------------------------------------------------------------------------
    def _subject_key(self, session: Session, subject_id: str, *, create: bool) -> AESGCM:
        _check_subject(subject_id)
        with store_errors("read a subject key"):
            row = ledger_repo.subject_key(session, subject_id)
            if row is None and create:
                key, nonce = AESGCM.generate_key(bit_length=256), os.urandom(12)
                wrapped = nonce + self._master.encrypt(nonce, key, _aad(subject_id))
                ledger_repo.add_subject_key(session, subject_id, wrapped_key=wrapped, created_at=utcnow())
                return AESGCM(key)
        if row is None:
            raise NotFoundError("the vault holds no key for subject {subject_id!r}", values={"subject_id": subject_id})
        if row.wrapped_key is None:
            raise SubjectErasedError(
                "the personal data of subject {subject_id!r} was erased on {erased_at:%Y-%m-%d} (its key was "
                "destroyed; ledger entry {erasure_index} records it) and can no longer be decrypted",
                values={"subject_id": subject_id, "erased_at": row.erased_at, "erasure_index": row.erasure_index},
                hint="Erasure is permanent by design (PIPL Art. 47); nothing can recover this data.",
            )
        try:
            return AESGCM(self._master.decrypt(row.wrapped_key[:12], row.wrapped_key[12:], _aad(subject_id)))
        except InvalidTag:
            raise KeyMissingError("the vault master key cannot unwrap the key of subject {subject_id!r}",
                                  values={"subject_id": subject_id},
                                  hint="Load the master key these subjects were encrypted with.") from None

    # --- data ------------------------------------------------------------------------------
    def encrypt(self, session: Session, subject_id: str, plaintext: bytes | str) -> str:
        """Encrypt under the subject's key (created on first use); returns an opaque ASCII token."""
        data = plaintext.encode() if isinstance(plaintext, str) else plaintext
        nonce = os.urandom(12)
        ct = self._subject_key(session, subject_id, create=True).encrypt(nonce, data, _aad(subject_id))
        return _TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + ct).decode()

    def decrypt(self, session: Session, subject_id: str, token: str) -> bytes:
        if not isinstance(token, str) or not token.startswith(_TOKEN_PREFIX):
            raise ValidationError("not a vault token (expected 'sgv1.' followed by base64)")
        try:
            blob = base64.urlsafe_b64decode(token[len(_TOKEN_PREFIX) :])
        except (binascii.Error, ValueError):
            raise ValidationError("vault token is not valid base64") from None
        key = self._subject_key(session, subject_id, create=False)
        try:
            return key.decrypt(blob[:12], blob[12:], _aad(subject_id))
        except (InvalidTag, ValueError):
            raise ValidationError("vault token is corrupt or does not belong to subject {subject_id!r}",
                                  values={"subject_id": subject_id}) from None

    def store(
        self, session: Session, subject_id: str, plaintext: bytes | str, *, entry_index: int | None = None
    ) -> int:
        """Encrypt and keep a payload (e.g. the IP of a generation, DS-18) linked to a ledger entry; returns its id."""
        token = self.encrypt(session, subject_id, plaintext)
        with store_errors("store a vault payload"):
            return ledger_repo.add_payload(session, subject_id=subject_id, entry_index=entry_index, token=token,
                                           created_at=utcnow())

    def load(self, session: Session, payload_id: int) -> bytes:
        with store_errors("read a vault payload"):
            row = ledger_repo.payload(session, payload_id)
        if row is None:
            raise NotFoundError("vault payload {payload_id} does not exist (never stored, or purged after retention)",
                                values={"payload_id": payload_id})
        return self.decrypt(session, row.subject_id, row.token)

    def erase(self, session: Session, subject_id: str, *, reason: str = "request") -> Entry:
        """Crypto-shred: destroy the subject's key and log an ``erasure`` entry (idempotent)."""
        _check_subject(subject_id)
        with store_errors("erase a subject"):
            row = ledger_repo.subject_key(session, subject_id)
            if row is not None and row.wrapped_key is None:
                return self.ledger.entry(session, int(row.erasure_index))
            payloads = ledger_repo.payload_count(session, subject_id)
            entry = self.ledger.append(session, "erasure", {
                "subject_ref": subject_ref(subject_id), "method": "crypto-shredding", "reason": reason,
                "payloads": payloads})
            values = {"wrapped_key": None, "erased_at": entry.created_at, "erasure_index": entry.index}
            if row is None:  # nothing was ever stored: keep a tombstone so later encrypt() is refused too
                ledger_repo.add_subject_key(session, subject_id, created_at=entry.created_at, **values)
            else:
                ledger_repo.update_subject_key(session, subject_id, **values)
        return entry


def purge_expired(session: Session, retention_days: int = DEFAULT_RETENTION_DAYS, *, ledger: Ledger | None = None,
                  minimum_days: int = MIN_RETENTION_DAYS, now: datetime | None = None,
                  dry_run: bool = False) -> PurgeReport:
    """Delete vault payloads older than ``retention_days``; ledger entries are never touched (CSL-01, PI-13).

    ``retention_days`` below ``minimum_days`` (183 by default) is refused, so logs younger than six months
    are never purged whatever the configuration.
    """
    if retention_days < minimum_days or minimum_days < MIN_RETENTION_DAYS:
        raise ValidationError("retention of {retention_days} days is below the legal minimum of {minimum_days} days "
                              "(CSL-01: logs kept >= 6 months)",
                              values={"retention_days": retention_days,
                                      "minimum_days": max(minimum_days, MIN_RETENTION_DAYS)})
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    with store_errors("purge expired payloads"):
        count = ledger_repo.expired_count(session, cutoff)
        if dry_run or not count:
            return PurgeReport(cutoff, count, dry_run, None)
        ledger_repo.delete_expired(session, cutoff)
    entry = (ledger or Ledger()).append(session, "purge", {
        "table": "vault_payloads", "before": cutoff.isoformat(), "count": count, "retention_days": retention_days})
    return PurgeReport(cutoff, count, False, entry)


def _aad(subject_id: str) -> bytes:
    return b"synthguard-vault-v1\x00" + subject_id.encode()


def _check_subject(subject_id: str) -> None:
    if not isinstance(subject_id, str) or not 0 < len(subject_id) <= 128:
        raise ValidationError("subject id must be a non-empty string of at most 128 characters")
