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

    projectId: int = Field(..., description="The project to compile and backtest.", ge=1)  # noqa: N815
    backtestName: str | None = Field(None, max_length=200,  # noqa: N815
                                     description="A name for the backtest (default: run_backtest and the time).")
    parameters: dict[str, str | float | int] | None = Field(
        None, max_length=100, description="Algorithm parameters by name (read with get_parameter), e.g. {\"fast\": 10}.")
    timeoutSeconds: float = Field(600.0, gt=0, le=3600, description=(  # noqa: N815
        "How long to wait for the result; after it the backtest keeps running and read_backtest_status follows it."))


class ReadBacktestStatusParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    projectId: int = Field(..., ge=1, description="The project.")  # noqa: N815
    backtestId: str | None = Field(None, max_length=100,  # noqa: N815
                                   description="The backtest (default: the project's latest).")


class ListDeploymentsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # In the order the generated ListLiveAlgorithmsRequest uses: typing caches `Literal[...] | None` by the
    # Literal's unordered equality, so a second order would make the schema depend on which module loaded first.
    status: Literal["Running", "Stopped", "RuntimeError", "Liquidated"] | None = Field(
        None, description="Only deployments in this state (default: all).")


class RunOptimizationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    projectId: int = Field(..., ge=1, description="The project to compile and optimize.")  # noqa: N815
    target: OptimizationTargetStatistic = Field(..., description="The statistic to optimize.")
    targetTo: OptimizationTargetTo = Field(..., description="max or min.")  # noqa: N815
    parameters: list[OptimizationParameter] = Field(..., min_length=1, max_length=10, description=(
        "The parameters to vary, each with name, min, max and step (read in the algorithm with get_parameter)."))
    estimatedCost: float = Field(..., ge=0, description=(  # noqa: N815
        "The most QCC you allow it to cost: nothing starts when the balance is below it or the estimate states more."))
    strategy: OptimizationStrategy = Field(
        OptimizationStrategy("QuantConnect.Optimizer.Strategies.GridSearchOptimizationStrategy"),
        description="Search strategy (default: grid search).")
    constraints: list[OptimizationConstraint] | None = Field(None, max_length=10, description=(
        "Conditions a backtest must meet to count, e.g. drawdown below 0.2."))
    nodeType: str = Field("O2-8", max_length=20, description="Optimization node type (default O2-8).")  # noqa: N815
    parallelNodes: int = Field(2, ge=1, le=24, description="Backtests run at once (default 2).")  # noqa: N815
    name: str | None = Field(None, max_length=200, description="A name for the optimization.")
    timeoutSeconds: float = Field(1800.0, gt=0, le=7200, description=(  # noqa: N815
        "How long to wait; after it the optimization keeps running and read_optimization follows it."))


class ReadBacktestTradesParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    projectId: int = Field(..., ge=1, description="The project.")  # noqa: N815
    backtestId: str = Field(..., min_length=1, max_length=100, description="The backtest.")  # noqa: N815
    start: int = Field(0, ge=0, description="Index of the first closed trade (0 = the first).")
    end: int = Field(100, ge=1, description="Index after the last closed trade; at most 100 more than start.")


class ReadObjectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(..., min_length=1, max_length=1000, description="The Object Store key, e.g. 'models/params.json'.")
    organizationId: str | None = Field(None, min_length=1, max_length=100, description=(  # noqa: N815
        "The organization (default: yours; read_account shows it)."))


class SyncProjectParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(..., min_length=1, max_length=1000, description=(
        "The project folder (lean-cli layout: config.json and the code files). In a shared deployment, relative "
        "to the server's workspace."))
    projectId: int | None = Field(None, ge=1, description=(  # noqa: N815
        "The cloud project (default: config.json's cloud-id; without either, a project is created)."))
    name: str | None = Field(None, min_length=1, max_length=200, description=(
        "Find (or create) the cloud project by this name instead of projectId."))
    direction: Literal["both", "push", "pull"] = Field("both", description=(
        "both (default): push local changes, pull cloud changes; push or pull: one way only."))
    dryRun: bool = Field(False, description="Report what would change without changing anything.")  # noqa: N815
