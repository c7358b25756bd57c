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
def page_end(things: str, limit: int = 100) -> tuple[tuple[str, str], ...]:
    return (("end", f"Index after the last {things} to fetch (exclusive); end - start must be at most {limit}."),)


WORKFLOW_PARAMS = "qcmcp.tools.workflow_params"
RESEARCH_PARAMS = "qcmcp.tools.research_params"
PAGING = "Paged: pass start (inclusive) and end (exclusive) indexes"

CATALOG: tuple[ToolSpec, ...] = (
    # --- Account -------------------------------------------------------------------------
    ToolSpec(
        "read_account", area="account", hints=READ, endpoint="/account/read", response="AccountResponse",
        description="Read the organization account: organization id, QCC credit balance and card on file. "
        "Use it to check credit before costly work (optimizations, live nodes) or to find the organizationId "
        "that object store and live-command tools need.",
    ),
    # --- Projects ------------------------------------------------------------------------
    ToolSpec(
        "create_project", area="projects", hints=CREATE, endpoint="/projects/create",
        request="CreateProjectRequest", response="ProjectListResponse", handler=handlers.create_project,
        description="Create a new project (language 'Py' or 'C#'). Returns the project, including its projectId, "
        "and its template files (the main file with its contents, and a research notebook by name). Next: write code with update_file_contents or patch_file, then create_compile. "
        "Names need not be unique (QuantConnect accepts a second project with the same name), so look for an existing "
        "one with list_projects before creating it again.",
    ),
    ToolSpec(
        "read_project", area="projects", hints=READ, endpoint="/projects/read",
        request="ReadProjectRequest", response="ProjectListResponse",
        description="Read one project by projectId (name, language, dates, parameters, collaborators, LEAN version), "
        "or, without projectId, a page of all projects using start/end.",
    ),
    ToolSpec(
        "list_projects", area="projects", hints=READ, endpoint="/projects/read", response="ProjectListResponse",
        description="List every project you can access with its projectId, name, language and last-modified time. "
        "Use it to locate an existing project before creating a new one.",
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
        description="Add a collaborator to a project, choosing whether they may edit code (collaborationWrite) and "
        "deploy or stop live algorithms (collaborationLiveControl). Returns the collaborator list.",
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
        description="Acquire the edit lock on a shared project. Needed before editing files when a project has "
        "collaborators; pass codeSourceId 'MCP Server' (or your tool's name).",
    ),
    # --- Nodes ---------------------------------------------------------------------------
    ToolSpec(
        "read_project_nodes", area="projects", hints=READ, endpoint="/projects/nodes/read",
        request="ReadProjectNodesRequest", response="ProjectNodesResponse",
        description="List the backtest, research and live nodes of the organization, which are busy, and which the "
        "project may use. Use a live node's id as nodeId in create_live_algorithm.",
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
        description="Start compiling a project's current files. Returns a compileId and state (InQueue, "
        "BuildSuccess or BuildError). Next: read_compile until the state is final, then create_backtest with the "
        "compileId if it is BuildSuccess, or read the logs and fix the code if it is BuildError.",
    ),
    ToolSpec(
        "read_compile", area="compile", hints=READ, endpoint="/compile/read",
        request="ReadCompileRequest", response="ReadCompileResponse",
        description="Read a compile job: state (InQueue, BuildSuccess, BuildError) and build logs with file and line "
        "of each error. Call again while the state is InQueue.",
    ),
    # --- Files ---------------------------------------------------------------------------
    ToolSpec(
        "create_file", area="files", hints=IDEMPOTENT_WRITE, endpoint="/files/create",
        request="CreateProjectFileRequest", response="RestResponse",
        description="Add a new file (code, notebook or other text) to a project. Fails if the name already exists; "
        "use update_file_contents or patch_file to change an existing file.",
    ),
    ToolSpec(
        "read_file", area="files", hints=READ, endpoint="/files/read",
        request="ReadFilesRequest", response="ProjectFilesResponse",
        description="Read one file of a project by name, or every file when name is omitted. Returns names, "
        "contents and modification times. Read a file before patching it so context lines match exactly.",
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
        description="Apply a unified diff to one or more files. Context lines must match the file exactly, so "
        "read_file first. Preferred over update_file_contents for small edits. Next: create_compile.",
        parameter_notes=(("patch", "A unified diff, as `git diff` or `diff -u` writes it: for each file a `--- a/<file>` "
                          "and `+++ b/<file>` line, then `@@ -l,n +l,n @@` hunks whose context and removed lines "
                          "match the file exactly (whitespace included). `diff --git` and `index` lines are "
                          "optional."),),
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
        description="Start a backtest from a successful compile (compileId from create_compile/read_compile). "
        "Optional parameters override the algorithm's get_parameter values. Returns the backtestId immediately; "
        "the run takes seconds to minutes. Next: read_backtest until status is 'Completed.' or 'Runtime Error'.",
    ),
    ToolSpec(
        "read_backtest", area="backtests", hints=READ, endpoint="/backtests/read",
        request="ReadBacktestRequest", response="BacktestResponse", handler=handlers.read_backtest,
        description="Read a backtest: status and progress while running; when complete, statistics (Sharpe, "
        "drawdown, net profit…), runtime statistics, the list of charts and the first 20 closed trades "
        "(closedTradeCount gives the total; read_backtest_trades pages through them); on failure, the error and "
        "stack trace. Next: read_backtest_chart, read_backtest_orders, read_backtest_report.",
    ),
    ToolSpec(
        "read_backtest_trades", area="backtests", hints=READ, workflow=True, handler=handlers.read_backtest_trades,
        request=f"{WORKFLOW_PARAMS}:ReadBacktestTradesParams",
        description="Read a finished backtest's closed trades (round trips: entry, exit, quantity, profit or loss, "
        "fees), at most 100 per call from start to end, with the total in length.",
    ),
    ToolSpec(
        "list_backtests", area="backtests", hints=READ, endpoint="/backtests/list",
        request="ListBacktestRequest", response="BacktestSummaryResponse",
        description="List a project's backtests (id, name, status, created). With includeStatistics, each summary "
        "also carries its key statistics, which makes comparing runs cheap.",
    ),
    ToolSpec(
        "read_backtest_chart", area="backtests", hints=READ, endpoint="/backtests/chart/read",
        request="ReadBacktestChartRequest", response="ReadChartResponseOrLoading",
        description="Read one chart of a completed backtest (e.g. 'Strategy Equity', 'Drawdown', 'Benchmark' or a "
        "custom chart) between unix times start and end, down-sampled to count points. If the answer says it is "
        "loading, call again in a few seconds.",
    ),
    ToolSpec(
        "read_backtest_orders", area="backtests", hints=READ, endpoint="/backtests/orders/read",
        request="ReadBacktestOrdersRequest", response="BacktestOrdersResponse",
        description=f"Read a backtest's orders with fills, prices, fees and tags. {PAGING} (at most 100 at a time).",
        parameter_notes=page_end("order"),
    ),
    ToolSpec(
        "read_backtest_insights", area="backtests", hints=READ, endpoint="/backtests/read/insights",
        request="ReadBacktestInsightsRequest", response="BacktestInsightsResponse",
        description=f"Read the alpha insights a backtest emitted (direction, period, confidence, score). {PAGING} "
        "(at most 100 at a time).", parameter_notes=page_end("insight"),
    ),
    ToolSpec(
        "read_backtest_report", area="backtests", hints=READ, endpoint="/backtests/read/report",
        request="BacktestReportRequest", response="BacktestReportResponse",
        description="Read the full HTML report of a completed backtest (statistics tables and embedded charts). "
        "If it says the report is generating, call again shortly. Large: prefer read_backtest for numbers.",
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
        description="Estimate how long an optimization would take and show the QCC balance, without starting it. "
        "Call it before create_optimization and use the estimate to set estimatedCost.",
    ),
    ToolSpec(
        "create_optimization", area="optimizations", hints=CREATE, endpoint="/optimizations/create",
        request="CreateOptimizationRequest", response="ListOptimizationResponse", cost="qcc",
        description="Start a parameter optimization (grid search over parameters, maximizing or minimizing a target "
        "statistic under constraints). Costs QuantConnect credit: run estimate_optimization_time first. Returns the "
        "optimizationId. Next: read_optimization to follow progress and read the best backtests.",
    ),
    ToolSpec(
        "read_optimization", area="optimizations", hints=READ, endpoint="/optimizations/read",
        request="ReadOptimizationRequest", response="ReadOptimizationResponse", handler=handlers.read_optimization,
        description="Read an optimization: status, runtime statistics, and every backtest with its parameter set "
        "and statistics. 'ranked' (first) lists the finished backtests best first by the optimization's target, "
        "each with its statistics by name; 'backtests' is the API's own form (statistics as an unnamed array).",
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
        description="Step 1 of connecting an OAuth brokerage (alpaca, tradestation, charlesschwab, tastytrade) for "
        "live trading. Returns an authorisation URL the user must open in a browser and approve. Step 2: after "
        "approval, call read_connection_authorization to confirm, then create_live_algorithm.",
    ),
    ToolSpec(
        "read_connection_authorization", area="live", hints=READ, endpoint="/live/auth0/read",
        request="AuthorizeExternalConnectionRequest", response="AuthorizeExternalConnectionResponse",
        description="Step 2 of connecting an OAuth brokerage: read the authorisation the user granted after opening "
        "the URL from authorize_connection. Fails until the user has approved the connection.",
    ),
    ToolSpec(
        "create_live_algorithm", area="live", confirm="projectId", hints=CREATE, endpoint="/live/create",
        request="CreateLiveAlgorithmRequest", response="CreateLiveAlgorithmResponse", cost="qcc",
        description="Deploy a compiled project to live trading on a live node with a brokerage (paper trading: "
        "brokerage {'id': 'QuantConnectBrokerage'}). THIS CAN TRADE REAL MONEY with a real brokerage. Needs a "
        "compileId, a live nodeId from read_project_nodes and a LEAN versionId ('-1' for latest). Next: "
        "read_live_algorithm.",
    ),
    ToolSpec(
        "read_live_algorithm", area="live", hints=READ, retry_safe=True, endpoint="/live/read",
        request="ReadLiveAlgorithmRequest", response="LiveAlgorithmResults",
        description="Read the project's live deployment: status, brokerage, launch/stop times, runtime statistics "
        "and charts. The deployId it returns is the algorithmId for read_live_logs.",
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
        description="Read one chart of a live algorithm between unix times start and end, down-sampled to count "
        "points. If the answer says it is loading, call again in a few seconds.",
    ),
    ToolSpec(
        "read_live_logs", area="live", hints=READ, retry_safe=True, endpoint="/live/logs/read",
        request="ReadLiveLogsRequest", response="ReadLiveLogsResponse", hidden=("format",),
        description="Read log lines of a live deployment (algorithmId is the deployId from read_live_algorithm), "
        "lines startLine (inclusive) to endLine (exclusive), at most 250 at a time. Updated about every 5 minutes.",
    ),
    ToolSpec(
        "read_live_portfolio", area="live", hints=READ, retry_safe=True, endpoint="/live/portfolio/read",
        request="ReadLivePortfolioRequest", response="LivePortfolioResponse", handler=handlers.read_live_portfolio,
        description="Read a live algorithm's holdings and cash. Updated about every 10 minutes. Holdings are keyed "
        "by security id with the API's compact fields, explained in holdingsKey (a average price, q quantity, "
        "p price, v value, u unrealized profit, up unrealized profit / cost).",
    ),
    ToolSpec(
        "read_live_orders", area="live", hints=READ, retry_safe=True, endpoint="/live/orders/read",
        request="ReadLiveOrdersRequest", response="ReadLiveOrdersResponse",
        description=f"Read a live algorithm's orders. {PAGING} (at most 1,000 at a time). If the answer says it is "
        "loading, call again in a few seconds.", parameter_notes=page_end("order", 1000),
    ),
    ToolSpec(
        "read_live_insights", area="live", hints=READ, retry_safe=True, endpoint="/live/insights/read",
        request="ReadLiveInsightsRequest", response="LiveInsightsResponse",
        description=f"Read the insights a live algorithm emitted. {PAGING} (at most 100 at a time).",
        parameter_notes=page_end("insight"),
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
        description="Send a command object to a running live algorithm; it arrives in the algorithm's on_command "
        "handler (or runs a Command class named by '$type'). Commands can place orders.",
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
        description="Read an Object Store file's size, MD5, MIME type, dates and a short preview (its start: "
        "previewNote says when it is cut; read_object gives the whole content). Does not work on folders.",
    ),
    ToolSpec(
        "read_object_store_file_job_id", area="objects", hints=CREATE, endpoint="/object/get",
        request="GetObjectStoreJobIdRequest", response="GetObjectStoreResponse",
        description="Start a download job for one or more Object Store keys. Returns a jobId; then call "
        "read_object_store_file_download_url with it.",
    ),
    ToolSpec(
        "read_object_store_file_download_url", area="objects", hints=READ, endpoint="/object/get",
        request="GetObjectStoreURLRequest", response="GetObjectStoreResponse",
        description="Read the download URL of a finished Object Store download job (jobId from "
        "read_object_store_file_job_id). The URL is empty until the job is ready; call again shortly.",
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
        description="Run an algorithm's initialization for a few seconds on given files (one must be main.py or "
        "Main.cs) and report errors, without creating a project or backtest. Use it to catch set-up mistakes early.",
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
        description="Convert Python files to PEP8 style (snake_case API names). Returns the converted content per "
        "file name; it does not change the project, write the result back yourself.",
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
        description="Check this server: version, backend (cloud or sandbox), authentication mode, tools served and "
        "readiness (QuantConnect API reachable, audit log writable, algorithm jail where required).",
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
        description="Sync a local project folder (lean-cli layout: config.json with cloud-id, code files beside it) "
        "with its QuantConnect project: compares hashes, sends only what changed, pulls cloud changes, creates the "
        "project when the folder has none, and reports conflicts (changed on both sides) without overwriting "
        "either. Returns projectId, pushed, pulled, deleted, conflicts and the unchanged count.",
    ),
    ToolSpec(
        "run_backtest", area="backtests", hints=CREATE, workflow=True, handler=handlers.run_backtest,
        request=f"{WORKFLOW_PARAMS}:RunBacktestParams", image=handlers.equity_image, cost="slow",
        description="Compile a project and backtest it in one call, reporting progress while it runs. Returns the "
        "backtestId, status, key statistics, runtime statistics, order count with the first orders, and the "
        "equity curve as a PNG image. A build error comes back as the result, with file and line.",
    ),
    ToolSpec(
        "read_backtest_status", area="backtests", hints=READ, workflow=True, handler=handlers.read_backtest_status,
        request=f"{WORKFLOW_PARAMS}:ReadBacktestStatusParams",
        description="Status, progress and completed flag of a backtest (default: the project's latest), plus the key "
        "statistics once done. One small answer, cheap to poll.",
    ),
    ToolSpec(
        "run_optimization", area="optimizations", hints=CREATE, workflow=True, cost="qcc",
        handler=handlers.run_optimization, request=f"{WORKFLOW_PARAMS}:RunOptimizationParams",
        description="Optimize in one call: compiles, estimates (nothing starts when the balance is below "
        "estimatedCost, or when the estimate states a higher cost), creates the optimization, waits with progress, and returns the finished backtests ranked "
        "best first by the target (statistics by name) with overfitting diagnostics: the Deflated Sharpe Ratio of "
        "the best trial given the number tried, and the Probability of Backtest Overfitting (CSCV) from the "
        "trials' daily returns. Cancelling aborts it; at the timeout it keeps running (read_optimization).",
    ),
    ToolSpec(
        "read_object", area="objects", hints=READ, workflow=True, handler=handlers.read_object,
        image=handlers.object_image, request=f"{WORKFLOW_PARAMS}:ReadObjectParams",
        description="Read an Object Store file's content in one call (at most 2 MiB): text as text, PNG images as "
        "image content, other bytes as base64 with a note, plus its size, type and date. It runs the download "
        "job itself (read_object_store_file_job_id, then the URL).",
    ),
    ToolSpec(
        "list_deployments", area="live", hints=READ, workflow=True, handler=handlers.list_deployments,
        request=f"{WORKFLOW_PARAMS}:ListDeploymentsParams",
        description="Every live deployment across the account's projects in one call: project name, deployId, "
        "status, brokerage, launch time, equity, unrealized profit and holdings count.",
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
