"""Prometheus metrics, one registry per app (no import-time globals)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """Request counts and latencies by route, answer and token counters, queue depth."""

    content_type = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "ragtune_http_requests", "HTTP requests by route and status",
            ["method", "route", "status"], registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "ragtune_http_request_seconds", "HTTP request latency (to the last byte)",
            ["method", "route"], buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.answers = Counter(
            "ragtune_answers", "Answers given, by strategy", ["strategy"], registry=r
        )
        self.tokens = Counter("ragtune_generated_tokens", "Tokens generated in answers", registry=r)
        self.timeouts = Counter(
            "ragtune_generation_timeouts", "Answers that ran past the timeout", registry=r
        )
        self.feedback = Counter("ragtune_feedback", "Feedback received", ["rating"], registry=r)
        self.query_batch = Histogram(
            "ragtune_query_batch_size", "Search queries embedded together in one batch",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=r,
        )  # fmt: skip
        self.queue = Gauge("ragtune_answers_in_flight", "Answers queued or running", registry=r)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
