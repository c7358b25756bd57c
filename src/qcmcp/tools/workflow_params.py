"""Parameters of the workflow tools (run_backtest, read_backtest_status, list_deployments), as request models.

They play the part the generated API models play for API tools: the flat input schema and the validation
come from the same class. Field names follow the API's (``projectId``, ``backtestId``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from qcmcp.qc.models import (
    OptimizationConstraint,
    OptimizationParameter,
    OptimizationStrategy,
    OptimizationTargetStatistic,
    OptimizationTargetTo,
)


class RunBacktestParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    projectId: int = Field(..., ge=1)  # noqa: N815
    backtestName: str | None = Field(None, max_length=200)  # noqa: N815
    parameters: dict[str, str | float | int] | None = Field(
        None, max_length=100, description="By name, as get_parameter reads them, e.g. {\"fast\": 10}.")
    timeoutSeconds: float = Field(600.0, gt=0, le=3600, description=(  # noqa: N815
        "Then it returns; the backtest runs on (read_backtest_status)."))


class ReadBacktestStatusParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    projectId: int = Field(..., ge=1)  # noqa: N815
    backtestId: str | None = Field(None, max_length=100, description="Default: the project's latest.")  # noqa: N815


class ListDeploymentsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # In the order the generated ListLiveAlgorithmsRequest uses: typing caches `Literal[...] | None` by the
    # Literal's unordered equality, so a second order would make the schema depend on which module loaded first.
    status: Literal["Running", "Stopped", "RuntimeError", "Liquidated"] | None = Field(
        None, description="Only these (default: all).")


class RunOptimizationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    projectId: int = Field(..., ge=1)  # noqa: N815
    target: OptimizationTargetStatistic
    targetTo: OptimizationTargetTo  # noqa: N815
    parameters: list[OptimizationParameter] = Field(..., min_length=1, max_length=10, description=(
        "To vary, as get_parameter reads them."))
    estimatedCost: float = Field(..., ge=0, description="The most QCC you allow.")  # noqa: N815
    strategy: OptimizationStrategy = Field(
        OptimizationStrategy("QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy"))
    constraints: list[OptimizationConstraint] | None = Field(None, max_length=10, description=(
        "Backtests failing one are left out, e.g. drawdown below 0.2."))
    nodeType: str = Field("O2-8", max_length=20)  # noqa: N815
    parallelNodes: int = Field(2, ge=1, le=24, description="Backtests run at once.")  # noqa: N815
    name: str | None = Field(None, max_length=200)
    timeoutSeconds: float = Field(1800.0, gt=0, le=7200, description=(  # noqa: N815
        "Then it returns; the optimization runs on (read_optimization)."))


class ReadBacktestTradesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    projectId: int = Field(..., ge=1)  # noqa: N815
    backtestId: str = Field(..., min_length=1, max_length=100)  # noqa: N815
    start: int = Field(0, ge=0)
    end: int = Field(100, ge=1, description="Exclusive; end - start must be at most 100.")


class ReadObjectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(..., min_length=1, max_length=1000, description="e.g. 'models/params.json'.")
    organizationId: str | None = Field(None, min_length=1, max_length=100)  # noqa: N815


class SyncProjectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(..., min_length=1, max_length=1000, description=(
        "The project folder; in shared mode, relative to the server's workspace."))
    projectId: int | None = Field(None, ge=1, description=(  # noqa: N815
        "Default: config.json's cloud-id; with neither, a project is created."))
    name: str | None = Field(None, min_length=1, max_length=200, description=(
        "Find or create the cloud project by name instead."))
    direction: Literal["both", "push", "pull"] = "both"
    dryRun: bool = Field(False, description="Only report what would change.")  # noqa: N815
