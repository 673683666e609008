"""A reorg-safe SQLite index of every medledger event, and the questions auditors ask of it.

>>> from medledger.audit import AuditIndex                        # doctest: +SKIP
>>> with AuditIndex("audit.sqlite", w3=w3, deployment=deployment) as index:
...     index.sync()
...     index.break_glass(since=start_of_month)
"""

from medledger.audit.index import AuditIndex, Reorg, SyncReport
from medledger.audit.queries import AuditEvent, export

__all__ = ["AuditEvent", "AuditIndex", "Reorg", "SyncReport", "export"]
