"""Inbound channels of intake: email (IMAP, SMTP, uploaded .eml), fax (provider webhook, gateway) and
the PBX's telephony (CTI) webhook.

Everything that arrives here is hostile until parsed. Each entry point returns either a parsed value
or a :class:`Rejected` outcome that keeps the raw bytes for quarantine; nothing raises on bad input
and nothing is silently dropped. Degradations that are not fatal (a broken charset, a bad base64
line) are recorded as :class:`Note` values on the parsed result.

The parsers (``email``, ``fax``, ``cti_webhook``) hold no database code and no HTTP routes; the
store, the operations and the API call into them. ``settings`` is the channels' configuration
(``INTAKE_*``), ``metrics`` their Prometheus metrics, and ``workers`` the background tasks (IMAP
polling, the SMTP receiver, the fax reader) the service definition runs.
"""

from intake.channels.outcome import Note, Rejected

__all__ = ["Note", "Rejected"]
