"""Paper trading in the sandbox: the engine driven by a clock, taking commands on stdin.

The deployment replays the market (synthetic or recorded bars) from the algorithm's start
date on an accelerated clock: ``speed`` simulated seconds pass per real second. Between
time steps it reads commands — a command object (a registered ``Command`` by its ``$type``,
else ``on_command``), ``liquidate`` or ``stop`` — and every ``snapshot_seconds`` it reports
its state. A warm-up is fast-forwarded (LEAN warms a live algorithm up at once); the clock is
paced from the first step after it. When the data runs out (or there never was any) the clock
keeps ticking, as a live algorithm keeps running, until it is stopped.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import IO, Any

from qcmcp.sandbox.engine import commands, results
from qcmcp.sandbox.engine.engine import Engine

IDLE_STEP = timedelta(minutes=1)  # simulated time between ticks once the data has run out


def launch_line(algorithm_id: str) -> str:
    """The first log line of a deployment, naming it as the cloud's launch line does."""
    return (f"Launching analysis for {algorithm_id} with the qcmcp sandbox engine (paper trading on a local emulator, "
            "not QuantConnect LEAN)")


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

    def idle(self) -> None:
        """Keep the deployment alive after its data: commands, liquidation and snapshots go on until a stop."""
        if self.engine.warming_up:  # the data ended inside the warm-up: it is over, and the clock is paced again
            self.engine.warming_up = False
            self.engine._call("on_warmup_finished")
        moment = self.engine.time
        while not self(moment):
            moment += IDLE_STEP
            self.engine.time = moment

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            if line.strip():
                self.inbox.put(json.loads(line))
        self.inbox.put({"stop": True})  # the parent went away

    def __call__(self, moment: datetime) -> bool:
        if self.engine.warming_up:  # the warm-up is history the algorithm needs at once: fast-forwarded, not paced
            self.first = None
            return self._handle_commands()
        if self.first is None:  # the paced clock starts with the first step after the warm-up
            self.first, self.started = moment, time.monotonic()
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
                self._run_command(message["command"])
        return False

    def _run_command(self, payload: Any) -> None:
        """A registered Command by its ``$type``, else ``on_command``; a failing command is logged, as LEAN does."""
        name = commands.type_name(payload)
        try:
            if name is None:
                data = commands.CommandData(payload) if isinstance(payload, dict) else payload
                handled = self.engine._call("on_command", data)
            else:
                registered = self.engine.algorithm.command_types.get(name)
                if registered is None:
                    self.engine.log(f"Command '{name}' is not registered: call self.add_command({name}) in initialize.")
                    return
                handled = commands.build(registered, payload).run(self.engine.algorithm)
        except Exception as error:  # noqa: BLE001 - a bad command must not end the deployment
            self.engine.log(f"Command failed: {type(error).__name__}: {error}")
            return
        self.engine.log(f"Command received: {json.dumps(payload)[:500]} -> returned {handled}")
