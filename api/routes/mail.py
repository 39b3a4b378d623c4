"""Email (docs/api.md, "Email"): the RFC 8058 one-click unsubscribe link every email carries.

No login: the signed token in the link is the credential (it names the user, the scope and the
scope's id). GET shows a confirmation page and changes nothing (mail scanners and link previews
fetch links); POST unsubscribes, whether a mail client sends ``List-Unsubscribe=One-Click`` or the
confirmation page's form does.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api import security
from api.front_door import accepts_form_body
from api.models import View
from lms import mail
from lms.errors import ValidationError
from lms.table import Table

router = APIGatewayRouter()

Token = Annotated[
    str, Query(min_length=1, max_length=2048, description="the signed token of the email's unsubscribe link")
]


class Unsubscribed(View):
    unsubscribed: bool
    scope: str
    scope_id: str


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>{title}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto">
<h1>{title}</h1>
{body}
</body></html>
"""


def _html(title: str, body: str) -> Response[Any]:
    return Response(
        status_code=200,
        content_type="text/html; charset=utf-8",
        body=_PAGE.format(title=escape(title), body=body),
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/mail/unsubscribe",
    tags=["email"],
    summary="Confirm an unsubscribe (a page with one button; nothing changes until it is pressed)",
    responses={200: {"description": "an HTML page", "content": {"text/html": {}}}},
)
@security.public  # the signed token is the credential
def unsubscribe_page(token: Token) -> Response[str]:
    request = mail.read_unsubscribe_token(token)  # a bad or tampered link: 400 / 403, nothing shown
    if mail.handler_for(request.scope) is None:
        raise ValidationError(f"Nothing to unsubscribe from in {request.scope!r}.")
    action = escape(f"{mail.UNSUBSCRIBE_PATH}?token={token}", quote=True)
    return _html(
        "Unsubscribe",
        f"<p>Stop these emails ({escape(request.scope)})?</p>"
        f'<form method="post" action="{action}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>',
    )


@router.post(
    "/mail/unsubscribe",
    tags=["email"],
    summary="One-click unsubscribe (RFC 8058)",
    description="Answers `{unsubscribed, scope, scopeId}`, or a short HTML page to a browser "
    "(`Accept: text/html`, the confirmation page's form).",
    responses={
        200: {
            "description": "unsubscribed (again, if already)",
            "content": {
                "application/json": {"schema": Unsubscribed.model_json_schema(by_alias=True)},
                "text/html": {},
            },
        }
    },
)
@security.public  # the signed token is the credential
@accepts_form_body  # List-Unsubscribe=One-Click arrives as a form body, and is not needed
def unsubscribe(token: Token) -> Response[Any]:
    request = mail.unsubscribe(Table(), token)
    accept = router.current_event.headers.get("accept") or router.current_event.headers.get("Accept") or ""
    if "text/html" in accept:  # the confirmation page's form, in a browser
        return _html("Unsubscribed", "<p>You will not get these emails any more.</p>")
    body = Unsubscribed(unsubscribed=True, scope=request.scope, scope_id=request.scope_id)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)
