"""Builds the FastMCP application from the tool catalog."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx
from fastmcp import FastMCP
from fastmcp.server.auth import AuthProvider
from fastmcp.server.middleware import Middleware

from qcmcp import __version__
from qcmcp.config import ConfigurationError, Settings
from qcmcp.gateway import Gateway
from qcmcp.instructions import INSTRUCTIONS, SANDBOX_NOTE
from qcmcp.mcp_server import QcmcpServer
from qcmcp.ops.limits import LimitsMiddleware, RateLimiter
from qcmcp.ops.metrics import Metrics, MetricsMiddleware
from qcmcp.ops.tasks import tasks_enabled, tasks_extension
from qcmcp.ops.upstream import Upstream
from qcmcp.security.audit import AuditLog, open_audit_log
from qcmcp.security.audit_middleware import AuditMiddleware
from qcmcp.security.guard import ScopeGuard
from qcmcp.security.identity import IdentityMiddleware
from qcmcp.security.live_guard import LiveGuard, live_trading_enabled
from qcmcp.security.task_scope import TaskScope
from qcmcp.tools.catalog import CATALOG
from qcmcp.tools.resources import register_resources
from qcmcp.tools.runtime import BackgroundArgumentCheck, CatalogTool
from qcmcp.tools.spec import TOOLSETS, ToolSpec

if TYPE_CHECKING:
    from qcmcp.security.policy import PolicyFile
    from qcmcp.security.vault import CredentialVault


def build_server(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    pypi_transport: httpx.AsyncBaseTransport | None = None,
    auth: AuthProvider | None = None,
    shared: bool | None = None,
) -> FastMCP:
    """Assemble the server. ``transport`` replaces the network (tests, sandbox); ``auth`` makes it a
    shared deployment: bearer tokens required, and each tool visible and callable only with its scope.
    ``shared`` (default: whether ``auth`` is set) decides the default of the live-trading switch and
    requires the algorithm jail."""
    return _assemble(settings, transport=transport, pypi_transport=pypi_transport, auth=auth, shared=shared)[0]


def prepare_process(settings: Settings) -> None:
    """What every serving process sets up before anything else: logging (with the secrets it must never write) and
    traces — exported with QCMCP_OTEL, otherwise fastmcp's span helpers become a pass-through (about 50 µs a call).
    Raises ConfigurationError when traces are asked for and cannot be exported."""
    from qcmcp import log

    log.configure(settings.log_level, settings.log_format, settings.secrets())
    if settings.tracing:
        start_tracing()
    else:
        import fastmcp

        fastmcp.settings.telemetry_mode = "off"


def serve_http(settings: Settings, *, host: str, port: int, path: str, insecure_no_auth: bool = False,
               sockets: list[Any] | None = None) -> None:
    """Run the shared deployment over streamable HTTP: every HTTP-level check is put in place here.

    In order: fastmcp's Host/Origin guard (strict: loopback names, QCMCP_PUBLIC_URL and the configured allow
    lists), bearer-token verification (refused to start without it, except ``insecure_no_auth`` on loopback),
    the body-size cap, and the 403 ``insufficient_scope`` challenge for tool calls a token's scopes do not cover.
    ``sockets``: already listening (an HTTP worker's, qcmcp.ops.workers); its parent serves the metrics port.
    Raises ConfigurationError for a deployment that must not start."""
    from starlette.middleware import Middleware as HttpMiddleware

    from qcmcp.log import UVICORN_LOGGING
    from qcmcp.security.auth import build_auth
    from qcmcp.ops.metrics import SessionTracker
    from qcmcp.security.http_guards import RequestBodyLimit, host_origin_options, refuse_open_insecure

    auth = None
    if insecure_no_auth:
        refuse_open_insecure(host)
        logging.getLogger("qcmcp.security").warning(
            "INSECURE: serving HTTP WITHOUT AUTHENTICATION on %s:%d (--insecure-no-auth). Local testing only.", host, port)
    else:
        auth = build_auth(settings, (settings.public_url or f"http://{host}:{port}").rstrip("/"))
    server, audit = _assemble(settings, auth=auth, shared=True)
    metrics = server.qcmcp_metrics  # type: ignore[attr-defined]
    _add_metrics_route(server, metrics, settings, authenticated=auth is not None)
    if settings.metrics_port and sockets is None:  # with workers, their parent serves the merged metrics
        serve_metrics(metrics, settings)
    middleware = [HttpMiddleware(RequestBodyLimit, max_bytes=settings.max_request_bytes),
                  HttpMiddleware(SessionTracker, metrics=metrics)]
    if auth is not None:
        from qcmcp.security.scope_challenge import InsufficientScopeChallenge

        base_url = (settings.public_url or f"http://{host}:{port}").rstrip("/")
        middleware.append(HttpMiddleware(InsufficientScopeChallenge, audit=audit, tenant_claim=settings.auth_tenant_claim,
                                         resource_metadata_url=f"{base_url}/.well-known/oauth-protected-resource{path}"))
    if not settings.http_json_response:
        from qcmcp import http_answers

        http_answers.install()  # a quick answer as one JSON body, an event stream when anything comes before it
    settle_garbage_collector()
    run = partial(server.run_async, transport="http", host=host, port=port, path=path, middleware=middleware,
                  show_banner=False, stateless_http=settings.stateless_http, json_response=settings.http_json_response,
                  uvicorn_config=dict(UVICORN_LOGGING), sockets=sockets, **host_origin_options(settings))
    anyio.run(run, backend_options=event_loop_options())


def http_worker(settings: Settings, host: str, port: int, path: str, insecure_no_auth: bool, *,
                sockets: list[Any]) -> None:
    """One HTTP worker process (spawned by :func:`qcmcp.ops.workers.serve_http_workers`): set up as ``qcmcp serve``
    does, then serve the shared socket."""
    try:
        prepare_process(settings)
        serve_http(settings, host=host, port=port, path=path, insecure_no_auth=insecure_no_auth, sockets=sockets)
    except ConfigurationError as error:
        from qcmcp.ops.workers import CONFIGURATION_EXIT

        logging.getLogger("qcmcp").error(str(error))
        raise SystemExit(CONFIGURATION_EXIT) from None


# Young-generation collections every this many net allocations (Python's default is 700).
GC_YOUNG = 7000


def settle_garbage_collector() -> None:
    """Before serving, on either transport: what start-up built (modules, the catalog, models, numpy and pandas)
    lives as long as the process, so it is moved out of the cyclic collector's sight, and young collections run
    every GC_YOUNG allocations instead of 700. Without this a quarter of the server's CPU under load went to the
    collector, mostly full collections walking start-up's objects (benchmarks/http_load.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG, 10, 10)


def event_loop_options() -> dict[str, Any]:
    """anyio's options for the HTTP server's loop: uvloop where it is installed (about a fifth less server CPU a call
    than asyncio's own loop in benchmarks/http_load.py)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:  # Windows, PyPy: asyncio's loop
        return {}
    return {"use_uvloop": True}


def _add_metrics_route(server: FastMCP, metrics: Metrics, settings: Settings, *, authenticated: bool) -> None:
    """``/metrics`` on the MCP port. A shared deployment serves it there only to scrapes carrying
    QCMCP_METRICS_TOKEN; without a token it is left to the separate QCMCP_METRICS_PORT listener (bound to
    QCMCP_METRICS_HOST, 127.0.0.1 by default), so it is never open to whoever can reach the MCP endpoint."""
    from qcmcp.ops.metrics import metrics_route

    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    if authenticated and token is None:
        logging.getLogger("qcmcp.ops").info("/metrics is not served on the MCP port without QCMCP_METRICS_TOKEN%s",
                                            "" if settings.metrics_port else "; set it or QCMCP_METRICS_PORT")
        return
    server.custom_route("/metrics", methods=["GET"])(metrics_route(metrics, token))


def serve_metrics(metrics: Metrics, settings: Settings) -> None:
    """The separate ``/metrics`` listener (QCMCP_METRICS_PORT / ``serve --metrics-port``), for stdio and HTTP."""
    from qcmcp.ops.metrics import serve_metrics_port

    assert settings.metrics_port is not None
    try:
        serve_metrics_port(metrics, settings.metrics_host, settings.metrics_port)
    except OSError as error:
        raise ConfigurationError(f"Cannot serve metrics on {settings.metrics_host}:{settings.metrics_port}: "
                                 f"{error.strerror or error}") from None
    logging.getLogger("qcmcp.ops").info("metrics at http://%s:%d/metrics", settings.metrics_host,
                                        settings.metrics_port)


def _assemble(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    pypi_transport: httpx.AsyncBaseTransport | None = None,
    auth: AuthProvider | None = None,
    shared: bool | None = None,
) -> tuple[FastMCP, AuditLog]:
    policy = _load_policy(settings)  # first: a broken policy file stops start-up before anything is opened
    is_shared = auth is not None if shared is None else shared
    tools = served_tools(settings, is_shared)  # an unknown toolset stops start-up too
    if is_shared:
        settings = settings.model_copy(update={"jail": "required"})  # many agents: algorithms run jailed or not at all
    ops = _operations(settings, tools, is_shared)
    gateway = Gateway(settings, transport=transport, pypi_transport=pypi_transport, vault=_open_vault(settings),
                      hooks=ops.upstream)
    _watch_workers(ops.metrics, gateway)
    audit = open_audit_log(settings.audit_db or default_audit_db())
    policy_guard = _policy_guard(policy, settings, gateway, audit)
    if auth is not None:
        _announce_tenancy(gateway)
    background = TaskScope(audit, settings.auth_tenant_claim, authenticated=auth is not None,
                           slots=ops.limits) if tasks_enabled(settings) else None

    catalog_tools = [CatalogTool.build(spec, gateway, check_scopes=auth is not None, background=background)
                     for spec in tools]

    @asynccontextmanager
    async def lifespan(_: FastMCP) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await gateway.aclose()
            await ops.aclose()

    server = QcmcpServer(
        "qcmcp",
        instructions=INSTRUCTIONS + (SANDBOX_NOTE if gateway.is_sandbox else ""),
        version=__version__,
        lifespan=lifespan,
        # Unexpected failures become "Error calling tool X" without internal details.
        mask_error_details=True,
        auth=auth,
        # The caller is resolved first, once, for everything after it. The audit middleware comes next, so
        # refusals by the scope guard are recorded too. Then scope, policy and the live-money guard, so a
        # refusal gives the most basic reason first.
        # Metrics wrap the rest so refusals are counted too; limits come right after the audit, so their refusals
        # are audited, and before the guards, so a flood of calls is held back whatever they ask for.
        middleware=[IdentityMiddleware(settings.auth_tenant_claim), ops.metrics_middleware,
                    AuditMiddleware(audit, settings.auth_tenant_claim), ops.limits,
                    *([ScopeGuard(settings.auth_tenant_claim)] if auth is not None else []),
                    *([policy_guard] if policy_guard else []),
                    LiveGuard(live_trading_enabled(settings, auth is not None if shared is None else shared)),
                    BackgroundArgumentCheck(catalog_tools)],  # last: a long call's arguments, before it is tasked
        tools=catalog_tools,
    )
    if background is not None:
        server.add_extension(tasks_extension(settings, frozenset(spec.name for spec in tools if spec.background),
                                             on_cancel=background.cancelled))
    register_resources(server, {spec.name for spec in tools})
    _add_health(server, gateway, audit, len(tools))
    server.qcmcp_metrics = ops.metrics  # type: ignore[attr-defined]  # read by serve_http and serve --metrics-port
    server.qcmcp_operations = ops  # type: ignore[attr-defined]
    return server, audit


@dataclass(frozen=True)
class Operations:
    metrics: Metrics
    upstream: Upstream
    metrics_middleware: MetricsMiddleware
    limits: LimitsMiddleware
    redis: Any = None  # the Redis client of QCMCP_REDIS_URL, shared by the rate limiter and the replica channel
    channel: Any = None  # what replicas tell each other (cache invalidations, Retry-After)
    slots: Any = None  # expensive-call slots on Redis (their lease renewals stop here)

    async def aclose(self) -> None:
        if self.slots is not None:
            await self.slots.aclose()
        if self.channel is not None:
            await self.channel.aclose()
        if self.redis is not None:
            await self.redis.aclose()


def _operations(settings: Settings, tools: list[ToolSpec], shared: bool) -> Operations:
    """Metrics, the upstream hooks (breaker, Retry-After, read cache) and this server's own limits.

    Label values are closed sets: the served tools' names and the catalog's endpoints (the API spec's paths)."""
    from qcmcp.ops.breaker import CircuitBreaker, Cooldown
    from qcmcp.ops.cache import MemoryReadCache, ReadCache
    from qcmcp.ops.rates import Rate
    from qcmcp.security.policy_guard import QCC_ARGUMENT

    metrics = Metrics(tools=[spec.name for spec in tools], endpoints=[spec.endpoint for spec in CATALOG if spec.endpoint])
    rule = settings.breaker_rule
    redis, channel, cooldown = _redis(settings), None, Cooldown()
    cache: ReadCache | None = MemoryReadCache(settings.cache_entries) if settings.cache == "on" else None
    if redis is not None:
        from qcmcp.ops.redis_cache import ReplicaChannel, SharedInvalidationCache

        channel = ReplicaChannel(redis)
        if cache is not None:
            cache = SharedInvalidationCache(channel, cache)  # other replicas drop what a write here touched
        cooldown.announce = lambda seconds: channel.publish("retry-after", seconds)  # and hold back on a 429 too
        channel.handlers["retry-after"] = lambda seconds: cooldown.hold(float(seconds), local=True)
    breaker = CircuitBreaker(*rule) if rule else None
    upstream = Upstream(metrics=metrics, breaker=breaker, cooldown=cooldown,
                        cache=cache, tracer=_upstream_tracer() if settings.tracing else None, channel=channel)
    if channel is not None and breaker is not None:  # one replica's breaker opening opens the others'
        breaker.announce = lambda reason: channel.publish("breaker-open", reason)
        channel.handlers["breaker-open"] = lambda reason: upstream.breaker_tripped(str(reason))
    subject_rate = (Rate(120, 60.0) if shared else None) if settings.rate_limit == "auto" else \
        Rate.parse(settings.rate_limit, "QCMCP_RATE_LIMIT")
    slots = None
    if redis is not None:
        from qcmcp.ops.redis_limits import RedisConcurrencyLimiter

        slots = RedisConcurrencyLimiter(redis)  # a tenant's cap holds across replicas and workers
    limits = LimitsMiddleware(limiter=_rate_limiter(redis), subject_rate=subject_rate, concurrency=slots,
                              tenant_rate=Rate.parse(settings.tenant_rate_limit, "QCMCP_TENANT_RATE_LIMIT"),
                              expensive=frozenset(spec.name for spec in tools if spec.latency_class == "slow"
                                                  or spec.cost_class != "free"),
                              max_expensive=settings.max_concurrent_expensive, metrics=metrics)
    return Operations(metrics, upstream, MetricsMiddleware(metrics, QCC_ARGUMENT), limits, redis, channel, slots)


def _upstream_tracer() -> object:
    from qcmcp.ops.tracing import UpstreamTracer

    return UpstreamTracer()


def start_tracing() -> None:
    """Export traces from this process (``qcmcp serve`` with QCMCP_OTEL / OTEL_EXPORTER_OTLP_ENDPOINT)."""
    from qcmcp.ops.tracing import start_tracing as start

    try:
        start(__version__)
    except ImportError:
        raise ConfigurationError("Traces need OpenTelemetry's SDK and OTLP exporter: pip install \"qcmcp[otel]\", "
                                 "or set QCMCP_OTEL=off") from None


def _redis(settings: Settings) -> Any:
    """The Redis client for QCMCP_REDIS_URL (state shared by replicas), or None."""
    if not settings.redis_url:
        return None
    try:
        from qcmcp.ops.redis_limits import connect
    except ImportError:
        raise ConfigurationError("QCMCP_REDIS_URL needs the redis client: pip install \"qcmcp[redis]\"") from None
    return connect(settings.redis_url)


def _rate_limiter(redis: Any) -> RateLimiter:
    """On Redis when QCMCP_REDIS_URL is set (every replica counts the same windows), else in this process."""
    from qcmcp.ops.limits import MemoryRateLimiter

    if redis is None:
        return MemoryRateLimiter()
    from qcmcp.ops.redis_limits import RedisRateLimiter

    return RedisRateLimiter(redis)  # closed with the other operations (Operations.aclose)


def _watch_workers(metrics: Metrics, gateway: Gateway) -> None:
    """``qcmcp_sandbox_workers_busy``: the worker processes the sandbox's runners hold (read at scrape time)."""
    runners = gateway.backend.runners

    def busy() -> float:
        return float(sum(getattr(runner, "busy", 0) for runner in runners))

    metrics.workers_busy.set_function(busy)


def _add_health(server: FastMCP, gateway: Gateway, audit: AuditLog, tool_count: int) -> None:
    """Readiness checks (for /readyz and the health_check tool) and the probe routes."""
    import asyncio

    from qcmcp.ops.health import probe_routes, run_checks

    async def audit_writable() -> None:
        await asyncio.to_thread(audit.check_writable)

    async def jail_available() -> None:
        gateway.check_jail()

    async def readiness() -> dict[str, Any]:
        return await run_checks({"backend": gateway.check_backend, "audit log": audit_writable,
                                 "jail": jail_available})

    gateway.readiness, gateway.tool_count = readiness, tool_count
    for path, handler in probe_routes(readiness, __version__).items():
        server.custom_route(path, methods=["GET"])(handler)


def served_tools(settings: Settings, shared: bool) -> list[ToolSpec]:
    """The catalog's tools in the chosen toolsets (QCMCP_TOOLSETS); local-path tools only where they may run."""
    chosen = settings.toolset_list
    if chosen is not None:
        unknown = sorted(set(chosen) - set(TOOLSETS))
        if unknown:
            raise ConfigurationError(f"Unknown toolset(s) in QCMCP_TOOLSETS: {', '.join(unknown)}. "
                                     f"Toolsets: {', '.join(TOOLSETS)}, or all.")
    return [spec for spec in CATALOG if (chosen is None or spec.toolset in chosen)
            and not (spec.local_paths and shared and not settings.workspace_root)]


def _open_vault(settings: Settings) -> CredentialVault | None:
    """The credential vault when a vault key is configured (SQLAlchemy and cryptography are imported only then)."""
    if settings.vault_key is None and not settings.vault_key_file:
        return None
    from qcmcp.security.vault import CredentialVault

    return CredentialVault.from_settings(settings)


def _load_policy(settings: Settings) -> PolicyFile | None:
    """The agent policy when QCMCP_POLICY_FILE is set (its parser is imported only then)."""
    if not settings.policy_file:
        return None
    from qcmcp.security.policy import PolicyFile

    return PolicyFile(settings.policy_file)


def _policy_guard(policy: PolicyFile | None, settings: Settings, gateway: Gateway,
                  audit: AuditLog) -> Middleware | None:
    if policy is None:
        return None
    from qcmcp.security.policy_guard import PolicyGuard

    return PolicyGuard(policy, gateway, audit, settings.auth_tenant_claim)


def _announce_tenancy(gateway: Gateway) -> None:
    """Say at start-up whose credentials a shared deployment's callers act with."""
    log = logging.getLogger("qcmcp.security")
    if gateway.vault is not None:
        log.info("shared mode: each tenant uses its own QuantConnect credentials from the vault")
    elif gateway.is_sandbox:
        log.info("shared mode on the sandbox: each tenant gets its own sandbox account")
    else:
        log.warning("shared mode WITHOUT a credential vault: every caller acts with the server's own QuantConnect "
                    "credentials (single-tenant). Set QCMCP_VAULT_KEY or QCMCP_VAULT_KEY_FILE for per-tenant ones.")


def default_audit_db() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("qcmcp")) / "audit.sqlite3"
