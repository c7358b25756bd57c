"""The `qcmcp` command line. Heavy imports happen inside commands to keep start-up fast."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer
from pydantic import SecretStr

from qcmcp.cli_admin import audit_app, keyring_app, tenant_app, token_app
from qcmcp.cli_support import fail
from qcmcp.cli_support import settings_or_exit as _settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="QuantConnect MCP server.")


class Transport(str, Enum):
    stdio = "stdio"
    http = "http"


class BackendChoice(str, Enum):
    auto = "auto"
    cloud = "cloud"
    sandbox = "sandbox"


@app.command()
def serve(
    transport: Transport = typer.Option(Transport.stdio, help="stdio (for desktop clients) or streamable http."),
    host: str = typer.Option("127.0.0.1", help="Interface for --transport http."),
    port: int = typer.Option(8000, help="Port for --transport http."),
    path: str = typer.Option("/mcp", help="URL path of the MCP endpoint for --transport http."),
    backend: BackendChoice = typer.Option(None, help="cloud, sandbox, or auto (cloud when credentials are set). "
                                          "Default: QCMCP_BACKEND or auto.", show_default=False),
    insecure_no_auth: bool = typer.Option(False, "--insecure-no-auth",
                                          help="HTTP without bearer tokens; refused unless bound to 127.0.0.1."),
    toolsets: str = typer.Option(None, help="Comma-separated toolsets to serve (projects, files, compile, backtests, "
                                 "optimizations, live, objects, ai, workflows, research, admin) or all. "
                                 "Default: QCMCP_TOOLSETS or all.", show_default=False),
    metrics_port: int = typer.Option(None, help="Serve Prometheus /metrics on this port too (on QCMCP_METRICS_HOST, "
                                     "default 127.0.0.1). Default: QCMCP_METRICS_PORT.", show_default=False),
    workers: int = typer.Option(None, help="HTTP worker processes on the one port, one core each (more than one "
                                "needs QCMCP_REDIS_URL). Default: QCMCP_HTTP_WORKERS or 1.", show_default=False),
) -> None:
    """Run the MCP server: stdio (local, one user) or streamable HTTP (shared: bearer tokens required)."""
    from qcmcp.config import ConfigurationError

    settings = _settings(structured_errors=True)
    if backend is not None:
        settings = settings.model_copy(update={"backend": backend.value})
    if toolsets is not None:
        settings = settings.model_copy(update={"toolsets": toolsets})
    if metrics_port is not None:
        if not 1 <= metrics_port <= 65535:
            fail(f"--metrics-port must be between 1 and 65535, not {metrics_port}.")
        settings = settings.model_copy(update={"metrics_port": metrics_port})
    if workers is not None:
        if not 1 <= workers <= 64:
            fail(f"--workers must be between 1 and 64, not {workers}.")
        if transport is Transport.stdio and workers > 1:
            fail("--workers is for --transport http: a stdio server has one client on one pipe.")
        settings = settings.model_copy(update={"http_workers": workers})
    if transport is Transport.stdio:
        from qcmcp.keyring_credentials import with_keyring_credentials

        settings = with_keyring_credentials(settings)  # local mode: the environment, else the OS keyring
    if transport is Transport.http and settings.http_workers > 1:
        from qcmcp import log
        from qcmcp.ops.workers import serve_http_workers
        from qcmcp.security.http_guards import refuse_open_insecure

        log.configure(settings.log_level, settings.log_format, settings.secrets())
        try:
            if insecure_no_auth:
                refuse_open_insecure(host)  # before anything is bound or started
            code = serve_http_workers(settings, host=host, port=port, path=path, insecure_no_auth=insecure_no_auth)
        except ConfigurationError as error:
            fail(str(error))
        raise typer.Exit(code)
    from qcmcp.server import prepare_process

    try:
        prepare_process(settings)
    except ConfigurationError as error:
        fail(str(error))
    if transport is Transport.stdio:
        server = _build_or_exit(settings)
        if settings.metrics_port:
            from qcmcp.server import serve_metrics

            try:
                serve_metrics(server.qcmcp_metrics, settings)
            except ConfigurationError as error:
                fail(str(error))
            server.qcmcp_metrics.sessions.set(1)  # stdio: the one client on the pipe
        from qcmcp.server import settle_garbage_collector

        settle_garbage_collector()
        server.run(transport="stdio", show_banner=False)
        return
    from qcmcp.server import serve_http

    try:
        serve_http(settings, host=host, port=port, path=path, insecure_no_auth=insecure_no_auth)
    except ConfigurationError as error:
        fail(str(error))


def _build_or_exit(settings, **kwargs):  # type: ignore[no-untyped-def]
    """Build the server; a configuration problem (vault key, policy file…) is one log line and exit 2."""
    from qcmcp.config import ConfigurationError
    from qcmcp.server import build_server

    try:
        return build_server(settings, **kwargs)
    except ConfigurationError as error:
        fail(str(error))


@app.command()
def sandbox(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(5612, help="Port to listen on."),
    db: str = typer.Option(None, help="SQLite file for the sandbox state. Default: QCMCP_SANDBOX_DB or the user data dir."),
    user_id: str = typer.Option(None, envvar="QUANTCONNECT_USER_ID", help="Register this user id (numeric)."),
    api_token: str = typer.Option(None, envvar="QUANTCONNECT_API_TOKEN", help="Register this API token for the user.",
                                  show_default=False),
) -> None:
    """Serve the sandbox emulator of the QuantConnect API on a port, for any QuantConnect API client."""
    import uvicorn

    from qcmcp import log
    from qcmcp.backend import default_sandbox_db, sandbox_credentials, sandbox_jail
    from qcmcp.sandbox.app import create_app
    from qcmcp.sandbox.store import SandboxStore

    settings = _settings()
    if user_id and api_token:
        settings = settings.model_copy(update={"user_id": user_id, "api_token": SecretStr(api_token)})
    store = SandboxStore(db or settings.sandbox_db or default_sandbox_db())
    credentials = sandbox_credentials(store, settings)
    log.configure(settings.log_level, settings.log_format, [credentials.api_token])
    url = f"http://{host}:{port}"
    typer.echo(f"qcmcp sandbox — a local emulator of the QuantConnect API, not QuantConnect — at {url}/api/v2", err=True)
    typer.echo(f"Accepting user {credentials.user_id}"
               + ("" if settings.has_credentials else " (pass --user-id and --api-token to register the pair your "
                  "client uses)") + ".", err=True)
    data = Path(settings.data_dir) if settings.data_dir else None
    app = create_app(store, url, data_folder=data, live_clock_speed=settings.live_clock_speed,
                     jail=sandbox_jail(settings, data))
    try:
        uvicorn.run(app, host=host, port=port, log_config=None)
    finally:
        app.state.runner.close()
        app.state.live.close()


@app.command()
def demo() -> None:
    """Show the agent loop on the offline sandbox: write, compile, fix, backtest, read statistics and orders."""
    import asyncio

    from rich.console import Console

    from qcmcp.demo import DemoFailed, run_demo

    console = Console()
    try:
        asyncio.run(run_demo(console))
    except DemoFailed as failure:
        console.print(f"[red]Demo failed:[/] {failure}")
        raise typer.Exit(1) from None


@app.command()
def doctor() -> None:
    """Show the configuration (secrets hidden) and check the QuantConnect credentials."""
    from qcmcp.doctor import run_doctor
    from qcmcp.keyring_credentials import with_keyring_credentials

    if not run_doctor(with_keyring_credentials(_settings()), typer.echo):
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the qcmcp version."""
    from qcmcp import __version__

    typer.echo(__version__)


catalog_app = typer.Typer(no_args_is_help=True, help="The tool catalog, for agent platforms with their own registry.")


@catalog_app.command("export")
def catalog_export(
    namespace: str = typer.Option(None, help="Prefix tool names, e.g. quantconnect -> quantconnect.backtest.run."),
    output: Path = typer.Option(None, help="Write here instead of standard output."),
) -> None:
    """One JSON document per tool: name, description, input schema, scope, cost and latency class, hints, toolset."""
    from qcmcp.tools.catalog_export import export_catalog

    text = export_catalog(namespace)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"Wrote {output}", err=True)


app.add_typer(catalog_app, name="catalog")
app.add_typer(keyring_app, name="keyring")
app.add_typer(token_app, name="token")
app.add_typer(tenant_app, name="tenant")
app.add_typer(audit_app, name="audit")


def main() -> None:
    app()
