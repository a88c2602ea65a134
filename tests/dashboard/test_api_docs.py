"""The API's reference pages (Swagger UI at /docs, ReDoc at /redoc) render in Chromium with
every request answered by this server: the assets ship in the package, nothing from a CDN."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import Site


@pytest.mark.parametrize(
    ("path", "operation"),
    [
        ("/docs", "#operations-partner-post_decision_v1_decisions_post"),
        ("/redoc", "[data-section-id='tag/partner/operation/post_decision_v1_decisions_post']"),
    ],
)
def test_api_reference_renders_offline(
    site: Site, new_page: Any, path: str, operation: str
) -> None:
    page = new_page()
    asked: list[str] = []
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        asked.append(route.request.url)
        if route.request.url.startswith(site.base):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    refused: list[str] = []  # what the page's own policy kept the browser from asking
    page.on("console", lambda m: refused.append(m.text) if "Content Security" in m.text else None)
    page.route("**/*", only_local)
    page.goto(site.base + path)
    # Rendered from /openapi.json by the served script: the decision operation is on the page.
    expect(page.locator(operation)).to_be_attached(timeout=20_000)
    expect(page.get_by_text("/v1/products").first).to_be_attached()
    assert blocked == [], blocked
    assert all("cdn.redoc.ly" in r and "img-src" in r for r in refused), refused
    assert any(u.endswith(".js") for u in asked) and any("/openapi.json" in u for u in asked)
