"""The intake service's tables, one module per area; every table shares ``metadata`` from ``base``.

Core (customers, tickets, SLA clocks) lives in ``customers`` and ``tickets``; the channels (calls,
call-backs, mail, faxes, documents, quarantine) in ``channels``.
"""

from intake.tables import channels, customers, tickets
from intake.tables.base import metadata, platform

__all__ = ["channels", "customers", "metadata", "platform", "tickets"]
