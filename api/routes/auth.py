"""Auth and users (docs/api.md, "Auth and users")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import Field

from api import security
from api.models import AtLeastOneField, Name, Page, Password, RequestBody, View
from api.params import Cursor, Limit, PathId
from api.responses import created, no_content, page_limit
from lms import identity
from lms.entities import Email, Role, User
from lms.table import Table

router = APIGatewayRouter()


class RegisterRequest(RequestBody):
    email: Email
    password: Password
    first_name: Name
    last_name: Name


class LoginRequest(RequestBody):
    email: Email
    password: Annotated[str, Field(min_length=1, max_length=128)]


class ProfileUpdate(AtLeastOneField):
    first_name: Name | None = None
    last_name: Name | None = None
    password: Password | None = None


class AdminUserUpdate(AtLeastOneField):
    role: Role | None = None
    is_active: bool | None = None


class UserView(View):
    user_id: str
    email: str
    first_name: str
    last_name: str
    role: Role
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls.model_validate(user.model_dump(exclude={"password_hash"}))


class LoginResponse(View):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    user: UserView


class ProfileUpdated(UserView):
    """The updated account; after a password change, also the token that replaces the caller's."""

    access_token: str | None = Field(
        default=None,
        description=(
            "Only when the password changed: every token issued before the change, the one that"
            " made this request included, is refused from now on; use this one instead."
        ),
    )
    token_type: str | None = None
    expires_in: int | None = None


class UserPage(Page[UserView]):
    pass


@router.post("/auth/register", tags=["auth"], summary="Create a student account")
@security.public
def register(body: RegisterRequest) -> Response[UserView]:
    user = identity.register(
        Table(),
        email=body.email,
        password=body.password,
        first_name=body.first_name,
        last_name=body.last_name,
    )
    return created(UserView.of(user))


@router.post("/auth/login", tags=["auth"], summary="Exchange email and password for an access token")
@security.public
def login(body: LoginRequest) -> LoginResponse:
    result = identity.login(
        Table(), email=body.email, password=body.password, source=security.source_address(router)
    )
    return LoginResponse(
        access_token=result.access_token, expires_in=result.expires_in, user=UserView.of(result.user)
    )


@router.post("/auth/logout", tags=["auth"], summary="Revoke the presented token")
@security.signed_in
def logout() -> Response[None]:
    table = Table()
    caller = security.authenticated(router, table)
    identity.revoke(table, caller.principal.token)
    return no_content()


@router.get("/auth/profile", tags=["auth"], summary="The caller's account")
@security.signed_in
def get_profile() -> UserView:
    return UserView.of(security.authenticated(router, Table()).principal.user)


@router.patch(
    "/auth/profile",
    tags=["auth"],
    summary="Change name or password",
    description=(
        "A password change revokes every access token issued before it, the caller's too; the"
        " response then carries a fresh `accessToken` (`expiresIn` seconds) to continue with."
    ),
)
@security.signed_in
def update_profile(body: ProfileUpdate) -> ProfileUpdated:
    table = Table()
    caller = security.authenticated(router, table)
    change = identity.update_profile(table, caller.principal.user, body.model_dump())
    user = UserView.of(change.user).model_dump()
    if change.access_token is None:
        return ProfileUpdated.model_validate(user)
    return ProfileUpdated.model_validate(
        {**user, "access_token": change.access_token, "token_type": "Bearer", "expires_in": change.expires_in}
    )


@router.get("/admin/users", tags=["admin"], summary="List users (admin)")
@security.allow(Role.ADMIN)
def list_users(
    limit: Limit = 50,
    cursor: Cursor = None,
) -> UserPage:
    table = Table()
    security.require_role(security.authenticated(router, table).principal, Role.ADMIN)
    users, next_cursor = identity.list_users(table, limit=page_limit(limit), cursor=cursor)
    return UserPage(items=[UserView.of(u) for u in users], next_cursor=next_cursor)


@router.patch("/admin/users/<userId>", tags=["admin"], summary="Change a user's role or active flag (admin)")
@security.allow(Role.ADMIN)
def update_user(userId: PathId, body: AdminUserUpdate) -> UserView:  # noqa: N803
    table = Table()
    admin = security.require_role(security.authenticated(router, table).principal, Role.ADMIN)
    return UserView.of(identity.admin_update_user(table, admin, userId, body.model_dump()))
