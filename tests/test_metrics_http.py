"""``/metrics`` over the real transports: scraped by a real Prometheus server, kept from callers without the
scrape token in shared mode, free of tenants, subjects and secrets, and on a port of its own for stdio."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import jwt
import pytest

from tests.processes import free_port, wait_for_port
from tests.test_security import QCMCP, SECRET, claims, raw_tool_call, start

METRICS_TOKEN = "scrape-token-7c1f0e9a2b4d"
PROMETHEUS = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)


def token(**overrides: object) -> str:
    return jwt.encode(claims(**overrides), SECRET, algorithm="HS256")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """A shared deployment with a scrape token; one tool call made by a recognisable subject and tenant."""
    tmp = tmp_path_factory.mktemp("metrics")
    process, url, log = start(tmp, {"QCMCP_AUTH_JWT_SECRET": SECRET, "QCMCP_METRICS_TOKEN": METRICS_TOKEN})
    answer = raw_tool_call(url, token(sub="subject-who-must-not-show", tenant="tenant-who-must-not-show"),
                           "read_account", {})
    assert answer.status_code == 200, answer.text
    yield url
    stop(process)


def test_shared_mode_metrics_need_the_scrape_token(shared):
    assert httpx.get(f"{shared}/metrics", timeout=10).status_code == 401
    wrong = httpx.get(f"{shared}/metrics", headers={"Authorization": f"Bearer {token()}"}, timeout=10)
    assert wrong.status_code == 401  # an MCP token is not a scrape token
    scrape = httpx.get(f"{shared}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    text = scrape.text
    assert 'qcmcp_tool_calls_total{outcome="ok",tool="read_account"} 1.0' in text
    assert "qcmcp_active_sessions 1.0" in text  # the session raw_tool_call opened
    for secret in ("subject-who-must-not-show", "tenant-who-must-not-show", METRICS_TOKEN, SECRET):
        assert secret not in text


def test_shared_mode_without_a_scrape_token_serves_no_metrics_on_the_mcp_port(tmp_path):
    metrics_port = free_port()
    process, url, _ = start(tmp_path, {"QCMCP_AUTH_JWT_SECRET": SECRET, "QCMCP_METRICS_PORT": str(metrics_port)})
    try:
        assert httpx.get(f"{url}/metrics", timeout=10).status_code == 404
        separate = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10)
        assert separate.status_code == 200 and "qcmcp_tool_calls_total" in separate.text
    finally:
        stop(process)


def test_stdio_serves_metrics_on_its_own_port(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
    env.update(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"))
    process = subprocess.Popen([QCMCP, "serve", "--metrics-port", str(port)], env=env, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(process, port)
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        assert "qcmcp_active_sessions 1.0" in text and "qcmcp_circuit_breaker_open 0.0" in text
    finally:
        stop(process)


def test_a_busy_metrics_port_stops_start_up_with_one_line(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
        env.update(QCMCP_SANDBOX_DB=str(tmp_path / "s.sqlite3"), QCMCP_AUDIT_DB=str(tmp_path / "a.sqlite3"),
                   QCMCP_LOG_FORMAT="text")
        done = subprocess.run([QCMCP, "serve", "--metrics-port", str(port)], env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"Cannot serve metrics on 127.0.0.1:{port}" in done.stderr


@pytest.mark.skipif(PROMETHEUS is None and not os.environ.get("CI"), reason="the prometheus binary is absent "
                    "(apt-get install prometheus; .ci/run installs it, and in CI its absence fails this test)")
def test_a_real_prometheus_scrapes_the_counters(shared, tmp_path):
    """Prometheus scrapes /metrics with the scrape token, and a counter is queried back through its HTTP API."""
    assert PROMETHEUS is not None, "CI must install prometheus (.ci/run)"
    port = free_port()
    target = shared.removeprefix("http://")
    config = tmp_path / "prometheus.yml"
    config.write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s}}
scrape_configs:
  - job_name: qcmcp
    metrics_path: /metrics
    authorization: {{type: Bearer, credentials: {METRICS_TOKEN}}}
    static_configs: [{{targets: ["{target}"]}}]
""")
    log = (tmp_path / "prometheus.log").open("w")
    prometheus = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                                   f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=log)
    try:
        wait_for_port(prometheus, port, timeout=60)
        query = 'qcmcp_tool_calls_total{tool="read_account",outcome="ok"}'
        deadline, result = time.monotonic() + 90, []
        while time.monotonic() < deadline and not result:
            answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": query}, timeout=10)
            result = answer.json()["data"]["result"] if answer.status_code == 200 else []
            if not result:
                assert prometheus.poll() is None, (tmp_path / "prometheus.log").read_text()[-2000:]
                time.sleep(0.5)
        assert result, "Prometheus never scraped the counter: " + (tmp_path / "prometheus.log").read_text()[-2000:]
        assert result[0]["metric"]["job"] == "qcmcp" and float(result[0]["value"][1]) == 1.0
        up = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": "up{job='qcmcp'}"}, timeout=10)
        assert up.json()["data"]["result"][0]["value"][1] == "1"
    finally:
        stop(prometheus)
        log.close()


def test_ci_installs_prometheus_so_the_scrape_test_runs_there():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "packages+=(prometheus)" in ci


RULES = Path(__file__).resolve().parent.parent / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")


def test_the_alert_rules_name_only_metrics_the_server_exports():
    import re

    from qcmcp.ops.metrics import Metrics

    exported = {line.split()[2] for line in Metrics().render()[0].decode().splitlines() if line.startswith("# TYPE")}
    series = set()
    for name in exported:  # what a scrape shows: counters as _total, histograms as _bucket/_sum/_count
        series |= {name, f"{name}_total", f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    used = set(re.findall(r"\bqcmcp_[a-z_]+", (RULES / "qcmcp-alerts.yml").read_text()))
    assert used and used <= series, used - series


@pytest.mark.skipif(PROMTOOL is None and not os.environ.get("CI"), reason="promtool is absent (it comes with the "
                    "prometheus package, which .ci/run installs)")
def test_the_alert_rules_are_valid_and_fire_when_they_should():
    assert PROMTOOL is not None, "CI must install prometheus (.ci/run), which brings promtool"
    for command in (["check", "rules", "qcmcp-alerts.yml"], ["test", "rules", "qcmcp-alerts.test.yml"]):
        done = subprocess.run([PROMTOOL, *command], cwd=RULES, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
