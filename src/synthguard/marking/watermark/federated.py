"""Detection across deployments (issue 19 item 3): one common sync pattern, a payload keyed per provider.

The private image watermark (``image.py``) derives everything -- pilot chips, payload chip signs, chip roles --
from the provider's secret key, so a platform would have to run the whole geometric search (the lattice
hypotheses, 8 orientations, 2 band profiles, every cyclic offset) once per trusted provider: detection cost
linear in the trust list.  The federated scheme splits the tile in two:

* the **sync pattern**, common to every SynthGuard deployment: the pilot chips' positions and signs and the
  chip -> coded-bit roles, derived from the public name :data:`SYNC_NAME`.  The presence test and the whole
  geometric search (``_sync``, ``_orient``, ``_local``, ``keyed_test``) run once on it, whatever the number of
  providers;
* the **payload chips' signs**, derived from the provider's *detection key* (:func:`derive` from its
  ``watermark.key`` and its mode).  In ``shared`` mode the detection key is secret and handed to the platforms
  the provider chose (``trust.wmgrant``); in ``public`` mode it is published in the provider's signed
  descriptor, so anyone can read the 64-bit token, which stays an HMAC of the content id under the provider's
  integrity key (``SynthGuard.watermark_payload``): only the provider can turn a token into a record.

Attribution, per image (not per provider x geometry).  Once synchronised, the detector extracts the raw chips at
the best decoding offsets (key-free) and scores every trusted detection key at once with one tensor contraction:
the payload-chip energy ``E_k = sum_b (sum_{c in b} x_c s_{k,c})^2 / 11 - 288`` (coherent under the key that made
the mark, chi-square-like noise under any other key) -- first for every key at the :data:`KEY_OFFSETS` offsets
the key-free pilot ranks best (one batched matrix product, ~0.1 ms per 10 keys), then for the
:data:`KEY_SHORTLIST` best keys at all candidate offsets.  Only the best ``(key, offset)`` is Viterbi-decoded
(plus, when the correlation alone already proves a mark is present, up to :data:`DECODE_TRIES` - 1 runners-up),
so the number of decodes does not grow with the trust list.

False positives (the image watermark's bound, unchanged).  Presence: the common pilot's correlation,
Hoeffding per candidate, Bonferroni over the same ``N_CANDIDATES`` (lattice, orientation, profile, offset):
``p_corr``.  The CRC route: the first decode (the best key and offset by the sign-free energy) earns
``CRC_FALSE_ACCEPT`` = 8 * 2^-24: under the null the chosen key's payload signs are independent of the image,
``E_k`` is invariant under flipping all signs of one coded bit's chips, so the decoded frame stays uniform whatever
key and offset the energy chose (also when *another* provider's mark is present).  ``p = 2 min(p_corr, p_crc)``,
``present`` iff ``p <= 1e-6``.  Attribution: each decode under a key whose mark is absent passes the CRC with
probability <= 4.8e-7, so an attribution reached at decode ``r`` is wrong with probability <= ``r`` * 4.8e-7
(reported as ``false_attribution``): B's marks are attributed to A with probability below 3e-6 at worst.

What the common pattern costs: the sync pattern is public by construction (every deployment and the source code
hold it), so anyone can embed a "SynthGuard mark present" signal, and an attacker can subtract an estimate of
the pilot (see docs/federation.md and bench/federation_scan.py for the measured removal and forgery figures).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from synthguard.errors import WatermarkError
from synthguard.i18n import N_
from synthguard.marking.federation import MODES, SCHEME, SYNC_NAME, derive, key_id
from synthguard.marking.watermark import payload as pl
from synthguard.marking.watermark._orient import N_ORIENTATIONS
from synthguard.marking.watermark._pattern import CHIP, CHIPS_PER_BIT, N_CHIPS, TILE, KeyedLayout, frozen_tile
from synthguard.marking.watermark._sync import N_HYPOTHESES, lattices, square
from synthguard.marking.watermark.image import (
    FALSE_POSITIVE_RATE,
    N_SYNC_REFINE,
    SEARCHES,
    ImageWatermarker,
    WatermarkResult,
    _log_p_correlation,
    _significant,
    geometry_models,
    keyed_test,
    prepare_with_luma,
)

_PAYLOAD_DOMAIN = b"synthguard/watermark/image/federated/v1/payload\x00"
DECODE_TRIES = 6  # decodes when the correlation alone proves presence (only the first earns CRC credit)
KEY_OFFSETS = 3  # offsets (best by the key-free pilot) at which every key's payload energy is computed
KEY_SHORTLIST = 4  # keys then scored at every candidate offset, like the single-key detector
_LOG_TINY = math.log(1e-300)

COMMON = KeyedLayout(SYNC_NAME)  # pilot positions and signs, chip roles: public
N_PILOT = int(COMMON.pilot.sum())
# chip indices of each coded bit (CODED_BITS x CHIPS_PER_BIT): the contraction's layout
_PAY = np.nonzero(~COMMON.pilot)[0]
PAY_IDX = _PAY[np.argsort(COMMON.role[_PAY], kind="stable")].reshape(pl.CODED_BITS, CHIPS_PER_BIT)


class FederatedLayout(KeyedLayout):
    """The common pilot and roles, the provider's payload chip signs."""

    def __init__(self, key: bytes):  # noqa: D107 -- deliberately not calling KeyedLayout.__init__
        if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
            raise WatermarkError("a detection key must be at least 16 bytes")
        stream = hashlib.shake_256(_PAYLOAD_DOMAIN + bytes(key)).digest(N_CHIPS // 8)
        own = 1.0 - 2.0 * np.unpackbits(np.frombuffer(stream, dtype=np.uint8)).astype(np.float64)
        self.signs = np.where(COMMON.pilot, COMMON.signs, own)
        self.role = COMMON.role
        self.pilot = COMMON.pilot
        self._pilot_comb = COMMON.pilot_comb()


@lru_cache(maxsize=256)
def layout_for(key: bytes) -> FederatedLayout:
    return FederatedLayout(key)


@lru_cache(maxsize=64)
def tile_for(key: bytes, payload: bytes) -> np.ndarray:
    return frozen_tile(layout_for(key), payload)


@dataclass(frozen=True)
class Attribution:
    key_id: str
    payload: bytes
    decode: int  # decodes run so far in this detection, this one included
    false_attribution: float  # bound on P(this payload is not this key's mark): decode * CRC_FALSE_ACCEPT
    crc_credit: bool = False  # the search's final first decode: its CRC counts towards presence

    def to_dict(self) -> dict:
        return {"key_id": self.key_id, "token": self.payload.hex(), "decode": self.decode,
                "false_attribution": self.false_attribution}


@dataclass(frozen=True)
class FederatedResult:
    """``present``: a federated SynthGuard mark is there (p <= 1e-6); ``attribution``: whose key decodes it."""

    present: bool
    p_value: float
    score: float
    attribution: Attribution | None
    keys: int  # detection keys scored
    decodes: int  # Viterbi decodes run (does not grow with ``keys``)
    search: str

    def to_dict(self) -> dict:
        return {"present": self.present, "p_value": self.p_value, "score": self.score, "keys": self.keys,
                "decodes": self.decodes, "search": self.search,
                "attribution": self.attribution.to_dict() if self.attribution else None}


class FederatedDetector:
    """Detect the federated mark once and attribute it among ``keys`` (key id -> detection key)."""

    def __init__(self, keys: Mapping[str, bytes]):
        self.ids = list(keys)
        self.keys = [bytes(keys[k]) for k in self.ids]
        for k, key in zip(self.ids, self.keys, strict=True):
            if len(key) < 16:
                raise WatermarkError("detection key {kid} is shorter than 16 bytes", values={"kid": k})
        # (coded bits, chips per bit, keys) payload signs: every key scored with one batched matrix product
        signs = (np.stack([layout_for(key).signs[PAY_IDX] for key in self.keys]).astype(np.float32)
                 if self.keys else np.zeros((0, pl.CODED_BITS, CHIPS_PER_BIT), np.float32))
        self._signs = np.ascontiguousarray(signs.transpose(1, 2, 0))

    def detect(self, image: Image.Image, search: str = "full") -> FederatedResult:
        if search not in SEARCHES:
            raise WatermarkError("unknown watermark search {search!r}", hint=N_("Use one of: {searches}."),
                                 values={"search": search, "searches": ", ".join(SEARCHES)})
        rn, scale, priors, luma, full = prepare_with_luma(image)
        return self.test(rn, scale, priors, search, luma, full)

    def test(self, rn: np.ndarray, scale: float, priors: list[tuple[float, float]],
             search: str = "full", luma: np.ndarray | None = None,
             full: np.ndarray | None = None) -> FederatedResult:
        """``luma`` (detection scale) lets the full search look for an inset (``_local``), read from ``full`` (the
        luminance at full resolution) when given."""
        test = keyed_test(rn, COMMON, None)  # the presence test on the common pilot: once, whatever len(keys)
        run = _Run(self)
        for orientations in (1, N_ORIENTATIONS):  # the image watermark's fast path
            fast = test(square(*priors[0]), orientations)
            log_p = _log_p_correlation(fast[0])
            if _significant(log_p):
                att = run.attribute([fast], tries=1)
                if att is not None:
                    return run.result(fast[0], log_p, att, search)
        found = [fast]
        for prior in priors[1:]:
            found.append(test(square(*prior)))
        z = max(f[0] for f in found)
        log_p = _log_p_correlation(z)
        if len(priors) > 1 and _significant(log_p):
            att = run.attribute(found, tries=1)
            if att is not None:
                return run.result(z, log_p, att, search)
        if search == "priors" and not _significant(log_p):
            return run.result(z, log_p, None, search)  # the deferred full search's job (CRC route included)
        if search == "full":
            reserve: list = []
            for lattice in lattices(rn, scale, N_HYPOTHESES, tuple(priors), reserve=reserve)[len(priors):N_HYPOTHESES]:
                found.append(test(lattice))
            if not _significant(_log_p_correlation(max(f[0] for f in found))):  # the reserve, keystone, inset
                found += geometry_models(rn, luma, [p for p, _ in priors], COMMON, test, reserve, full, scale)
            z = max(f[0] for f in found)
            log_p = _log_p_correlation(z)
        att = run.attribute(found, tries=DECODE_TRIES if _significant(log_p) else 1, final=True)
        return run.result(z, log_p, att, search)


class _Run:
    """One detection's attribution state: the decodes spent and the candidates already decoded."""

    def __init__(self, det: FederatedDetector):
        self.det = det
        self.decodes = 0
        self.done: set[tuple[int, int, tuple[int, int]]] = set()  # (key, id(tile), offset) already decoded

    def candidates(self, found: list) -> list[tuple[float, int, int, np.ndarray, tuple[int, int]]]:
        """``(score, key index, hypothesis rank, matched tile, offset)``, best first: pilot correlation (key-free)
        plus each key's payload-chip energy (sign-free per coded bit), all keys in one contraction."""
        hyps = sorted(found, key=lambda f: -f[0])[:N_SYNC_REFINE]
        rows, zk, where = [], [], []
        for r, (_z, h, off) in enumerate(hyps):
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    o = ((off[0] + dy) % TILE, (off[1] + dx) % TILE)
                    c = np.roll(h, (-o[0], -o[1]), axis=(0, 1))[::CHIP, ::CHIP].reshape(-1)
                    c = c / max(float(np.sqrt(np.mean(c * c))), 1e-12)
                    z = float(np.dot(c[COMMON.pilot], COMMON.signs[COMMON.pilot])) / math.sqrt(N_PILOT)
                    rows.append(c[PAY_IDX])
                    zk.append(z * abs(z))
                    where.append((r, o))
        if not self.det.keys:
            return []
        chips = np.ascontiguousarray(np.stack(rows).astype(np.float32).transpose(1, 0, 2))  # (bits, offsets, chips)
        pilot = np.asarray(zk, np.float32)
        # stage 1: every key's energy at the offsets the (key-free) pilot ranks best -> the most likely keys
        top = np.argsort(-pilot, kind="stable")[:KEY_OFFSETS]
        e1 = self._energy(chips[:, top], self.det._signs)  # (offsets, keys)
        keys = np.argsort(-e1.max(axis=0), kind="stable")[:KEY_SHORTLIST]
        # stage 2: the shortlisted keys at every offset: pilot correlation plus payload energy, as for one key
        score = pilot[:, None] + self._energy(chips, self.det._signs[:, :, keys])  # (offsets, shortlisted keys)
        order = np.argsort(-score, axis=None, kind="stable")
        out = []
        for i in order[: 4 * DECODE_TRIES]:
            j, q = divmod(int(i), score.shape[1])
            r, o = where[j]
            out.append((float(score[j, q]), int(keys[q]), r, hyps[r][1], o))
        return out

    @staticmethod
    def _energy(chips: np.ndarray, signs: np.ndarray) -> np.ndarray:
        """Payload-chip energy ``sum_b soft_b^2 / CHIPS_PER_BIT - CODED_BITS`` for (offsets, keys): sign-free per
        coded bit (flipping a bit's chip signs leaves it unchanged), so the decoded frame stays uniform."""
        soft = np.matmul(chips, signs)  # (bits, offsets, keys)
        return np.einsum("bok,bok->ok", soft, soft) / CHIPS_PER_BIT - pl.CODED_BITS

    def attribute(self, found: list, tries: int, final: bool = False) -> Attribution | None:
        """Decode the best candidates until one passes the CRC, at most ``tries`` decodes in this call; with
        ``final`` (the search's last stage) the first of them earns CRC credit (the module docstring)."""
        n = 0
        for _s, k, _r, h, off in self.candidates(found):
            if n >= tries:
                break
            key = (k, id(h), off)
            if key in self.done:
                continue
            self.done.add(key)
            self.decodes += 1
            n += 1
            decoded = ImageWatermarker._decode_at(layout_for(self.det.keys[k]), h, off)
            if decoded.ok:
                assert decoded.payload is not None
                return Attribution(self.det.ids[k], decoded.payload, self.decodes,
                                   self.decodes * pl.CRC_FALSE_ACCEPT, final and n == 1)
        return None

    def result(self, z: float, log_p_corr: float, att: Attribution | None, search: str) -> FederatedResult:
        crc = att is not None and att.crc_credit
        log_p = min(0.0, math.log(2) + min(log_p_corr, math.log(pl.CRC_FALSE_ACCEPT) if crc else 0.0))
        p = math.exp(max(log_p, _LOG_TINY))
        present = bool(p <= FALSE_POSITIVE_RATE)
        return FederatedResult(present, p, float(max(z, 0.0)), att if present else None, len(self.det.keys),
                               self.decodes, search)


class FederatedWatermarker(ImageWatermarker):
    """A provider's own view of the federated mark: embed with its detection key, detect that key's mark only."""

    def __init__(self, key: bytes, strength: float = 1.0):
        super().__init__(key, strength)
        self.key_id = key_id(self._key)

    def _tile(self, payload: bytes) -> np.ndarray:
        return tile_for(self._key, payload)

    def detect(self, image: Image.Image, expected: bytes | None = None, search: str = "full") -> WatermarkResult:
        """``detected``: the federated mark is present AND decodes under this key (another provider's mark, or
        a bare sync pattern, is not this key's mark: ``detected`` False, p-value 1)."""
        if expected is not None:
            expected = pl.check_payload(expected)
        r = FederatedDetector({self.key_id: self._key}).detect(image, search=search)
        mine = r.attribution.payload if r.attribution is not None else None
        acc = None
        if expected is not None:
            acc = 0.0 if mine is None else float(np.mean(pl.payload_bits(mine) == pl.payload_bits(expected)))
        return WatermarkResult(detected=mine is not None, payload=mine, score=r.score,
                               p_value=r.p_value if mine is not None else 1.0, bit_accuracy=acc)


__all__ = ["COMMON", "DECODE_TRIES", "MODES", "SCHEME", "SYNC_NAME", "Attribution", "FederatedDetector",
           "FederatedResult", "FederatedWatermarker", "derive", "key_id"]
