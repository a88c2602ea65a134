"""Take the README's screenshots from a running `credo demo` (or `credo serve`).

.venv/bin/credo demo --people 3000 --port 8650 &   # prints the codes and the admin token
.venv/bin/python scripts/screenshots.py http://127.0.0.1:8650 PERSON CODE ADMIN_TOKEN
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "img"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update"]  # fmt: skip


def main(base: str, person: str, code: str, admin: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1100, "height": 1900}, locale="zh-CN")
        page.goto(f"{base}/login")
        page.get_by_label("Person id").fill(person)
        page.get_by_label("One-time code").fill(code)
        page.get_by_role("button", name="Sign in").click()
        page.locator("details.reason summary").first.click()
        page.screenshot(path=OUT / "person.png")
        page.close()
        page = browser.new_page(viewport={"width": 1100, "height": 1500})
        page.goto(f"{base}/console/login")
        page.get_by_label("Admin token").fill(admin)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/console")  # the first load walks the whole audit chain
        page.wait_for_load_state("load")
        page.screenshot(path=OUT / "console.png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:5])
