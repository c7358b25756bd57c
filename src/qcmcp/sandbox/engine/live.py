"""Paper trading in the sandbox: the engine driven by a clock, taking commands on stdin.

The deployment replays the market (synthetic or recorded bars) from the algorithm's start
date on an accelerated clock: ``speed`` simulated seconds pass per real second. Between
time steps it reads commands — a command object for ``on_command``, ``liquidate`` or
``stop`` — and every ``snapshot_seconds`` it reports its state.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

from qcmcp.sandbox.engine import results
from qcmcp.sandbox.engine.engine import Engine


class CommandData(dict):
    """A command as LEAN delivers it: ``data.quantity`` and ``data["quantity"]`` both work."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"the command has no field '{name}'") from None


class LiveClock:
    def __init__(self, engine: Engine, speed: float, emit: Callable[[dict[str, Any]], None], commands: IO[str],
                 algorithm_id: str, snapshot_seconds: float = 0.5) -> None:
        self.engine, self.speed, self.emit, self.algorithm_id = engine, speed, emit, algorithm_id
        self.snapshot_seconds = snapshot_seconds
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.first: datetime | None = None
        self.started = time.monotonic()
        self.last_snapshot = 0.0
        self.liquidating = False
        self.outcome = "Completed"
        threading.Thread(target=self._read, args=(commands,), daemon=True).start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            if line.strip():
                self.inbox.put(json.loads(line))
        self.inbox.put({"stop": True})  # the parent went away

    def __call__(self, moment: datetime) -> bool:
        self.first = self.first or moment
        due = self.started + (moment - self.first).total_seconds() / self.speed
        while True:
            if self._handle_commands():
                return True
            wait = due - time.monotonic()
            if wait <= 0:
                break
            time.sleep(min(wait, 0.05))
        if self.liquidating and not self.engine.transactions.get_open_orders():
            self.outcome = "Liquidated"
            return True
        if time.monotonic() - self.last_snapshot >= self.snapshot_seconds:
            self.last_snapshot = time.monotonic()
            self.emit({"snapshot": results.live_snapshot(self.engine, "Running", self.algorithm_id)})
        return False

    def _handle_commands(self) -> bool:
        while not self.inbox.empty():
            message = self.inbox.get()
            if message.get("stop"):
                self.outcome = "Stopped"
                return True
            if message.get("liquidate"):
                self.engine.log("Liquidation requested: closing every position.")
                self.engine.algorithm.liquidate()
                self.liquidating = True
            elif "command" in message:
                handled = self.engine._call("on_command", CommandData(message["command"]))
                self.engine.log(f"Command received: {json.dumps(message['command'])} -> on_command returned {handled}")
        return False
