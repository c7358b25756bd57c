"""Every tool the server offers, declared once as data.

Models are named, not imported, so start-up does not pay for building 250 model classes:
they are resolved on first use (see ``ToolSpec.request_model``).

Names, parameter names and annotation hints match the official QuantConnect MCP server;
parameters are flat (``{"projectId": 1}``). Descriptions are written for the model that
reads them: what the tool does, when to use it, what comes back, what to call next.
"""

from __future__ import annotations

from dataclasses import replace

from qcmcp.tools import handlers
from qcmcp.tools.spec import CREATE, IDEMPOTENT_WRITE, LIVE, LOCAL_READ, READ, UPDATE, ToolSpec, scope

# Where our annotation hints differ from the official server's, and why (tests/test_catalog.py holds the rest
# equal to upstream). Every read — readOnlyHint true upstream — also says destructiveHint false and
# idempotentHint true outright, so no client has to guess what an unset hint means.
LIVE_READ_REASON = ("a read: upstream marks it destructive and not idempotent because its code sets 'readOnly', a "
                    "key MCP does not know, so clients asked users to confirm every poll")
DELIBERATE_HINT_DIFFERENCES = {
    **{name: LIVE_READ_REASON for name in ("read_live_algorithm", "list_live_algorithms", "read_live_chart",
                                           "read_live_logs", "read_live_portfolio", "read_live_orders",
                                           "read_live_insights")},
    "read_mcp_server_version": "reports this server's own version: it reaches nothing outside (openWorldHint false)",
}  # research tools are ours alone: computed here on local data, so openWorldHint is false

# One wording for page sizes, in the description and the schema alike (the spec says "less than 100" next to its
# own example of start 0, end 100; the API accepts a page of 100).
def page_end(limit: int = 100) -> tuple[tuple[str, str], ...]:
    return (("end", f"Exclusive; end - start must be at most {limit}."),)


WORKFLOW_PARAMS = "qcmcp.tools.workflow_params"
RESEARCH_PARAMS = "qcmcp.tools.research_params"

CATALOG: tuple[ToolSpec, ...] = (
    # --- Account -------------------------------------------------------------------------
    ToolSpec(
        "read_account", area="account", hints=READ, endpoint="/account/read", response="AccountResponse",
        description="Read the account: organizationId, QCC balance, card on file. Check credit before optimizations "
        "or live trading.",
    ),
    # --- Projects ------------------------------------------------------------------------
    ToolSpec(
        "create_project", area="projects", hints=CREATE, endpoint="/projects/create",
        request="CreateProjectRequest", response="ProjectListResponse", handler=handlers.create_project,
        description="Create a project (names need not be unique: check list_projects). Returns its projectId and "
        "template files. Next: patch_file or update_file_contents.",
    ),
    ToolSpec(
        "read_project", area="projects", hints=READ, endpoint="/projects/read",
        request="ReadProjectRequest", response="ProjectListResponse",
        description="Read a project (name, language, dates, parameters, collaborators, LEAN version); without "
        "projectId, a page of all projects.",
    ),
    ToolSpec(
        "list_projects", area="projects", hints=READ, endpoint="/projects/read", response="ProjectListResponse",
        description="List all your projects: projectId, name, language, last modified. Find one before creating it.",
    ),
    ToolSpec(
        "update_project", area="projects", hints=UPDATE, endpoint="/projects/update",
        request="UpdateProjectRequest", response="RestResponse",
        description="Rename a project or change its description. Returns success.",
    ),
    ToolSpec(
        "delete_project", area="projects", hints=UPDATE, endpoint="/projects/delete",
        request="DeleteProjectRequest", response="RestResponse",
        description="Delete a project with its files, backtests and optimizations, for good. Check it with "
        "read_project first.",
    ),
    # --- Collaboration -------------------------------------------------------------------
    ToolSpec(
        "create_project_collaborator", area="collaboration", hints=IDEMPOTENT_WRITE,
        endpoint="/projects/collaboration/create", request="CreateCollaboratorRequest",
        response="CreateCollaboratorResponse",
        description="Add a collaborator to a project, with or without code-edit and live-control rights. Returns the "
        "collaborators.",
    ),
    ToolSpec(
        "read_project_collaborators", area="collaboration", hints=READ, endpoint="/projects/collaboration/read",
        request="ReadCollaboratorsRequest", response="ReadCollaboratorsResponse",
        description="List a project's collaborators with their edit and live-control rights.",
    ),
    ToolSpec(
        "update_project_collaborator", area="collaboration", hints=UPDATE, endpoint="/projects/collaboration/update",
        request="UpdateCollaboratorRequest", response="UpdateCollaboratorResponse",
        description="Change a collaborator's edit and live-control rights on a project.",
    ),
    ToolSpec(
        "delete_project_collaborator", area="collaboration", hints=UPDATE, endpoint="/projects/collaboration/delete",
        request="DeleteCollaboratorRequest", response="DeleteCollaboratorResponse",
        description="Remove a collaborator from a project. Returns the remaining collaborators.",
    ),
    ToolSpec(
        "lock_project_with_collaborators", area="collaboration", hints=UPDATE,
        endpoint="/projects/collaboration/lock/acquire", request="LockCollaboratorRequest", response="RestResponse",
        description="Take the edit lock on a shared project, needed before editing its files. Returns success.",
    ),
    # --- Nodes ---------------------------------------------------------------------------
    ToolSpec(
        "read_project_nodes", area="projects", hints=READ, endpoint="/projects/nodes/read",
        request="ReadProjectNodesRequest", response="ProjectNodesResponse",
        description="List the organization's backtest, research and live nodes, busy or not, and which the project "
        "may use.",
    ),
    ToolSpec(
        "update_project_nodes", area="projects", hints=IDEMPOTENT_WRITE, endpoint="/projects/nodes/update",
        request="UpdateProjectNodesRequest", response="ProjectNodesResponse",
        description="Choose the nodes a project may use (ids from read_project_nodes); none lets QuantConnect pick.",
    ),
    # --- Compile -------------------------------------------------------------------------
    ToolSpec(
        "create_compile", area="compile", hints=CREATE, endpoint="/compile/create",
        request="CreateCompileRequest", response="CreateCompileResponse",
        description="Start compiling a project. Returns compileId and state. Next: read_compile, create_backtest; or "
        "run_backtest for all in one.",
    ),
    ToolSpec(
        "read_compile", area="compile", hints=READ, endpoint="/compile/read",
        request="ReadCompileRequest", response="ReadCompileResponse",
        description="Read a compile's state (InQueue, BuildSuccess, BuildError) and build errors with file and line. "
        "Poll while InQueue.",
    ),
    # --- Files ---------------------------------------------------------------------------
    ToolSpec(
        "create_file", area="files", hints=IDEMPOTENT_WRITE, endpoint="/files/create",
        request="CreateProjectFileRequest", response="RestResponse",
        description="Add a file to a project; fails if the name exists (then patch_file or update_file_contents).",
    ),
    ToolSpec(
        "read_file", area="files", hints=READ, endpoint="/files/read",
        request="ReadFilesRequest", response="ProjectFilesResponse",
        description="Read a project's file by name, or all files: names, contents, modified times. Read before "
        "patch_file.",
    ),
    ToolSpec(
        "update_file_name", area="files", hints=UPDATE, endpoint="/files/update",
        request="UpdateFileNameRequest", response="UpdateFileResponse",
        description="Rename a project's file. Imports elsewhere are not updated.",
    ),
    ToolSpec(
        "update_file_contents", area="files", hints=UPDATE, endpoint="/files/update",
        request="UpdateFileContentsRequest", response="UpdateFileResponse",
        description="Replace a file's whole content (small edits: patch_file). Next: create_compile.",
    ),
    ToolSpec(
        "patch_file", area="files", hints=UPDATE, endpoint="/files/patch",
        request="PatchFileRequest", response="RestResponse",
        description="Apply a unified diff to a project's files; best for small edits. Returns success. Next: "
        "create_compile.",
        parameter_notes=(("patch", "As `git diff` writes it: per file `--- a/<file>` and `+++ b/<file>`, then "
                          "`@@ -l,n +l,n @@` hunks whose context and removed lines match the file exactly "
                          "(read_file first). `diff --git` and `index` lines are optional."),),
    ),
    ToolSpec(
        "delete_file", area="files", hints=UPDATE, endpoint="/files/delete",
        request="DeleteFileRequest", response="RestResponse",
        description="Delete a file from a project; the next compile leaves it out.",
    ),
    # --- Backtests -----------------------------------------------------------------------
    ToolSpec(
        "create_backtest", area="backtests", hints=CREATE, endpoint="/backtests/create",
        request="CreateBacktestRequest", response="BacktestResponse", cost="slow",
        description="Start a backtest of a compile; parameters override get_parameter values. Returns the backtestId; "
        "poll read_backtest. Or run_backtest.",
    ),
    ToolSpec(
        "read_backtest", area="backtests", hints=READ, endpoint="/backtests/read",
        request="ReadBacktestRequest", response="BacktestResponse", handler=handlers.read_backtest,
        description="Read a backtest: status, progress; when done statistics, chart names, first 20 closed trades "
        "(more: read_backtest_trades); or the error.",
    ),
    ToolSpec(
        "read_backtest_trades", area="backtests", hints=READ, workflow=True, handler=handlers.read_backtest_trades,
        request=f"{WORKFLOW_PARAMS}:ReadBacktestTradesParams",
        description="Read a finished backtest's closed trades (entry, exit, quantity, profit, fees) from start, with "
        "the total.",
    ),
    ToolSpec(
        "list_backtests", area="backtests", hints=READ, endpoint="/backtests/list",
        request="ListBacktestRequest", response="BacktestSummaryResponse",
        description="List a project's backtests (id, name, status, created), with includeStatistics their key "
        "statistics.",
    ),
    ToolSpec(
        "read_backtest_chart", area="backtests", hints=READ, endpoint="/backtests/chart/read",
        request="ReadBacktestChartRequest", response="ReadChartResponseOrLoading",
        description="Read a finished backtest's chart ('Strategy Equity', 'Drawdown', custom) in count points. If "
        "loading, call again.",
    ),
    ToolSpec(
        "read_backtest_orders", area="backtests", hints=READ, endpoint="/backtests/orders/read",
        request="ReadBacktestOrdersRequest", response="BacktestOrdersResponse",
        description="Read a backtest's orders (fills, prices, fees, tags), paged by start and end.",
        parameter_notes=page_end(),
    ),
    ToolSpec(
        "read_backtest_insights", area="backtests", hints=READ, endpoint="/backtests/read/insights",
        request="ReadBacktestInsightsRequest", response="BacktestInsightsResponse",
        description="Read a backtest's insights (direction, period, confidence, score), paged by start and end.",
        parameter_notes=page_end(),
    ),
    ToolSpec(
        "read_backtest_report", area="backtests", hints=READ, endpoint="/backtests/read/report",
        request="BacktestReportRequest", response="BacktestReportResponse",
        description="Read a finished backtest's HTML report (large: read_backtest has the numbers). If generating, "
        "call again.",
    ),
    ToolSpec(
        "update_backtest", area="backtests", hints=UPDATE, endpoint="/backtests/update",
        request="UpdateBacktestRequest", response="RestResponse",
        description="Rename a backtest or attach a note to it.",
    ),
    ToolSpec(
        "delete_backtest", area="backtests", hints=UPDATE, endpoint="/backtests/delete",
        request="DeleteBacktestRequest", response="RestResponse",
        description="Delete a backtest with its statistics, charts, orders and logs.",
    ),
    # --- Optimizations -------------------------------------------------------------------
    ToolSpec(
        "estimate_optimization_time", area="optimizations", hints=READ, endpoint="/optimizations/estimate",
        request="EstimateOptimizationRequest", response="EstimateOptimizationResponse",
        description="Estimate an optimization's time and cost and show the QCC balance, starting nothing. Use before "
        "create_optimization.",
    ),
    ToolSpec(
        "create_optimization", area="optimizations", hints=CREATE, endpoint="/optimizations/create",
        request="CreateOptimizationRequest", response="ListOptimizationResponse", cost="qcc",
        description="Start a parameter optimization (costs QCC: estimate first). Returns the optimizationId; follow "
        "with read_optimization. Or run_optimization.",
    ),
    ToolSpec(
        "read_optimization", area="optimizations", hints=READ, endpoint="/optimizations/read",
        request="ReadOptimizationRequest", response="ReadOptimizationResponse", handler=handlers.read_optimization,
        description="Read an optimization: status, runtime statistics, backtests ('ranked' best first by target, "
        "statistics by name).",
    ),
    ToolSpec(
        "list_optimizations", area="optimizations", hints=READ, endpoint="/optimizations/list",
        request="ListOptimizationRequest", response="ListOptimizationResponse",
        description="List a project's optimizations with status and best results.",
    ),
    ToolSpec(
        "update_optimization", area="optimizations", hints=UPDATE, endpoint="/optimizations/update",
        request="UpdateOptimizationRequest", response="RestResponse",
        description="Rename an optimization; its results are unchanged.",
    ),
    ToolSpec(
        "abort_optimization", area="optimizations", hints=UPDATE, endpoint="/optimizations/abort",
        request="AbortOptimizationRequest", response="RestResponse",
        description="Stop a running optimization; finished backtests are kept.",
    ),
    ToolSpec(
        "delete_optimization", area="optimizations", hints=UPDATE, endpoint="/optimizations/delete",
        request="DeleteOptimizationRequest", response="RestResponse",
        description="Delete an optimization and its results.",
    ),
    # --- Live trading --------------------------------------------------------------------
    ToolSpec(
        "authorize_connection", area="live", confirm="brokerage", hints=IDEMPOTENT_WRITE, endpoint="/live/auth0/authorize",
        request="AuthorizeExternalConnectionRequest", handler=handlers.authorization_redirect,
        description="Step 1 of linking an OAuth brokerage: returns a URL the user opens and approves. Then "
        "read_connection_authorization.",
    ),
    ToolSpec(
        "read_connection_authorization", area="live", hints=READ, endpoint="/live/auth0/read",
        request="AuthorizeExternalConnectionRequest", response="AuthorizeExternalConnectionResponse",
        description="Step 2 of linking an OAuth brokerage: read the user's approval. Fails until they approved.",
    ),
    ToolSpec(
        "create_live_algorithm", area="live", confirm="projectId", hints=CREATE, endpoint="/live/create",
        request="CreateLiveAlgorithmRequest", response="CreateLiveAlgorithmResponse", cost="qcc",
        description="Deploy a compiled project live on a node (read_project_nodes) with a brokerage (paper: {'id': "
        "'QuantConnectBrokerage'}). CAN TRADE REAL MONEY. Returns the deployment.",
    ),
    ToolSpec(
        "read_live_algorithm", area="live", hints=READ, retry_safe=True, endpoint="/live/read",
        request="ReadLiveAlgorithmRequest", response="LiveAlgorithmResults",
        description="Read the project's live deployment: status, brokerage, times, runtime statistics, charts, "
        "deployId.",
    ),
    ToolSpec(
        "list_live_algorithms", area="live", hints=READ, retry_safe=True, endpoint="/live/list",
        request="ListLiveAlgorithmsRequest", response="LiveAlgorithmListResponse",
        description="List live deployments, past and present, optionally of one project or one status. All projects "
        "at once: list_deployments.",
    ),
    ToolSpec(
        "read_live_chart", area="live", hints=READ, retry_safe=True, endpoint="/live/chart/read",
        request="ReadLiveChartRequest", response="ReadChartResponseOrLoading",
        description="Read a live algorithm's chart between unix times start and end in count points. If loading, call "
        "again.",
    ),
    ToolSpec(
        "read_live_logs", area="live", hints=READ, retry_safe=True, endpoint="/live/logs/read",
        request="ReadLiveLogsRequest", response="ReadLiveLogsResponse", hidden=("format",),
        description="Read a live deployment's log lines, at most 250 at a time (updated about every 5 minutes).",
    ),
    ToolSpec(
        "read_live_portfolio", area="live", hints=READ, retry_safe=True, endpoint="/live/portfolio/read",
        request="ReadLivePortfolioRequest", response="LivePortfolioResponse", handler=handlers.read_live_portfolio,
        description="Read a live algorithm's holdings (fields in holdingsKey) and cash, updated about every 10 "
        "minutes.",
    ),
    ToolSpec(
        "read_live_orders", area="live", hints=READ, retry_safe=True, endpoint="/live/orders/read",
        request="ReadLiveOrdersRequest", response="ReadLiveOrdersResponse",
        description="Read a live algorithm's orders, paged by start/end. If loading, call again.",
        parameter_notes=page_end(1000),
    ),
    ToolSpec(
        "read_live_insights", area="live", hints=READ, retry_safe=True, endpoint="/live/insights/read",
        request="ReadLiveInsightsRequest", response="LiveInsightsResponse",
        description="Read a live algorithm's insights, paged by start and end.",
        parameter_notes=page_end(),
    ),
    ToolSpec(
        "stop_live_algorithm", area="live", confirm="projectId", hints=UPDATE, endpoint="/live/update/stop",
        request="StopLiveAlgorithmRequest", response="RestResponse",
        description="Stop the project's live algorithm; positions stay open (liquidate_live_algorithm closes them).",
    ),
    ToolSpec(
        "liquidate_live_algorithm", area="live", confirm="projectId", hints=UPDATE, endpoint="/live/update/liquidate",
        request="LiquidateLiveAlgorithmRequest", response="RestResponse",
        description="Sell every position of the project's live algorithm at market, then stop it. Trades real money.",
    ),
    ToolSpec(
        "create_live_command", area="live", confirm="projectId", hints=LIVE, endpoint="/live/commands/create",
        request="CreateLiveCommandRequest", response="RestResponse",
        description="Send a command to a running live algorithm (its on_command, or the Command class named by "
        "'$type'). Can place orders.",
    ),
    ToolSpec(
        "broadcast_live_command", area="live", confirm="organizationId", hints=LIVE, endpoint="/live/commands/broadcast",
        request="BroadcastLiveCommandRequest", response="RestResponse",
        description="Send a command to every running live algorithm of the organization, but excludeProjectId's. Can "
        "place orders.",
    ),
    # --- Object store --------------------------------------------------------------------
    ToolSpec(
        "upload_object", area="objects", hints=UPDATE, endpoint="/object/set",
        request="ObjectStoreBinaryFile", response="RestResponse", handler=handlers.multipart_upload,
        description="Store text in the Object Store under key (overwrites). Algorithms read it with "
        "object_store.read(key).",
    ),
    ToolSpec(
        "read_object_properties", area="objects", hints=READ, endpoint="/object/properties",
        request="GetObjectStorePropertiesRequest", response="GetObjectStorePropertiesResponse",
        handler=handlers.read_object_properties,
        description="Read an Object Store file's size, MD5, type, dates and a preview (all of it: read_object).",
    ),
    ToolSpec(
        "read_object_store_file_job_id", area="objects", hints=CREATE, endpoint="/object/get",
        request="GetObjectStoreJobIdRequest", response="GetObjectStoreResponse",
        description="Start a download job for Object Store keys; returns a jobId. read_object does it all in one.",
    ),
    ToolSpec(
        "read_object_store_file_download_url", area="objects", hints=READ, endpoint="/object/get",
        request="GetObjectStoreURLRequest", response="GetObjectStoreResponse",
        description="Read a download job's URL, empty until ready (call again). read_object does it all in one.",
    ),
    ToolSpec(
        "list_object_store_files", area="objects", hints=READ, endpoint="/object/list",
        request="ListObjectStoreRequest", response="ListObjectStoreResponse",
        description="List the files and folders under an Object Store path, with sizes and storage used.",
    ),
    ToolSpec(
        "delete_object", area="objects", hints=UPDATE, endpoint="/object/delete",
        request="DeleteObjectStoreRequest", response="RestResponse",
        description="Delete a key from the Object Store.",
    ),
    # --- LEAN versions -------------------------------------------------------------------
    ToolSpec(
        "read_lean_versions", area="projects", hints=READ, endpoint="/lean/versions/read",
        response="LeanVersionsResponse",
        description="List LEAN versions with ids (create_live_algorithm's versionId) and descriptions.",
    ),
    # --- AI helpers ----------------------------------------------------------------------
    ToolSpec(
        "check_initialization_errors", area="ai", hints=READ, endpoint="/ai/tools/backtest-init",
        request="BacktestInitRequest", response="BacktestInitResponse",
        description="Run an algorithm's initialization on files (one main.py or Main.cs) and report errors, with no "
        "project or backtest.",
    ),
    ToolSpec(
        "complete_code", area="ai", hints=READ, endpoint="/ai/tools/complete",
        request="CodeCompletionRequest", response="CodeCompletionResponse",
        description="Complete a partial QuantConnect API name (e.g. 'self.add_eq') to the exact method names.",
    ),
    ToolSpec(
        "enhance_error_message", area="ai", hints=READ, endpoint="/ai/tools/error-enhance",
        request="ErrorEnhanceRequest", response="ErrorEnhanceResponse",
        description="Explain a compile or runtime error (with stack trace) and suggest a fix.",
    ),
    ToolSpec(
        "update_code_to_pep8", area="ai", hints=READ, endpoint="/ai/tools/pep8-convert",
        request="PEP8ConvertRequest", response="PEP8ConvertResponse",
        description="Convert Python files to PEP8 (snake_case API names). Returns the new content; the project is "
        "unchanged.",
    ),
    ToolSpec(
        "check_syntax", area="ai", hints=READ, endpoint="/ai/tools/syntax-check",
        request="BasicFilesRequest", response="SyntaxCheckResponse",
        description="Check the syntax of given files, without a project. Returns the problems.",
    ),
    ToolSpec(
        "search_quantconnect", area="ai", hints=READ, endpoint="/ai/tools/search",
        request="SearchRequest", response="SearchResponse",
        description="Search QuantConnect docs, forum, API stubs and examples. Returns the matches per criterion.",
    ),
    # --- This server ---------------------------------------------------------------------
    ToolSpec(
        "read_mcp_server_version", area="account", hints=LOCAL_READ, handler=handlers.server_version,
        description="Report the version of this qcmcp server.",
    ),
    ToolSpec(
        "health_check", area="account", hints=READ, handler=handlers.health_check,
        description="Check this server: version, backend, auth mode, tools served, readiness (API, audit log, jail).",
    ),
    ToolSpec(
        "read_latest_mcp_server_version", area="account", hints=READ, handler=handlers.latest_server_version,
        description="Look up qcmcp's newest release on PyPI, to tell whether this server is out of date.",
    ),
    # --- Research: analytics on market data, computed here (no QuantConnect call) -----------
    ToolSpec(
        "get_history", area="research", hints=READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:HistoryParams", cost="slow",
        description="OHLCV bars for symbols from local data (LEAN's sample) or an Object Store file. Returns the "
        "bars (fields narrows them), source and range.",
    ),
    ToolSpec(
        "calculate_correlation_matrix", area="research", hints=READ,
        handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:CorrelationParams", cost="slow",
        description="Correlation matrix of the symbols' daily returns, with a heatmap.",
    ),
    ToolSpec(
        "perform_pca_analysis", area="research", hints=READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:PcaParams", cost="slow",
        description="PCA of standardized returns: explained variance and loadings, with a chart.",
    ),
    ToolSpec(
        "test_cointegration", area="research", hints=READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:CointegrationParams", cost="slow",
        description="Engle-Granger (both ways) and Johansen tests for two symbols: hedge ratio, half-life, spread "
        "chart.",
    ),
    ToolSpec(
        "analyze_mean_reversion", area="research", hints=READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:MeanReversionParams", cost="slow",
        description="Mean reversion of a symbol: ADF, half-life, Hurst exponent, current z-score, with a chart.",
    ),
    ToolSpec(
        "calculate_portfolio_performance", area="research", hints=READ,
        handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:PerformanceParams", cost="slow",
        description="A weighted portfolio's return, volatility, Sharpe, Sortino, drawdown, Calmar, beta and alpha.",
    ),
    ToolSpec(
        "optimize_equal_weight_portfolio", area="research", hints=READ,
        handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:EqualWeightParams", cost="slow",
        description="An equal-weight portfolio of the symbols and its performance, with a chart.",
    ),
    ToolSpec(
        "optimize_portfolio", area="research", hints=READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:OptimizeParams", cost="slow",
        description="Portfolio weights by min-variance, max-Sharpe, risk parity, HRP or min-CVaR, with a chart.",
    ),
    ToolSpec(
        "sparse_optimization", area="research", hints=READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:SparseParams", cost="slow",
        description="Sparse index tracking: a few symbols weighted to track a benchmark (Huber downside loss).",
    ),
    ToolSpec(
        "select_uncorrelated_assets", area="research", hints=READ,
        handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:UncorrelatedParams", cost="slow",
        description="Pick num_assets of the symbols least correlated with each other.",
    ),
    ToolSpec(
        "screen_assets_by_criteria", area="research", hints=READ,
        handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:ScreenParams", cost="slow",
        description="Filter symbols by return, volatility, Sharpe, drawdown and correlation thresholds.",
    ),
    ToolSpec(
        "screen_cointegrated_pairs", area="research", hints=READ,
        handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:PairsParams", cost="slow",
        description="Test every pair of symbols for cointegration (FDR-controlled). Returns the significant pairs, "
        "ranked.",
    ),
    # --- Workflows: one call for what takes an agent several -------------------------------
    ToolSpec(
        "sync_project", area="files", hints=UPDATE, workflow=True, local_paths=True, handler=handlers.sync_project,
        request=f"{WORKFLOW_PARAMS}:SyncProjectParams",
        description="Sync a local lean-cli project folder with its cloud project, moving only changes; conflicts are "
        "reported, not overwritten. Returns pushed, pulled, deleted, conflicts.",
    ),
    ToolSpec(
        "run_backtest", area="backtests", hints=CREATE, workflow=True, handler=handlers.run_backtest,
        request=f"{WORKFLOW_PARAMS}:RunBacktestParams", image=handlers.equity_image, cost="slow", background=True,
        description="Compile and backtest a project in one call, with progress. Returns key statistics, first orders "
        "and an equity PNG, or the build errors.",
    ),
    ToolSpec(
        "read_backtest_status", area="backtests", hints=READ, workflow=True, handler=handlers.read_backtest_status,
        request=f"{WORKFLOW_PARAMS}:ReadBacktestStatusParams",
        description="A backtest's status, progress and, once done, key statistics. Small: cheap to poll.",
    ),
    ToolSpec(
        "run_optimization", area="optimizations", hints=CREATE, workflow=True, cost="qcc", background=True,
        handler=handlers.run_optimization, request=f"{WORKFLOW_PARAMS}:RunOptimizationParams",
        description="Compile, estimate, optimize in one call with progress; refuses above estimatedCost. Returns "
        "ranked trials, the Deflated Sharpe Ratio and Probability of Backtest Overfitting.",
    ),
    ToolSpec(
        "read_object", area="objects", hints=READ, workflow=True, handler=handlers.read_object,
        image=handlers.object_image, request=f"{WORKFLOW_PARAMS}:ReadObjectParams",
        description="Read an Object Store file (at most 2 MiB) in one call: text, a PNG image or base64, with size, "
        "type and date.",
    ),
    ToolSpec(
        "list_deployments", area="live", hints=READ, workflow=True, handler=handlers.list_deployments,
        request=f"{WORKFLOW_PARAMS}:ListDeploymentsParams",
        description="All live deployments of the account in one call: project, deployId, status, brokerage, equity, "
        "unrealized P&L, holdings.",
    ),
)

# Tools that start work which runs on (and may cost) QuantConnect's side, or move money.
EXECUTE = {"run_backtest", "run_optimization", "create_compile", "create_backtest", "create_optimization",
           "abort_optimization",
           "authorize_connection", "create_live_algorithm", "stop_live_algorithm", "liquidate_live_algorithm", "create_live_command",
           "broadcast_live_command", "check_initialization_errors"}


def _scope_of(spec: ToolSpec) -> str:
    """Each tool's scope: its area, and read / write / delete / execute by what it does."""
    if spec.name in EXECUTE:
        action = "execute"
    elif spec.name.startswith("delete_"):
        action = "delete"
    elif spec.hints.read_only or spec.retry_safe:
        action = "read"
    else:
        action = "write"
    return scope(spec.area, action)


CATALOG = tuple(replace(spec, scope=spec.scope or _scope_of(spec)) for spec in CATALOG)
BY_NAME: dict[str, ToolSpec] = {spec.name: spec for spec in CATALOG}
