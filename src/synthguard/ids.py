"""Content ids: time-ordered, unguessable, safe in every label field (GB-10, the AIGC ProduceID)."""

from __future__ import annotations

import secrets
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_content_id() -> str:
    """"SG" + 26 Crockford base32 characters: a 48-bit millisecond time, then 80 random bits."""
    n = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "SG" + "".join(_CROCKFORD[(n >> (5 * i)) & 31] for i in reversed(range(26)))


__all__ = ["new_content_id"]
