"""The `qcmcp` command line. Heavy imports happen inside commands to keep start-up fast."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer
from pydantic import SecretStr

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
) -> None:
    """Run the MCP server: stdio (local, one user) or streamable HTTP (shared: bearer tokens required)."""
    import logging

    from qcmcp import log
    from qcmcp.config import ConfigurationError

    settings = _settings()
    if backend is not None:
        settings = settings.model_copy(update={"backend": backend.value})
    if transport is Transport.stdio:
        from qcmcp.keyring_credentials import with_keyring_credentials

        settings = with_keyring_credentials(settings)  # local mode: the environment, else the OS keyring
    log.configure(settings.log_level, settings.log_format, settings.secrets())
    if transport is Transport.stdio:
        _build_or_exit(settings).run(transport="stdio", show_banner=False)
        return
    auth, http_middleware = None, []
    if insecure_no_auth:
        if host not in ("127.0.0.1", "localhost", "::1"):
            typer.echo("Refusing --insecure-no-auth on a non-loopback address: anyone who can reach it could act "
                       "on your QuantConnect account. Bind to 127.0.0.1 or configure QCMCP_AUTH_*.", err=True)
            raise typer.Exit(2)
        logging.getLogger("qcmcp.security").warning(
            "INSECURE: serving HTTP WITHOUT AUTHENTICATION on %s:%d (--insecure-no-auth). Local testing only.", host, port)
    else:
        from qcmcp.security.auth import build_auth

        from starlette.middleware import Middleware

        from qcmcp.security.scope_challenge import InsufficientScopeChallenge

        base_url = (settings.public_url or f"http://{host}:{port}").rstrip("/")
        try:
            auth = build_auth(settings, base_url)
        except ConfigurationError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(2) from None
    server = _build_or_exit(settings, auth=auth, shared=True)
    if auth is not None:
        http_middleware = [Middleware(InsufficientScopeChallenge, audit=server.qcmcp_audit,
                                      tenant_claim=settings.auth_tenant_claim,
                                      resource_metadata_url=f"{base_url}/.well-known/oauth-protected-resource{path}")]
    server.run(transport="http", host=host, port=port, path=path, middleware=http_middleware, show_banner=False)


def _build_or_exit(settings, **kwargs):  # type: ignore[no-untyped-def]
    """Build the server; a configuration problem (vault key, policy file…) is one line on stderr and exit 2."""
    from qcmcp.config import ConfigurationError
    from qcmcp.server import build_server

    try:
        return build_server(settings, **kwargs)
    except ConfigurationError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


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
    from qcmcp.backend import default_sandbox_db, sandbox_credentials
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
    app = create_app(store, url, data_folder=data, live_clock_speed=settings.live_clock_speed)
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


keyring_app = typer.Typer(no_args_is_help=True, help="Local mode: keep your QuantConnect credentials in the OS keyring "
                          "instead of environment variables.")
app.add_typer(keyring_app, name="keyring")


@keyring_app.command("store")
def keyring_store(
    user_id: str = typer.Option(..., help="Your numeric QuantConnect user id."),
    api_token: str = typer.Option(..., prompt=True, hide_input=True, help="Your QuantConnect API token (prompted "
                                  "for when omitted).", show_default=False),
) -> None:
    """Store your QuantConnect user id and API token in the OS keyring (used when the environment has none)."""
    from qcmcp.keyring_credentials import store

    if not user_id.isdigit():
        typer.echo("--user-id must be the numeric QuantConnect user id.", err=True)
        raise typer.Exit(2)
    try:
        store(user_id, api_token)
    except Exception as error:  # e.g. no keyring backend on this machine
        typer.echo(f"Could not write to the OS keyring ({type(error).__name__}). Use QUANTCONNECT_USER_ID and "
                   "QUANTCONNECT_API_TOKEN instead.", err=True)
        raise typer.Exit(1) from None
    typer.echo("Stored in the OS keyring; `qcmcp serve` uses them when the environment has no credentials.")


@keyring_app.command("forget")
def keyring_forget() -> None:
    """Remove the credentials from the OS keyring."""
    from qcmcp.keyring_credentials import forget

    typer.echo("Removed." if forget() else "Nothing was stored.")


@app.command()
def version() -> None:
    """Print the qcmcp version."""
    from qcmcp import __version__

    typer.echo(__version__)


token_app = typer.Typer(no_args_is_help=True, help="Development bearer tokens for shared (HTTP) mode.")
app.add_typer(token_app, name="token")


@token_app.command("mint")
def mint(
    sub: str = typer.Option(..., help="The token's subject (the agent or user)."),
    tenant: str = typer.Option(..., help="The tenant whose QuantConnect credentials calls use."),
    role: str = typer.Option("read-only", help="read-only, researcher, trader or admin: decides the scopes."),
    ttl: int = typer.Option(3600, min=60, max=30 * 24 * 3600, help="Lifetime in seconds."),
) -> None:
    """Mint an HS256 token with QCMCP_AUTH_JWT_SECRET (development; production tokens come from your IdP)."""
    from qcmcp.config import ConfigurationError
    from qcmcp.security.auth import mint_token
    from qcmcp.security.scopes import ROLES

    if role not in ROLES:
        typer.echo(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.", err=True)
        raise typer.Exit(2)
    try:
        typer.echo(mint_token(_settings(), sub, tenant, ROLES[role], ttl, role))
    except ConfigurationError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None


tenant_app = typer.Typer(no_args_is_help=True, help="The credential vault: each tenant's QuantConnect credentials, "
                         "encrypted at rest (key: QCMCP_VAULT_KEY or QCMCP_VAULT_KEY_FILE; database: QCMCP_VAULT_URL).")
app.add_typer(tenant_app, name="tenant")


def _vault():  # type: ignore[no-untyped-def]
    from qcmcp.config import ConfigurationError
    from qcmcp.security.vault import CredentialVault

    try:
        vault = CredentialVault.from_settings(_settings())
    except ConfigurationError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    if vault is None:
        typer.echo("No vault key configured: set QCMCP_VAULT_KEY or QCMCP_VAULT_KEY_FILE (make one with "
                   "`qcmcp tenant new-key`).", err=True)
        raise typer.Exit(2)
    return vault


@tenant_app.command("new-key")
def tenant_new_key() -> None:
    """Print a fresh vault key (keep it secret; put it in QCMCP_VAULT_KEY or a file named by QCMCP_VAULT_KEY_FILE)."""
    from qcmcp.security.vault import new_key

    typer.echo(new_key())


@tenant_app.command("add")
def tenant_add(
    tenant: str = typer.Argument(..., help="The tenant id, as in the tokens' tenant claim."),
    user_id: str = typer.Option(..., help="The tenant's numeric QuantConnect user id."),
    api_token: str = typer.Option(..., prompt=True, hide_input=True, envvar="QCMCP_TENANT_API_TOKEN",
                                  help="The tenant's QuantConnect API token (prompted for when omitted, so it stays "
                                       "out of the shell history).", show_default=False),
    organization_id: str = typer.Option(None, help="The tenant's default organization id."),
    replace: bool = typer.Option(False, "--replace", help="Overwrite an existing tenant's credentials."),
) -> None:
    """Store a tenant's QuantConnect credentials, encrypted."""
    from qcmcp.qc.client import Credentials

    if not user_id.isdigit():
        typer.echo("--user-id must be the numeric QuantConnect user id.", err=True)
        raise typer.Exit(2)
    if not _vault().add(tenant, Credentials(user_id, api_token), organization_id, replace=replace):
        typer.echo(f"Tenant {tenant!r} already exists; pass --replace to overwrite its credentials.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Stored credentials for tenant {tenant!r}.")


@tenant_app.command("list")
def tenant_list() -> None:
    """List tenants (never their credentials)."""
    rows = _vault().list()
    for row in rows:
        typer.echo(f"{row.tenant}\torganization={row.organization_id or '-'}\tupdated={row.updated_at:%Y-%m-%d %H:%M}")
    if not rows:
        typer.echo("No tenants yet: add one with `qcmcp tenant add`.", err=True)


@tenant_app.command("remove")
def tenant_remove(tenant: str = typer.Argument(..., help="The tenant id.")) -> None:
    """Delete a tenant's credentials; its tokens stop working within seconds."""
    if not _vault().remove(tenant):
        typer.echo(f"No tenant {tenant!r}.", err=True)
        raise typer.Exit(1)
    typer.echo(f"Removed tenant {tenant!r}.")


@tenant_app.command("rotate-key")
def tenant_rotate_key() -> None:
    """Re-encrypt every tenant under a new key.

    With QCMCP_VAULT_KEY_FILE a new key is generated and the file rewritten (new and old keys
    together while rows move, then the new key alone). With QCMCP_VAULT_KEY put the new key
    first ("NEW,OLD"), run this, then drop the old key.
    """
    from qcmcp.security.vault import CredentialVault, configured_keys, database_url, new_key, write_key_file

    settings = _settings()
    keys = [key.decode() for key in configured_keys(settings) or []]
    if settings.vault_key is None and settings.vault_key_file:
        path = Path(settings.vault_key_file)
        fresh = new_key()
        write_key_file(path, [fresh, *keys])  # both open every row while they move
        moved = CredentialVault(database_url(settings), [fresh.encode(), *(k.encode() for k in keys)]).rotate()
        write_key_file(path, [fresh])
        typer.echo(f"Re-encrypted {moved} tenant(s) under a new key; {path.name} now holds only the new key.")
        return
    if len(keys) < 2:
        typer.echo("Put the new key first in QCMCP_VAULT_KEY (\"NEW,OLD\") and run this again; then remove the old "
                   "key. (With QCMCP_VAULT_KEY_FILE this command generates and installs the new key itself.)", err=True)
        raise typer.Exit(2)
    moved = _vault().rotate()
    typer.echo(f"Re-encrypted {moved} tenant(s) under the first key; you can now remove the old key(s).")


audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log of tool calls.")
app.add_typer(audit_app, name="audit")


def _audit():  # type: ignore[no-untyped-def]
    from qcmcp.security.audit import open_audit_log
    from qcmcp.server import default_audit_db

    settings = _settings()
    return open_audit_log(settings.audit_db or default_audit_db())


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole chain; exits 1 and names the first edited or deleted row."""
    result = _audit().verify()
    if result.ok:
        typer.echo(f"OK: {result.rows} rows, chain intact.")
    else:
        typer.echo(f"TAMPERED: {result.problem} ({result.rows} rows present).", err=True)
        raise typer.Exit(1)


@audit_app.command("tail")
def audit_tail(
    lines: int = typer.Option(20, "-n", min=1, help="How many of the latest rows."),
    tool: str = typer.Option(None, help="Only this tool."),
    subject: str = typer.Option(None, help="Only this token subject."),
    tenant: str = typer.Option(None, help="Only this tenant."),
    outcome: str = typer.Option(None, help="ok or error."),
) -> None:
    """Print the latest rows, optionally filtered."""
    filters = {k: v for k, v in {"tool": tool, "subject": subject, "tenant": tenant, "outcome": outcome}.items() if v}
    for row in _audit().rows(lines, **filters):
        typer.echo(f"{row['seq']:>6} {row['ts']} {row['subject']}@{row['tenant']} {row['tool']} {row['outcome']} "
                   f"{row['latency_ms']:.1f}ms {row['arguments']}" + (f" error={row['error']}" if row['error'] else ""))


def main() -> None:
    app()
