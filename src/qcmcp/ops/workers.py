"""Several HTTP worker processes on one port (``QCMCP_HTTP_WORKERS``, ``serve --workers``).

One Python process keeps one core busy at most, so a server on N cores answers up to N times the calls with N
workers (benchmarks/http_load.py). The workers are replicas that happen to share a machine: each builds the whole
server, and they share what replicas share — stateless streamable HTTP, so any worker answers any request, and rate
limits, the read cache, expensive-call slots and background tasks through ``QCMCP_REDIS_URL`` — which is why more
than one worker needs Redis. The parent binds the socket (the kernel hands each new connection to one worker),
starts the workers, replaces one that dies (backing off when one dies again and again), and stops them all on
SIGTERM or SIGINT. Their metrics are merged by prometheus-client's multiprocess mode (memory-mapped files in a
private directory, one set per worker): any worker's ``/metrics``, and the parent's ``--metrics-port`` listener,
report the sum over the workers.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any

from qcmcp.config import ConfigurationError, Settings

log = logging.getLogger("qcmcp.ops")
MULTIPROCESS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own setting, read when it is imported
WORKER = "qcmcp.server:http_worker"  # imported in each worker only: this parent stays small
CONFIGURATION_EXIT = 2  # a worker exits with this when the deployment is misconfigured: starting again cannot help
QUICK_DEATH = 10.0  # seconds: a worker dying sooner than this after it started backs off before the next start
MAX_BACKOFF = 30.0
MAX_QUICK_DEATHS = 5
STOP_TIMEOUT = 10.0


def check_workers(settings: Settings, workers: int, *, sandbox: bool) -> None:
    """Refuse a multi-worker deployment whose workers would not agree with one another."""
    if workers <= 1:
        return
    if sandbox:
        raise ConfigurationError(f"QCMCP_HTTP_WORKERS={workers}: the sandbox runs its backtests and paper deployments "
                                 "inside one process, so it is served by one worker. Set QCMCP_HTTP_WORKERS=1, or "
                                 "serve the QuantConnect cloud (QCMCP_BACKEND=cloud, with QUANTCONNECT_USER_ID and "
                                 "QUANTCONNECT_API_TOKEN or tenants in the credential vault).")
    if settings.redis_url is None:
        raise ConfigurationError(f"QCMCP_HTTP_WORKERS={workers} needs QCMCP_REDIS_URL: workers share rate limits, "
                                 "the read cache, expensive-call slots and background tasks through Redis, as "
                                 "replicas do. Set it, or serve with one worker.")
    if not settings.stateless_http:
        raise ConfigurationError(f"QCMCP_HTTP_WORKERS={workers} needs stateless streamable HTTP (a session kept in "
                                 "one worker is unknown to the others): unset QCMCP_HTTP_STATELESS or set it to on.")


def bind(host: str, port: int) -> socket.socket:
    """The listening socket every worker accepts on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise ConfigurationError(f"Cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.listen(2048)
    return sock


class Supervisor:
    """Starts ``count`` processes running ``target(*args, sockets=[sock])`` and keeps them running until told to
    stop. ``target`` must be importable by name (workers are spawned, not forked: no threads or loops inherited)."""

    def __init__(self, target: Callable[..., None], args: tuple[Any, ...], count: int, sock: socket.socket) -> None:
        self.target, self.args, self.count, self.sock = target, args, count, sock
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[tuple[Any, float]] = []
        self._stopping = False
        self._began = time.monotonic()

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT (0), until a worker finds the deployment misconfigured at start-up (2), or
        until workers keep dying as soon as they start (1)."""
        previous = {number: signal.signal(number, self._stop) for number in (signal.SIGTERM, signal.SIGINT)}
        self._began = time.monotonic()
        try:
            for _ in range(self.count):
                self._workers.append(self._start())  # one by one: a failed start still stops those already up
            log.info("serving with %d HTTP workers", self.count)
            return self._watch()
        finally:
            self._stop_all()
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _start(self) -> tuple[Any, float]:
        process = self._context.Process(target=self.target, args=self.args, kwargs={"sockets": [self.sock]},
                                        name="qcmcp-http-worker")
        process.start()
        return process, time.monotonic()

    def _watch(self) -> int:
        from prometheus_client import multiprocess

        backoff, quick_deaths = [0.0] * self.count, [0] * self.count
        restart_at: dict[int, float] = {}
        while not self._stopping:
            wait([process.sentinel for process, _ in self._workers if process.is_alive()] or [], timeout=0.5)
            now = time.monotonic()
            for index, (process, started) in enumerate(self._workers):
                if self._stopping or process.is_alive() or index in restart_at:
                    continue
                multiprocess.mark_process_dead(process.pid)  # its live gauges leave the sum
                code = process.exitcode
                if code == CONFIGURATION_EXIT and now - self._began < QUICK_DEATH:
                    log.error("an HTTP worker could not start (the line before says why): stopping")
                    return code
                # A worker dying soon after it started waits longer each time before the next (a crash loop must not
                # eat the machine), and after MAX_QUICK_DEATHS in a row the server gives up, so that an orchestrator
                # sees it fail; one that ran a while is replaced at once.
                quick = now - started < QUICK_DEATH
                quick_deaths[index] = quick_deaths[index] + 1 if quick else 0
                if quick_deaths[index] >= MAX_QUICK_DEATHS:
                    log.error("HTTP workers keep exiting as soon as they start (exit code %s): stopping", code)
                    return 1
                backoff[index] = min(max(backoff[index] * 2, 1.0), MAX_BACKOFF) if quick else 0.0
                log.warning("an HTTP worker exited (exit code %s): starting another in %g s", code, backoff[index])
                restart_at[index] = now + backoff[index]
            for index, when in list(restart_at.items()):
                if when <= now and not self._stopping:
                    del restart_at[index]
                    self._workers[index] = self._start()
        return 0

    def _stop(self, *_: object) -> None:
        self._stopping = True

    def _stop_all(self) -> None:
        self.sock.close()  # new connections are refused at once, not queued for workers that are leaving
        for process, _ in self._workers:
            if process.is_alive():
                process.terminate()  # uvicorn's graceful shutdown: requests in flight finish
        deadline = time.monotonic() + STOP_TIMEOUT
        for process, _ in self._workers:
            process.join(max(deadline - time.monotonic(), 0.1))
            if process.is_alive():
                process.kill()
                process.join(1.0)


def serve_http_workers(settings: Settings, *, host: str, port: int, path: str, insecure_no_auth: bool) -> int:
    """``qcmcp serve --transport http`` with QCMCP_HTTP_WORKERS above one (``--insecure-no-auth`` already refused off
    loopback): check, bind, start the workers with a
    fresh metrics directory, serve the merged ``/metrics`` on QCMCP_METRICS_PORT from this process if set, and
    return the exit code once they have stopped. Raises ConfigurationError for a deployment that must not start."""
    check_workers(settings, settings.http_workers, sandbox=settings.resolved_backend == "sandbox")
    sock = bind(host, port)
    folder = tempfile.mkdtemp(prefix="qcmcp-metrics-")
    os.environ[MULTIPROCESS_FOLDER] = folder  # the workers inherit it: their metrics go to files there
    try:
        if settings.metrics_port:
            try:
                serve_merged_metrics(folder, settings.metrics_host, settings.metrics_port)
            except OSError as error:
                raise ConfigurationError(f"Cannot serve metrics on {settings.metrics_host}:{settings.metrics_port}: "
                                         f"{error.strerror or error}") from None
        arguments = (WORKER, settings, host, port, path, insecure_no_auth)
        return Supervisor(run_worker, arguments, settings.http_workers, sock).run()
    finally:
        sock.close()
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(MULTIPROCESS_FOLDER, None)


def run_worker(target: str, *args: Any, sockets: list[socket.socket]) -> None:
    """A worker's entry point: import ``target`` (``module:function``) here, not in the parent, and run it. A
    Ctrl-C in a terminal reaches every process: the parent turns it into an orderly stop (uvicorn takes SIGINT
    over once it serves). A worker whose parent is gone (killed outright) stops too, freeing the port."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sock in sockets:
        sock.set_inheritable(False)  # nothing this worker starts (sandbox runs, tools) gets the listening socket
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_stop_with_parent, args=(parent.sentinel,), daemon=True,
                         name="qcmcp-parent-watch").start()
    module, _, name = target.partition(":")
    getattr(importlib.import_module(module), name)(*args, sockets=sockets)


def _stop_with_parent(sentinel: int) -> None:
    wait([sentinel])
    os.kill(os.getpid(), signal.SIGTERM)


def merged_registry(folder: str) -> Any:
    """A registry reading every worker's metric files in ``folder`` (prometheus-client's multiprocess mode)."""
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=folder)
    return registry


def serve_merged_metrics(folder: str, host: str, port: int) -> Any:
    """``/metrics`` for all the workers, from their parent, in a daemon thread."""
    from prometheus_client import start_http_server

    server, _ = start_http_server(port, addr=host, registry=merged_registry(folder))
    return server
