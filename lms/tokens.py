"""Access tokens: short-lived HS256 JWTs with ``jti``, issuer and audience.

The signing secret comes from configuration: ``LMS_JWT_SECRET`` (the local cloud generates one per
process) or ``LMS_JWT_SECRET_ARN`` (Secrets Manager, in AWS). There is no default.

``iat`` carries milliseconds (a NumericDate may be fractional, RFC 7519 section 2): a user's
``tokensValidAfter`` is compared with it, and whole seconds could not tell a token issued just
before a password change from one issued just after it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import timedelta

from lms import aws
from lms.clock import new_id, utcnow
from lms.entities import Role
from lms.errors import AuthenticationError, ConfigurationError
from lms.settings import get_settings

ALGORITHM = "HS256"  # one fixed algorithm: never taken from the token header


@dataclass(frozen=True)
class TokenClaims:
    user_id: str
    role: Role
    jti: str
    expires_at: int
    issued_at_ms: int = 0  # epoch milliseconds; 0 (the epoch) fails any tokensValidAfter check


@functools.cache
def _secret_from_secrets_manager(arn: str) -> str:
    return str(aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])


def signing_secret() -> str:
    settings = get_settings()
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.jwt_secret_arn:
        return _secret_from_secrets_manager(settings.jwt_secret_arn)
    raise ConfigurationError("No JWT signing secret: set LMS_JWT_SECRET or LMS_JWT_SECRET_ARN.")


def issue_access_token(user_id: str, role: Role) -> tuple[str, int]:
    """Return ``(token, expires_in_seconds)``."""
    import jwt  # loaded by the first request that signs or checks a token, not by public routes

    settings = get_settings()
    now = utcnow()
    ttl = settings.access_token_ttl_seconds
    claims = {
        "sub": user_id,
        "role": role.value,
        "jti": new_id(),
        "iat": math.floor(now.timestamp() * 1000) / 1000,
        "nbf": now,
        "exp": now + timedelta(seconds=ttl),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    return jwt.encode(claims, signing_secret(), algorithm=ALGORITHM), ttl


def decode_access_token(token: str) -> TokenClaims:
    import jwt

    settings = get_settings()
    try:
        claims = jwt.decode(
            token,
            signing_secret(),
            algorithms=[ALGORITHM],
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            options={"require": ["exp", "iat", "sub", "jti", "iss", "aud"]},
        )
        return TokenClaims(
            user_id=str(claims["sub"]),
            role=Role(claims.get("role", Role.STUDENT)),
            jti=str(claims["jti"]),
            expires_at=int(claims["exp"]),
            issued_at_ms=round(float(claims["iat"]) * 1000),
        )
    except jwt.ExpiredSignatureError as error:
        raise AuthenticationError("The access token has expired; log in again.") from error
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError) as error:
        raise AuthenticationError("The access token is not valid.") from error
