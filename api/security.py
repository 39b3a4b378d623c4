"""Who is calling: bearer-token extraction and role checks, shared by every route."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from lms import identity
from lms.entities import Role
from lms.errors import AuthenticationError, ForbiddenError
from lms.identity import Authenticated, ExtraKeys, Principal
from lms.table import Table


def bearer_token(router: BaseRouter) -> str | None:
    header = router.current_event.headers.get("authorization") or router.current_event.headers.get(
        "Authorization"
    )
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("Use 'Authorization: Bearer <token>'.")
    return token.strip()


def authenticated(router: BaseRouter, table: Table, extra_keys: ExtraKeys = ()) -> Authenticated:
    token = bearer_token(router)
    if token is None:
        raise AuthenticationError("This route needs 'Authorization: Bearer <token>'.")
    return identity.authenticate(table, token, extra_keys)


def optional(router: BaseRouter, table: Table, extra_keys: ExtraKeys = ()) -> Authenticated | None:
    """The caller if a token is presented (a bad token is still refused), else ``None``."""
    token = bearer_token(router)
    return identity.authenticate(table, token, extra_keys) if token else None


def require_role(principal: Principal, *roles: Role) -> Principal:
    if not principal.has_role(*roles):
        allowed = " or ".join(role.value for role in roles)
        raise ForbiddenError(f"This route is for the {allowed} role.")
    return principal


def source_address(router: BaseRouter) -> str:
    context = getattr(router.current_event, "request_context", None)
    identity = getattr(context, "identity", None)
    return (identity.source_ip if identity else None) or "unknown"
