"""Whole provider deployments for the multi-organisation tests and benchmarks (federated watermark, issue 19):
each with its own home, keys and database, and one real-name verified user (DS-07)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.keys import init_keys


def provider(root: Path, name: str, mode: str, producer: str, **settings: Any) -> SynthGuard:
    """An open provider deployment in ``root / name`` (watermark mode ``mode``, producer code ``producer``, service
    named ``name``) whose user ``u-1`` is verified by mobile number; the caller closes it."""
    st = Settings.load(database_url=None, home=root / name, producer=producer, service_name=name, watermark_mode=mode,
                       **settings)
    init_keys(st)
    sg = SynthGuard.open(st)
    sg.add_user("u-1")
    sg.verify_user("u-1", "mobile", identifier="+86 138 0000 0000", reference="r")
    return sg
