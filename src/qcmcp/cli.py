"""The `qcmcp` command line. Heavy imports happen inside commands to keep start-up fast."""

from __future__ import annotations

from enum import Enum

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="QuantConnect MCP server.")


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
    from qcmcp.config import load_settings
    from qcmcp.server import build_server

    settings = load_settings()
    log.configure(settings.log_level, settings.log_format, settings.secrets())
    server = build_server(settings)
    if transport is Transport.stdio:
        server.run(transport="stdio", show_banner=False)
    else:
        server.run(transport="http", host=host, port=port, path=path, show_banner=False)


@app.command()
def doctor() -> None:
    """Show the configuration (secrets hidden) and check the QuantConnect credentials."""
    from qcmcp.config import load_settings
    from qcmcp.doctor import run_doctor

    if not run_doctor(load_settings(), typer.echo):
        raise typer.Exit(1)


@app.command()
def version() -> None:
    """Print the qcmcp version."""
    from qcmcp import __version__

    typer.echo(__version__)


def main() -> None:
    app()
