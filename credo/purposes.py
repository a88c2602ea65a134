"""The one purpose vocabulary: what a partner may ask about a person for, in the person's words.

A purpose names why a partner asks. Products name a *product purpose* (``rental``, ``travel``)
or a report purpose (a loan is a ``credit_transaction``); risk reports name a *permissible
purpose* (RULES R-FCRA-12); a person consents per partner and purpose (R-PIPL-3), so a consent
names any of them. Products, reports, consents, the pages and the synthetic population all read
this module, so no second list can drift (decision 0630).
"""

from __future__ import annotations

__all__ = ["PRODUCT_PURPOSES", "PURPOSES", "PURPOSE_LABELS", "REPORT_PURPOSES"]

REPORT_PURPOSES: tuple[str, ...] = (
    "credit_transaction",
    "account_review",
    "employment",
    "insurance_underwriting",
    "tenancy",
    "government_benefit",
    "consumer_instruction",
    "court_order",
)
"""Permissible purposes for a risk report (RULES R-FCRA-12): a report names one of these."""

PRODUCT_PURPOSES: tuple[str, ...] = ("rental", "travel")
"""Purposes of products that are not credit: waived deposits and travel bookings."""

PURPOSES: tuple[str, ...] = (*REPORT_PURPOSES, *PRODUCT_PURPOSES)
"""Everything a person can consent to per partner, and a product can name."""

PURPOSE_LABELS: dict[str, str] = {
    "credit_transaction": "a loan or credit you apply for",
    "account_review": "a review of an account you hold",
    "employment": "a job you apply for",
    "insurance_underwriting": "insurance you apply for",
    "tenancy": "a home you rent",
    "government_benefit": "a government benefit you apply for",
    "consumer_instruction": "your own written instruction",
    "court_order": "a court order",
    "rental": "renting without a deposit (bikes, cars, hotels)",
    "travel": "travel bookings (flights, trains, fast lanes)",
}
"""Each purpose as the person reads it on their page."""
