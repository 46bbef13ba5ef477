"""Prometheus metrics of the HTTP layer and timers (the messaging ones live in messaging.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Histogram(
    "aftersales_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SLA_BREACHES = Counter("aftersales_sla_breaches_total", "SLA targets breached", ["service", "target"])
TIMERS_FIRED = Counter(
    "aftersales_timers_fired_total", "Durable timers fired", ["service", "kind", "outcome"]
)
