"""Key material of the federated watermark (issue 19 item 3), kept light: the trust side (descriptors, grants)
needs the names and key derivation without importing the image code (``marking/watermark/federated.py``)."""

from __future__ import annotations

import hashlib
import hmac

from synthguard.errors import WatermarkError

SYNC_NAME = b"synthguard/federated-sync/v1"  # the public sync pattern's name: the same in every deployment
SCHEME = "synthguard.image-wm-federated/v1"
MODES = ("shared", "public")
_DERIVE = b"synthguard/wm-federated/v1/"


def derive(watermark_key: bytes, mode: str) -> bytes:
    """A provider's detection key for ``mode`` from its watermark scheme key (distinct per mode, so switching
    from shared to public never publishes the key of marks made in shared mode)."""
    if mode not in MODES:
        raise WatermarkError("unknown federated watermark mode {mode!r}", values={"mode": str(mode)[:20]},
                             hint="Use shared or public.")
    return hmac.new(bytes(watermark_key), _DERIVE + mode.encode(), hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    """16 hex digits naming a detection key (published in the descriptor; checked when a key is delivered)."""
    return hashlib.sha256(b"synthguard-wm-key-id\0" + bytes(key)).hexdigest()[:16]
