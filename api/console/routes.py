"""The console's pages: each one reads what an ``/ops`` route reads, and renders it with a template."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from api.console import PREFIX, graph, session
from api.routes import ops as ops_routes
from lms.errors import ForbiddenError, LmsError, NotFoundError, RateLimitedError, ValidationError
from lms.identity import Principal
from workflows import operations as ops

logger = Logger(service="lms-api", child=True)

HERE = Path(__file__).resolve().parent
STATIC = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
_NAME = re.compile(rf"^[A-Za-z0-9_-]{{1,{ops.MAX_EXECUTION_NAME}}}$")
LIST_LIMIT = 100
SECURITY_HEADERS = {
    # Nothing loads from elsewhere, nothing runs inline: the product's own CSS and JS only.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@functools.cache
def templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"
    environment.filters["took"] = _took
    environment.filters["pretty"] = _pretty
    environment.globals["quote"] = quote
    return environment


def _took(detail: Any) -> str:
    if detail.start_date and detail.stop_date:
        return f"{(detail.stop_date - detail.start_date).total_seconds():.1f} s"
    return "running"


def _pretty(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=2, default=str)


class Page:
    """One console request: who asks, from where, and how to answer."""

    def __init__(self, app: APIGatewayRestResolver) -> None:
        self.request = session.Request.of(app.current_event.raw_event)
        self.query = app.current_event.resolved_query_string_parameters or {}
        self._body = app.current_event.decoded_body if self.request.method == "POST" else None
        self.admin: Principal | None = None

    def url(self, path: str = "") -> str:
        return f"{self.request.base}{PREFIX}{path}"

    def arg(self, name: str) -> str:
        values = self.query.get(name) or []
        return str(values[0]).strip() if values else ""

    def args(self, name: str) -> list[str]:
        return [str(v) for v in self.query.get(name) or []]

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self._body or "", keep_blank_values=True, max_num_fields=20)
        return {key: values[0] for key, values in parsed.items()}

    def render(
        self,
        template: str,
        status: int = 200,
        cookies: list[Cookie] | None = None,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> Response[str]:
        csrf = session.csrf_token(self.admin) if self.admin else ""
        body = (
            templates()
            .get_template(template)
            .render(url=self.url, csrf=csrf, csrf_field=session.CSRF_FIELD, admin=self.admin, **values)
        )
        return Response(
            status_code=status,
            content_type="text/html; charset=utf-8",
            body=body,
            headers={**SECURITY_HEADERS, "Cache-Control": "no-store", **(headers or {})},
            cookies=cookies,
        )

    def redirect(self, path: str, cookies: list[Cookie] | None = None) -> Response[str]:
        return Response(
            status_code=303,
            body="",
            headers={**SECURITY_HEADERS, "Location": self.url(path), "Cache-Control": "no-store"},
            cookies=cookies,
        )

    def cookie(self, name: str, value: str, max_age: int, path: str = "") -> Cookie:
        return Cookie(
            name=name,
            value=value,
            path=self.url(path),
            secure=self.request.secure_cookies,
            http_only=True,
            max_age=max_age,
            same_site=SameSite.STRICT_MODE,
        )


Handler = Callable[[Page], Response[str]]


def build() -> APIGatewayRestResolver:
    app = APIGatewayRestResolver()

    def page(handler: Handler, *, signed_in: bool = True) -> Callable[..., Response[str]]:
        """Host and Origin first, then the session (401/403 before any form is read), then the page."""

        def respond(**_: str) -> Response[str]:
            current = Page(app)
            try:
                session.check_origin(current.request)
                if signed_in:
                    current.admin = session.admin(current.request)
                    if current.admin is None:
                        if current.request.method == "GET":
                            return current.redirect("/login")
                        raise ForbiddenError("Log in to the console first.")
                    if current.request.method == "POST":
                        session.check_csrf(current.admin, current.form().get(session.CSRF_FIELD))
                return handler(current)
            except LmsError as error:
                if error.status >= 500:
                    logger.error("console error", extra={"code": error.code, "error_message": error.message})
                message = (
                    "Something went wrong on our side; it has been logged."
                    if error.status >= 500
                    else error.message
                )
                return current.render(
                    "error.html",
                    status=error.status,
                    title="Refused" if error.status == 403 else "Not here",
                    message=message,
                )

        return respond

    app.get(PREFIX)(page(list_page))
    app.get(PREFIX + "/login")(page(login_form, signed_in=False))
    app.post(PREFIX + "/login")(page(log_in, signed_in=False))
    app.post(PREFIX + "/logout")(page(log_out))
    app.get(PREFIX + "/compare")(page(compare_page))
    app.get(PREFIX + "/executions/<name>")(page(execution_page))
    app.post(PREFIX + "/executions/<name>/redrive")(page(redrive))
    app.get(PREFIX + "/static/<asset>")(page(static_asset, signed_in=False))
    app.get(PREFIX + "/mail")(page(mail_page))

    @app.exception_handler(Exception)
    def unexpected(_: Exception) -> Response[str]:
        logger.exception("console error")
        return Page(app).render(
            "error.html",
            status=500,
            title="Error",
            message="Something went wrong on our side; it has been logged.",
        )

    @app.not_found
    def not_found(_: Any) -> Response[str]:
        current = Page(app)
        return current.render("error.html", status=404, title="Not found", message="No such console page.")

    return app


@functools.cache
def get_console() -> APIGatewayRestResolver:
    return build()


# --- pages ----------------------------------------------------------------------------------------


def _execution_name(page: Page) -> str:
    name = page.request.path.removeprefix(PREFIX + "/executions/").split("/")[0]
    if not _NAME.match(name):
        raise ValidationError("That is not an execution name.")
    return name


def login_form(
    page: Page, error: str = "", status: int = 200, headers: dict[str, str] | None = None
) -> Response[str]:
    nonce = session.new_login_nonce()
    return page.render(
        "login.html",
        status=status,
        headers=headers,
        cookies=[page.cookie(session.LOGIN_COOKIE, nonce, max_age=3600, path="/login")],
        title="Log in",
        nonce=nonce,
        error=error,
    )


def log_in(page: Page) -> Response[str]:
    form = page.form()
    session.check_login_nonce(page.request, form.get("nonce"))
    try:
        result = session.log_in(page.request, form.get("email", ""), form.get("password", ""))
    except LmsError as error:
        if error.status == 403:
            raise
        retry = (
            {"Retry-After": str(error.retry_after_seconds)} if isinstance(error, RateLimitedError) else None
        )
        return login_form(page, error.message, status=error.status, headers=retry)
    return page.redirect(
        "",
        cookies=[
            page.cookie(session.SESSION_COOKIE, result.access_token, max_age=result.expires_in),
            page.cookie(session.LOGIN_COOKIE, "", max_age=0, path="/login"),
        ],
    )


def log_out(page: Page) -> Response[str]:
    assert page.admin is not None
    session.log_out(page.admin)
    return page.redirect("/login", cookies=[page.cookie(session.SESSION_COOKIE, "", max_age=0)])


def static_asset(page: Page) -> Response[str]:
    asset = page.request.path.removeprefix(PREFIX + "/static/")
    if asset not in STATIC:
        raise NotFoundError("No such asset.")
    return Response(
        status_code=200,
        content_type=STATIC[asset],
        body=(HERE / "static" / asset).read_text(),
        headers={**SECURITY_HEADERS, "Cache-Control": "max-age=300"},
    )


def list_page(page: Page) -> Response[str]:
    workflow, status, key = page.arg("workflow") or None, page.arg("status") or None, page.arg("key") or None
    if status is not None and status not in {s.value for s in ops.ExecutionStatus}:
        raise ValidationError(f"No status {status!r}.")
    if key is not None and len(key) > 128:
        raise ValidationError("A business key is at most 128 characters.")
    found = ops_routes.execution_page(
        workflow=workflow,
        status=ops.ExecutionStatus(status) if status else None,
        business_key=key,
        limit=LIST_LIMIT,
        cursor=None,
    )
    return page.render(
        "list.html",
        title="Executions",
        workflows=list(ops_routes.operations().state_machines),
        statuses=[s.value for s in ops.ExecutionStatus],
        chosen={"workflow": workflow or "", "status": status or "", "key": key or ""},
        found=found,
    )


def execution_page(page: Page) -> Response[str]:
    detail = ops_routes.operations().describe(_execution_name(page))
    return page.render("execution.html", title=detail.name, detail=detail, drawing=drawing(detail))


def redrive(page: Page) -> Response[str]:
    name = _execution_name(page)
    operations = ops_routes.operations()
    try:
        result = operations.redrive(name, rerun_if_unsupported=page.form().get("rerun") == "1")
    except ops.RedriveUnsupportedError as error:
        return page.render("redrive.html", title=name, name=name, result=None, offer=error, refusal=None)
    except ops.RedriveRefusedError as error:
        return page.render(
            "redrive.html",
            status=409,
            title=name,
            name=name,
            result=None,
            offer=None,
            refusal=error.message,
        )
    return page.render("redrive.html", title=name, name=name, result=result, offer=None, refusal=None)


def compare_page(page: Page) -> Response[str]:
    picked = page.args("pick")
    a, b = (picked + ["", ""])[:2] if picked else (page.arg("a"), page.arg("b"))
    if not a or not b:
        raise ValidationError("Pick two executions to compare.")
    for name in (a, b):
        if not _NAME.match(name):
            raise ValidationError("That is not an execution name.")
    operations = ops_routes.operations()
    left, right = operations.describe(a), operations.describe(b)
    if left.workflow != right.workflow:
        raise ValidationError(f"{a} is a {left.workflow} execution and {b} a {right.workflow} one.")
    sides = [
        {"detail": one, "drawing": drawing(one, other), "differs": set(one.path) - set(other.path)}
        for one, other in ((left, right), (right, left))
    ]
    return page.render("compare.html", title=f"{a} / {b}", sides=sides)


def drawing(detail: ops.ExecutionDetail, other: ops.ExecutionDetail | None = None) -> dict[str, Any]:
    """The graph of the execution's state machine, each box and edge with its CSS classes."""
    laid = graph.layout(detail.definition)
    visited = set(detail.path)
    status_of = {step.name: step.status for step in detail.steps}
    failed = detail.failure.state if detail.failure else None
    taken = set(zip(detail.path, detail.path[1:], strict=False))
    only_here = visited - set(other.path) if other is not None else set()
    boxes = []
    for box in laid.boxes.values():
        classes = ["state"]
        if box.name in visited:
            classes.append("visited")
        if status_of.get(box.name) == "CAUGHT":
            classes.append("caught")
        if box.name == failed or status_of.get(box.name) == "FAILED":
            classes.append("failed")
        if box.name in only_here:
            classes.append("differs")
        boxes.append({"box": box, "classes": " ".join(classes)})
    edges = []
    for edge in laid.edges:
        classes = (
            ["edge"]
            + (["error"] if edge.error else [])
            + (["taken"] if (edge.source, edge.target) in taken else [])
        )
        edges.append({"path": edge.path, "classes": " ".join(classes)})
    return {"layout": laid, "boxes": boxes, "edges": edges, "compare": other is not None}


MAIL_LIMIT = 100


def mail_page(page: Page) -> Response[str]:
    """The mail the local SES sent (``lms dev``); in AWS, SES delivers it and keeps nothing to show."""
    import os

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    items: list[Any] = []
    if endpoint:
        from infra.local import mailbox  # local only: AWS_ENDPOINT_URL is never set in AWS

        items = mailbox.fetch(endpoint)[:MAIL_LIMIT]
    return page.render("mail.html", title="Sent mail", available=bool(endpoint), items=items)
