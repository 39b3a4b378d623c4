"""Who may use the console, and from where: the admin's cookie session, its CSRF token, Host and Origin.

* The session is the admin's access token in a cookie: ``HttpOnly``, ``SameSite=Strict``, scoped to
  the console's path, and ``Secure`` unless the console is reached over plain http on loopback. It
  lasts as long as the token; logging out revokes the token (the API's denylist).
* Every POST carries a CSRF token bound to the session (an HMAC of the token's id under the signing
  secret), so a page elsewhere cannot make the admin's browser press a button. The login form is
  protected the same way with a random value also set in a cookie (double submit).
* ``Host`` must be the configured public URL's host (``LMS_PUBLIC_URL``) or the address the API
  answers on (API Gateway's domain name; the local API's bound address, any loopback name for a
  loopback bind): a DNS-rebinding page that reaches a loopback console by another name is refused.
  A request with ``Origin: null`` (a sandboxed page, a ``file:`` page) or a foreign Origin is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from lms import identity, tokens
from lms.entities import Role
from lms.errors import AuthenticationError, ForbiddenError
from lms.identity import Principal
from lms.settings import get_settings
from lms.table import Table

SESSION_COOKIE = "lms_console"
LOGIN_COOKIE = "lms_console_login"
CSRF_FIELD = "csrf"
ADMINS_ONLY = "The console is for administrators."


def is_loopback(host: str) -> bool:
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _split(host_and_port: str) -> tuple[str, str]:
    parsed = urlsplit(f"//{host_and_port}")
    try:
        port = str(parsed.port or "")
    except ValueError:
        port = "?"
    return (parsed.hostname or "").lower(), port


@dataclass(frozen=True)
class Request:
    """What the console needs of an API Gateway proxy event."""

    method: str
    path: str  # without the stage: /console/...
    base: str  # what precedes the path in the browser's URL: the stage ("/v1") in AWS, "" locally
    headers: dict[str, str]  # lower-cased names
    domain_name: str  # the address the API answers on (requestContext.domainName)
    source: str

    @classmethod
    def of(cls, event: dict[str, Any]) -> Request:
        context = event.get("requestContext") or {}
        path = str(event.get("path") or "/")
        full = str(context.get("path") or path)
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        return cls(
            method=str(event.get("httpMethod") or "GET").upper(),
            path=path,
            base=full[: -len(path)] if full.endswith(path) and full != path else "",
            headers=headers,
            domain_name=str(context.get("domainName") or ""),
            source=str((context.get("identity") or {}).get("sourceIp") or "unknown"),
        )

    @property
    def host(self) -> str:
        return self.headers.get("host", "")

    @property
    def scheme(self) -> str:
        return self.headers.get("x-forwarded-proto", "http").split(",")[0].strip().lower()

    @property
    def secure_cookies(self) -> bool:
        """Secure everywhere but plain http on loopback (where a browser would not send it back)."""
        return not (self.scheme == "http" and is_loopback(_split(self.host)[0]))

    def cookie(self, name: str) -> str | None:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(self.headers.get("cookie", ""))
        except CookieError:
            return None
        morsel = jar.get(name)
        return morsel.value if morsel is not None else None


def check_origin(request: Request) -> None:
    """403 for a foreign Host (DNS rebinding) or a foreign or ``null`` Origin (cross-site, sandboxed)."""
    host, port = _split(request.host)
    allowed = {_split(request.domain_name)} if request.domain_name else set()
    public_url = get_settings().public_url
    if public_url:
        allowed.add(_split(urlsplit(public_url).netloc))
    bound_to_loopback = any(is_loopback(name) for name, _ in allowed)
    if not host or not any(
        (host, port) == (name, bound_port) or (bound_to_loopback and is_loopback(host) and port == bound_port)
        for name, bound_port in allowed
    ):
        raise ForbiddenError(f"The console does not answer to the host {request.host!r}.")
    origin = request.headers.get("origin")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != request.host.lower()):
        raise ForbiddenError("Cross-site requests to the console are refused.")


def csrf_token(principal: Principal) -> str:
    """The session's CSRF token: bound to the access token's id, so it dies with the session."""
    message = f"lms-console-csrf:{principal.token.jti}".encode()
    return hmac.new(tokens.signing_secret().encode(), message, hashlib.sha256).hexdigest()


def check_csrf(principal: Principal, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(submitted, csrf_token(principal)):
        raise ForbiddenError("The form's CSRF token is missing or stale; reload the page and try again.")


def member(request: Request, cookie: str, roles: tuple[Role, ...], refusal: str) -> Principal | None:
    """The user of the session ``cookie``; None without a session. 403 for a session of another role."""
    token = request.cookie(cookie)
    if not token:
        return None
    try:
        caller = identity.authenticate(Table(), token)
    except AuthenticationError:
        return None
    if not caller.principal.has_role(*roles):
        raise ForbiddenError(refusal)
    return caller.principal


def admin(request: Request) -> Principal | None:
    """The admin of the console's session cookie; None without a session. 403 for another role."""
    return member(request, SESSION_COOKIE, (Role.ADMIN,), ADMINS_ONLY)


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def check_login_nonce(request: Request, submitted: str | None) -> None:
    expected = request.cookie(LOGIN_COOKIE)
    if not expected or not submitted or not hmac.compare_digest(expected, submitted):
        raise ForbiddenError("The login form expired; reload it and try again.")


def log_in(
    request: Request,
    email: str,
    password: str,
    roles: tuple[Role, ...] = (Role.ADMIN,),
    refusal: str = ADMINS_ONLY,
) -> identity.LoginResult:
    """The API's login (throttled, the same answers), for the given roles only (administrators)."""
    result = identity.login(Table(), email=email, password=password, source=request.source)
    if result.user.role not in roles:
        raise ForbiddenError(refusal)
    return result


def log_out(principal: Principal) -> None:
    identity.revoke(Table(), principal.token)
