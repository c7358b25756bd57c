"""OpenTelemetry traces: `qcmcp serve` exports over OTLP/HTTP to a receiver this test runs on 127.0.0.1, and each
QuantConnect API attempt is a client span inside the tool call's trace, with no arguments or credentials."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from qcmcp.config import load_settings
from tests.processes import free_port
from tests.test_metrics_http import stop
from tests.test_security import raw_tool_call, start


class Receiver(ThreadingHTTPServer):
    def __init__(self, port: int) -> None:
        self.spans: list = []
        super().__init__(("127.0.0.1", port), Handler)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        request = ExportTraceServiceRequest()
        request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}.get("service.name")
            for scope in resource.scope_spans:
                self.server.spans.extend((service, span) for span in scope.spans)
        body = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_tool_calls_and_api_attempts_are_traced(tmp_path):
    receiver = Receiver(free_port())
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    process, url, _ = start(tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"},
                            "--insecure-no-auth")
    try:
        answer = raw_tool_call(url, "unused", "read_account", {})
        assert '"isError":false' in answer.text, answer.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(s.name == "POST /account/read" for _, s in receiver.spans):
            time.sleep(0.2)
    finally:
        stop(process)
        receiver.shutdown()
    spans = [span for _, span in receiver.spans]
    upstream = next(span for span in spans if span.name == "POST /account/read")
    attributes = {a.key: (a.value.string_value or a.value.int_value) for a in upstream.attributes}
    assert attributes == {"http.request.method": "POST", "url.path": "/account/read", "http.response.status_code": 200}
    parents = {span.span_id: span for span in spans if span.trace_id == upstream.trace_id}
    assert upstream.parent_span_id in parents  # beneath the tool call's span, in one trace
    assert any("read_account" in span.name for span in parents.values()), [s.name for s in parents.values()]
    assert {service for service, _ in receiver.spans} == {"qcmcp"}


def test_traces_are_off_without_an_endpoint_and_can_be_forced_either_way(monkeypatch):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "QCMCP_OTEL"):
        monkeypatch.delenv(name, raising=False)
    assert not load_settings().tracing
    assert load_settings(OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318").tracing
    assert not load_settings(OTEL_EXPORTER_OTLP_ENDPOINT="http://collector:4318", QCMCP_OTEL="off").tracing
    assert load_settings(QCMCP_OTEL="on").tracing
