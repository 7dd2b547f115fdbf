"""Input limits that are not about size: nesting depth of embedded JSON/YAML (parser bombs), and the range of
row ids (:data:`MAX_ROW_ID`: a larger Python int reaches the database driver as OverflowError, a 500).

``json.loads`` and PyYAML recurse once per nesting level, so ``[[[[...`` a few thousand deep raises
RecursionError, which is not an input error to anybody calling them.  :func:`check_nesting` counts the depth
iteratively (outside JSON strings) and refuses deep documents with the caller's error class before any parser
sees them.  The operator's limit is ``Settings.max_metadata_depth``; parsers default to
:data:`DEFAULT_MAX_DEPTH`, far above any legitimate label (GB 45438 AIGC JSON has depth 1).
"""

from __future__ import annotations

import json
from math import gcd
from pathlib import Path
from typing import Any

from synthguard.errors import InputError, SynthGuardError, UnsupportedMediaError, ValidationError

DEFAULT_MAX_DEPTH = 32
MAX_ROW_ID = 2**63 - 1  # SQLite INTEGER and Postgres BIGINT
_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")


def nesting_depth(text: str | bytes) -> int:
    """Deepest bracket nesting (``[``/``{``), ignoring brackets inside double-quoted strings (JSON, YAML flow
    style).  YAML block nesting is not counted: its parsers catch RecursionError instead."""
    data = text.encode("utf-8", "replace") if isinstance(text, str) else bytes(text)
    depth = deepest = 0
    in_str = escaped = False
    for b in data:
        if in_str:
            if escaped:
                escaped = False
            elif b == 0x5C:  # backslash
                escaped = True
            elif b == 0x22:
                in_str = False
        elif b == 0x22:
            in_str = True
        elif b in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
        elif b in _CLOSE:
            depth = max(0, depth - 1)
    return deepest


def check_nesting(text: str | bytes, max_depth: int = DEFAULT_MAX_DEPTH, *, what: str = "document",
                  error: type[SynthGuardError] = ValidationError, hint: str | None = None) -> None:
    """Raise ``error`` when ``text`` nests deeper than ``max_depth`` (before a recursive parser sees it)."""
    depth = nesting_depth(text)
    if depth > max_depth:
        raise error("the {what} nests {depth} levels deep, over the limit of {max_depth}",
                    values={"what": what, "depth": depth, "max_depth": max_depth},
                    hint=hint or "Flatten the document; operators can raise SYNTHGUARD_MAX_METADATA_DEPTH.")


def json_document(raw: bytes, *, limit: int, what: str) -> Any:
    """``raw`` parsed as JSON; InputError (400) when it is over ``limit`` bytes or not JSON, a nesting too deep for
    the parser included.  The labeling gateway's request bodies and the object-store hook's events (issue 26)."""
    if len(raw) > limit:
        raise InputError("the {what} is over {limit:,} bytes", values={"what": what, "limit": limit})
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InputError("the {what} is not JSON", values={"what": what}) from exc


DEFAULT_MAX_NODES = 100_000


def check_expansion(doc: object, max_nodes: int = DEFAULT_MAX_NODES, *, what: str = "document",
                    error: type[SynthGuardError] = ValidationError) -> None:
    """Refuse a loaded YAML document whose aliases expand past ``max_nodes`` (billion laughs, issue 27).

    Aliases make a loaded document a graph: thirty lines can stand for 10**11 nodes, and whoever walks or prints
    it (``str()``, ``json.dumps``, validation) pays the expanded size.  Counted here without expanding (each
    distinct list/dict once, memoised by identity, iteratively); a self-referencing alias is refused too."""
    sizes: dict[int, int] = {}
    stack: list[tuple[object, bool]] = [(doc, False)]
    open_: set[int] = set()
    while stack:
        node, done = stack.pop()
        if not isinstance(node, (list, dict)) or (not done and id(node) in sizes):
            continue
        kids = list(node.keys()) + list(node.values()) if isinstance(node, dict) else node
        if done:
            open_.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes.get(id(k), 1) for k in kids)
            if sizes[id(node)] > max_nodes:
                raise error("the {what} expands to over {max_nodes:,} nodes through YAML aliases",
                            values={"what": what, "max_nodes": max_nodes},
                            hint="Write the values out instead of repeating anchors (&a / *a).")
            continue
        if id(node) in open_:
            raise error("the {what} refers to itself through a YAML alias", values={"what": what},
                        hint="Remove the alias that points back to its own anchor.")
        open_.add(id(node))
        stack.append((node, True))
        stack.extend((k, False) for k in kids if isinstance(k, (list, dict)) and id(k) not in sizes)


MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1_000, 768_000
MAX_RESAMPLE_PHASES = 50_000
WORK_RATES = (8_000, 16_000, 22_050)  # fingerprint/watermark/notice detection, voice embeddings, notice rendering


def check_sample_rate(native: int, *, path: str | Path | None = None) -> None:
    """Refuse a declared audio sample rate that resampling cannot afford (issue 27).

    ``resample_poly`` from ``native`` to a working rate builds a filter of about 20 * max(up, down) taps, where
    up/down is the reduced ratio: a prime rate such as 546,517 Hz in a 200-byte WAV meant an 11-million-tap filter
    (seconds of CPU per read), and 2**32 - 1 Hz far more.  Real rates (8 k .. 384 k, 44.1 k families, 44,056,
    37,800 ...) stay far below the phase limit."""
    phases = max((max(r, int(native)) // gcd(r, int(native)) for r in WORK_RATES), default=0) if native > 0 else 0
    if not MIN_SAMPLE_RATE <= native <= MAX_SAMPLE_RATE or phases > MAX_RESAMPLE_PHASES:
        raise UnsupportedMediaError(
            "the audio declares {native:,} samples per second, which cannot be resampled within the limits",
            values={"native": int(native)}, path=path,
            hint="Re-encode the audio at a standard rate (8, 16, 22.05, 44.1 or 48 kHz).")
