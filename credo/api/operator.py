"""The operator's read-only views over HTTP, so the CLI's read-only commands work beside a
running server: ``credo status``, ``quarantine``, ``audit verify``, ``explain`` (decision 0631).

Each answer is what the command prints with ``--json`` when it opens the database itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field

from credo.api.deps import Svc, admin
from credo.api.errors import ERROR_RESPONSES, aware
from credo.ingest.quarantine import quarantined
from credo.rights.audited import audited_read
from credo.scoring.explain import explain_score
from credo.store.audit import verify
from credo.store.status import status_data

__all__ = ["router"]

router = APIRouter(
    prefix="/admin", tags=["admin"], responses=ERROR_RESPONSES, dependencies=[Depends(admin)]
)


@router.get("/status")
def get_status(svc: Svc) -> dict[str, Any]:
    """What the database holds: events, loads, quarantine, audit, score runs, models, disputes."""
    return aware(svc.run(status_data, svc.store))  # type: ignore[no-any-return]


@router.get("/quarantine")
def get_quarantine(
    svc: Svc,
    source: Annotated[str | None, Query(max_length=100)] = None,
    load: int | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
) -> dict[str, Any]:
    """Rejected rows with file, row number, field and reason (audited: raw values)."""

    def go() -> dict[str, Any]:
        page = quarantined(svc.store, source=source, load=load, limit=limit)
        audited_read(svc.store, "admin", "read.quarantine", "quarantine", "data quality",
                     {"source": source, "load": load, "count": len(page.rows)})  # fmt: skip
        return {"total": page.total, "rows": page.rows}

    return aware(svc.run(go))  # type: ignore[no-any-return]


@router.get("/audit/verify")
def get_audit_verify(svc: Svc) -> dict[str, Any]:
    """Walk the audit hash chain; ``ok`` false names the first entry that was altered."""
    return svc.run(verify, svc.store.con).to_dict()


@router.get("/persons/{person_id}/explanation")
def get_explanation(
    person_id: Annotated[str, Field(max_length=100)], svc: Svc, as_of: dt.date | None = None
) -> dict[str, Any]:
    """A person's score explained, as ``credo explain`` prints it (audited)."""

    def go() -> dict[str, Any]:
        found = explain_score(svc.store, person_id, as_of)
        audited_read(svc.store, "admin", "read.explanation", f"person:{person_id}",
                     "score explanation", {"as_of": str(found.as_of)})  # fmt: skip
        return found.to_dict()

    return aware(svc.run(go))  # type: ignore[no-any-return]
