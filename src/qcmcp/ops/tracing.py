"""OpenTelemetry traces (the ``otel`` extra): fastmcp's own span per MCP request and tool call, and a client span
per QuantConnect API attempt beneath it, exported over OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (the
exporter reads the standard ``OTEL_*`` variables). Spans carry the tool, the endpoint path and the HTTP status —
never arguments, credentials or answers; fastmcp records the token subject as ``enduser.id``.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

_attempt: ContextVar[Any] = ContextVar("qcmcp_upstream_span", default=None)


def start_tracing(version: str) -> None:
    """Install the SDK's tracer provider with an OTLP/HTTP exporter for this process (``qcmcp serve``).
    Raises ImportError when the ``otel`` extra is not installed."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "qcmcp", "service.version": version}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


class UpstreamTracer:
    """One CLIENT span per API attempt, a child of the tool call's span (started and ended by the client hooks)."""

    def __init__(self) -> None:
        self._tracer = trace.get_tracer("qcmcp")

    def start(self, endpoint: str) -> None:
        span = self._tracer.start_span(f"POST {endpoint}", kind=SpanKind.CLIENT,
                                       attributes={"http.request.method": "POST", "url.path": endpoint})
        _attempt.set(span)

    def end(self, status: int | None) -> None:
        span = _attempt.get()
        if span is None:
            return
        _attempt.set(None)
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        if status is None or status >= 500:
            span.set_status(Status(StatusCode.ERROR, "no answer" if status is None else f"HTTP {status}"))
        span.end()
