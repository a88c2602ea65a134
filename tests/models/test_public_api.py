"""The public surface of ``credo.models`` is pinned: adding or removing a name is a decision."""

from __future__ import annotations

import credo.models


def test_public_names() -> None:
    assert sorted(credo.models.__all__) == [
        "ConstantFeatureWarning",
        "DIMENSIONS",
        "DataError",
        "Explanation",
        "FitError",
        "Improvement",
        "NotFittedError",
        "Reason",
        "Scorecard",
        "ScorecardModel",
        "ValidationReport",
        "auc",
        "calibration_table",
        "explain",
        "file_source",
        "gini",
        "ks",
        "points_table_schema",
        "psi",
        "score_duckdb",
        "scoring_sql",
        "validation_report",
    ]
    for name in credo.models.__all__:
        assert getattr(credo.models, name) is not None


def test_dimensions_are_zhimas_five() -> None:
    assert credo.models.DIMENSIONS == (
        "credit_history",
        "behaviour",
        "fulfilment_capacity",
        "identity",
        "connections",
    )


def test_every_command_has_help() -> None:
    from typer.testing import CliRunner

    from credo.cli import app

    runner = CliRunner()
    for command in ("train", "score-table", "validate"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, command
