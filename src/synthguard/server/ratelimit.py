"""Request rate per API token: a token bucket per principal, in memory, per server process.

``rate_limit_per_minute`` refills the bucket, ``rate_limit_burst`` is its size; an empty bucket answers 429
with ``Retry-After``.  Each server process keeps its own buckets (N uvicorn workers allow N times the rate);
put a shared limiter in the reverse proxy when the exact figure matters.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import Request

from synthguard.auth import Principal
from synthguard.errors import RateLimitedError

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


def limit(request: Request, p: Principal) -> None:
    """Charge one request to the principal's token; RateLimitedError (429) when its bucket is empty."""
    settings = request.app.state.sg.settings
    if settings.rate_limit_per_minute <= 0:
        return
    bucket = getattr(request.app.state, "rate_limiter", None)
    if bucket is None:
        bucket = request.app.state.rate_limiter = TokenBucket(settings.rate_limit_per_minute,
                                                              settings.rate_limit_burst)
    wait = bucket.take(p.token_id)
    if wait > 0:
        err = RateLimitedError("rate limit of {n} requests per minute exceeded for this API token",
                               values={"n": settings.rate_limit_per_minute})
        err.retry_after = max(1, math.ceil(wait))  # type: ignore[attr-defined]
        raise err
