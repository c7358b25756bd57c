"""Runtime configuration from the environment (documented in the README).

The QuantConnect variable names match the official QuantConnect MCP server, so an
existing client configuration works unchanged.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qsl, urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_API_URL = "https://www.quantconnect.com/api/v2"
DEFAULT_PYPI_URL = "https://pypi.org/pypi"


class Settings(BaseSettings):
    """Everything the server reads from the environment."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    user_id: str | None = Field(default=None, validation_alias="QUANTCONNECT_USER_ID")
    api_token: SecretStr | None = Field(default=None, validation_alias="QUANTCONNECT_API_TOKEN")
    organization_id: str | None = Field(default=None, validation_alias="QUANTCONNECT_ORGANIZATION_ID")
    api_url: str = Field(default=DEFAULT_API_URL, validation_alias="QUANTCONNECT_API_URL")
    timeout_seconds: float = Field(default=30.0, gt=0, validation_alias="QCMCP_HTTP_TIMEOUT")
    max_retries: int = Field(default=3, ge=0, le=10, validation_alias="QCMCP_MAX_RETRIES")
    pypi_url: str = Field(default=DEFAULT_PYPI_URL, validation_alias="QCMCP_PYPI_URL")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", validation_alias=AliasChoices("QCMCP_LOG_LEVEL", "LOG_LEVEL")
    )
    backend: Literal["auto", "cloud", "sandbox"] = Field(default="auto", validation_alias="QCMCP_BACKEND")
    sandbox_db: str | None = Field(default=None, validation_alias="QCMCP_SANDBOX_DB")
    data_dir: str | None = Field(default=None, validation_alias="QCMCP_DATA_DIR")
    live_clock_speed: float = Field(default=3600.0, gt=0, validation_alias="QCMCP_LIVE_CLOCK_SPEED")
    # Shared (HTTP) mode: bearer-token verification.
    auth_jwt_secret: SecretStr | None = Field(default=None, validation_alias="QCMCP_AUTH_JWT_SECRET")
    auth_public_key_file: str | None = Field(default=None, validation_alias="QCMCP_AUTH_PUBLIC_KEY_FILE")
    auth_jwks_url: str | None = Field(default=None, validation_alias="QCMCP_AUTH_JWKS_URL")
    auth_algorithm: Literal["HS256", "RS256", "ES256"] | None = Field(default=None, validation_alias="QCMCP_AUTH_ALGORITHM")
    auth_issuer: str | None = Field(default=None, validation_alias="QCMCP_AUTH_ISSUER")
    auth_audience: str | None = Field(default=None, validation_alias="QCMCP_AUTH_AUDIENCE")
    public_url: str | None = Field(default=None, validation_alias="QCMCP_PUBLIC_URL")
    auth_tenant_claim: str = Field(default="tenant", min_length=1, validation_alias="QCMCP_AUTH_TENANT_CLAIM")
    audit_db: str | None = Field(default=None, validation_alias="QCMCP_AUDIT_DB")
    # Credential vault: per-tenant QuantConnect credentials, encrypted at rest.
    vault_key: SecretStr | None = Field(default=None, validation_alias="QCMCP_VAULT_KEY")
    vault_key_file: str | None = Field(default=None, validation_alias="QCMCP_VAULT_KEY_FILE")
    vault_url: str | None = Field(default=None, validation_alias="QCMCP_VAULT_URL")
    # Agent policy and the live-money guard.
    policy_file: str | None = Field(default=None, validation_alias="QCMCP_POLICY_FILE")
    live_trading: Literal["auto", "on", "off"] = Field(default="auto", validation_alias="QCMCP_LIVE_TRADING")
    log_format: Literal["auto", "json", "text"] = Field(default="auto", validation_alias="QCMCP_LOG_FORMAT")
    # Algorithms run in a bubblewrap jail: ``auto`` uses it where it works (and requires it in shared mode),
    # ``required`` refuses to run algorithms anywhere without it.
    jail: Literal["auto", "required"] = Field(default="auto", validation_alias="QCMCP_JAIL")
    # HTTP transport: extra Host names and browser Origins to accept (comma-separated), and the body size cap.
    allowed_hosts: str = Field(default="", validation_alias="QCMCP_ALLOWED_HOSTS")
    allowed_origins: str = Field(default="", validation_alias="QCMCP_ALLOWED_ORIGINS")
    # Which toolsets are served (comma-separated, or "all").
    toolsets: str = Field(default="all", validation_alias="QCMCP_TOOLSETS")
    # sync_project's folders: any local path in local mode; in shared mode the tool exists only with a root.
    workspace_root: str | None = Field(default=None, validation_alias="QCMCP_WORKSPACE_ROOT")
    # The text block of a tool result (summary + JSON) is fitted to this many characters.
    max_result_chars: int = Field(default=24_000, ge=2_000, validation_alias="QCMCP_MAX_RESULT_CHARS")
    # The structured result of a tool call is fitted to this many characters of JSON (a note says what was cut).
    max_structured_chars: int = Field(default=400_000, ge=10_000, validation_alias="QCMCP_MAX_STRUCTURED_CHARS")
    max_request_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, validation_alias="QCMCP_MAX_REQUEST_BYTES")
    # Operations: metrics, limits, circuit breaker, read cache (see qcmcp.ops).
    metrics_token: SecretStr | None = Field(default=None, validation_alias="QCMCP_METRICS_TOKEN")
    metrics_port: int | None = Field(default=None, ge=1, le=65535, validation_alias="QCMCP_METRICS_PORT")
    metrics_host: str = Field(default="127.0.0.1", min_length=1, validation_alias="QCMCP_METRICS_HOST")
    rate_limit: str = Field(default="auto", validation_alias="QCMCP_RATE_LIMIT")
    tenant_rate_limit: str = Field(default="off", validation_alias="QCMCP_TENANT_RATE_LIMIT")
    max_concurrent_expensive: int = Field(default=4, ge=0, le=1000, validation_alias="QCMCP_MAX_CONCURRENT_EXPENSIVE")
    breaker: str = Field(default="5/30", validation_alias="QCMCP_BREAKER")
    cache: Literal["on", "off"] = Field(default="on", validation_alias="QCMCP_CACHE")
    cache_entries: int = Field(default=512, ge=1, le=1_000_000, validation_alias="QCMCP_CACHE_ENTRIES")
    # OpenTelemetry traces (the otel extra): auto = on when an OTLP endpoint is configured.
    otel: Literal["auto", "on", "off"] = Field(default="auto", validation_alias="QCMCP_OTEL")
    otlp_endpoint: str | None = Field(default=None, validation_alias=AliasChoices(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"))
    # Shared state for replicas (rate limits, cache invalidations): redis://, rediss:// or unix:// URL.
    redis_url: str | None = Field(default=None, validation_alias="QCMCP_REDIS_URL")
    # Streamable HTTP without sessions, so any replica serves any request (auto: on with QCMCP_REDIS_URL).
    http_stateless: Literal["auto", "on", "off"] = Field(default="auto", validation_alias="QCMCP_HTTP_STATELESS")
    # HTTP worker processes on the one port (qcmcp.ops.workers): one core each; more than one needs Redis.
    http_workers: int = Field(default=1, ge=1, le=64, validation_alias="QCMCP_HTTP_WORKERS")
    # Answer each HTTP request with one JSON body instead of an event stream: less CPU a call, but no progress
    # notifications while a long tool runs.
    http_json_response: bool = Field(default=False, validation_alias="QCMCP_HTTP_JSON_RESPONSE")
    # Long tools (run_backtest, run_optimization) as MCP background tasks when the client asks (qcmcp.ops.tasks).
    tasks: Literal["auto", "on", "off"] = Field(default="auto", validation_alias="QCMCP_TASKS")
    # fastmcp-tasks' own setting: encrypts task records (they carry the caller's token) when they live in Redis.
    tasks_key: SecretStr | None = Field(default=None, validation_alias="FASTMCP_TASKS_ENCRYPTION_KEY")

    @field_validator("log_level", "log_format", "live_trading", "jail", "cache", "otel", "http_stateless", "tasks",
                     mode="before")
    @classmethod
    def _normalise_case(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        lowered = value.strip().lower()
        return lowered if lowered in ("auto", "json", "text", "on", "off", "required") else value.upper()

    @property
    def toolset_list(self) -> list[str] | None:
        """The chosen toolsets, or None for all of them."""
        names = [part.strip().lower() for part in self.toolsets.split(",") if part.strip()]
        return None if not names or "all" in names else names

    @property
    def allowed_host_list(self) -> list[str]:
        return [part.strip() for part in self.allowed_hosts.split(",") if part.strip()]

    @property
    def allowed_origin_list(self) -> list[str]:
        return [part.strip().rstrip("/") for part in self.allowed_origins.split(",") if part.strip()]

    @property
    def has_credentials(self) -> bool:
        return bool(self.user_id and self.api_token and self.api_token.get_secret_value())

    @property
    def resolved_backend(self) -> str:
        """QCMCP_BACKEND resolved: ``auto`` is the cloud with credentials, the sandbox without."""
        if self.backend != "auto":
            return self.backend
        return "cloud" if self.has_credentials else "sandbox"

    def secrets(self) -> list[str]:
        """Values that must never appear in logs, errors or tool results."""
        keys = (self.api_token, self.auth_jwt_secret, self.vault_key, self.metrics_token, self.tasks_key)
        values = [s.get_secret_value() for s in keys if s is not None]
        # URLs may carry a password: in the authority (postgresql://user:password@host/db) or in the query
        # (redis://host/0?password=…); an OTLP endpoint too.
        for url in (self.vault_url, self.audit_db, self.redis_url, self.otlp_endpoint):
            if url and "://" in url:
                parts = urlsplit(url)
                values.append(parts.password or "")
                values += [value for key, value in parse_qsl(parts.query) if key.lower() in ("password", "pass")]
        return [v for v in values if v]

    @field_validator("rate_limit", "tenant_rate_limit")
    @classmethod
    def _rate(cls, value: str, info: ValidationInfo) -> str:
        from qcmcp.ops.rates import Rate

        name = "QCMCP_RATE_LIMIT" if info.field_name == "rate_limit" else "QCMCP_TENANT_RATE_LIMIT"
        if not (info.field_name == "rate_limit" and value.strip().lower() == "auto"):
            Rate.parse(value, name)  # raises with the setting's name
        return value.strip().lower()

    @field_validator("breaker")
    @classmethod
    def _breaker(cls, value: str) -> str:
        from qcmcp.ops.rates import Rate

        Rate.parse(value, "QCMCP_BREAKER", "FAILURES/SECONDS (e.g. 5/30: open after 5 failures in a row, for 30 s)")
        return value.strip().lower()

    @property
    def stateless_http(self) -> bool:
        """Replicas behind a load balancer share no session table: each request then stands alone."""
        return self.http_stateless == "on" or (self.http_stateless == "auto" and self.redis_url is not None)

    @field_validator("tasks_key")
    @classmethod
    def _tasks_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("FASTMCP_TASKS_ENCRYPTION_KEY must be at least 32 characters (random)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            return None
        if value is not None and urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("QCMCP_REDIS_URL must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("metrics_token")
    @classmethod
    def _token_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("QCMCP_METRICS_TOKEN must be at least 16 characters")
        return value

    @property
    def tracing(self) -> bool:
        """Whether traces are exported: QCMCP_OTEL=on, or auto with an OTLP endpoint set."""
        return self.otel == "on" or (self.otel == "auto" and bool(self.otlp_endpoint))

    @property
    def breaker_rule(self) -> tuple[int, float] | None:
        """(failures in a row, seconds open) of QCMCP_BREAKER, or None when it is off."""
        from qcmcp.ops.rates import Rate

        rate = Rate.parse(self.breaker, "QCMCP_BREAKER")
        return (rate.calls, rate.seconds) if rate else None

    @field_validator("auth_jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("QCMCP_AUTH_JWT_SECRET must be at least 32 bytes (256 bits) for HS256")
        return value


class ConfigurationError(ValueError):
    """An environment variable has a value the server cannot use."""


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides (used by tests)."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors(include_input=False, include_url=False)
        )
        raise ConfigurationError(f"Invalid configuration: {problems}") from None
