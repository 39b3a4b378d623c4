"""Who is calling: per-route access rules, bearer-token extraction and role checks, shared by every route.

Every route declares its rule with one of ``public``, ``signed_in`` or ``allow(*roles)``. The front door
(``api.front_door``) enforces the rule before the body is validated, so a caller who may not use a route
gets 401/403 whatever the body holds and learns nothing about its schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from lms import identity
from lms.entities import Role
from lms.errors import AuthenticationError, ForbiddenError
from lms.identity import Authenticated, ExtraKeys, Principal
from lms.table import Table

RouteFunction = TypeVar("RouteFunction", bound=Callable[..., Any])

_RULE_ATTRIBUTE = "__lms_access__"
_CALLER = "lms_caller"  # routing-context key of the caller the front door authenticated


@dataclass(frozen=True)
class AccessRule:
    """``roles`` empty: any authenticated caller; ``authenticated`` false: anyone."""

    authenticated: bool
    roles: tuple[Role, ...] = ()


PUBLIC = AccessRule(authenticated=False)
SIGNED_IN = AccessRule(authenticated=True)


def _declare(rule: AccessRule) -> Callable[[RouteFunction], RouteFunction]:
    def mark(function: RouteFunction) -> RouteFunction:
        setattr(function, _RULE_ATTRIBUTE, rule)
        return function

    return mark


public = _declare(PUBLIC)
signed_in = _declare(SIGNED_IN)


def allow(*roles: Role) -> Callable[[RouteFunction], RouteFunction]:
    return _declare(AccessRule(authenticated=True, roles=roles))


def rule_of(function: Callable[..., Any]) -> AccessRule | None:
    rule = getattr(function, _RULE_ATTRIBUTE, None)
    return rule if isinstance(rule, AccessRule) else None


def enforce(router: BaseRouter, rule: AccessRule) -> None:
    """401 without a valid token, 403 without the role; the caller is kept for the route."""
    if not rule.authenticated:
        return
    token = bearer_token(router)
    if token is None:
        raise AuthenticationError("This route needs 'Authorization: Bearer <token>'.")
    caller = identity.authenticate(Table(), token)
    if rule.roles:
        require_role(caller.principal, *rule.roles)
    router.append_context(**{_CALLER: caller})


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
    """The caller; reuses the front door's read unless the route needs more items in the same read."""
    cached = router.context.get(_CALLER)
    if isinstance(cached, Authenticated) and not extra_keys:
        return cached
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
