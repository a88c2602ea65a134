"""``create_app(settings)``: the FastAPI app over one Store, routers per audience.

``/v1`` (partner: API key with scopes), ``/v1/me`` (person: session token), ``/admin``
(operator: admin token). OpenAPI at ``/openapi.json``. A background loop delivers webhook
notices and expires overdue disputes every ``background_seconds``, and ends listings whose
term ran out once a day.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import sys
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fastapi import FastAPI

from credo import __version__
from credo.api import admin, operator, partner, person
from credo.api.docs import install_docs
from credo.api.errors import install_handlers
from credo.api.headers import SecurityHeaders
from credo.api.lean import CredoApp
from credo.api.limits import BodyLimit
from credo.api.service import Service
from credo.api.settings import ApiSettings
from credo.rights.court_feed import expire_listings
from credo.rights.disputes import expire_disputes
from credo.settings import Settings
from credo.store.db import now_or

__all__ = ["create_app"]

log = logging.getLogger("credo.api")

COLLECTOR_THRESHOLDS = (20_000, 20, 20)
"""The collector's thresholds while serving (Python's: 700, 10, 10). Nearly every object a
request makes is freed by its reference count, yet the young generations were collected ~150
times a second at 2,000 decisions a second, each collection walking the journal's rows not yet
moved: 20-25 ms a second, pauses of 10-40 ms for every request in flight. Counted net of what
is freed, 20,000 new objects come from real growth (the journal between moves), so a collection
runs every few seconds at most; cyclic garbage waits at most that long (docs/decisions/0966)."""

if TYPE_CHECKING:
    from credo.dashboard.backend import Backend

    _DASHBOARD_SEES: type[Backend] = Service  # the service fits what the pages use of it


class _Background:
    """One round of the server's periodic work.

    A listing's term ends on a date, so the listings are looked at when the day changes, not
    every round: the look reads every court listing in force and joins it to the events
    (0.1-0.2 s at 100,000 persons), holding the store, so every round it paused decisions and
    made their p99."""

    def __init__(self, svc: Service) -> None:
        self.svc = svc
        self.listings_seen: dt.date | None = None

    def once(self) -> None:
        svc = self.svc
        svc.run(expire_disputes, svc.store)
        today = now_or(None).date()
        if today != self.listings_seen:
            svc.run(expire_listings, svc.store)
            self.listings_seen = today
        svc.deliver_now()
        svc.flush_refusals()


def create_app(settings: Settings, api: ApiSettings | None = None) -> CredoApp:
    api = api or ApiSettings(**{})

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = Service(settings, api)
        app.state.service = svc
        # What is loaded by now (modules, the app, its routes) lives as long as the server:
        # keep it out of the collector's full passes, which otherwise walk all of it every few
        # thousand requests, a 40-50 ms pause for every request in flight (0612).
        gc.collect()
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(*COLLECTOR_THRESHOLDS)
        switch = sys.getswitchinterval()
        sys.setswitchinterval(api.gil_switch_ms / 1000)  # docs/decisions/0967
        task = None
        if api.background_seconds > 0:
            background = _Background(svc)

            async def loop() -> None:
                while True:
                    await asyncio.sleep(api.background_seconds)
                    try:
                        await asyncio.to_thread(background.once)
                    except Exception:  # keep serving; the next round retries
                        log.exception("background round failed")

            task = asyncio.create_task(loop())
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            svc.close()
            gc.set_threshold(*thresholds)
            sys.setswitchinterval(switch)
            gc.unfreeze()

    app = CredoApp(
        title="Credo",
        version=__version__,
        description="Partner decisions and reports with consent; the scored person's rights.",
        lifespan=lifespan,
        docs_url=None,  # served from packaged assets by install_docs
        redoc_url=None,
    )
    install_handlers(app)
    install_docs(app)
    app.include_router(partner.router)
    app.include_router(person.router)
    app.include_router(admin.router)
    app.include_router(operator.router)
    from credo.dashboard import install as install_dashboard

    install_dashboard(app)
    app.add_middleware(BodyLimit, limit=api.max_body_bytes)
    app.body_limit = api.max_body_bytes  # the decisions' lean path keeps the same limit (0964)
    app.add_middleware(SecurityHeaders)  # the outermost: on every answer, a 413 too
    return app
