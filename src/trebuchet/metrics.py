"""Prometheus metrics of the process, served at GET /metrics.

Counters live here, not in the packages that bump them, so `engine` and `events` stay free of the API.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "trebuchet_http_requests",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "trebuchet_http_request_seconds",
    "Time to answer an HTTP request, by route template",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
    registry=REGISTRY,
)
CALLS_CREATED = Counter("trebuchet_calls_created", "Calls created", registry=REGISTRY)
CALL_TRANSITIONS = Counter(
    "trebuchet_call_transitions", "Call state changes, by the state entered", ["state"], registry=REGISTRY
)
CALLBACKS = Counter(
    "trebuchet_callbacks",
    "Callback events settled, by outcome (delivered or failed)",
    ["outcome"],
    registry=REGISTRY,
)
CALLBACK_SECONDS = Histogram(
    "trebuchet_callback_seconds",
    "Time to deliver one callback event, retries and fallback included",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
OUTBOX_PENDING = Gauge("trebuchet_outbox_pending", "Callback events not yet settled", registry=REGISTRY)
ENGINE_LIVE = Gauge(
    "trebuchet_engine_live",
    "What is alive in the call engine right now: controllers, rtp_sessions, mixes, sip_calls, "
    "sip_transactions, "
    "stuck_transactions (no timer and no call to end them: a leak), tasks, transcriptions (under way)",
    ["kind"],
    registry=REGISTRY,
)
RTP_PACKETS = Counter(
    "trebuchet_rtp_packets",
    "RTP packets of ended calls, by direction (sent, received)",
    ["direction"],
    registry=REGISTRY,
)
