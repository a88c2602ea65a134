"""At a phone's width (390 px) neither the person's page nor the console is wider than the
screen: tables reflow, long ids wrap (measured in Chromium)."""

from __future__ import annotations

from typing import Any

from .conftest import Site, sign_in, sign_in_operator

_WIDEST = """[document.documentElement.scrollWidth,
  [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)
    .slice(0, 5).map(e => e.tagName + '.' + e.className)]"""


def test_no_horizontal_overflow_at_390_px(site: Site, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        page = context.new_page()
        sign_in(page, site, site.other)
        width, wider = page.evaluate(_WIDEST)
        assert width <= 390 and wider == [], ("person", width, wider)
        sign_in_operator(page, site)
        width, wider = page.evaluate(_WIDEST)
        assert width <= 390 and wider == [], ("console", width, wider)
    finally:
        context.close()
