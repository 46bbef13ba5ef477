"""Intake's business rules, pure Python: the customer file, tickets, SLA clocks, hotline calls, complaints.

Nothing here touches the database, HTTP or the broker. Time is passed in as aware UTC datetimes;
aggregates collect the domain events they raise, and the store drains them (``pull_events``) into
the outbox in the same transaction as the change.

- ``customers``, ``contact_points``, ``duplicates``, ``contact_history``: the customer file.
- ``tickets`` (with ``ticket_values`` and ``ticket_events``): the ticket aggregate and its state machine.
- ``sla_policy``, ``sla``, ``sla_report``: targets, clocks and timers, compliance.
- ``cti``, ``hotline``, ``callbacks``: telephony events, calls, the call-back list.
- ``complaints``: complaint tickets, also from negative survey answers.
"""
