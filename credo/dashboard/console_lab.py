"""The console's simulation page (issue 18 item 7): run the lab on a population from the form
and see its figures month by month, as ``credo simulate`` writes them. Sizes are capped so a
page answers in seconds; larger runs belong to the command."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from credo.dashboard.pages import console_page_of, operator_or_login
from credo.errors import CredoError, InputError
from credo.lab.policy import PRESETS, load_policy
from credo.lab.report import body_html
from credo.lab.run import simulate

__all__ = ["MAX_MONTHS", "MAX_PEOPLE", "lab_view", "router"]

router = APIRouter(include_in_schema=False)
MAX_PEOPLE, MAX_MONTHS = 20_000, 36


def lab_view(people: int, months: int, seed: int, policies: list[str]) -> dict[str, Any]:
    """The lab's report for the form's choices, and its figures as the report page draws them."""
    if not 2 <= people <= MAX_PEOPLE or not 1 <= months <= MAX_MONTHS:
        raise InputError(
            f"people {people} and months {months}: the console runs 2-{MAX_PEOPLE:,} people"
            f" for 1-{MAX_MONTHS} months",
            hint="run larger populations with 'credo simulate'",
        )
    if not policies:
        raise InputError("choose at least one policy")
    run = simulate(people, months, [load_policy(p) for p in policies], seed)
    report = run.to_dict()
    return {"report": report, "figures": Markup(body_html(report))}


@router.get("/console/simulation")
def console_simulation(
    request: Request,
    people: int = 2_000,
    months: int = 12,
    seed: int = 1,
    policy: Annotated[list[str] | None, Query()] = None,
    run: bool = False,
) -> Response:
    if (refused := operator_or_login(request)) is not None:
        return refused
    chosen = policy if policy is not None else ["score", "no-connections"]
    form = {"people": people, "months": months, "seed": seed, "chosen": chosen,
            "presets": list(PRESETS), "report": None}  # fmt: skip
    if not run:
        return console_page_of(request, "console_simulation.html", form)
    try:
        return console_page_of(
            request, "console_simulation.html", {**form, **lab_view(people, months, seed, chosen)}
        )
    except CredoError as exc:
        return console_page_of(
            request, "console_simulation.html", {**form, "error": exc.message}, exc.http_status
        )
