"""A partner's jurisdiction: the rules profile its requests follow (decision 0648).

A bureau serving lenders in several countries keeps each one's law for that lender's requests:
a partner registered with ``jurisdiction: us-fcra`` gets FCRA's permissible purposes for its
reports, its adverse-action notices state FCRA's figures (a free file within 60 days, disputes
checked within 30), and a dispute of an item it furnished runs on FCRA's clock (30 days, +15 on
new evidence). A partner without one follows the installation's ``rules_profile``. What is not
a partner's request (retention, the court list's term, the monthly run) stays the
installation's: the data is held once, under the strictest rule the operator chose.
"""

from __future__ import annotations

from credo.policy.rules import RulesProfile, active_rules, load_rules
from credo.store.db import Store
from credo.store.rows import value

__all__ = ["PARTNER_SOURCE", "furnisher_rules", "partner_rules"]

PARTNER_SOURCE = "partner:"
"""Items a partner furnishes through the API carry ``source = partner:<id>``."""


def partner_rules(store: Store, partner_id: str | None) -> RulesProfile:
    """The profile a partner's requests follow: its jurisdiction's, else the installation's."""
    if partner_id is not None:
        name = value(
            store.con,
            "SELECT jurisdiction FROM partner_jurisdictions WHERE partner_id = ?",
            [partner_id],
        )
        if name:
            return load_rules(str(name))
    return active_rules(store.settings)


def furnisher_rules(store: Store, source: str) -> RulesProfile:
    """The profile a dispute of an item follows: its furnishing partner's, when a partner
    furnished it (``partner:<id>``), else the installation's."""
    if source.startswith(PARTNER_SOURCE):
        return partner_rules(store, source.removeprefix(PARTNER_SOURCE))
    return active_rules(store.settings)
