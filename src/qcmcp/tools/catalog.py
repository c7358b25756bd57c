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
PAGING = "Paged: pass start (inclusive) and end (exclusive) indexes"

CATALOG: tuple[ToolSpec, ...] = (
    # --- Account -------------------------------------------------------------------------
    ToolSpec(
        "read_account", area="account", hints=READ, endpoint="/account/read", response="AccountResponse",
        description="Read the account: organizationId, QCC credit balance, card on file. Use it to check credit "
        "before optimizations or live nodes, or to find your organizationId.",
    ),
    # --- Projects ------------------------------------------------------------------------
    ToolSpec(
        "create_project", area="projects", hints=CREATE, endpoint="/projects/create",
        request="CreateProjectRequest", response="ProjectListResponse", handler=handlers.create_project,
        description="Create a project. Names need not be unique: check list_projects first. Returns the project "
        "(projectId) and its template files: main file with contents, research notebook by name. Next: "
        "update_file_contents or patch_file, then create_compile.",
    ),
    ToolSpec(
        "read_project", area="projects", hints=READ, endpoint="/projects/read",
        request="ReadProjectRequest", response="ProjectListResponse",
        description="Read one project (name, language, dates, parameters, collaborators, LEAN version), or without "
        "projectId a page of all projects (start/end).",
    ),
    ToolSpec(
        "list_projects", area="projects", hints=READ, endpoint="/projects/read", response="ProjectListResponse",
        description="List every project you can access: projectId, name, language, last modified. Use it to find "
        "a project before creating one.",
    ),
    ToolSpec(
        "update_project", area="projects", hints=UPDATE, endpoint="/projects/update",
        request="UpdateProjectRequest", response="RestResponse",
        description="Rename a project or change its description. Returns success only.",
    ),
    ToolSpec(
        "delete_project", area="projects", hints=UPDATE, endpoint="/projects/delete",
        request="DeleteProjectRequest", response="RestResponse",
        description="Permanently delete a project with its files, backtests and optimizations. Cannot be undone; "
        "confirm the projectId with read_project first.",
    ),
    # --- Collaboration -------------------------------------------------------------------
    ToolSpec(
        "create_project_collaborator", area="collaboration", hints=IDEMPOTENT_WRITE,
        endpoint="/projects/collaboration/create", request="CreateCollaboratorRequest",
        response="CreateCollaboratorResponse",
        description="Add a collaborator to a project, with or without code-edit and live-control rights. Returns "
        "the collaborator list.",
    ),
    ToolSpec(
        "read_project_collaborators", area="collaboration", hints=READ, endpoint="/projects/collaboration/read",
        request="ReadCollaboratorsRequest", response="ReadCollaboratorsResponse",
        description="List a project's collaborators with their permissions and live-control rights.",
    ),
    ToolSpec(
        "update_project_collaborator", area="collaboration", hints=UPDATE, endpoint="/projects/collaboration/update",
        request="UpdateCollaboratorRequest", response="UpdateCollaboratorResponse",
        description="Change a collaborator's write and live-control permissions on a project.",
    ),
    ToolSpec(
        "delete_project_collaborator", area="collaboration", hints=UPDATE, endpoint="/projects/collaboration/delete",
        request="DeleteCollaboratorRequest", response="DeleteCollaboratorResponse",
        description="Remove a collaborator from a project. Returns the remaining collaborators.",
    ),
    ToolSpec(
        "lock_project_with_collaborators", area="collaboration", hints=UPDATE,
        endpoint="/projects/collaboration/lock/acquire", request="LockCollaboratorRequest", response="RestResponse",
        description="Take the edit lock on a project with collaborators; needed before editing its files. Returns "
        "success only.",
    ),
    # --- Nodes ---------------------------------------------------------------------------
    ToolSpec(
        "read_project_nodes", area="projects", hints=READ, endpoint="/projects/nodes/read",
        request="ReadProjectNodesRequest", response="ProjectNodesResponse",
        description="List the organization's backtest, research and live nodes: busy or not, and which the "
        "project may use. A live node's id is create_live_algorithm's nodeId.",
    ),
    ToolSpec(
        "update_project_nodes", area="projects", hints=IDEMPOTENT_WRITE, endpoint="/projects/nodes/update",
        request="UpdateProjectNodesRequest", response="ProjectNodesResponse",
        description="Choose which nodes a project may use (node ids from read_project_nodes). An empty or missing "
        "list lets QuantConnect pick the best free node automatically.",
    ),
    # --- Compile -------------------------------------------------------------------------
    ToolSpec(
        "create_compile", area="compile", hints=CREATE, endpoint="/compile/create",
        request="CreateCompileRequest", response="CreateCompileResponse",
        description="Start compiling a project's files. Returns a compileId and state (InQueue, BuildSuccess, "
        "BuildError). Next: read_compile until final, then create_backtest. run_backtest does it all in one call.",
    ),
    ToolSpec(
        "read_compile", area="compile", hints=READ, endpoint="/compile/read",
        request="ReadCompileRequest", response="ReadCompileResponse",
        description="Read a compile: state (InQueue, BuildSuccess, BuildError) and build logs, each error with "
        "file and line. Call again while InQueue.",
    ),
    # --- Files ---------------------------------------------------------------------------
    ToolSpec(
        "create_file", area="files", hints=IDEMPOTENT_WRITE, endpoint="/files/create",
        request="CreateProjectFileRequest", response="RestResponse",
        description="Add a file (code, notebook, text) to a project. Fails if the name exists: then use "
        "update_file_contents or patch_file.",
    ),
    ToolSpec(
        "read_file", area="files", hints=READ, endpoint="/files/read",
        request="ReadFilesRequest", response="ProjectFilesResponse",
        description="Read a project's file by name, or all files without name: names, contents, modification "
        "times. Read before patch_file.",
    ),
    ToolSpec(
        "update_file_name", area="files", hints=UPDATE, endpoint="/files/update",
        request="UpdateFileNameRequest", response="UpdateFileResponse",
        description="Rename a file in a project (name to newName). Imports in other files are not updated; fix them "
        "with patch_file.",
    ),
    ToolSpec(
        "update_file_contents", area="files", hints=UPDATE, endpoint="/files/update",
        request="UpdateFileContentsRequest", response="UpdateFileResponse",
        description="Replace the whole content of a file. For small edits to large files prefer patch_file, which "
        "sends only the change. Next: create_compile.",
    ),
    ToolSpec(
        "patch_file", area="files", hints=UPDATE, endpoint="/files/patch",
        request="PatchFileRequest", response="RestResponse",
        description="Apply a unified diff to one or more files; prefer it to update_file_contents for small edits. "
        "Returns success. Next: create_compile.",
        parameter_notes=(("patch", "As `git diff` writes it: per file `--- a/<file>` and `+++ b/<file>`, then "
                          "`@@ -l,n +l,n @@` hunks whose context and removed lines match the file exactly "
                          "(read_file first). `diff --git` and `index` lines are optional."),),
    ),
    ToolSpec(
        "delete_file", area="files", hints=UPDATE, endpoint="/files/delete",
        request="DeleteFileRequest", response="RestResponse",
        description="Delete a file from a project. The next compile will no longer include it.",
    ),
    # --- Backtests -----------------------------------------------------------------------
    ToolSpec(
        "create_backtest", area="backtests", hints=CREATE, endpoint="/backtests/create",
        request="CreateBacktestRequest", response="BacktestResponse", cost="slow",
        description="Start a backtest of a successful compile; parameters override get_parameter values. Returns "
        "the backtestId at once. Next: read_backtest until 'Completed.' or 'Runtime Error' (or use run_backtest).",
    ),
    ToolSpec(
        "read_backtest", area="backtests", hints=READ, endpoint="/backtests/read",
        request="ReadBacktestRequest", response="BacktestResponse", handler=handlers.read_backtest,
        description="Read a backtest: status and progress; when done, statistics, runtime statistics, chart names "
        "and the first 20 closed trades (closedTradeCount; read_backtest_trades for more); on failure the error "
        "and stack trace. For polling, read_backtest_status is smaller.",
    ),
    ToolSpec(
        "read_backtest_trades", area="backtests", hints=READ, workflow=True, handler=handlers.read_backtest_trades,
        request=f"{WORKFLOW_PARAMS}:ReadBacktestTradesParams",
        description="Read a finished backtest's closed trades (entry, exit, quantity, profit, fees), 100 per call "
        "from start, with the total in length.",
    ),
    ToolSpec(
        "list_backtests", area="backtests", hints=READ, endpoint="/backtests/list",
        request="ListBacktestRequest", response="BacktestSummaryResponse",
        description="List a project's backtests (id, name, status, created), with includeStatistics also their key "
        "statistics: a cheap way to compare runs.",
    ),
    ToolSpec(
        "read_backtest_chart", area="backtests", hints=READ, endpoint="/backtests/chart/read",
        request="ReadBacktestChartRequest", response="ReadChartResponseOrLoading",
        description="Read one chart of a finished backtest ('Strategy Equity', 'Drawdown', 'Benchmark', custom) "
        "between unix times start and end, in count points. If it says loading, call again shortly.",
    ),
    ToolSpec(
        "read_backtest_orders", area="backtests", hints=READ, endpoint="/backtests/orders/read",
        request="ReadBacktestOrdersRequest", response="BacktestOrdersResponse",
        description=f"Read a backtest's orders with fills, prices, fees and tags. {PAGING}, at most 100 at a time.",
        parameter_notes=page_end(),
    ),
    ToolSpec(
        "read_backtest_insights", area="backtests", hints=READ, endpoint="/backtests/read/insights",
        request="ReadBacktestInsightsRequest", response="BacktestInsightsResponse",
        description=f"Read a backtest's alpha insights (direction, period, confidence, score). {PAGING}, at most 100 "
        "at a time.", parameter_notes=page_end(),
    ),
    ToolSpec(
        "read_backtest_report", area="backtests", hints=READ, endpoint="/backtests/read/report",
        request="BacktestReportRequest", response="BacktestReportResponse",
        description="Read a finished backtest's HTML report (tables, charts). Large: read_backtest has the numbers. "
        "If it says generating, call again shortly.",
    ),
    ToolSpec(
        "update_backtest", area="backtests", hints=UPDATE, endpoint="/backtests/update",
        request="UpdateBacktestRequest", response="RestResponse",
        description="Rename a backtest or attach a note to it (e.g. what was changed and why).",
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
        description="Estimate an optimization's time and show the QCC balance, starting nothing. Call it before "
        "create_optimization, whose estimatedCost it gives.",
    ),
    ToolSpec(
        "create_optimization", area="optimizations", hints=CREATE, endpoint="/optimizations/create",
        request="CreateOptimizationRequest", response="ListOptimizationResponse", cost="qcc",
        description="Start a parameter optimization (search parameters for the best target statistic under "
        "constraints). Costs QCC: estimate_optimization_time first. Returns the optimizationId. Next: "
        "read_optimization. run_optimization does it all in one call.",
    ),
    ToolSpec(
        "read_optimization", area="optimizations", hints=READ, endpoint="/optimizations/read",
        request="ReadOptimizationRequest", response="ReadOptimizationResponse", handler=handlers.read_optimization,
        description="Read an optimization: status, runtime statistics, and its backtests: 'ranked' best first by "
        "the target with statistics by name, 'backtests' in the API's form.",
    ),
    ToolSpec(
        "list_optimizations", area="optimizations", hints=READ, endpoint="/optimizations/list",
        request="ListOptimizationRequest", response="ListOptimizationResponse",
        description="List a project's optimizations with their status and best results.",
    ),
    ToolSpec(
        "update_optimization", area="optimizations", hints=UPDATE, endpoint="/optimizations/update",
        request="UpdateOptimizationRequest", response="RestResponse",
        description="Rename an optimization; its backtests and results are unchanged.",
    ),
    ToolSpec(
        "abort_optimization", area="optimizations", hints=UPDATE, endpoint="/optimizations/abort",
        request="AbortOptimizationRequest", response="RestResponse",
        description="Stop a running optimization; backtests already finished are kept.",
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
        description="Step 1 of connecting an OAuth brokerage for live trading: returns a URL the user opens and "
        "approves. Then read_connection_authorization, then create_live_algorithm.",
    ),
    ToolSpec(
        "read_connection_authorization", area="live", hints=READ, endpoint="/live/auth0/read",
        request="AuthorizeExternalConnectionRequest", response="AuthorizeExternalConnectionResponse",
        description="Step 2 of connecting an OAuth brokerage: read the authorisation the user granted at "
        "authorize_connection's URL. Fails until they approved.",
    ),
    ToolSpec(
        "create_live_algorithm", area="live", confirm="projectId", hints=CREATE, endpoint="/live/create",
        request="CreateLiveAlgorithmRequest", response="CreateLiveAlgorithmResponse", cost="qcc",
        description="Deploy a compiled project live on a live node (read_project_nodes) with a brokerage; paper "
        "trading: {'id': 'QuantConnectBrokerage'}. THIS CAN TRADE REAL MONEY. Returns the deployment. Next: "
        "read_live_algorithm.",
    ),
    ToolSpec(
        "read_live_algorithm", area="live", hints=READ, retry_safe=True, endpoint="/live/read",
        request="ReadLiveAlgorithmRequest", response="LiveAlgorithmResults",
        description="Read the project's live deployment: status, brokerage, launch/stop times, runtime statistics, "
        "charts, and the deployId (read_live_logs' algorithmId).",
    ),
    ToolSpec(
        "list_live_algorithms", area="live", hints=READ, retry_safe=True, endpoint="/live/list",
        request="ListLiveAlgorithmsRequest", response="LiveAlgorithmListResponse",
        description="List past and present live deployments, optionally only one project's or only those with a "
        "status (Running, Stopped, RuntimeError, Liquidated).",
    ),
    ToolSpec(
        "read_live_chart", area="live", hints=READ, retry_safe=True, endpoint="/live/chart/read",
        request="ReadLiveChartRequest", response="ReadChartResponseOrLoading",
        description="Read one chart of a live algorithm between unix times start and end, in count points. If it "
        "says loading, call again shortly.",
    ),
    ToolSpec(
        "read_live_logs", area="live", hints=READ, retry_safe=True, endpoint="/live/logs/read",
        request="ReadLiveLogsRequest", response="ReadLiveLogsResponse", hidden=("format",),
        description="Read a live deployment's log lines startLine (inclusive) to endLine (exclusive), at most 250 "
        "at a time. Updated about every 5 minutes.",
    ),
    ToolSpec(
        "read_live_portfolio", area="live", hints=READ, retry_safe=True, endpoint="/live/portfolio/read",
        request="ReadLivePortfolioRequest", response="LivePortfolioResponse", handler=handlers.read_live_portfolio,
        description="Read a live algorithm's holdings (by security id, fields explained in holdingsKey) and cash. "
        "Updated about every 10 minutes.",
    ),
    ToolSpec(
        "read_live_orders", area="live", hints=READ, retry_safe=True, endpoint="/live/orders/read",
        request="ReadLiveOrdersRequest", response="ReadLiveOrdersResponse",
        description=f"Read a live algorithm's orders. {PAGING}, at most 1,000 at a time. If it says loading, call "
        "again shortly.", parameter_notes=page_end(1000),
    ),
    ToolSpec(
        "read_live_insights", area="live", hints=READ, retry_safe=True, endpoint="/live/insights/read",
        request="ReadLiveInsightsRequest", response="LiveInsightsResponse",
        description=f"Read a live algorithm's insights. {PAGING}, at most 100 at a time.",
        parameter_notes=page_end(),
    ),
    ToolSpec(
        "stop_live_algorithm", area="live", confirm="projectId", hints=UPDATE, endpoint="/live/update/stop",
        request="StopLiveAlgorithmRequest", response="RestResponse",
        description="Stop the project's live algorithm. Open positions stay open; use liquidate_live_algorithm "
        "to close them.",
    ),
    ToolSpec(
        "liquidate_live_algorithm", area="live", confirm="projectId", hints=UPDATE, endpoint="/live/update/liquidate",
        request="LiquidateLiveAlgorithmRequest", response="RestResponse",
        description="Liquidate every position of the project's live algorithm with market orders, then stop it. "
        "Trades real money with a real brokerage.",
    ),
    ToolSpec(
        "create_live_command", area="live", confirm="projectId", hints=LIVE, endpoint="/live/commands/create",
        request="CreateLiveCommandRequest", response="RestResponse",
        description="Send a command object to a running live algorithm: its on_command gets it (or the Command "
        "class named by '$type' runs). It can place orders.",
    ),
    ToolSpec(
        "broadcast_live_command", area="live", confirm="organizationId", hints=LIVE, endpoint="/live/commands/broadcast",
        request="BroadcastLiveCommandRequest", response="RestResponse",
        description="Send a command object to every running live algorithm of an organization, optionally except "
        "one project. Commands can place orders.",
    ),
    # --- Object store --------------------------------------------------------------------
    ToolSpec(
        "upload_object", area="objects", hints=UPDATE, endpoint="/object/set",
        request="ObjectStoreBinaryFile", response="RestResponse", handler=handlers.multipart_upload,
        description="Store text data in the organization's Object Store under key (overwrites an existing key). "
        "Algorithms read it with self.object_store.read(key).",
    ),
    ToolSpec(
        "read_object_properties", area="objects", hints=READ, endpoint="/object/properties",
        request="GetObjectStorePropertiesRequest", response="GetObjectStorePropertiesResponse",
        handler=handlers.read_object_properties,
        description="Read an Object Store file's size, MD5, MIME type, dates and a preview of its start "
        "(read_object gives all). Not for folders.",
    ),
    ToolSpec(
        "read_object_store_file_job_id", area="objects", hints=CREATE, endpoint="/object/get",
        request="GetObjectStoreJobIdRequest", response="GetObjectStoreResponse",
        description="Start a download job for Object Store keys. Returns a jobId for "
        "read_object_store_file_download_url. read_object does both.",
    ),
    ToolSpec(
        "read_object_store_file_download_url", area="objects", hints=READ, endpoint="/object/get",
        request="GetObjectStoreURLRequest", response="GetObjectStoreResponse",
        description="Read the download URL of an Object Store download job (read_object_store_file_job_id). Empty "
        "until the job is ready: call again shortly. read_object does both.",
    ),
    ToolSpec(
        "list_object_store_files", area="objects", hints=READ, endpoint="/object/list",
        request="ListObjectStoreRequest", response="ListObjectStoreResponse",
        description="List the files and folders under a path of the organization's Object Store, with sizes and "
        "total storage used.",
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
        description="List LEAN engine versions with ids and descriptions; use an id as versionId in "
        "create_live_algorithm.",
    ),
    # --- AI helpers ----------------------------------------------------------------------
    ToolSpec(
        "check_initialization_errors", area="ai", hints=READ, endpoint="/ai/tools/backtest-init",
        request="BacktestInitRequest", response="BacktestInitResponse",
        description="Run an algorithm's initialization on given files (one main.py or Main.cs) and report errors, "
        "with no project or backtest. Catches set-up mistakes early.",
    ),
    ToolSpec(
        "complete_code", area="ai", hints=READ, endpoint="/ai/tools/complete",
        request="CodeCompletionRequest", response="CodeCompletionResponse",
        description="Suggest completions for a partial QuantConnect API expression (e.g. 'self.add_eq'). Use it to "
        "find the exact name of an API method.",
    ),
    ToolSpec(
        "enhance_error_message", area="ai", hints=READ, endpoint="/ai/tools/error-enhance",
        request="ErrorEnhanceRequest", response="ErrorEnhanceResponse",
        description="Explain a compile or runtime error message (with its stack trace if you have it) and suggest "
        "how to fix it.",
    ),
    ToolSpec(
        "update_code_to_pep8", area="ai", hints=READ, endpoint="/ai/tools/pep8-convert",
        request="PEP8ConvertRequest", response="PEP8ConvertResponse",
        description="Convert Python files to PEP8 style (snake_case API names). Returns the content per file; "
        "the project is not changed.",
    ),
    ToolSpec(
        "check_syntax", area="ai", hints=READ, endpoint="/ai/tools/syntax-check",
        request="BasicFilesRequest", response="SyntaxCheckResponse",
        description="Check the syntax of given files without compiling a project. Returns the problems found.",
    ),
    ToolSpec(
        "search_quantconnect", area="ai", hints=READ, endpoint="/ai/tools/search",
        request="SearchRequest", response="SearchResponse",
        description="Search QuantConnect documentation, forum, API stubs and examples. Each criterion has input "
        "text, a type (Docs, Forum, Stubs, Examples) and a result count.",
    ),
    # --- This server ---------------------------------------------------------------------
    ToolSpec(
        "read_mcp_server_version", area="account", hints=LOCAL_READ, handler=handlers.server_version,
        description="Report the version of this qcmcp server.",
    ),
    ToolSpec(
        "health_check", area="account", hints=READ, handler=handlers.health_check,
        description="Check this server: version, backend (cloud or sandbox), auth mode, tools served, readiness "
        "(API reachable, audit log writable, algorithm jail).",
    ),
    ToolSpec(
        "read_latest_mcp_server_version", area="account", hints=READ, handler=handlers.latest_server_version,
        description="Look up the newest released version of qcmcp on PyPI, to tell whether this server is out of "
        "date. Needs network access to PyPI.",
    ),
    # --- Research: analytics on market data, computed here (no QuantConnect call) -----------
    ToolSpec(
        "get_history", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:HistoryParams", cost="slow",
        description="Price history (OHLCV bars) for symbols over a date range, from local market data (LEAN's sample by default), adjusted as LEAN does. Returns a per-symbol table and the data source, normalization and range used.",
    ),
    ToolSpec(
        "calculate_correlation_matrix", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:CorrelationParams", cost="slow",
        description='Correlation matrix of daily returns for symbols, with a heatmap image.',
    ),
    ToolSpec(
        "perform_pca_analysis", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:PcaParams", cost="slow",
        description='Principal component analysis of standardized returns: explained variance per component and loadings, with a loadings chart.',
    ),
    ToolSpec(
        "test_cointegration", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:CointegrationParams", cost="slow",
        description='Engle-Granger (both directions) and Johansen cointegration tests for two symbols, with the hedge ratio, spread half-life and a spread/z-score chart.',
    ),
    ToolSpec(
        "analyze_mean_reversion", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:MeanReversionParams", cost="slow",
        description='Mean reversion of one symbol: ADF test, half-life, Hurst exponent and the current z-score over lookback_period, with a chart.',
    ),
    ToolSpec(
        "calculate_portfolio_performance", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:PerformanceParams", cost="slow",
        description='Performance of a weighted portfolio: return, volatility, Sharpe, Sortino, max drawdown, Calmar, and beta/alpha against a benchmark.',
    ),
    ToolSpec(
        "optimize_equal_weight_portfolio", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:EqualWeightParams", cost="slow",
        description='An equal-weight portfolio of the symbols and its performance, with a weights chart.',
    ),
    ToolSpec(
        "optimize_portfolio", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:OptimizeParams", cost="slow",
        description='Portfolio weights by min-variance, max-Sharpe, risk parity, hierarchical risk parity or min-CVaR (long-only and weight caps), with a weights chart.',
    ),
    ToolSpec(
        "sparse_optimization", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:SparseParams", cost="slow",
        description='Sparse index tracking: a few of the symbols weighted to track a benchmark, with Huber downside-risk loss.',
    ),
    ToolSpec(
        "select_uncorrelated_assets", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:UncorrelatedParams", cost="slow",
        description='Pick num_assets of the symbols that are least correlated with each other (greedy or clustering).',
    ),
    ToolSpec(
        "screen_assets_by_criteria", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:ScreenParams", cost="slow",
        description='Filter symbols by return, volatility, Sharpe, drawdown and correlation thresholds.',
    ),
    ToolSpec(
        "screen_cointegrated_pairs", area="research", hints=LOCAL_READ, handler=handlers.research, image=handlers.research_image,
        request=f"{RESEARCH_PARAMS}:PairsParams", cost="slow",
        description='Test every pair of a universe for cointegration (vectorized Engle-Granger) with false-discovery-rate control; returns the significant pairs ranked.',
    ),
    # --- Workflows: one call for what takes an agent several -------------------------------
    ToolSpec(
        "sync_project", area="files", hints=UPDATE, workflow=True, local_paths=True, handler=handlers.sync_project,
        request=f"{WORKFLOW_PARAMS}:SyncProjectParams",
        description="Sync a local folder (lean-cli layout: config.json with cloud-id, code files) with its cloud "
        "project: sends and pulls only what changed, creates the project if needed, reports conflicts without "
        "overwriting. Returns projectId, pushed, pulled, deleted, conflicts, unchanged.",
    ),
    ToolSpec(
        "run_backtest", area="backtests", hints=CREATE, workflow=True, handler=handlers.run_backtest,
        request=f"{WORKFLOW_PARAMS}:RunBacktestParams", image=handlers.equity_image, cost="slow",
        description="Compile and backtest a project in one call, with progress. Returns backtestId, status, key "
        "and runtime statistics, order count, first orders, equity curve as PNG; or the build errors with line.",
    ),
    ToolSpec(
        "read_backtest_status", area="backtests", hints=READ, workflow=True, handler=handlers.read_backtest_status,
        request=f"{WORKFLOW_PARAMS}:ReadBacktestStatusParams",
        description="A backtest's status, progress and completed flag, and key statistics once done. Small and "
        "cheap to poll.",
    ),
    ToolSpec(
        "run_optimization", area="optimizations", hints=CREATE, workflow=True, cost="qcc",
        handler=handlers.run_optimization, request=f"{WORKFLOW_PARAMS}:RunOptimizationParams",
        description="Optimize in one call: compile, estimate (refuses above estimatedCost or the balance), run "
        "with progress. Returns backtests ranked by target, the best trial's Deflated Sharpe Ratio and the "
        "Probability of Backtest Overfitting. Cancelling aborts it.",
    ),
    ToolSpec(
        "read_object", area="objects", hints=READ, workflow=True, handler=handlers.read_object,
        image=handlers.object_image, request=f"{WORKFLOW_PARAMS}:ReadObjectParams",
        description="Read an Object Store file in one call (at most 2 MiB): text as text, PNG as an image, other "
        "bytes as base64, with size, type and date.",
    ),
    ToolSpec(
        "list_deployments", area="live", hints=READ, workflow=True, handler=handlers.list_deployments,
        request=f"{WORKFLOW_PARAMS}:ListDeploymentsParams",
        description="Every live deployment of the account in one call: project name, deployId, status, brokerage, "
        "launch time, equity, unrealized profit, holdings count.",
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
