"""Prometheus metrics of the messaging pipeline (exposed by each service's /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter(
    "aftersales_events_published_total", "Events confirmed by the broker", ["service", "type"]
)
EVENTS_CONSUMED = Counter(
    "aftersales_events_consumed_total",
    "Events handled by consumers, by outcome (handled, duplicate, retried, dead_lettered, ignored)",
    ["service", "type", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "aftersales_event_handler_seconds", "Time to handle one event and commit", ["service", "type"]
)
OUTBOX_PENDING = Gauge("aftersales_outbox_pending", "Outbox rows not yet published", ["service"])
OUTBOX_LAG = Gauge("aftersales_outbox_lag_seconds", "Age of the oldest unpublished outbox row", ["service"])
QUEUE_DEPTH = Gauge("aftersales_queue_depth", "Messages waiting in a service queue", ["service", "queue"])
