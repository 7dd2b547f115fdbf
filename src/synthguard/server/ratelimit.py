"""Request rate per API token: a token bucket per principal.

``rate_limit_per_minute`` refills the bucket, ``rate_limit_burst`` is its size; an empty bucket answers 429
with ``Retry-After``.  Two stores behind one ``take(key) -> seconds to wait``:

- :class:`TokenBucket`, in memory: each server process has its own buckets (N processes allow N times the rate);
  the default on SQLite, where one process on one host is the deployment.
- :class:`DatabaseBucket` (``rate_limit_shared``, the default on Postgres): the bucket is a row, charged by one
  atomic ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` statement, so every process and host behind the load
  balancer shares the exact rate.  The refill uses the hosts' wall clocks (keep them in NTP sync); a clock behind
  the row's refills nothing rather than draining it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import Request

from synthguard.auth import Principal
from synthguard.errors import RateLimitedError
from synthguard.store import rate_buckets

MAX_KEYS = 100_000  # buckets kept; the least recently used one is dropped (it refills to full anyway)


class TokenBucket:
    def __init__(self, per_minute: int, burst: int, *, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: OrderedDict[object, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: object) -> float:
        """Spend one token: 0.0 when allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate if self.rate > 0 else math.inf
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > MAX_KEYS:
                self._buckets.popitem(last=False)
        return wait


class DatabaseBucket:
    """The token bucket as a database row per key, shared by every process using the database (the atomic charge
    is in store/rate_buckets.py)."""

    def __init__(self, engine: Any, per_minute: int, burst: int, *, clock: Callable[[], float] = time.time):
        self.engine = engine
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock

    def take(self, key: object) -> float:
        """Spend one token: 0.0 when allowed, else the seconds until one is available."""
        tokens, allowed = rate_buckets.charge(self.engine, str(key)[:64], now=self.clock(), rate=self.rate,
                                              burst=self.burst)
        if allowed:
            return 0.0
        return (1.0 - tokens) / self.rate if self.rate > 0 else math.inf


def limiter(sg: Any) -> TokenBucket | DatabaseBucket:
    """The bucket store the settings ask for (``rate_limit_shared``; default: shared on Postgres)."""
    st = sg.settings
    shared = st.rate_limit_shared
    if shared is None:
        shared = sg.db.engine.dialect.name == "postgresql"
    if shared:
        return DatabaseBucket(sg.db.engine, st.rate_limit_per_minute, st.rate_limit_burst)
    return TokenBucket(st.rate_limit_per_minute, st.rate_limit_burst)


def limit(request: Request, p: Principal) -> None:
    """Charge one request to the principal's token; RateLimitedError (429) when its bucket is empty."""
    settings = request.app.state.sg.settings
    if settings.rate_limit_per_minute <= 0:
        return
    bucket = getattr(request.app.state, "rate_limiter", None)
    if bucket is None:
        bucket = request.app.state.rate_limiter = limiter(request.app.state.sg)
    wait = bucket.take(p.token_id)
    if wait > 0:
        err = RateLimitedError("rate limit of {n} requests per minute exceeded for this API token",
                               values={"n": settings.rate_limit_per_minute})
        err.retry_after = max(1, math.ceil(wait))  # type: ignore[attr-defined]
        raise err


def limit_client(request: Request) -> None:
    """Charge one anonymous request to the client address (``public_rate_per_minute``; finding 5 and 12).

    The address is the peer, or X-Forwarded-For's when the peer is a ``trusted_proxies`` entry (uvicorn)."""
    settings = request.app.state.sg.settings
    if settings.public_rate_per_minute <= 0:
        return
    bucket = getattr(request.app.state, "client_limiter", None)
    if bucket is None:
        rate = settings.public_rate_per_minute
        bucket = request.app.state.client_limiter = TokenBucket(rate, rate)
    wait = bucket.take(("client", request.client.host if request.client else "-"))
    if wait > 0:
        err = RateLimitedError("rate limit of {n} requests per minute exceeded for this address",
                               values={"n": settings.public_rate_per_minute})
        err.retry_after = max(1, math.ceil(wait))  # type: ignore[attr-defined]
        raise err
