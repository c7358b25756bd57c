"""`qcmcp demo`: the loop an agent runs — write, compile, fix, backtest — on the offline sandbox.

It starts `qcmcp serve` on a throw-away sandbox and drives it through a real MCP client
session over stdio, exactly as Claude Desktop or an agent would.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table

ALGORITHM = '''from AlgorithmImports import *


class SmaCrossover(QCAlgorithm):
    """Hold SPY while its 10-day average is above its 30-day average."""

    def initialize(self):
        self.set_start_date(2010, 1, 1)  # inside LEAN's daily sample shipped with qcmcp: real, adjusted prices
        self.set_end_date(2020, 12, 31)
        self.set_cash(100000)
        self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
        self.fast = self.sma(self.spy, int(self.get_parameter("fast", 10)))
        self.sma = self.sma(self.spy, int(self.get_parameter("slow", 30)))

    def on_data(self, data: Slice):
        if not self.slow.is_ready:
            return
        if self.fast.current.value > self.slow.current.value:
            self.set_holdings(self.spy, 1)
        else:
            self.liquidate(self.spy)
'''
FIX = '''--- a/main.py
+++ b/main.py
@@ -11,4 +11,4 @@ class SmaCrossover(QCAlgorithm):
         self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
         self.fast = self.sma(self.spy, int(self.get_parameter("fast", 10)))
-        self.sma = self.sma(self.spy, int(self.get_parameter("slow", 30)))
+        self.slow = self.sma(self.spy, int(self.get_parameter("slow", 30)))
 
'''


KEY_STATISTICS = ("Net Profit", "Compounding Annual Return", "Sharpe Ratio", "Drawdown", "Total Orders", "Win Rate",
                  "Total Fees")
ORDER_STATUS = {1: "Submitted", 3: "Filled", 5: "Canceled", 7: "Invalid"}


class DemoFailed(RuntimeError):
    pass


async def run_demo(console: Console) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
        env.update(QCMCP_BACKEND="sandbox", QCMCP_SANDBOX_DB=str(Path(tmp) / "demo.sqlite3"),
                   QCMCP_AUDIT_DB=str(Path(tmp) / "audit.sqlite3"), QCMCP_LOG_LEVEL="WARNING")
        transport = StdioTransport(sys.executable, ["-m", "qcmcp", "serve"], env=env, log_file=Path(tmp) / "server.log")
        async with Client(transport, timeout=60) as client:

            async def call(tool: str, note: str, **arguments: Any) -> dict[str, Any]:
                result = await client.call_tool(tool, arguments, raise_on_error=False)
                text = result.content[0].text if result.content else ""
                if result.is_error:
                    raise DemoFailed(f"{tool} failed: {text}")
                console.print(f"[green]✓[/] [bold]{tool}[/] — {note}")
                return result.structured_content or {}

            tools = await client.list_tools()
            console.print(f"Connected to qcmcp over stdio: {len(tools)} tools, running on the [bold yellow]sandbox[/] "
                          "(a local emulator of the QuantConnect API, not QuantConnect).\n")
            project = (await call("create_project", "a Python project", name="SMA Crossover Demo", language="Py"))
            project_id = project["projects"][0]["projectId"]
            await call("update_file_contents", "wrote an SMA-crossover algorithm to main.py",
                       projectId=project_id, name="main.py", content=ALGORITHM)
            build = await call("create_compile", "compiled it", projectId=project_id)
            logs = (await call("read_compile", f"read the build: {build['state']}", projectId=project_id,
                               compileId=build["compileId"]))["logs"]
            errors = [line for line in logs if line.startswith("Build Error")]
            for line in errors:
                console.print(f"    [red]{line}[/]")
            if build["state"] != "BuildError" or not errors:
                raise DemoFailed("the planted bug was not caught by the compiler")
            explanation = await call("enhance_error_message", "asked what the first error means", language="Py",
                                     error={"message": errors[0]})
            console.print(f"    [italic]{explanation['payload']}[/]")
            await call("patch_file", "fixed it with a one-line unified diff", projectId=project_id, patch=FIX)
            build = await call("create_compile", "compiled again", projectId=project_id)
            if build["state"] != "BuildSuccess":
                raise DemoFailed(f"the fixed algorithm did not build: {build['state']}")
            table = Table("file", "line", "parameter detected")
            for entry in build.get("parameters") or []:
                for found in entry["parameters"]:
                    table.add_row(entry["file"], str(found["line"]), found["type"])
            console.print(f"    [green]{build['state']}[/] (compileId {build['compileId'][:12]}…)")
            console.print(table)
            backtest = await call("create_backtest", "started a backtest", projectId=project_id,
                                  compileId=build["compileId"], backtestName="Demo", parameters={"fast": 10, "slow": 30})
            backtest_id = backtest["backtest"]["backtestId"]
            with Progress(TextColumn("    backtesting"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                          console=console, transient=True) as progress:
                task = progress.add_task("backtest", total=1.0)
                while True:
                    result = await client.call_tool("read_backtest", {"projectId": project_id, "backtestId": backtest_id})
                    state = result.structured_content["backtest"]
                    progress.update(task, completed=state.get("progress") or 0.0)
                    if state["status"] in ("Completed.", "Runtime Error"):
                        break
                    await asyncio.sleep(0.2)
            if state["status"] != "Completed.":
                raise DemoFailed(f"the backtest failed: {state.get('error')}")
            console.print(f"[green]✓[/] [bold]read_backtest[/] — {state['status']} "
                          f"({state['tradeableDates']} trading days)")
            for note in state.get("notes") or []:
                console.print(f"    [yellow]{note}[/]")
            figures = Table("statistic", "value", title="Key statistics")
            for name in KEY_STATISTICS:
                figures.add_row(name, state["statistics"][name])
            console.print(figures)
            orders = await call("read_backtest_orders", "read the first orders", projectId=project_id,
                                backtestId=backtest_id, start=0, end=5)
            table = Table("id", "time (UTC)", "symbol", "quantity", "fill price", "status", title="First orders")
            for order in orders["orders"]:
                table.add_row(str(order["id"]), order["lastFillTime"] or order["time"], order["symbol"]["value"],
                              f"{order['quantity']:g}", f"{order['price']:.2f}", ORDER_STATUS.get(order["status"], "?"))
            console.print(table)
            org = (await call("read_account", "found the organization"))["organizationId"]
            await call("upload_object", "stored parameters in the Object Store", organizationId=org,
                       key="demo/params.json", objectData='{"fast": 10, "slow": 30}')
            await call("delete_project", "cleaned up", projectId=project_id)
            console.print("\nEverything above ran locally on the sandbox. With QuantConnect credentials the same tools "
                          "run against the cloud.")
