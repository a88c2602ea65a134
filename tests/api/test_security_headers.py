"""Every answer carries security headers; personal ones are never cached (issue 17)."""

from __future__ import annotations

import pytest

from credo.api.headers import CSP

from .conftest import World

GUARDS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
          "referrer-policy": "same-origin"}  # fmt: skip


def _guarded(headers: object, *, private: bool, policy: bool) -> None:
    for name, value in GUARDS.items():
        assert headers[name] == value, name  # type: ignore[index]
    assert (headers.get("cache-control") == "no-store") is private  # type: ignore[attr-defined]
    assert (headers.get("content-security-policy") == CSP) is policy  # type: ignore[attr-defined]


def test_personal_answers_and_refusals_are_not_cached(world: World) -> None:
    c = world.client
    grant = world.grant("rental")
    body = {"person": world.person, "product": "bike_rental", "consent": grant}
    for r in (
        c.post("/v1/decisions", json=body, headers=world.as_partner("decisions")),
        c.get("/v1/me/file", headers=world.session),
        c.get("/v1/me/file"),  # 401
        c.get("/no/such/route"),  # 404
    ):
        _guarded(r.headers, private=True, policy=True)


@pytest.mark.parametrize(
    ("path", "private", "policy"),
    [("/login", True, True), ("/static/credo.css", False, False), ("/docs", True, False)],
)
def test_pages_assets_and_the_api_viewer(
    world: World, path: str, private: bool, policy: bool
) -> None:
    r = world.client.get(path)
    assert r.status_code == 200
    _guarded(r.headers, private=private, policy=policy)
