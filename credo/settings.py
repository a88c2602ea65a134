"""One typed settings registry.

Every knob Credo has is a field here, read from ``CREDO_*`` environment variables or a
``credo.toml`` in the working directory (environment wins). A test checks each field has a
description and appears in docs/settings.md, so the documentation cannot drift.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CREDO_", toml_file="credo.toml", extra="forbid", frozen=True
    )

    db: Path = Field(Path("credo.duckdb"), description="The DuckDB database file.")
    key_file: Path | None = Field(
        None,
        description="File holding the 32-byte secret that keys identifier hashes and "
        "encryption; default: the database path with the suffix '.key', created on init.",
    )
    secret_key: str | None = Field(
        None,
        description="The secret as 64 hex characters, instead of a key file (for deployments "
        "that inject secrets through the environment).",
    )
    max_reject_rate: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Share of a file's rows that validation may reject while the valid rows "
        "still load; above it nothing is stored. 0 means any rejected row rejects the file.",
    )
    memory_limit: str = Field(
        "3GB", description="DuckDB's memory limit; larger work spills to temp_directory."
    )
    threads: int | None = Field(None, ge=1, description="DuckDB worker threads (default: cores).")
    temp_directory: Path | None = Field(
        None, description="Where DuckDB spills; default: beside the database file."
    )
    future_tolerance_hours: int = Field(
        36,
        ge=0,
        description="How far past the load time an event date may lie before it is rejected as "
        "'in the future' (sources stamp local time in other zones).",
    )
    actor: str = Field(
        "operator", description="Who the audit log names for CLI actions on this machine."
    )
    rules_profile: str = Field(
        "default",
        description="The jurisdiction profile whose deadlines and rights apply: a name under "
        "policies/rules/ (us-fcra, eu-gdpr, cn-crr, default = the strictest of them) or a path.",
    )
    webhook_hosts: tuple[str, ...] = Field(
        (),
        description="Hosts a partner's webhook URL may name (a JSON list in the environment); "
        "empty: any host. Checked when a partner is registered and before every delivery.",
    )
    bureau_name: str = Field(
        "Credo", min_length=1, description="The bureau's name, as notices to persons give it."
    )
    bureau_address: str | None = Field(
        None,
        min_length=1,
        description="The bureau's postal address, given in every adverse-action notice (FCRA "
        "615(a), RULES R-FCRA-13); unset: the notice says it is not on file.",
    )
    bureau_phone: str | None = Field(
        None,
        min_length=1,
        description="The bureau's phone number for persons (toll-free where it is nationwide), "
        "given in every adverse-action notice (R-FCRA-13).",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.db.with_suffix(".key")
