"""Schemathesis over ``/openapi.json``: generated requests, with every audience's credentials,
never get a 5xx and every answer matches the documented schema (a bounded number of examples)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from credo.api import create_app
from credo.settings import Settings

from .conftest import ADMIN, api_settings, make_world, scored_persons


@pytest.fixture
def app_with_world(db: Path) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    person, other = scored_persons(db)
    app = create_app(Settings(db=db), api_settings())
    with TestClient(app) as client:
        world = make_world(client, person, other)
        key = client.post(
            "/admin/partners/skyair/keys",
            json={"scopes": ["decisions", "reports", "outcomes"]},
            headers=world.admin,
        ).json()["key"]
        auth = {"/admin": f"Bearer {ADMIN}", "/v1/me": world.session["Authorization"],
                "/v1": f"Bearer {key}"}  # fmt: skip
        yield app, auth


def _prefix(path: str) -> str:
    return next(p for p in ("/admin", "/v1/me", "/v1") if path.startswith(p))


def test_api_never_fails_and_matches_its_schema(
    app_with_world: tuple[FastAPI, dict[str, str]],
) -> None:
    app, auth = app_with_world
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers={"Authorization": auth[_prefix(case.path)]},
                checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
            )

        run()
