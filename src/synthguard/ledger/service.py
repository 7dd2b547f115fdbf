"""The ledger as the core's journeys use it: origin, verifier key, signed checkpoints, the full audit (DS-18,
LM-20, CSL-01).  The ``Ledger`` service of issue 23's composition root.

Built from narrow dependencies: the log, a unit-of-work factory and the ledger key pair, read when first used
(a core without keys can still label with the generic origin name).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from synthguard.errors import KeyMissingError
from synthguard.ledger.checkpoint import Checkpoint, log_id, public_key_pem, vkey
from synthguard.ledger.log import ConsistencyProof, Ledger
from synthguard.store.unit_of_work import UnitOfWork

GENERIC_ORIGIN = "synthguard.ledger"  # stands in before the ledger key exists (nothing signed yet)


class LedgerService:
    """Sign, show and audit this deployment's ledger."""

    def __init__(self, log: Ledger, units: Callable[[], AbstractContextManager[UnitOfWork]], *,
                 public_key: Callable[[], Any], private_key: Callable[[], Any]):
        self.log = log
        self._units = units
        self._public_key = public_key
        self._private_key = private_key

    def origin(self) -> str:
        """This log's checkpoint origin: configured, else derived from the ledger key (unique per log)."""
        if self.log.origin:
            return self.log.origin
        try:
            return self.log.origin_for(self._public_key())
        except KeyMissingError:
            return GENERIC_ORIGIN

    def vkey(self) -> str:
        """The signed-note verifier key others pin to check this log's checkpoints (C2SP signed-note)."""
        key = self._public_key()
        return vkey(self.log.origin_for(key), key)

    def checkpoint(self) -> dict[str, Any]:
        """Sign the current tree head (Ed25519)."""
        with self._units() as uow:
            cp = self.log.checkpoint(uow.session, self._private_key())
        return checkpoint_dict(self._public_key(), cp)

    def head(self) -> Checkpoint:
        """The latest signed checkpoint, signing the current tree head first when none exists (a witness cosigns
        what the log already published)."""
        with self._units() as uow:
            cp = self.log.latest_checkpoint(uow.session)
            return cp if cp is not None else self.log.checkpoint(uow.session, self._private_key())

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """RFC 6962 proof that the tree of ``new_size`` (default: now) extends the one of ``old_size``."""
        with self._units() as uow:
            return self.log.consistency_proof(uow.session, old_size, new_size)

    def add_cosignatures(self, tree_size: int, root_hash: bytes, lines: list[str]) -> str:
        """Keep witnesses' cosignature lines with the checkpoint they sign; returns the cosigned note."""
        with self._units() as uow:
            return self.log.add_cosignatures(uow.session, tree_size, root_hash, lines)

    def latest_checkpoint(self) -> dict[str, Any] | None:
        with self._units() as uow:
            cp, note = self.log.latest_checkpoint(uow.session), self.log.latest_note(uow.session)
        return checkpoint_dict(self._public_key(), cp, note) if cp else None

    def verify(self) -> dict[str, Any]:
        """Recompute the whole tree and check every checkpoint; problems are named by index."""
        with self._units() as uow:
            report = self.log.verify(uow.session, self._public_key())
        return report.to_dict()


def checkpoint_dict(key: Any, cp: Any, note: str | None = None) -> dict[str, Any]:
    """The checkpoint for answers, with the public ``key`` that signed it; ``note`` is the stored note when it
    carries witness cosignatures (issue 19)."""
    return {"origin": cp.origin, "tree_size": cp.tree_size, "root": cp.root_hash.hex(),
            "timestamp": cp.timestamp.isoformat() if cp.timestamp else None, "log_id": cp.log_id or log_id(key),
            "note": note if note and note.startswith(cp.body()) else cp.to_text(),
            "signature": base64.b64encode(cp.signature).decode(), "signed_body": cp.body(),
            "public_key": public_key_pem(key).decode(), "vkey": vkey(cp.origin, key)}


__all__ = ["GENERIC_ORIGIN", "LedgerService", "checkpoint_dict"]
