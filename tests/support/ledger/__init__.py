"""A minimal service used to prove the platform's messaging guarantees on real infrastructure.

It records ledger entries (each emits ``ledger.entry.recorded.v1``) and consumes its own events,
writing one ``effects`` row per applied event — with no unique constraint, so any double
application shows up as an extra row.
"""
