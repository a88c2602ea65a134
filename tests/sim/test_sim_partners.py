"""The partners and purposes a generated population names are the ones Credo knows."""

from __future__ import annotations

import json

from credo.purposes import PURPOSES
from credo.sim import GenerationSummary
from credo.sim.partners import GRANTS, PARTNERS


def _jsonl(summary: GenerationSummary, source: str) -> list[dict[str, object]]:
    path = next(f.path for f in summary.files if f.source == source)
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_grants_use_the_one_vocabulary() -> None:
    assert {purpose for _, purpose, _ in GRANTS} <= set(PURPOSES)
    assert {partner for partner, _, _ in GRANTS} <= set(PARTNERS)


def test_generated_consents_and_rentals_name_registered_partners(
    small: GenerationSummary,
) -> None:
    consents = [r for r in _jsonl(small, "consents") if r["action"] in ("GRANT", "REVOKE")]
    assert consents, "the small population grants consent"
    assert {r["purpose"] for r in consents} <= set(PURPOSES)
    assert {r["partner"] for r in consents} <= set(PARTNERS)
    rentals = _jsonl(small, "rental_partners")
    assert {r["partner"] for r in rentals} <= set(PARTNERS)
