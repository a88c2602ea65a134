"""The dashboard: the scored person's page and the operator's console (SPEC S10, S12).

Server-rendered HTML over the same library functions the API serves, mounted on the API's app
by :func:`install`; every asset (stylesheet, script, font) is served from this package, so the
pages work on a machine without internet.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

__all__ = ["install"]


def install(app: FastAPI) -> None:
    """Add the pages and their static assets to ``app`` (made by ``create_app``)."""
    from credo.dashboard import console_fairness, console_lab, console_partners
    from credo.dashboard.pages import STATIC, router

    app.include_router(router)
    app.include_router(console_partners.router)
    app.include_router(console_fairness.router)
    app.include_router(console_lab.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
