"""Runs sandbox backtests in worker processes and records their progress in the store.

Each backtest gets its own ``python -m qcmcp.sandbox.engine.worker`` process, started in the
jail (``sandbox/jail.py``: the user's code never runs in the server, nor sees its secrets or
files), at most one per core at a time, with a wall-clock limit enforced here and resource
limits the worker applies to itself before any user code (``preexec_fn`` is unsafe in a
threaded parent). What the worker sends back is validated before it is stored; deleting a
running backtest, or closing the sandbox, kills it.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from qcmcp.sandbox.jail import Jail, WorkerProcess
from qcmcp.sandbox.worker_messages import WorkerProtocolError, read_messages
from qcmcp.sandbox.store import SandboxStore

log = logging.getLogger("qcmcp.sandbox.runner")
QUEUED, COMPLETED, FAILED = "In Queue...", "Completed.", "Runtime Error"
# Stored while a worker runs. Answers say QUEUED instead (see cloud_status): the official models accept only
# 'Completed.', 'In Queue...' and 'Runtime Error', so a client built on them could not parse "Running: 42%".
RUNNING = "Running"


def cloud_status(status: str) -> str:
    """The status an answer reports: the progress of a running backtest is in its ``progress`` field."""
    return QUEUED if status == RUNNING else status


class BacktestRunner:
    def __init__(self, store: SandboxStore, data_folder: Path | None = None, *, jail: Jail | None = None,
                 timeout_seconds: float = 600.0, memory_mb: int = 2048, max_parallel: int | None = None) -> None:
        self.store = store
        # Resolved, as the jail binds it: a path through a symlink (or with "..") would not exist inside the jail.
        self.data_folder = data_folder.resolve() if data_folder else None
        self.jail = jail or Jail.detect(required=False, data_folders=(data_folder,) if data_folder else ())
        self.timeout_seconds = timeout_seconds
        self.memory_mb = memory_mb
        self.parallelism = max_parallel or os.cpu_count() or 1
        self._slots = threading.Semaphore(self.parallelism)
        self._processes: dict[str, WorkerProcess] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()

    @property
    def busy(self) -> int:
        """Worker processes running now (the ``qcmcp_sandbox_workers_busy`` gauge)."""
        with self._lock:
            return len(self._processes)

    def _job(self, files: dict[str, str], parameters: dict[str, Any], **extra: Any) -> dict[str, Any]:
        limits = {"memoryMb": self.memory_mb, "cpuSeconds": self.timeout_seconds}
        return {"files": files, "parameters": parameters, "limits": limits, **extra,
                "dataFolder": str(self.data_folder) if self.data_folder else None}

    def start(self, backtest_id: str, files: dict[str, str], parameters: dict[str, Any]) -> None:
        job = self._job(files, parameters, algorithmId=backtest_id)
        thread = threading.Thread(target=self._run, args=(backtest_id, job), name=f"backtest-{backtest_id}", daemon=True)
        with self._lock:
            self._threads[backtest_id] = thread
        thread.start()

    def initialize_only(self, files: dict[str, str], timeout_seconds: float = 60.0) -> dict[str, Any]:
        """Run just ``initialize()`` in a (jailed) worker process and return its outcome."""
        job = self._job(files, {}, initializeOnly=True)
        job["limits"]["cpuSeconds"] = timeout_seconds
        process = self.jail.spawn(stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            out, _ = process.communicate(json.dumps(job) + "\n", timeout=timeout_seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return {"error": {"message": f"initialize() did not finish within {timeout_seconds:g} s.", "stacktrace": ""}}
        final: dict[str, Any] | None = None
        try:
            for message in read_messages(io.StringIO(out)):
                final = message if "progress" not in message else final
        except WorkerProtocolError as error:
            return {"error": {"message": f"Runtime Error: {error}.", "stacktrace": ""}}
        if final is None:
            return {"error": {"message": f"The worker ended without a result (exit code {process.returncode}).", "stacktrace": ""}}
        return final

    def close(self, timeout: float = 5.0) -> None:
        """Kill every running worker and let each backtest record its final state before the store closes
        (the server is shutting down): a killed run says it was stopped, a queued one that it never started."""
        self._closing.set()
        with self._lock:
            running = list(self._processes.values())
            threads = list(self._threads.values())
        for process in running:
            if process.poll() is None:
                process.kill()
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def wait(self, backtest_id: str, timeout: float | None = None) -> None:
        """Block until the backtest's thread ends (tests and the CLI use it)."""
        thread = self._threads.get(backtest_id)
        if thread is not None:
            thread.join(timeout)

    def abort(self, backtest_id: str) -> None:
        with self._lock:
            process = self._processes.get(backtest_id)
        if process is not None and process.poll() is None:
            process.kill()

    def _update(self, backtest_id: str, **fields: Any) -> None:
        columns = ", ".join(f"{name} = ?" for name in fields)
        with self.store.transaction() as db:
            db.execute(f"UPDATE backtests SET {columns} WHERE backtest_id = ?", (*fields.values(), backtest_id))  # noqa: S608

    def _run(self, backtest_id: str, job: dict[str, Any]) -> None:
        with self._slots:
            if self.store.one("SELECT 1 FROM backtests WHERE backtest_id = ?", backtest_id) is None:
                return  # deleted while queued
            if self._closing.is_set():
                self._update(backtest_id, status=FAILED, error="Runtime Error: the sandbox shut down before this "
                             "backtest started; create it again.", stacktrace="")
                return
            self._update(backtest_id, status=RUNNING)
            started = time.monotonic()
            try:
                outcome = self._execute(backtest_id, job)
            except Exception as error:  # noqa: BLE001 - a broken run must still end in a final state
                log.exception("backtest runner failed", extra={"backtest": backtest_id})
                outcome = {"error": {"message": f"The sandbox could not run the backtest: {error}", "stacktrace": ""}}
            finally:
                with self._lock:
                    self._processes.pop(backtest_id, None)
            if self.store.one("SELECT 1 FROM backtests WHERE backtest_id = ?", backtest_id) is None:
                return
            if "result" in outcome:
                outcome["result"]["seconds"] = round(time.monotonic() - started, 3)
                self._update(backtest_id, status=COMPLETED, progress=1.0, result=json.dumps(outcome["result"]))
            else:
                error = outcome["error"]
                self._update(backtest_id, status=FAILED, error=error["message"], stacktrace=error.get("stacktrace", ""),
                             initialize_error=int(bool(error.get("initializeError"))),
                             result=json.dumps({"logs": error.get("logs", [])}))

    def _execute(self, backtest_id: str, job: dict[str, Any]) -> dict[str, Any]:
        process = self.jail.spawn(stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        with self._lock:
            self._processes[backtest_id] = process
        timer = threading.Timer(self.timeout_seconds, process.kill)
        timer.start()
        try:
            assert process.stdin and process.stdout
            process.stdin.write(json.dumps(job) + "\n")
            process.stdin.close()
            final: dict[str, Any] | None = None
            shown = -1  # percent last written: a worker cannot flood the store with progress lines
            try:
                for message in read_messages(process.stdout):
                    if "progress" not in message:
                        final = message
                    elif int(message["progress"] * 100) != shown:
                        shown = int(message["progress"] * 100)
                        self._update(backtest_id, progress=message["progress"])
            except WorkerProtocolError as error:
                process.kill()
                return {"error": {"message": f"Runtime Error: {error}.", "stacktrace": ""}}
        finally:
            process.wait()
            timer.cancel()
        if final is not None:
            return final
        if process.returncode == -9 and self._closing.is_set():
            reason = "the sandbox shut down while it ran; create it again"
        elif process.returncode == -9:
            reason = (f"the backtest was stopped: it ran longer than the sandbox's {self.timeout_seconds:g} s limit, "
                      "or it was deleted while running")
        else:
            reason = (f"the backtest process ended without a result (exit code {process.returncode}); it may have "
                      f"exceeded the {self.memory_mb} MB memory limit")
        return {"error": {"message": f"Runtime Error: {reason}.", "stacktrace": ""}}
