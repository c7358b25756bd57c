"""Long-running paper deployments: one worker process each, commands in, snapshots out."""

from __future__ import annotations

import json
import logging
import subprocess
import threading
from pathlib import Path
from typing import Any

from qcmcp.sandbox.jail import Jail, WorkerProcess
from qcmcp.sandbox.store import SandboxStore, now
from qcmcp.sandbox.worker_messages import WorkerProtocolError, read_messages

log = logging.getLogger("qcmcp.sandbox.live")
FINAL = {"Completed", "Stopped", "Liquidated", "RuntimeError"}


class LiveRunner:
    def __init__(self, store: SandboxStore, data_folder: Path | None = None, *, jail: Jail | None = None,
                 clock_speed: float = 3600.0, memory_mb: int = 2048) -> None:
        self.store = store
        self.data_folder = data_folder.resolve() if data_folder else None  # the path the jail binds
        self.jail = jail or Jail.detect(required=False, data_folders=(data_folder,) if data_folder else ())
        self.clock_speed, self.memory_mb = clock_speed, memory_mb
        self._processes: dict[str, WorkerProcess] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    @property
    def busy(self) -> int:
        """Worker processes running now (the ``qcmcp_sandbox_workers_busy`` gauge)."""
        with self._lock:
            return len(self._processes)

    def start(self, deploy_id: str, files: dict[str, str], parameters: dict[str, Any],
              brokerage: dict[str, Any] | None = None) -> None:
        """Start the deployment; ``brokerage`` carries its starting ``cash`` and ``holdings``, already validated."""
        job = {"files": files, "parameters": parameters, "algorithmId": deploy_id, "live": True,
               "brokerage": brokerage or {},
               "clockSpeed": self.clock_speed, "limits": {"memoryMb": self.memory_mb},
               "dataFolder": str(self.data_folder) if self.data_folder else None}
        process = self.jail.spawn(stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                  text=True, bufsize=1)
        assert process.stdin is not None
        process.stdin.write(json.dumps(job) + "\n")
        process.stdin.flush()
        thread = threading.Thread(target=self._follow, args=(deploy_id, process), name=f"live-{deploy_id}", daemon=True)
        with self._lock:
            self._processes[deploy_id], self._threads[deploy_id] = process, thread
        thread.start()

    def send(self, deploy_id: str, message: dict[str, Any]) -> bool:
        """Deliver a message to a running deployment; False if it is not running."""
        with self._lock:
            process = self._processes.get(deploy_id)
        if process is None or process.poll() is not None or process.stdin is None:
            return False
        try:
            process.stdin.write(json.dumps(message) + "\n")
            process.stdin.flush()
        except (BrokenPipeError, ValueError):
            return False
        return True

    def stop(self, deploy_id: str, timeout: float = 10.0) -> None:
        if self.send(deploy_id, {"stop": True}):
            self.wait(deploy_id, timeout)
        with self._lock:
            process = self._processes.get(deploy_id)
        if process is not None and process.poll() is None:
            process.kill()
            self.wait(deploy_id, timeout)

    def wait(self, deploy_id: str, timeout: float | None = None) -> None:
        thread = self._threads.get(deploy_id)
        if thread is not None:
            thread.join(timeout)

    def close(self) -> None:
        with self._lock:
            running = list(self._processes)
        for deploy_id in running:
            self.stop(deploy_id, timeout=2.0)

    def _save(self, deploy_id: str, **fields: Any) -> None:
        columns = ", ".join(f"{name} = ?" for name in fields)
        with self.store.transaction() as db:
            db.execute(f"UPDATE live_deployments SET {columns} WHERE deploy_id = ?", (*fields.values(), deploy_id))  # noqa: S608

    def _follow(self, deploy_id: str, process: WorkerProcess) -> None:
        assert process.stdout is not None
        final: dict[str, Any] | None = None
        try:
            for message in read_messages(process.stdout):
                if "snapshot" in message:
                    self._save(deploy_id, snapshot=json.dumps(message["snapshot"]))
                elif "result" in message or "error" in message:
                    final = message
            process.wait()
        except WorkerProtocolError as error:
            process.kill()
            process.wait()
            final = {"error": {"message": f"Runtime Error: {error}."}}
        except Exception:  # noqa: BLE001 - the deployment must still end in a final state
            log.exception("live deployment follower failed", extra={"deploy": deploy_id})
        finally:
            with self._lock:
                self._processes.pop(deploy_id, None)
        if final is not None and "result" in final:
            self._save(deploy_id, status=final["result"]["status"], stopped=now(), snapshot=json.dumps(final["result"]))
        elif final is not None:
            error = final["error"]
            self._save(deploy_id, status="RuntimeError", stopped=now(), error=error["message"],
                       stacktrace=error.get("stacktrace", ""))
        else:
            self._save(deploy_id, status="Stopped", stopped=now(),
                       error=f"The deployment's process ended (exit code {process.returncode}).")
