"""The MCP ``instructions`` text: how an agent should drive QuantConnect through us."""

INSTRUCTIONS = """\
qcmcp gives you the QuantConnect platform: projects, code files, compiling, backtests,
optimizations, live trading and the Object Store. Every tool takes flat parameters named
like the QuantConnect API (projectId, compileId, backtestId, ...).

The normal loop:
1. Find or create the project: list_projects (or read_project); create_project only if
   it does not exist yet. Note the projectId.
2. Write the code: read_file to see the current files; patch_file (a unified diff) for
   small edits, update_file_contents to replace a whole file, create_file for new files.
   Python algorithms live in main.py and subclass QCAlgorithm.
3. Compile: create_compile, then read_compile until the state is BuildSuccess or
   BuildError. On BuildError, read the logs (file and line), fix the code, compile again.
4. Backtest: create_backtest with the compileId, then read_backtest until the status is
   "Completed." (or "Runtime Error": read the error and stack trace, fix, recompile).
5. Read results: read_backtest (statistics), read_backtest_chart, read_backtest_orders,
   read_backtest_report. Compare runs with list_backtests(includeStatistics=true).

Words, used one way everywhere: an order is one instruction to buy or sell (read_backtest_orders,
read_live_orders; "Total Orders"); a fill is an order event that traded; a trade, or closed
trade, is a round trip — a position opened and closed again, with its profit or loss
(totalPerformance.closedTrades, tradeStatistics, "Win Rate"). One trade usually takes two or
more orders. Holdings are the positions held now (read_live_portfolio: per security id, "a"
average price, "q" quantity, "p" price, "v" value, "u" unrealized profit, "up" unrealized
profit as a fraction of cost).

Optimizations cost QuantConnect credit: call estimate_optimization_time before
create_optimization. create_live_algorithm, liquidate_live_algorithm, stop_live_algorithm,
live commands and authorize_connection act on real brokerage accounts: only use them when
the user asked. They need the user's confirmation: the user is asked directly when your
client supports it; otherwise, once the user has agreed, pass confirm with the projectId
(organizationId for broadcast_live_command, brokerage for authorize_connection).
Errors come back as tool errors that say what was wrong and how to fix it; "Forbidden"
means this server's operator has not granted you that tool, project or organization.
"""

SANDBOX_NOTE = """
THIS SERVER IS RUNNING ON THE qcmcp SANDBOX: a local emulator of the QuantConnect API,
not QuantConnect itself (no QuantConnect credentials are configured). Projects, files,
compiles, backtests and optimizations (run by a small local engine, not LEAN), paper
deployments (brokerage {"id": "QuantConnectBrokerage"}, node "SB-L1": they replay the market
on an accelerated clock, no real money), the Object Store and the AI helpers work locally;
organizationId may be left out (it defaults to your sandbox organization). Every answer is
marked "sandbox": true, and results on synthetic prices say so. Say so to the user when
you report results.
"""
