"""The ops console as an admin's browser sees it: pages from the API handler, the record panel read back.

Requests go through the local API gateway's WSGI app in-process (the very handler Lambda runs), as
the demo admin (``admin@example.com``, seeded by the ``demo`` fixture), so a workflow test needs no
running server to read what the console shows.
"""

from __future__ import annotations

import html
import re
from typing import Any

import requests
from werkzeug.test import Client

from api.console import PREFIX
from api.console.session import SESSION_COOKIE
from infra.local.api_gateway import ApiGatewayApp
from lms import identity, tokens
from lms.table import Table

HOST = "localhost"
_PANEL = re.compile(r'<section class="record" id="record">(.*?)</section>', re.DOTALL)


def admin_console() -> Client:
    """A console client with the demo admin's session cookie."""
    admin = identity.find_user_by_email(Table(), "admin@example.com")
    assert admin is not None, "the demo data (the `demo` fixture) has the admin"
    token, _ = tokens.issue_access_token(admin.user_id, admin.role)
    client = Client(ApiGatewayApp(domain_name=HOST))
    client.set_cookie(SESSION_COOKIE, token, domain=HOST, path=PREFIX)
    return client


def console_page(path: str, **query: str) -> Any:
    """GET a console page as the admin (``path`` below ``/console``)."""
    return admin_console().get(f"{PREFIX}{path}", query_string=query)


def record_panel(path: str, **query: str) -> str:
    """The record panel of a console page (``/executions/<name>``, or ``""`` with a ``key``), unescaped.

    Empty when the page shows no record.
    """
    page = console_page(path, **query)
    assert page.status_code == 200, page.get_data(as_text=True)
    found = _PANEL.search(page.get_data(as_text=True))
    return html.unescape(found[1]) if found else ""


def execution_link(label: str, name: str) -> str:
    """How the panel links a field holding an execution name or ARN to that execution."""
    return f'<li>{label}: <a href="{PREFIX}/executions/{name}">{name}</a></li>'


_CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
_NONCE = re.compile(r'name="nonce" value="([^"]+)"')


def csrf_of(page: str) -> str:
    """The session's CSRF token, as the page's forms carry it."""
    found = _CSRF.search(page)
    assert found, "the page has no form with a CSRF token"
    return found[1]


def console_login(
    api_url: str,
    email: str,
    password: str,
    *,
    session: requests.Session | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Session:
    """Log in through the console's form, as a browser does (its Origin, the form's nonce)."""
    browser = session or requests.Session()
    form = browser.get(f"{api_url}{PREFIX}/login", headers=headers, timeout=30)
    assert form.status_code == 200, form.text
    found = _NONCE.search(form.text)
    assert found, form.text
    answer = browser.post(
        f"{api_url}{PREFIX}/login",
        data={"nonce": found[1], "email": email, "password": password},
        headers={"Origin": api_url, **(headers or {})},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303, f"{answer.status_code}: {answer.text}"
    browser.last_login = answer  # type: ignore[attr-defined]
    return browser
