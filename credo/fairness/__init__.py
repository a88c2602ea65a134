"""The fairness audit: whom a scorecard approves, per protected attribute, group and cut.

:func:`audit` gives the figures (:mod:`credo.fairness.metrics` defines each one),
:func:`proxy_report` the features that carry a protected attribute and the less discriminatory
alternatives, :func:`write_report` the JSON and HTML reports (schema in docs/fairness.md).
"""

from typing import TYPE_CHECKING

from credo._lazy import lazy_exports

if TYPE_CHECKING:
    from credo.fairness.audit import Audit, AuditSettings, audit
    from credo.fairness.inputs import CutSpec, align_protected
    from credo.fairness.proxies import Proxies, proxy_report
    from credo.fairness.report import write_report

_WHERE = {
    "Audit": "audit",
    "AuditSettings": "audit",
    "audit": "audit",
    "CutSpec": "inputs",
    "align_protected": "inputs",
    "Proxies": "proxies",
    "proxy_report": "proxies",
    "write_report": "report",
}

__getattr__ = lazy_exports("credo.fairness", _WHERE)

__all__ = [
    "Audit",
    "AuditSettings",
    "CutSpec",
    "Proxies",
    "align_protected",
    "audit",
    "proxy_report",
    "write_report",
]
