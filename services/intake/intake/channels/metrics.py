"""Prometheus metrics of intake's channels (listed in docs/runbooks/operations.md)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INBOUND = Counter(
    "aftersales_intake_inbound_total",
    "Inbound emails and faxes by channel, source and outcome "
    "(ticket_opened, threaded, not_a_request, duplicate, quarantined, fax)",
    ["service", "channel", "source", "outcome"],
)
QUARANTINED = Counter(
    "aftersales_intake_quarantined_total",
    "Inputs put in quarantine, by channel and reason code",
    ["service", "channel", "reason"],
)
QUARANTINE_RESOLVED = Counter(
    "aftersales_intake_quarantine_resolved_total",
    "Quarantined inputs released or discarded, by action and outcome",
    ["service", "action", "outcome"],
)
QUARANTINE_HELD = Gauge(
    "aftersales_intake_quarantine_held", "Inputs held in quarantine now", ["service", "channel"]
)
CALLS = Counter(
    "aftersales_intake_calls_total",
    "Hotline calls by how they ended (answered, abandoned, missed, out_of_hours, forwarded)",
    ["service", "outcome"],
)
RING_SECONDS = Histogram(
    "aftersales_intake_call_ring_seconds",
    "Ring time of answered inbound calls",
    ["service"],
    buckets=(2.5, 5, 7.5, 10, 15, 20, 30, 45, 60, 120),
)
CALLBACKS_ESCALATED = Counter(
    "aftersales_intake_callbacks_escalated_total", "Call-backs overdue and escalated", ["service"]
)
ACKNOWLEDGMENTS = Counter(
    "aftersales_intake_acknowledgments_total",
    "Acknowledgment emails by outcome (sent, retry, failed, not_configured)",
    ["service", "outcome"],
)
OCR_SECONDS = Histogram(
    "aftersales_intake_ocr_seconds",
    "Time to inspect, render and OCR one fax document, by outcome (read, rejected, engine_error)",
    ["service", "outcome"],
    buckets=(0.5, 1, 2, 5, 10, 20, 40, 80, 160),
)
