"""The ops console at ``/console``, served by the API function itself: in AWS as locally.

What ops do in the AWS Step Functions console, for this product's workflows, from what ``/ops``
answers (the same :mod:`workflows.operations` calls, through :mod:`api.routes.ops`):

* ``/console``: executions of every deployed workflow, filtered by workflow, status and business
  key (a key search runs across all workflows and shows the business record it finds);
* ``/console/executions/<name>``: the state machine drawn from its ASL (a layered layout) with the
  path taken and the failed state marked, the failure's cause in full, the timeline, the business
  record and its links, the event history, and Redrive (or the reason it is refused);
* ``/console/compare?a=<name>&b=<name>``: two executions of one workflow side by side.

Server-rendered Jinja2 templates (autoescaped) with the product's own CSS and JS (``static/``): no
CDN, no inline script, a strict Content-Security-Policy. Admins log in with their API credentials;
:mod:`api.console.session` holds the session, CSRF, Host and Origin rules.
"""

from __future__ import annotations

from typing import Any

PREFIX = "/console"


def serves(event: dict[str, Any]) -> bool:
    """Whether an API Gateway proxy event is a console request (``/console`` or below it)."""
    path = str(event.get("path") or "")
    return path == PREFIX or path.startswith(PREFIX + "/")


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from api.console.routes import get_console

    return get_console().resolve(event, context)
