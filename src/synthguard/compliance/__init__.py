"""Provider compliance (issue 11): audit the live deployment against the law, and keep the registers it needs.

``sg.compliance`` is a :class:`Compliance`: ``check()`` (the audit: YAML checks with citations, judged on facts
probed from the ledger, records and settings), ``assessment()`` (the DS Art. 15 security-assessment report),
``switches`` (emergency switches, DS-05), ``register`` (management systems, DS Art. 7), ``screen`` (prompt/
reference/output review with a versioned feature library, DS-08/09), ``terms`` (agreement, notices, DS-06) and
``training`` (training-data register, DS-14).  See docs/compliance.md.

The service loads on first use (PEP 562), so the CLI can import :mod:`synthguard.compliance.report` at module level
without the database layer (issue 22: ``synthguard compliance --help`` stays light).
"""

from typing import TYPE_CHECKING, Any

from synthguard.lazy import load_lazily

if TYPE_CHECKING:
    from synthguard.compliance.service import Compliance, ComplianceDeps

_LAZY = dict.fromkeys(("Compliance", "ComplianceDeps"), "synthguard.compliance.service")


def __getattr__(name: str) -> Any:
    return load_lazily(globals(), _LAZY, name)


__all__ = ["Compliance", "ComplianceDeps"]
