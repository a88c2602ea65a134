"""The partners a synthetic population names, so a demo can register them before it serves.

Consents and rental outcomes name partners by id; a partner that is not registered cannot be
granted consent on the person's page nor hold an API key. Purposes come from the one vocabulary
(``credo.purposes``).
"""

from __future__ import annotations

__all__ = ["GRANTS", "PARTNERS"]

PARTNERS: dict[str, str] = {
    "hellobike": "Hellobike bike share",
    "evcard": "EVCARD car rental",
    "huazhu": "Huazhu hotels",
    "ctrip": "Ctrip travel",
    "xyz_bank": "XYZ Bank",
    "lianjia": "Lianjia homes",
    "jiedian": "Jiedian power banks",
    "mosi": "Mosi umbrellas",
    "zuji": "Zuji camera rental",
}
"""Partner id -> name, for every partner the generated sources name."""

GRANTS: tuple[tuple[str, str, float], ...] = (  # (partner, purpose, weight)
    ("hellobike", "rental", 4.0), ("evcard", "rental", 1.0),
    ("huazhu", "rental", 1.5), ("ctrip", "travel", 2.0),
    ("xyz_bank", "credit_transaction", 1.5), ("lianjia", "tenancy", 1.0),
)  # fmt: skip
"""What persons consent to in the generated ``consents`` source, and how often (by weight)."""
