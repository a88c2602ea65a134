"""``/docs`` (Swagger UI) and ``/redoc`` from files shipped in the package, never a CDN.

FastAPI's own pages load their scripts, styles, favicon and fonts from the internet, so they
are blank offline, against the promise that Credo fetches nothing. These are the same pages
over the vendored assets in ``credo/api/static`` (see its README for versions and licences),
with Swagger UI's online validator and ReDoc's web fonts turned off (decision 0632).

Both pages need inline script and style (FastAPI writes them so), so they get their own
Content-Security-Policy rather than the site's: inline allowed, but every fetch, image, font
and worker from this server only. The browser then asks nothing of the internet, not even
ReDoc's "API docs by Redocly" logo, which it otherwise loads from a CDN (hidden on error).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS", "CSP", "install_docs"]

STATIC = Path(__file__).parent / "static"
ASSETS = "/api-assets"


CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:;"
    " object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def _own_policy(page: HTMLResponse) -> HTMLResponse:
    page.headers["content-security-policy"] = CSP
    return page


def install_docs(app: FastAPI) -> None:
    """Serve the reference pages; the app must be made with ``docs_url=None, redoc_url=None``."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="api-assets")
    title = f"{app.title} API"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return _own_policy(
            get_swagger_ui_html(
                openapi_url="/openapi.json",
                title=title,
                swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
                swagger_css_url=f"{ASSETS}/swagger-ui.css",
                swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
                swagger_ui_parameters={"validatorUrl": None},
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return _own_policy(
            get_redoc_html(
                openapi_url="/openapi.json",
                title=title,
                redoc_js_url=f"{ASSETS}/redoc.standalone.js",
                redoc_favicon_url=f"{ASSETS}/favicon-32x32.png",
                with_google_fonts=False,
            )
        )
