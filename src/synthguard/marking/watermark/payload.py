"""Payload framing and error correction for the invisible watermarks.

A payload is exactly 8 bytes (64 bits; DS-15: the pointer back to the ledger record).  It is framed as
``payload || CRC-24(payload)`` (88 bits), then encoded with the rate-1/3, constraint-length-9 convolutional
code (generators 557/663/711 octal, free distance 18) terminated with 8 zero tail bits: 288 coded bits.

Decoding is CRC-aided list Viterbi: a soft-decision parallel list Viterbi keeps the :data:`LIST_SIZE` most
likely frames (maximum-likelihood sequence decoding for Gaussian noise, then the runners-up) and the first one
whose CRC checks is the payload.  Any pattern of up to :data:`CORRECTABLE_HARD_ERRORS` hard bit errors is
always corrected (the best frame is then the sent one); beyond that a frame list without a CRC match is
reported as a failure (``None``), never as a payload.  Only the CRC is checked against the list, so on noise a
wrong frame is accepted with probability at most ``LIST_SIZE * 2**-24`` (:data:`CRC_FALSE_ACCEPT`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from synthguard.errors import WatermarkError
from synthguard.i18n import N_

PAYLOAD_BYTES = 8
PAYLOAD_BITS = 8 * PAYLOAD_BYTES
CRC_BITS = 24
FRAME_BITS = PAYLOAD_BITS + CRC_BITS
CONSTRAINT = 9
MEMORY = CONSTRAINT - 1
GENERATORS = (0o557, 0o663, 0o711)
RATE_INV = len(GENERATORS)
CODED_BITS = RATE_INV * (FRAME_BITS + MEMORY)
FREE_DISTANCE = 18
CORRECTABLE_HARD_ERRORS = (FREE_DISTANCE - 1) // 2

LIST_SIZE = 8
CRC_FALSE_ACCEPT = LIST_SIZE * 2.0**-CRC_BITS

_CRC24_POLY = 0x864CFB  # CRC-24/OpenPGP (RFC 4880)
_CRC24_INIT = 0xB704CE
_NSTATES = 1 << MEMORY


def crc24(data: bytes) -> int:
    """CRC-24/OpenPGP of ``data``."""
    crc = _CRC24_INIT
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= _CRC24_POLY
    return crc & 0xFFFFFF


def _bits(value: int, n: int) -> np.ndarray:
    return np.array([(value >> (n - 1 - i)) & 1 for i in range(n)], dtype=np.uint8)


def check_scheme(key: bytes, strength: float) -> tuple[bytes, float]:
    """A watermarker's scheme key (16 bytes or more) and strength (0 < strength <= 10), checked; image and audio."""
    if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
        raise WatermarkError("the watermark key must be at least 16 bytes (32 recommended)",
                             hint="Configure a random 32-byte watermark scheme key.")
    if not (isinstance(strength, (int, float)) and 0 < strength <= 10 and math.isfinite(strength)):
        raise WatermarkError("watermark strength must be in (0, 10], got {strength!r}", values={"strength": strength})
    return bytes(key), float(strength)


def check_payload(payload: bytes) -> bytes:
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise WatermarkError("watermark payload must be {payload_bytes} bytes, not {name}",
                             values={"payload_bytes": PAYLOAD_BYTES, "name": type(payload).__name__},
                             hint=N_("Pass exactly {payload_bytes} bytes (e.g. a keyed hash of the content id)."))
    payload = bytes(payload)
    if len(payload) != PAYLOAD_BYTES:
        raise WatermarkError("watermark payload must be exactly {payload_bytes} bytes, got {payload_count}",
                             values={"payload_bytes": PAYLOAD_BYTES, "payload_count": len(payload)},
                             hint=N_("Pass exactly {payload_bytes} bytes (e.g. a keyed hash of the content id)."))
    return payload


def frame(payload: bytes) -> np.ndarray:
    """``payload || CRC-24`` as a 0/1 array of :data:`FRAME_BITS` bits (MSB first)."""
    payload = check_payload(payload)
    body = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))
    return np.concatenate([body, _bits(crc24(payload), CRC_BITS)])


def payload_bits(payload: bytes) -> np.ndarray:
    return np.unpackbits(np.frombuffer(check_payload(payload), dtype=np.uint8))


# output table: register = (state << 1) | input, newest bit in the LSB; out[reg, k] = parity(reg & g_k)
_REG = np.arange(1 << CONSTRAINT)
_OUT = np.array([[bin(r & g).count("1") & 1 for g in GENERATORS] for r in _REG], dtype=np.uint8)
_OUT_PM = 2.0 * _OUT.astype(np.float64) - 1.0  # +1 for a coded 1


def conv_encode(bits: np.ndarray) -> np.ndarray:
    """Convolutionally encode ``bits`` (0/1) and append the zero tail: ``3 * (len + 6)`` coded bits."""
    bits = np.concatenate([np.asarray(bits, dtype=np.uint8), np.zeros(MEMORY, dtype=np.uint8)])
    out = np.empty((len(bits), RATE_INV), dtype=np.uint8)
    state = 0
    for t, u in enumerate(bits):
        reg = (state << 1) | int(u)
        out[t] = _OUT[reg]
        state = reg & (_NSTATES - 1)
    return out.reshape(-1)


def encode(payload: bytes) -> np.ndarray:
    """Payload -> :data:`CODED_BITS` coded bits (0/1)."""
    return conv_encode(frame(payload))


# predecessors of next-state ns: (b << (MEMORY - 1)) | (ns >> 1) for b in {0, 1}; input bit u = ns & 1
_NS = np.arange(_NSTATES)
_PREV = np.stack([(b << (MEMORY - 1)) | (_NS >> 1) for b in (0, 1)])  # (2, states)
_PREV_REG = (_PREV << 1) | (_NS & 1)  # (2, states)


def viterbi(soft: np.ndarray, n_bits: int) -> np.ndarray:
    """Soft-decision Viterbi for a terminated code.  ``soft[i] > 0`` favours coded bit 1; magnitude = confidence."""
    soft = np.asarray(soft, dtype=np.float64).reshape(n_bits + MEMORY, RATE_INV)
    bm_all = soft @ _OUT_PM.T  # (steps, 128): correlation of each register's output with the soft input
    metric = np.full(_NSTATES, -np.inf)
    metric[0] = 0.0
    decisions = np.empty((len(soft), _NSTATES), dtype=np.uint8)
    for t in range(len(soft)):
        cand = metric[_PREV] + bm_all[t][_PREV_REG]  # (2, states)
        choice = cand[1] > cand[0]
        decisions[t] = choice
        metric = np.where(choice, cand[1], cand[0])
    state = 0  # terminated: the tail drives the encoder back to state 0
    bits = np.empty(len(soft), dtype=np.uint8)
    for t in range(len(soft) - 1, -1, -1):
        bits[t] = state & 1
        state = int(_PREV[decisions[t, state], state])
    return bits[:n_bits]


def list_viterbi(soft: np.ndarray, n_bits: int, size: int = LIST_SIZE) -> list[np.ndarray]:
    """Parallel list Viterbi: up to ``size`` distinct most likely frames of a terminated code, best first."""
    soft = np.asarray(soft, dtype=np.float64).reshape(n_bits + MEMORY, RATE_INV)
    steps = len(soft)
    bm_all = soft @ _OUT_PM.T
    metric = np.full((_NSTATES, size), -np.inf)
    metric[0, 0] = 0.0
    back = np.empty((steps, _NSTATES, size), dtype=np.int32)  # index into the (2 * size) predecessor candidates
    for t in range(steps):
        cand = (metric[_PREV] + bm_all[t][_PREV_REG][..., None])  # (2, states, size)
        cand = cand.transpose(1, 0, 2).reshape(_NSTATES, 2 * size)
        top = np.argsort(-cand, axis=1, kind="stable")[:, :size]
        back[t] = top
        metric = np.take_along_axis(cand, top, axis=1)
    frames = []
    for rank in range(size):
        if not np.isfinite(metric[0, rank]):
            break
        state, idx = 0, rank
        bits = np.empty(steps, dtype=np.uint8)
        for t in range(steps - 1, -1, -1):
            bits[t] = state & 1
            c = int(back[t, state, idx])
            state, idx = int(_PREV[c // size, state]), c % size
        frames.append(bits[:n_bits])
    return frames


@dataclass(frozen=True)
class Decoded:
    """Result of decoding: ``payload`` is None unless the CRC checks; ``bits`` are the 64 best-guess payload bits."""

    payload: bytes | None
    bits: np.ndarray

    @property
    def ok(self) -> bool:
        return self.payload is not None


def _check(bits: np.ndarray) -> bytes | None:
    body = np.packbits(bits[:PAYLOAD_BITS]).tobytes()
    crc = int("".join(map(str, bits[PAYLOAD_BITS:FRAME_BITS])), 2)
    return body if crc24(body) == crc else None


def decode(soft: np.ndarray, list_size: int = LIST_SIZE) -> Decoded:
    """Decode :data:`CODED_BITS` soft values (positive = 1).  Honest: ``payload`` is None when no listed frame's
    CRC checks.  ``bits`` are those of the accepted frame, else of the most likely one."""
    soft = np.asarray(soft, dtype=np.float64).reshape(-1)
    if soft.size != CODED_BITS:
        raise WatermarkError("expected {coded_bits} soft values, got {size}",
                             values={"coded_bits": CODED_BITS, "size": soft.size})
    if not 1 <= list_size <= LIST_SIZE:
        raise WatermarkError("list size must be in 1..{list_size} (the CRC false-accept bound assumes it)",
                             values={"list_size": LIST_SIZE})
    if not np.all(np.isfinite(soft)):
        soft = np.nan_to_num(soft, nan=0.0, posinf=1e6, neginf=-1e6)
    if not np.any(soft != 0):
        return Decoded(None, viterbi(soft, FRAME_BITS)[:PAYLOAD_BITS].copy())
    best = viterbi(soft, FRAME_BITS)
    body = _check(best)
    if body is not None:
        return Decoded(body, best[:PAYLOAD_BITS].copy())
    if list_size > 1:
        for bits in list_viterbi(soft, FRAME_BITS, list_size)[1:]:
            body = _check(bits)
            if body is not None:
                return Decoded(body, bits[:PAYLOAD_BITS].copy())
    return Decoded(None, best[:PAYLOAD_BITS].copy())


def decode_hard(coded_bits: np.ndarray) -> Decoded:
    """Decode hard 0/1 coded bits."""
    return decode(2.0 * np.asarray(coded_bits, dtype=np.float64) - 1.0)
