"""The shape of one catalog entry, and the annotation-hint bundles tools share."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from mcp.types import ToolAnnotations
from pydantic import BaseModel

if TYPE_CHECKING:
    from qcmcp.gateway import Gateway

CostClass = Literal["free", "slow", "qcc"]

# Every tool needs one scope, ``qc:<area>:<action>``: declared with the tool, bundled into roles by security/.
AREAS = ("account", "projects", "files", "compile", "backtests", "optimizations", "live", "objects", "ai",
         "collaboration", "research")
ACTIONS = ("read", "write", "delete", "execute")


# Toolsets: the groups a deployment chooses from (QCMCP_TOOLSETS / --toolsets), as github-mcp-server does.
TOOLSETS = ("projects", "files", "compile", "backtests", "optimizations", "live", "objects", "ai", "workflows",
            "research", "admin")
AREA_TOOLSETS = {"account": "admin", "collaboration": "projects"}  # areas whose toolset has another name
SLOW_TOOLS = {"create_compile", "check_initialization_errors", "sync_project", "read_backtest_report"}

# Parameters the server fills in when they are left out (the caller's organization): optional in every schema,
# although upstream marks them required — except where a live-money confirmation must repeat them.
SERVER_DEFAULTED = {"organizationId": "Optional: defaults to your organization."}


# The cost and latency class a tool's tools/list metadata leaves out when it has them (see advertised_metadata).
METADATA_DEFAULTS = {"cost": "free", "latency": "fast"}


def scope(area: str, action: str) -> str:
    if area not in AREAS or action not in ACTIONS:
        raise ValueError(f"unknown scope qc:{area}:{action}")
    return f"qc:{area}:{action}"
Handler = Callable[["Gateway", "ToolSpec", dict[str, Any]], Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class Hints:
    """MCP annotation hints; ``None`` means the hint is left unset, as upstream does."""

    read_only: bool
    open_world: bool = True
    destructive: bool | None = None
    idempotent: bool | None = None

    def annotations(self) -> ToolAnnotations:
        values = {
            "readOnlyHint": self.read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": self.idempotent,
            "openWorldHint": self.open_world,
        }
        return ToolAnnotations(**{k: v for k, v in values.items() if v is not None})

    def advertised(self) -> ToolAnnotations:
        """The hints as ``tools/list`` sends them: readOnlyHint, destructiveHint and openWorldHint always, outright
        (ChatGPT's apps ask for all three and several clients do not apply MCP's defaults); idempotentHint only where
        it means something and is not MCP's default (false): on a tool that is not read-only (for a read, the spec
        makes it meaningless). The catalog export keeps every hint."""
        destructive = not self.read_only if self.destructive is None else self.destructive
        values = {"readOnlyHint": self.read_only, "destructiveHint": destructive, "openWorldHint": self.open_world}
        if self.idempotent and not self.read_only:
            values["idempotentHint"] = True
        return ToolAnnotations(**values)


# The combinations the official QuantConnect MCP server uses; reads also say outright that they change nothing
# (see DELIBERATE_HINT_DIFFERENCES in the catalog).
READ = Hints(read_only=True, destructive=False, idempotent=True)
LOCAL_READ = Hints(read_only=True, destructive=False, idempotent=True, open_world=False)
CREATE = Hints(read_only=False, destructive=False, idempotent=False)
UPDATE = Hints(read_only=False, destructive=True, idempotent=True)
IDEMPOTENT_WRITE = Hints(read_only=False, destructive=False, idempotent=True)
# Live commands move money: destructive and not idempotent (upstream gives live reads these hints too, by mistake).
LIVE = Hints(read_only=False, destructive=True, idempotent=False)


@dataclass(frozen=True)
class ToolSpec:
    """Everything about one tool, declared once.

    ``endpoint`` is the API path; ``request``/``response`` are generated models. The
    wrapper in :mod:`qcmcp.tools.runtime` derives the flat parameter schema from
    ``request``, validates arguments with it, calls ``handler`` (a plain JSON POST by
    default) and validates the answer with ``response``.
    """

    name: str
    description: str
    area: str
    hints: Hints
    endpoint: str | None = None
    # Names of generated models in qcmcp.qc.models (resolved lazily, see below).
    request: str | None = None
    response: str | None = None
    handler: Handler | None = None
    # Request fields the tool does not expose (upstream leaves them out too).
    hidden: tuple[str, ...] = ()
    # Repeating the call is harmless (drives automatic retries); defaults from hints.
    retry_safe: bool | None = None
    # The OAuth scope a token needs to see and call the tool (set for every tool in the catalog).
    scope: str | None = None
    cost: CostClass = "free"
    # Live-money tools: the parameter a ``confirm`` argument must repeat (see security/live_guard.py).
    confirm: str | None = None
    # Parameter descriptions that replace the spec's where it disagrees with what the API accepts.
    parameter_notes: tuple[tuple[str, str], ...] = ()
    # A workflow: one tool that makes several API calls (run_backtest, …); ``request`` is its own model.
    workflow: bool = False
    # Reads and writes local paths: absent in shared mode unless the operator sets QCMCP_WORKSPACE_ROOT.
    local_paths: bool = False
    # Draws a PNG from the result (and may drop the data it drew from the structured result).
    image: Callable[[dict[str, Any]], bytes | None] | None = None
    # Long-running: may run as an MCP background task when the client asks for one (see qcmcp.ops.tasks).
    background: bool = False

    @property
    def request_model(self) -> type[BaseModel] | None:
        return _model(self.request) if self.request else None

    @property
    def response_model(self) -> type[BaseModel] | None:
        return _model(self.response) if self.response else None

    @property
    def cost_class(self) -> str:
        """What calling it can cost: nothing, QuantConnect credit (QCC), or real money."""
        return "live-money" if self.confirm else "qcc" if self.cost == "qcc" else "free"

    @property
    def latency_class(self) -> str:
        """How long an answer takes: ``fast`` (one API call) or ``slow`` (seconds to minutes of work)."""
        return "slow" if self.cost in ("slow", "qcc") or self.name in SLOW_TOOLS else "fast"

    def metadata(self) -> dict[str, str]:
        """What the catalog says about the tool beyond MCP's own fields: toolset, scope, cost and latency class."""
        return {"toolset": self.toolset, "scope": self.scope or "", "cost": self.cost_class,
                "latency": self.latency_class}

    def advertised_metadata(self) -> dict[str, str]:
        """``metadata()`` as ``tools/list`` carries it under ``_meta["io.qcmcp/tool"]``: a cost or latency class
        equal to METADATA_DEFAULTS is left out (most tools are free and fast; 14-17 bytes each a tool)."""
        return {key: value for key, value in self.metadata().items() if METADATA_DEFAULTS.get(key) != value}

    @property
    def toolset(self) -> str:
        return "workflows" if self.workflow else AREA_TOOLSETS.get(self.area, self.area)

    @property
    def safe_to_retry(self) -> bool:
        if self.retry_safe is not None:
            return self.retry_safe
        return bool(self.hints.read_only or self.hints.idempotent)


def _model(name: str) -> type[BaseModel]:
    """Import the models on first use and return the one called ``name``: a generated API model, or
    ``module:Name`` for the workflow tools' own parameter models."""
    module, _, attribute = name.rpartition(":") if ":" in name else ("qcmcp.qc.models", "", name)
    model: type[BaseModel] = getattr(importlib.import_module(module), attribute)
    return model
