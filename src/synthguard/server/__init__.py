"""The HTTP service: ``create_app(settings)`` builds the FastAPI app around one :class:`SynthGuard`.

Roles and tenants come from API tokens (:mod:`synthguard.auth`); errors are mapped once
(:mod:`synthguard.server.errors`); request bodies are size-limited by ``settings.max_bytes``.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from synthguard.config import Settings
from synthguard.core import SynthGuard
from synthguard.server import errors, web
from synthguard.server.i18n import LanguageMiddleware
from synthguard.server.routes import (
    assess,
    complaints,
    compliance,
    hooks,
    jobs,
    lookup,
    moderation,
    pages,
    provider,
    public,
    signin,
    witness,
)
from synthguard.server.routes import consent as consent_routes
from synthguard.server.uploads import BodyLimit

__all__ = ["create_app"]

SWITCH_INTERVAL = 0.001  # seconds between forced GIL hand-offs in a serving process (Python's default: 0.005)


def create_app(settings: Settings, *, sg: SynthGuard | None = None, serving: bool = False) -> FastAPI:
    """The app; pass ``sg`` to share an open core object (it is then not closed on shutdown).

    ``serving`` (``synthguard serve`` and the service benchmark: a long-lived process answering uploads; issue 28,
    repeats in <= 5 ms p99): before the first request, analyse one small image so the decoders and detectors are
    loaded, then move every object made so far out of the garbage collector's walk (``gc.freeze``: a full
    collection of the ~170,000 objects of the loaded libraries cost an unlucky request ~100 ms), run SQLite's
    WAL checkpoints in a background thread instead of in the request whose commit crosses the threshold, and
    hand the GIL on every ``SWITCH_INTERVAL`` seconds instead of Python's 5 ms: a repeat gives the GIL up at each
    database call, and when a viral burst has ten requests running Python in one process, each call cost it up
    to a whole interval to get it back (burst followers' attach stage took 4-5 ms; in one bench/service.py run
    each, repeats p99 5.2 -> 4.9 ms and the slowest repeat 7.7 -> 6.1 ms)."""
    core = sg or SynthGuard.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        switch = sys.getswitchinterval()
        if serving:
            core.scanner.warm()
            core.db.checkpoint_in_background()
            gc.collect()
            gc.freeze()
            sys.setswitchinterval(SWITCH_INTERVAL)
        yield
        sys.setswitchinterval(switch)
        if sg is None:
            core.close()

    app = FastAPI(title="SynthGuard", version=core.version, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Label, inspect and trace AI-generated media; signed ledger lookups (LM-24).")
    web.install(app)  # the design system's assets and /docs, /redoc served offline
    app.state.sg = core
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_bytes)
    app.add_middleware(LanguageMiddleware)  # outermost: error bodies and pages come out in the request's language
    for module in (public, provider, lookup, assess, jobs, hooks, witness, compliance, complaints, moderation,
                   consent_routes, pages, signin):
        app.include_router(module.router)
    app.include_router(consent_routes.pages)
    app.include_router(witness.well_known)
    app.include_router(witness.consistency)
    return app
