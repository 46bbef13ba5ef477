"""Use cases of the channels (hotline, email, fax) and of the quarantine behind them.

- ``hotline``: a CTI event applied to its call, the call-back list and its escalation, a ticket
  opened on a call.
- ``email``: a raw message recorded exactly once, threaded or opening a ticket, acknowledged.
- ``fax``: a delivery recorded with its document, read by OCR, turned into a pre-filled ticket.
- ``quarantine``: refused input kept with its reason; released (processed again) or discarded.
- ``release``: processing a released item again through its own channel.
- ``tickets``: the narrow interface to the ticket and customer operations.
"""
