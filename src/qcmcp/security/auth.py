"""Bearer-token verification for shared (HTTP) deployments: an OAuth 2.1 resource server.

fastmcp's JWTVerifier checks the signature with exactly one configured algorithm (so
``alg: none`` and HS/RS confusion are rejected), plus ``iss``, ``aud``, ``exp`` and ``nbf`` when present.
``StrictJWTVerifier`` adds what a resource server for many agents needs and the library leaves open: ``exp``
is required; ``exp``, ``nbf`` and ``iat`` must be finite numbers (``NaN`` compares false with everything and
``1e400`` overflowed into an HTTP 500); ``scope`` is split on ASCII spaces only and every scope token must
consist of RFC 6749 scope characters (a U+00A0-joined string once granted two scopes); identity claims must be
strings. Any malformed token is refused — a 401 ``invalid_token`` — never an error. RemoteAuthProvider adds the
401 ``WWW-Authenticate`` challenge and the protected-resource metadata document at
``/.well-known/oauth-protected-resource``.
"""

from __future__ import annotations

import logging
import math
import re
import time
from pathlib import Path
from typing import Any

from fastmcp.server.auth import AccessToken, RemoteAuthProvider
from fastmcp.server.auth.providers.jwt import JWTVerifier

from qcmcp.config import ConfigurationError, Settings
from qcmcp.security.scopes import ADMIN

CLOCK_SKEW_SECONDS = 60
# RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), joined by single ASCII spaces.
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")
NUMERIC_CLAIMS = ("exp", "nbf", "iat")
STRING_CLAIMS = ("sub", "iss", "client_id", "azp", "role")

log = logging.getLogger("qcmcp.security")


class StrictJWTVerifier(JWTVerifier):
    """JWTVerifier with required ``exp``, finite time claims, RFC 6749 scopes and string identity claims."""

    def __init__(self, *, tenant_claim: str = "tenant", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tenant_claim = tenant_claim

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            access = await super().verify_token(token)
        except Exception as error:  # noqa: BLE001 - a claim the library trips over is a bad token, not a crash
            log.info("bearer token refused: malformed", extra={"reason": type(error).__name__})
            return None
        if access is None:
            return None
        claims = access.claims or {}
        problem = self._claims_problem(claims)
        if problem is None:
            scopes = parse_scopes(claims)
            if scopes is None:
                problem = "scope is not a space-separated list of RFC 6749 scope tokens"
        if problem is not None:
            log.info("bearer token refused", extra={"reason": problem})
            return None
        # fastmcp-tasks keys each background task by the token's client_id and sub; tenants are told apart by the
        # tenant claim, which an IdP's subs need not respect: the tenant goes into the client id, so one sub in two
        # tenants never shares a task (nor anything else keyed by client and subject).
        tenant = claims.get(self.tenant_claim)
        client_id = f"{tenant}/{access.client_id}" if isinstance(tenant, str) and tenant.strip() else access.client_id
        return access.model_copy(update={"scopes": scopes, "client_id": client_id})

    def _claims_problem(self, claims: dict[str, Any]) -> str | None:
        if "exp" not in claims:
            return "no exp claim (tokens must expire)"
        for name in NUMERIC_CLAIMS:
            value = claims.get(name)
            if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)
                                   or not math.isfinite(value)):
                return f"{name} is not a finite number"
        if claims["exp"] <= time.time() - CLOCK_SKEW_SECONDS:
            return "expired"
        if "nbf" in claims and claims["nbf"] > time.time() + CLOCK_SKEW_SECONDS:
            return "not yet valid"
        for name in (*STRING_CLAIMS, self.tenant_claim):
            if name in claims and not isinstance(claims[name], str):
                return f"{name} is not a string"
        return None


def parse_scopes(claims: dict[str, Any]) -> list[str] | None:
    """The token's scopes (``scope`` string or ``scp`` list), or None when any part is malformed."""
    if "scope" in claims:
        value = claims["scope"]
        if not isinstance(value, str):
            return None
        if value == "":
            return []
        parts = value.split(" ")
    elif "scp" in claims:
        parts = claims["scp"]
        if not isinstance(parts, list) or not all(isinstance(part, str) for part in parts):
            return None
    else:
        return []
    if not all(SCOPE_TOKEN.fullmatch(part) for part in parts):
        return None
    return list(dict.fromkeys(parts))


def build_auth(settings: Settings, base_url: str) -> RemoteAuthProvider:
    """The resource server's verifier from QCMCP_AUTH_*; a clear error if it is incomplete."""
    if not settings.auth_issuer or not settings.auth_audience:
        raise ConfigurationError("Shared (HTTP) mode verifies bearer tokens: set QCMCP_AUTH_ISSUER and "
                                 "QCMCP_AUTH_AUDIENCE (or start with --insecure-no-auth on 127.0.0.1 for local testing).")
    common = {"issuer": settings.auth_issuer, "audience": settings.auth_audience, "base_url": base_url,
              "tenant_claim": settings.auth_tenant_claim}
    if settings.auth_jwt_secret is not None:
        verifier = StrictJWTVerifier(public_key=settings.auth_jwt_secret.get_secret_value(), algorithm="HS256", **common)
    elif settings.auth_public_key_file:
        verifier = StrictJWTVerifier(public_key=Path(settings.auth_public_key_file).read_text(encoding="utf-8"),
                               algorithm=settings.auth_algorithm or "RS256", **common)
    elif settings.auth_jwks_url:
        verifier = StrictJWTVerifier(jwks_uri=settings.auth_jwks_url, algorithm=settings.auth_algorithm or "RS256", **common)
    else:
        raise ConfigurationError("Shared (HTTP) mode needs a way to verify tokens: set QCMCP_AUTH_JWT_SECRET "
                                 "(HS256, at least 32 bytes), QCMCP_AUTH_PUBLIC_KEY_FILE (RS256/ES256 PEM) or "
                                 "QCMCP_AUTH_JWKS_URL.")
    return RemoteAuthProvider(verifier, authorization_servers=[settings.auth_issuer], base_url=base_url,
                              scopes_supported=sorted(ADMIN), resource_name="qcmcp")


def mint_token(settings: Settings, subject: str, tenant: str, scopes: set[str], ttl_seconds: int,
               role: str | None = None) -> str:
    """A development HS256 token with the server's secret (real deployments use their IdP)."""
    import time

    import jwt

    if settings.auth_jwt_secret is None or not settings.auth_issuer or not settings.auth_audience:
        raise ConfigurationError("Minting needs QCMCP_AUTH_JWT_SECRET, QCMCP_AUTH_ISSUER and QCMCP_AUTH_AUDIENCE.")
    now = int(time.time())
    claims = {"iss": settings.auth_issuer, "aud": settings.auth_audience, "sub": subject, "tenant": tenant,
              "scope": " ".join(sorted(scopes)), "iat": now, "nbf": now, "exp": now + ttl_seconds}
    if role:
        claims["role"] = role  # for the agent policy's per-role rules; access itself is decided by the scopes
    return jwt.encode(claims, settings.auth_jwt_secret.get_secret_value(), algorithm="HS256")
