"""Failed sign-ins are limited per credential: the sixth failure within a minute is answered
429 with Retry-After, whoever else signs in meanwhile."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credo.access import SignInLimitedError, SignInLimiter

from .conftest import World


def _limited(r: object) -> None:
    status = r.status_code  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert status == 429, body
    assert body["error"]["type"] == "SignInLimitedError"
    assert 1 <= int(r.headers["Retry-After"]) <= 60  # type: ignore[attr-defined]


def test_login_codes_are_limited_per_person(world: World) -> None:
    c = world.client
    code = c.post(f"/admin/persons/{world.person}/login-codes", headers=world.admin).json()["code"]
    for _ in range(5):
        r = c.post("/v1/me/session", json={"person": world.person, "code": "000-000-000"})
        assert r.status_code == 401
    _limited(c.post("/v1/me/session", json={"person": world.person, "code": code}))
    other = c.post(f"/admin/persons/{world.other}/login-codes", headers=world.admin).json()["code"]
    r = c.post("/v1/me/session", json={"person": world.other, "code": other})
    assert r.status_code == 200


def test_api_keys_are_limited_per_key_id(world: World) -> None:
    c = world.client
    key = world.keys["reports"]
    wrong = {"Authorization": f"Bearer {key[:-4]}xxxx"}
    for _ in range(5):
        assert c.get(f"/v1/reports/{world.person}?purpose=rental", headers=wrong).status_code == 401
    _limited(c.get(f"/v1/reports/{world.person}?purpose=rental", headers=wrong))
    _limited(
        c.get(f"/v1/reports/{world.person}?purpose=rental", headers=world.as_partner("reports"))
    )
    body = {"person": world.person, "product": "bike_rental", "consent": world.grant("rental")}
    assert c.post("/v1/decisions", json=body, headers=world.as_partner("decisions")).status_code \
        == 200  # fmt: skip


def test_the_window_slides_and_a_success_clears() -> None:
    limiter = SignInLimiter(limit=2, window=60)
    limiter.failed("login_code", "p1", now=0)
    limiter.failed("login_code", "p1", now=10)
    with pytest.raises(SignInLimitedError) as raised:
        limiter.check("login_code", "p1", now=30)
    assert raised.value.retry_after == 31  # the first failure leaves the window at 60
    limiter.check("login_code", "p2", now=30)
    limiter.check("login_code", "p1", now=61)  # one failure left in the window
    limiter.failed("login_code", "p1", now=62)
    with pytest.raises(SignInLimitedError):
        limiter.check("login_code", "p1", now=63)
    limiter.succeeded("login_code", "p1")
    limiter.check("login_code", "p1", now=63)


@given(
    max_tracked=st.integers(1, 8),
    others=st.lists(st.tuples(st.text(max_size=3), st.floats(2, 59)), max_size=200),
)
def test_failures_on_made_up_ids_never_unlock_a_locked_credential(
    max_tracked: int, others: list[tuple[str, float]]
) -> None:
    """Whatever else fails meanwhile, a locked credential stays locked for its window, and the
    table stays bounded by the locked ones plus twice its size."""
    limiter = SignInLimiter(limit=2, window=60, max_tracked=max_tracked)
    limiter.failed("login_code", "victim", now=0)
    limiter.failed("login_code", "victim", now=1)
    for who, at in sorted(others, key=lambda o: o[1]):
        limiter.failed("login_code", f"made-up-{who}", now=at)
        locked = sum(len(t) >= 2 for t in limiter._failures.values())
        assert len(limiter._failures) <= max(max_tracked, 2 * locked) + 1
        with pytest.raises(SignInLimitedError):
            limiter.check("login_code", "victim", now=at)
    limiter.check("login_code", "victim", now=62)  # the lock ends with its window, as before
