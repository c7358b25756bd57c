"""Bearer-token verification for shared (HTTP) deployments: an OAuth 2.1 resource server.

fastmcp's JWTVerifier checks the signature with exactly one configured algorithm (so
``alg: none`` and HS/RS confusion are rejected), plus ``iss``, ``aud`` and ``exp``; we add
``nbf``, which it does not check (our hostile-token tests caught that); RemoteAuthProvider adds the 401 ``WWW-Authenticate`` challenge and the
protected-resource metadata document at ``/.well-known/oauth-protected-resource``.
"""

from __future__ import annotations

from pathlib import Path

import time

from fastmcp.server.auth import AccessToken, RemoteAuthProvider
from fastmcp.server.auth.providers.jwt import JWTVerifier

from qcmcp.config import ConfigurationError, Settings
from qcmcp.security.scopes import ADMIN

CLOCK_SKEW_SECONDS = 60


class StrictJWTVerifier(JWTVerifier):
    """JWTVerifier plus the ``nbf`` check it omits: a token is refused before it becomes valid."""

    async def verify_token(self, token: str) -> AccessToken | None:
        access = await super().verify_token(token)
        if access is None:
            return None
        not_before = (access.claims or {}).get("nbf")
        if not_before is not None:
            try:
                if float(not_before) > time.time() + CLOCK_SKEW_SECONDS:
                    return None
            except (TypeError, ValueError):
                return None
        return access


def build_auth(settings: Settings, base_url: str) -> RemoteAuthProvider:
    """The resource server's verifier from QCMCP_AUTH_*; a clear error if it is incomplete."""
    if not settings.auth_issuer or not settings.auth_audience:
        raise ConfigurationError("Shared (HTTP) mode verifies bearer tokens: set QCMCP_AUTH_ISSUER and "
                                 "QCMCP_AUTH_AUDIENCE (or start with --insecure-no-auth on 127.0.0.1 for local testing).")
    common = {"issuer": settings.auth_issuer, "audience": settings.auth_audience, "base_url": base_url}
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
