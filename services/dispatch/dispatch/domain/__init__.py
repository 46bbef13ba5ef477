"""The dispatch service's business rules, pure Python (no database, HTTP or messaging).

- ``network``: service centres, graded regions, the service-level policy per grade
- ``technicians``: skills, shifts, absences, capacity, position, van
- ``work_orders``: the ``WorkOrder`` aggregate and its state machine; ``events``: what it raises
- ``sla``: deadlines from the grade; ``appointments``: to-the-minute visits, rescheduling, lateness
- ``escalation``: durable timers and what firing each one means
- ``assignment``: instant assignment, the batch optimiser and the greedy baseline
- ``maintenance``: preventive visit plans; ``reports``: compliance, first-time fix, utilisation
- ``ticket_changes``: what a ticket merged, or no longer (or again) needing a visit, does to its orders
"""
