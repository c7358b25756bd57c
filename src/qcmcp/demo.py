"""`qcmcp demo`: the edit–compile–fix loop an agent runs, shown on the offline sandbox.

It starts `qcmcp serve` on a throw-away sandbox and drives it through a real MCP client
session over stdio, exactly as Claude Desktop or an agent would.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from rich.console import Console
from rich.table import Table

ALGORITHM = '''from AlgorithmImports import *


class SmaCrossover(QCAlgorithm):
    """Hold SPY while its 10-day average is above its 30-day average."""

    def initialize(self):
        self.set_start_date(2020, 1, 1)
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
@@ -10,4 +10,4 @@ class SmaCrossover(QCAlgorithm):
         self.spy = self.add_equity("SPY", Resolution.DAILY).symbol
         self.fast = self.sma(self.spy, int(self.get_parameter("fast", 10)))
-        self.sma = self.sma(self.spy, int(self.get_parameter("slow", 30)))
+        self.slow = self.sma(self.spy, int(self.get_parameter("slow", 30)))
 
'''


class DemoFailed(RuntimeError):
    pass


async def run_demo(console: Console) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("QUANTCONNECT_", "QCMCP_"))}
        env.update(QCMCP_BACKEND="sandbox", QCMCP_SANDBOX_DB=str(Path(tmp) / "demo.sqlite3"), QCMCP_LOG_LEVEL="WARNING")
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
            org = (await call("read_account", "found the organization"))["organizationId"]
            await call("upload_object", "stored parameters in the Object Store", organizationId=org,
                       key="demo/params.json", objectData='{"fast": 10, "slow": 30}')
            await call("delete_project", "cleaned up", projectId=project_id)
            console.print("\nBacktests in the sandbox arrive with the local backtest engine; with QuantConnect "
                          "credentials, the same tools run against the cloud.")
