"""The local ops console's business-record panel, read as an operator sees it."""

from __future__ import annotations

import html
import re

from werkzeug.test import Client

from infra.local.console import PREFIX, ConsoleApp

_PANEL = re.compile(r"<section class=record id=record>(.*?)</section>", re.DOTALL)


def record_panel(path: str, **query: str) -> str:
    """The record panel of a console page (``/executions/<name>``, or ``""`` with a ``key``), unescaped.

    Empty when the page shows no record.
    """
    page = Client(ConsoleApp(open_to_all=True)).get(f"{PREFIX}{path}", query_string=query)
    assert page.status_code == 200, page.get_data(as_text=True)
    found = _PANEL.search(page.get_data(as_text=True))
    return html.unescape(found[1]) if found else ""


def execution_link(label: str, name: str) -> str:
    """How the panel links a field holding an execution name or ARN to that execution."""
    return f"<li>{label}: <a href='{PREFIX}/executions/{name}'>{name}</a></li>"
