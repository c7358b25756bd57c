"""The `qcmcp` command line. Heavy imports happen inside commands to keep start-up fast."""

from __future__ import annotations

from enum import Enum

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="QuantConnect MCP server.")


def _settings():  # type: ignore[no-untyped-def]
    """Load settings, turning a bad environment value into a one-line error and exit 2."""
    from qcmcp.config import ConfigurationError, load_settings

    try:
        return load_settings()
    except ConfigurationError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


class Transport(str, Enum):
    stdio = "stdio"
    http = "http"


@app.command()
def serve(
    transport: Transport = typer.Option(Transport.stdio, help="stdio (for desktop clients) or streamable http."),
    host: str = typer.Option("127.0.0.1", help="Interface for --transport http."),
    port: int = typer.Option(8000, help="Port for --transport http."),
    path: str = typer.Option("/mcp", help="URL path of the MCP endpoint for --transport http."),
) -> None:
    """Run the MCP server."""
    from qcmcp import log
    from qcmcp.server import build_server

    settings = _settings()
    log.configure(settings.log_level, settings.log_format, settings.secrets())
    server = build_server(settings)
    if transport is Transport.stdio:
        server.run(transport="stdio", show_banner=False)
    else:
        server.run(transport="http", host=host, port=port, path=path, show_banner=False)


@app.command()
def doctor() -> None:
    """Show the configuration (secrets hidden) and check the QuantConnect credentials."""
    from qcmcp.doctor import run_doctor

    if not run_doctor(_settings(), typer.echo):
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the qcmcp version."""
    from qcmcp import __version__

    typer.echo(__version__)


def main() -> None:
    app()
