"""Hash kinds, their formats and the fingerprints a file yields for banks: `synthguard hash`, victims' client-side
hashing, and the checks every submitted hash passes (split from banks.py: DS-09 feature library).

The kinds are the hasher registry's (:mod:`synthguard.plugins`, group ``synthguard.hashers``), handed to
:class:`~synthguard.fingerprint.banks.Banks` and :func:`media_hashes` by the core; ``KINDS`` names the built-in ones
(:mod:`synthguard.fingerprint.hashers`), the default without a registry."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from synthguard.errors import SynthGuardError, UnsupportedMediaError, ValidationError
from synthguard.fingerprint import Hasher, canonical_kind, signals
from synthguard.fingerprint.hashers import BUILTIN, builtin_hashers
from synthguard.fingerprint.pdq import DIHEDRAL, MIN_QUALITY, bits_to_hex, pdq_dihedral, pdq_pixels
from synthguard.i18n import N_
from synthguard.media import Media, Modality

KINDS = tuple(BUILTIN)  # the built-in kinds: pdq, vpdq, audio, sha256 (their bank defaults: each hasher's)
MAX_PDQ_DISTANCE = 128  # beyond half the bits PDQ matches unrelated images
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_FORMATS = {"pdq": "64 hexadecimal characters (the 256-bit PDQ hash, as pdqhash or ThreatExchange print it)",
            "sha256": "64 hexadecimal characters (the SHA-256 digest of the file bytes, as sha256sum prints it)",
            **signals.FORMATS}


def check_kind(kind: str, kinds: Any = KINDS) -> str:
    """The kind's one name (``video`` is accepted for ``vpdq``), or a ValidationError listing ``kinds``."""
    name = canonical_kind(kind) if isinstance(kind, str) else kind
    if name not in kinds:
        raise ValidationError("unknown hash kind {kind!r}",
                              values={"kind": kind, "kinds": ", ".join(kinds)}, hint=N_("Use one of: {kinds}."))
    return name


def check_hash(kind: str, value: str) -> str:
    """The normalised (lowercase) hash, or a ValidationError naming the expected format; for ``vpdq`` and ``audio``
    the SHA-256 key of the canonical fingerprint."""
    kind = check_kind(kind)
    if kind in signals.LONG_KINDS:
        return signals.canonical(kind, value)[0]
    v = value.strip().lower() if isinstance(value, str) else ""
    if not _HEX64.fullmatch(v):
        got = f"{len(v)} characters" if isinstance(value, str) else type(value).__name__
        bad = sorted(set(v) - set("0123456789abcdef"))
        detail = f", with non-hex {''.join(bad)[:8]!r}" if bad else ""
        raise ValidationError("a {kind} hash must be {formats}; got {got}{detail}",
                              values={"kind": kind, "formats": _FORMATS[kind], "got": got, "detail": detail},
                              hint="Submit the hash string only (never the image); "
                                   "`synthguard hash FILE --json` prints both kinds.")
    return v


def media_hashes(media: Media, hashers: Sequence[Hasher] | None = None) -> dict[str, Any]:
    """Every fingerprint a bank can hold, for `synthguard hash` and for victims' client-side hashing: the file's
    SHA-256 and the hash of every perceptual hasher of its modality (``hashers``: ``plugins.hashers_for``'s, default
    the built-ins): PDQ for images; vPDQ (Meta's exchange JSON) and the sound's landmarks for video; landmarks for
    audio. A video without a sound track has no ``audio`` key, and says why under ``skipped``."""
    if hashers is None:
        hashers = builtin_hashers(media.modality, exact=False)
    if not hashers:
        raise UnsupportedMediaError("no perceptual hash for {modality} files; banks match them by SHA-256 only",
                                    values={"modality": media.modality.value}, path=media.name,
                                    hint="Hash images (PDQ), videos (vPDQ) or audio (landmarks).")
    image = media.modality is Modality.IMAGE
    out: dict[str, Any] = {"sha256": media.sha256} if image else {"sha256": media.sha256, "format": media.format}
    for hasher in hashers:
        try:
            if hasher.kind in signals.LONG_KINDS:  # their exchange form (Meta's vPDQ JSON), not the record's
                out[hasher.kind] = signals.fingerprint_text(hasher.kind, media)
            else:
                h = hasher.hash(media)
                out[hasher.kind] = h.value
                if h.quality is not None:
                    out[f"{hasher.kind}_quality"] = h.quality
        except SynthGuardError as exc:
            if hasher is hashers[0]:
                raise
            out.setdefault("skipped", {})[hasher.kind] = exc.message  # e.g. a video without sound
    if image:
        out |= {"pixel_sha256": media.pixel_sha256, "size": list(media.size), "format": media.format}
    if "vpdq" in out:
        out["vpdq_frames"] = len(json.loads(out["vpdq"]))
    return out


def dihedral_hashes(media: Media) -> tuple[list[tuple[str, str]], int]:
    """PDQ hashes of the 8 rotations/flips of the image, as (transform, hex), and the quality: the query image
    transformed (Meta's compute_dihedral order), so a flipped or rotated upload still meets the original's hash."""
    bits, quality = pdq_dihedral(pdq_pixels(media))
    return [(t, bits_to_hex(b)) for t, b in zip(DIHEDRAL, bits, strict=True)], int(quality)


def check_quality(quality: int, path: str | None = None) -> None:
    if quality < MIN_QUALITY:
        raise ValidationError(
            "PDQ quality {quality} is below {min_quality}: the image has too little detail for a reliable hash",
            values={"quality": quality, "min_quality": MIN_QUALITY},
            hint="Submit a larger or less uniform image; flat or tiny images would match unrelated content.",
            path=path if path and not path.startswith("<") else None)


__all__ = ["DIHEDRAL", "KINDS", "MAX_PDQ_DISTANCE", "check_hash", "check_kind", "check_quality", "dihedral_hashes",
           "media_hashes"]
