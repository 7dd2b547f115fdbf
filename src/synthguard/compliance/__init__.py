"""Provider compliance (issue 11): audit the live deployment against the law, and keep the registers it needs.

``sg.compliance`` is a :class:`Compliance`: ``check()`` (the audit: YAML checks with citations, judged on facts
probed from the ledger, records and settings), ``assessment()`` (the DS Art. 15 security-assessment report),
``switches`` (emergency switches, DS-05), ``register`` (management systems, DS Art. 7), ``screen`` (prompt/
reference/output review with a versioned feature library, DS-08/09), ``terms`` (agreement, notices, DS-06) and
``training`` (training-data register, DS-14).  See docs/compliance.md.
"""

from synthguard.compliance.service import Compliance

__all__ = ["Compliance"]
