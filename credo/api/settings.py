"""Settings of the service, beside the core registry (``CREDO_API_*``; to merge into
:class:`credo.settings.Settings` when the core registry is next opened)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ApiSettings"]


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CREDO_API_", extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Address to listen on (loopback by default).")
    port: int = Field(8650, ge=0, le=65535, description="Port to listen on.")
    admin_token: str | None = Field(
        None,
        min_length=32,
        description="The operator's bearer token; default: read from admin_token_file.",
    )
    admin_token_file: Path | None = Field(
        None,
        description="File holding the admin token; default: the database path with the suffix "
        "'.admin-token', created (mode 0600) on the first start.",
    )
    products: str = Field("products", description="Products policy: a name or a YAML path.")
    session_minutes: int = Field(60, ge=1, description="How long a person's session lasts.")
    decision_batch: int = Field(
        256,
        ge=1,
        description="Most decisions committed in one transaction by the group-commit writer "
        "(each keeps its own audit entry).",
    )
    max_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest request body accepted; a larger one is answered 413 before it is "
        "read whole.",
    )
    access_log: bool = Field(
        False,
        description="Log each request's line (client, method, path, status) to stderr. Off: "
        "paths name persons, and every access to personal data is already in the audit log.",
    )
    journal_apply_every: int = Field(
        2000,
        ge=1,
        description="Decisions held in the journal before the applier moves them into the "
        "database in one transaction (it also does so every journal_apply_seconds, before any "
        "other request uses the database, and on stop).",
    )
    journal_apply_seconds: float = Field(
        1.0,
        gt=0,
        description="How often the applier moves the decision journal into the database.",
    )
    gil_switch_ms: float = Field(
        1.0,
        gt=0,
        le=100,
        description="The interpreter's thread switch interval while serving (Python's is 5 ms): "
        "how long the decision writer, back from flushing the journal, waits for the GIL while "
        "the event loop is busy, once each batch (docs/decisions/0967).",
    )
    fsync_mode: Literal["standard", "none"] = Field(
        "standard",
        description="DuckDB's fsync_mode for the server's commits, and the decision journal's: "
        "'standard' flushes each commit to disk; 'none' leaves it to the operating system, "
        "which survives the server being killed but may lose acknowledged writes, or corrupt "
        "the file, if the machine crashes or loses power.",
    )
    privacy_contact: str = Field(
        "the operator of this Credo service",
        description="Who runs this service and how to reach them, as the privacy notice names "
        "them (PIPL Art. 17): a name and an address or e-mail.",
    )
    background_seconds: float = Field(
        5.0,
        ge=0,
        description="How often the server delivers webhooks and expires overdue disputes "
        "(0 turns the background loop off).",
    )
