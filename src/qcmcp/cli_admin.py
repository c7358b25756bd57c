"""Administrative commands: the OS keyring (local mode), development tokens, the tenant vault, the audit log."""

from __future__ import annotations

from pathlib import Path

import typer

from qcmcp.cli_support import settings_or_exit as _settings

keyring_app = typer.Typer(no_args_is_help=True, help="Local mode: keep your QuantConnect credentials in the OS keyring "
                          "instead of environment variables.")


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


token_app = typer.Typer(no_args_is_help=True, help="Development bearer tokens for shared (HTTP) mode.")


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
        try:
            write_key_file(path, [fresh, *keys])  # both open every row while they move
            vault = CredentialVault(database_url(settings), [fresh.encode(), *(k.encode() for k in keys)])
            moved = vault.rotate()
            vault.close()
            write_key_file(path, [fresh])
        except OSError as error:
            typer.echo(f"Cannot write the key file ({error.strerror}). Every row still opens with the key(s) the "
                       "file lists; fix the problem and run this again.", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"Re-encrypted {moved} tenant(s) under a new key; {path.name} now holds only the new key.")
        return
    if len(keys) < 2:
        typer.echo("Put the new key first in QCMCP_VAULT_KEY (\"NEW,OLD\") and run this again; then remove the old "
                   "key. (With QCMCP_VAULT_KEY_FILE this command generates and installs the new key itself.)", err=True)
        raise typer.Exit(2)
    moved = _vault().rotate()
    typer.echo(f"Re-encrypted {moved} tenant(s) under the first key; you can now remove the old key(s).")


audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log of tool calls.")


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
