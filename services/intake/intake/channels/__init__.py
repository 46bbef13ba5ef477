"""Inbound channels of intake: email (IMAP, SMTP, uploaded .eml) and fax (provider webhook, gateway).

Everything that arrives here is hostile until parsed. Each entry point returns either a parsed value
or a :class:`Rejected` outcome that keeps the raw bytes for quarantine; nothing raises on bad input
and nothing is silently dropped. Degradations that are not fatal (a broken charset, a bad base64
line) are recorded as :class:`Note` values on the parsed result.

These modules hold no database code and no HTTP routes; the store and the API call into them.
"""

from intake.channels.outcome import Note, Rejected

__all__ = ["Note", "Rejected"]
