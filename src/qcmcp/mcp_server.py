"""The FastMCP server class qcmcp serves with: fastmcp's, with a cheaper tool lookup for a single provider.

fastmcp finds the tool of every ``tools/call`` by asking each of its providers concurrently: an anyio task group
and a task per provider, on every call. qcmcp registers all its tools on the server's own (local) provider, so
with one provider the lookup asks it directly, with the same error handling, version choice and per-tool
authorization check as fastmcp's (about 5 % of the server's CPU a call in benchmarks/http_load.py).
"""

from __future__ import annotations

from typing import Any

from fastmcp import FastMCP
from fastmcp.server.server import _component_auth_allows


class QcmcpServer(FastMCP):
    async def _get_tool(self, name: str, version: Any = None) -> Any:
        providers = self.providers
        if len(providers) != 1:
            return await super()._get_tool(name, version)
        try:
            found: Any = await providers[0].get_tool(name, version)
        except Exception as error:  # as fastmcp's gather(return_exceptions=True) hands it on
            found = error
        tool = self._get_highest_version_result([found], f"get_tool({name!r})")
        if tool is None:
            return None
        return tool if await _component_auth_allows(tool) else None
