"""Scope names (``qc:<area>:<read|write|delete|execute>``) and the role bundles built from them.

Roles exist to mint tokens: a token carries the scopes of its role, and access is decided by
scopes alone. A ``role`` claim, when present, only selects the agent policy's per-role rules.
"""

from __future__ import annotations

from qcmcp.tools.spec import ACTIONS, AREAS, scope


def everything(*actions: str, areas: tuple[str, ...] = AREAS) -> set[str]:
    return {scope(area, action) for area in areas for action in actions}


READ_ONLY = everything("read")
RESEARCHER = READ_ONLY | everything("write", "execute", areas=("projects", "files", "compile", "backtests", "ai",
                                                                "research")) | {scope("objects", "write")}
TRADER = RESEARCHER | everything("write", "execute", areas=("optimizations", "live"))
ADMIN = everything(*ACTIONS)
ROLES: dict[str, set[str]] = {"read-only": READ_ONLY, "researcher": RESEARCHER, "trader": TRADER, "admin": ADMIN}
