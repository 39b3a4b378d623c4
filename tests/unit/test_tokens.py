from __future__ import annotations

import time

import jwt
import pytest

from lms import tokens
from lms.entities import Role
from lms.errors import AuthenticationError, ConfigurationError


def test_issued_token_round_trips_with_role_jti_and_expiry() -> None:
    token, expires_in = tokens.issue_access_token("user-1", Role.INSTRUCTOR)
    claims = tokens.decode_access_token(token)
    assert claims.user_id == "user-1" and claims.role == Role.INSTRUCTOR
    assert len(claims.jti) == 32
    assert 0 < claims.expires_at - time.time() <= expires_in <= 3600


def test_two_tokens_never_share_a_jti() -> None:
    first, _ = tokens.issue_access_token("u", Role.STUDENT)
    second, _ = tokens.issue_access_token("u", Role.STUDENT)
    assert tokens.decode_access_token(first).jti != tokens.decode_access_token(second).jti


def test_expired_token_says_so() -> None:
    now = int(time.time())
    token = jwt.encode(
        {"sub": "u", "jti": "j", "iat": now - 100, "exp": now - 10, "iss": "lms", "aud": "lms-api"},
        tokens.signing_secret(),
        algorithm="HS256",
    )
    with pytest.raises(AuthenticationError, match="expired"):
        tokens.decode_access_token(token)


def test_algorithm_is_never_taken_from_the_token() -> None:
    now = int(time.time())
    claims = {"sub": "u", "jti": "j", "iat": now, "exp": now + 60, "iss": "lms", "aud": "lms-api"}
    unsigned = jwt.encode(claims, key=None, algorithm="none")
    with pytest.raises(AuthenticationError):
        tokens.decode_access_token(unsigned)
    hs512 = jwt.encode(claims, tokens.signing_secret(), algorithm="HS512")
    with pytest.raises(AuthenticationError):
        tokens.decode_access_token(hs512)


def test_missing_signing_secret_is_a_configuration_error(settings_env: pytest.MonkeyPatch) -> None:
    settings_env.delenv("LMS_JWT_SECRET")
    with pytest.raises(ConfigurationError, match="LMS_JWT_SECRET"):
        tokens.issue_access_token("u", Role.STUDENT)


def test_access_tokens_cannot_be_configured_to_live_longer_than_an_hour(
    settings_env: pytest.MonkeyPatch,
) -> None:
    from pydantic import ValidationError

    from lms.settings import get_settings

    settings_env.setenv("LMS_ACCESS_TOKEN_TTL_SECONDS", "7200")
    with pytest.raises(ValidationError):
        get_settings()
