"""Append-only, tamper-evident ledger: RFC 6962 Merkle tree, signed checkpoints, proofs, erasure.

Checkpoints and the Merkle maths load with the package; the log, the vault and ``verify`` (SQLAlchemy) load on
first use (PEP 562), so a verifier that only checks signed notes -- a descriptor, a trust list, ``inspect`` -- never
imports the database layer.

"The watermark is a pointer, the ledger is the proof" (DS-18, LM-20, CSL-01; PI-13 for erasure).
"""

from typing import Any

from synthguard.lazy import load_lazily
from synthguard.ledger.checkpoint import (
    Checkpoint,
    default_origin,
    generate_ledger_key,
    load_ledger_key,
    load_ledger_public_key,
    log_id,
    parse_checkpoint,
    parse_vkey,
    public_key_pem,
    sign_checkpoint,
    verify_checkpoint,
    verify_note,
    vkey,
)
from synthguard.ledger.merkle import EMPTY_ROOT, leaf_hash, node_hash, verify_consistency, verify_inclusion

_LAZY = {
    **dict.fromkeys(("MIN_RETENTION_DAYS", "PurgeReport", "SubjectVault", "generate_master_key", "load_master_key",
                     "purge_expired", "subject_ref"), "synthguard.ledger.erasure"),
    **dict.fromkeys(("EVENT_KINDS", "ConsistencyProof", "Entry", "InclusionProof", "Ledger"), "synthguard.ledger.log"),
    **dict.fromkeys(("Problem", "VerifyReport", "verify"), "synthguard.ledger.verify"),
}


def __getattr__(name: str) -> Any:
    return load_lazily(globals(), _LAZY, name)


__all__ = [
    "Checkpoint",
    "ConsistencyProof",
    "EMPTY_ROOT",
    "EVENT_KINDS",
    "Entry",
    "InclusionProof",
    "Ledger",
    "MIN_RETENTION_DAYS",
    "Problem",
    "PurgeReport",
    "SubjectVault",
    "VerifyReport",
    "default_origin",
    "generate_ledger_key",
    "generate_master_key",
    "leaf_hash",
    "load_ledger_key",
    "load_ledger_public_key",
    "load_master_key",
    "log_id",
    "node_hash",
    "parse_checkpoint",
    "parse_vkey",
    "public_key_pem",
    "purge_expired",
    "sign_checkpoint",
    "subject_ref",
    "verify",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
    "verify_note",
    "vkey",
]
