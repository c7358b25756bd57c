"""`qcmcp doctor`: show the configuration (secrets masked) and test the credentials."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from qcmcp.config import Settings
from qcmcp.qc.client import Credentials, QuantConnectClient
from qcmcp.qc.errors import AuthenticationError, QCError


def describe_settings(settings: Settings) -> list[tuple[str, str]]:
    """Rows of (variable, value) with secrets reduced to whether they are set."""
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    return [
        ("QUANTCONNECT_USER_ID", settings.user_id or "(not set)"),
        ("QUANTCONNECT_API_TOKEN", f"set ({len(token)} characters, hidden)" if token else "(not set)"),
        ("QUANTCONNECT_ORGANIZATION_ID", settings.organization_id or "(not set)"),
        ("QUANTCONNECT_API_URL", settings.api_url),
        ("QCMCP_BACKEND", settings.backend),
        ("QCMCP_SANDBOX_DB", settings.sandbox_db or "(default: user data directory)"),
        ("QCMCP_HTTP_TIMEOUT", f"{settings.timeout_seconds:g} s"),
        ("QCMCP_MAX_RETRIES", str(settings.max_retries)),
        ("QCMCP_VAULT_KEY / _FILE", "set (hidden)" if settings.vault_key else settings.vault_key_file or "(not set)"),
        ("QCMCP_POLICY_FILE", settings.policy_file or "(not set)"),
        ("QCMCP_LIVE_TRADING", settings.live_trading + (" (on for stdio, off for shared HTTP)"
                                                        if settings.live_trading == "auto" else "")),
        ("QCMCP_JAIL", settings.jail + (" (jailed where bubblewrap works; required for shared HTTP)"
                                        if settings.jail == "auto" else "")),
        ("QCMCP_RATE_LIMIT", settings.rate_limit + (" (120/60 per subject for shared HTTP, off for stdio)"
                                                    if settings.rate_limit == "auto" else "")),
        ("QCMCP_TENANT_RATE_LIMIT", settings.tenant_rate_limit),
        ("QCMCP_MAX_CONCURRENT_EXPENSIVE", str(settings.max_concurrent_expensive)),
        ("QCMCP_BREAKER", settings.breaker),
        ("QCMCP_CACHE", f"{settings.cache} ({settings.cache_entries} entries)"),
        ("QCMCP_METRICS_TOKEN", "set (hidden)" if settings.metrics_token else "(not set)"),
        ("QCMCP_METRICS_PORT", f"{settings.metrics_host}:{settings.metrics_port}" if settings.metrics_port
         else "(not set)"),
        ("QCMCP_REDIS_URL", _without_password(settings.redis_url) if settings.redis_url else "(not set: in-process)"),
        ("QCMCP_OTEL", settings.otel + (" (exporting traces)" if settings.tracing else "")),
        ("QCMCP_TASKS", settings.tasks + (" (in Redis, encrypted)" if settings.redis_url and settings.tasks_key
                                          else " (off: Redis without FASTMCP_TASKS_ENCRYPTION_KEY)"
                                          if settings.redis_url and settings.tasks != "off" else "")),
        ("FASTMCP_TASKS_ENCRYPTION_KEY", "set (hidden)" if settings.tasks_key else "(not set)"),
    ]


def _without_password(url: str) -> str:
    """The URL with its password hidden, in the authority (``:***@``) and in the query (``password=***``)."""
    parts = urlsplit(url)
    if parts.password:
        parts = parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@"))
    query = [(key, "***" if key.lower() in ("password", "pass") else value) for key, value in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*"))) if query else urlunsplit(parts)


def check_shared_mode(settings: Settings) -> list[str]:
    """Problems with the vault key and the policy file, each a line; empty when both are usable or unset."""
    from qcmcp.config import ConfigurationError
    from qcmcp.security.policy import PolicyFile
    from qcmcp.security.vault import CredentialVault

    problems: list[str] = []
    try:
        vault = CredentialVault.from_settings(settings)
        if vault is not None:
            tenants = vault.list()
            for row in tenants:
                vault.get(row.tenant)  # every row opens with the configured key(s)
            vault.close()
    except ConfigurationError as error:
        problems.append(f"vault: {error}")
    if settings.policy_file:
        try:
            PolicyFile(settings.policy_file)
        except ConfigurationError as error:
            problems.append(f"policy: {error}")
    return problems


async def check_credentials(settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> tuple[bool, str]:
    """Call /account/read with the configured credentials and explain the outcome."""
    if not settings.has_credentials:
        missing = [name for name, ok in (("QUANTCONNECT_USER_ID", settings.user_id), ("QUANTCONNECT_API_TOKEN", settings.api_token)) if not ok]
        return False, f"Missing {' and '.join(missing)}: set them in the environment (see README, Configuration)."
    assert settings.user_id and settings.api_token
    client = QuantConnectClient(
        Credentials(settings.user_id, settings.api_token.get_secret_value()),
        base_url=settings.api_url,
        timeout=settings.timeout_seconds,
        max_retries=0,
        transport=transport,
    )
    try:
        account = await client.post("/account/read", idempotent=True)
    except AuthenticationError as error:
        return False, error.message
    except QCError as error:
        return False, error.message
    finally:
        await client.aclose()
    org = account.get("organizationId", "unknown")
    balance = account.get("creditBalance", "unknown")
    return True, f"Credentials accepted by {settings.api_url} (organization {org}, QCC balance {balance})."


def uses_sandbox(settings: Settings) -> bool:
    return settings.backend == "sandbox" or (settings.backend == "auto" and not settings.has_credentials)


def run_doctor(settings: Settings, echo: Callable[[str], None], transport: httpx.AsyncBaseTransport | None = None) -> bool:
    echo("qcmcp configuration:")
    for name, value in describe_settings(settings):
        echo(f"  {name:<30} {value}")
    problems = check_shared_mode(settings)
    for problem in problems:
        echo(f"PROBLEM: {problem}")
    if problems:
        return False
    if uses_sandbox(settings):
        from qcmcp.backend import default_sandbox_db, sandbox_jail

        jail = sandbox_jail(settings, Path(settings.data_dir) if settings.data_dir else None)
        if jail.confined:
            echo(f"OK: sandbox algorithms run in a jail: {jail.describe()}.")
        else:
            echo(f"WARNING: no algorithm jail: {jail.reason}. Local mode runs algorithms UNJAILED (they can read "
                 "your files and environment); shared mode (HTTP) refuses to run them.")
        where = settings.sandbox_db or default_sandbox_db()
        echo(f"OK: `qcmcp serve` will use the sandbox — a local emulator of the QuantConnect API, not QuantConnect — "
             f"with its state in {where}. Set QUANTCONNECT_USER_ID and QUANTCONNECT_API_TOKEN to use the cloud.")
        return True
    ok, message = asyncio.run(check_credentials(settings, transport))
    echo(("OK: " if ok else "PROBLEM: ") + message)
    return ok
