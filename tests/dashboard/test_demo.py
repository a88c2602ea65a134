"""``credo demo`` ends by serving: the logins it prints work on the pages it serves."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from support import free_port, page_token


def _partner_story(text: str, base: str, person: str, token: str) -> None:
    """The demo's partners: registered, offered on the person's page, and its printed curl
    gets a decision from the server it serves, under the consent the population generated."""
    assert "Partners registered: hellobike, evcard, huazhu, ctrip, xyz_bank" in text, text
    curl = re.search(r"^  (curl -s .+)$", text, re.M)
    assert curl is not None and base in curl.group(1), text
    answer = subprocess.run(["bash", "-c", curl.group(1)], capture_output=True, text=True,
                            timeout=30)  # fmt: skip
    decision = json.loads(answer.stdout)
    assert decision["product"] == "car_rental" and decision["outcome"] == "approved", decision
    with httpx.Client(base_url=base, timeout=30, headers={"Origin": base}) as c:
        admin = {"Authorization": f"Bearer {token}"}
        code = c.post(f"/admin/persons/{person}/login-codes", headers=admin).json()["code"]
        form = {"person": person, "code": code, "csrf": page_token(c)}
        assert c.post("/login", data=form).status_code == 303
        page = c.get("/me").text
    for partner in ("hellobike", "evcard", "xyz_bank"):
        assert f'<option value="{partner}">' in page
    for purpose in ("rental", "travel", "credit_transaction", "tenancy"):
        assert f'<option value="{purpose}">' in page


def test_demo_prints_logins_that_open_the_pages(tmp_path: Path) -> None:
    port = free_port()
    args = ["demo", "--dir", str(tmp_path), "--people", "400", "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "credo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        assert proc.stdout is not None
        while not any("Press Ctrl+C" in line for line in lines):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(lines)
            lines.append(proc.stdout.readline())
        text = "".join(lines)
        logins = re.findall(r"^  (CP\d+) .*?\d+ \((.+?)\), (.+?): one-time code (\S+)$", text, re.M)
        roles = {role: band for _, band, role, _ in logins}
        assert {"an excellent score", "a new user"} <= roles.keys(), text
        assert roles["an excellent score"] == "excellent", text
        token = re.search(r"admin token (\S+),", text)
        assert token is not None, text
        base = f"http://127.0.0.1:{port}"
        for attempt in range(100):
            try:
                httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.TransportError:
                assert attempt < 99, "the server did not answer"
                time.sleep(0.1)
        for person, band, _, code in logins:
            with httpx.Client(base_url=base, timeout=30, headers={"Origin": base}) as c:
                csrf = page_token(c)
                r = c.post("/login", data={"person": person, "code": code, "csrf": csrf})
                assert r.status_code == 303 and r.headers["location"] == "/me", r.text
                page = c.get("/me")
                assert page.status_code == 200
                assert 'id="score-band"' in page.text and f">{band}</span>" in page.text
        with httpx.Client(base_url=base, timeout=30, headers={"Origin": base}) as c:
            csrf = page_token(c, "/console/login")
            r = c.post("/console/login", data={"token": token.group(1), "csrf": csrf})
            assert r.status_code == 303
            assert "Operator console" in c.get("/console").text
        _partner_story(text, base, logins[0][0], token.group(1))
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
        assert proc.stdout is not None
        proc.stdout.close()


def test_demo_codes_last_a_working_day_and_real_ones_a_quarter_hour(db: Path) -> None:
    import datetime as dt

    import pytest

    from credo.access import exchange_login_code, issue_login_code
    from credo.dashboard.demo import demo_logins
    from credo.errors import AuthError
    from credo.settings import Settings
    from credo.store.db import Store

    with Store.open(Settings(db=db)) as store:
        logins = demo_logins(store)
        assert [login.role for login in logins][:2] == ["an excellent score", "a new user"]
        assert logins[0].band == "excellent"
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=11)
        token = exchange_login_code(store, logins[0].person, logins[0].code, now=later)
        assert token
        real = issue_login_code(store, logins[1].person)
        with pytest.raises(AuthError):
            exchange_login_code(store, logins[1].person, real, now=later)
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
        fresh = issue_login_code(store, logins[1].person)
        assert exchange_login_code(store, logins[1].person, fresh, now=soon)


def test_demo_offers_the_best_score_when_no_one_is_excellent(db: Path) -> None:
    from credo.dashboard.demo import demo_logins
    from credo.settings import Settings
    from credo.store.audit import AuditEntry
    from credo.store.db import Store

    with Store.open(Settings(db=db)) as store:
        with store.write(AuditEntry("test", "no_excellent_scores")) as con:
            con.execute("UPDATE score_snapshots SET band = 'very good' WHERE band = 'excellent'")
        logins = demo_logins(store)
    # the same person as before, now offered for the best score under its real band
    assert (logins[0].role, logins[0].band) == ("the best score", "very good")
    assert logins[0].score >= 700
