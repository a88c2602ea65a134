"""The synthetic sources, one module per source, each with its own layout and quirks.

Every module has ``build(ctx) -> SourceFrame``. ``BUILDERS`` lists them in build order. The
one cross-source dependency is explicit: ``bank_loans`` records who defaulted in
``ctx.shared["defaulted"]``, which raises the odds of a court listing, so it runs first.
"""

from __future__ import annotations

from collections.abc import Callable

from credo.sim.context import Context
from credo.sim.frame import SourceFrame
from credo.sim.sources import (
    bank_loans,
    city_utilities,
    civic_conduct,
    consents,
    court_list,
    identity_registry,
    payments,
    rentals,
    social_graph,
)

__all__ = ["BUILDERS", "SOURCES"]

BUILDERS: dict[str, Callable[[Context], SourceFrame]] = {
    "alipay_payments": payments.build,
    "bank_loans": bank_loans.build,
    "city_utilities": city_utilities.build,
    "rental_partners": rentals.build,
    "court_list": court_list.build,
    "identity_registry": identity_registry.build,
    "social_graph": social_graph.build,
    "civic_conduct": civic_conduct.build,
    "consents": consents.build,
}

SOURCES: tuple[str, ...] = tuple(BUILDERS)
