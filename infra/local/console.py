"""The local ops console at ``/console``: what ops do in the AWS Step Functions console, on one machine.

Plain server-rendered HTML (no JavaScript build, no CDN) over :mod:`workflows.operations`, served
by the local API:

* ``/console``: executions of every deployed workflow, filtered by workflow, status and business
  key (a key search runs across all workflows, which the AWS console cannot do);
* ``/console/executions/<name>``: the state machine drawn from its ASL with the path taken and the
  failed state marked, the timeline, the event history with each state's input and output (secrets
  redacted), the business record it drives, and a Redrive button (a re-run locally);
* ``/console/compare?a=<name>&b=<name>``: two executions of one workflow side by side.

Bound to loopback the console is open, like the rest of ``lms dev``; bound to any other address it
asks for an admin login and keeps the access token in an HttpOnly, SameSite=Strict cookie.
"""

from __future__ import annotations

import html
import ipaddress
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode, urlparse

from werkzeug.wrappers import Request, Response

from lms import identity, keys, purchases
from lms.entities import Role
from lms.errors import ConflictError, LmsError, NotFoundError
from lms.publishing import publications
from lms.redaction import redact
from lms.table import Item, Table
from lms.video import records as video_records
from workflows import operations as ops

PREFIX = "/console"
COOKIE = "lms_console"

# --- the business record each workflow drives, found from an execution's business key ---------------


@dataclass(frozen=True)
class BusinessRecord:
    """How the console finds and links the record a workflow drives.

    ``lookup`` takes the business key (the execution name without its workflow prefix) and returns
    the record as JSON, or None; ``links`` are the dotted paths in it that hold execution names or
    ARNs, shown as links to those executions.
    """

    kind: str
    lookup: Callable[[str], dict[str, Any] | None]
    links: tuple[str, ...] = ("executionName", "executionArn")


def _transaction(key: str) -> dict[str, Any] | None:
    found = purchases.get_transaction(Table(), key)
    return found.model_dump(mode="json", by_alias=True, exclude={"task_token"}) if found else None


def _publication(key: str) -> dict[str, Any] | None:
    """``<courseId>-v<n>``: the course's publication record (it follows the course's latest run)."""
    course_id, _, version = key.rpartition("-v")
    if not course_id or not version.isdigit():
        return None
    found = publications.get_publication(Table(), course_id)
    return found.model_dump(mode="json", by_alias=True) if found else None


def _lesson_video(key: str) -> dict[str, Any] | None:
    """``<lessonId>-<uploadId>``: the lesson's video record (it follows the lesson's latest upload)."""
    lesson_id, _, upload_id = key.rpartition("-")
    if not lesson_id or not upload_id:
        return None
    found = video_records.find_record(Table(), lesson_id)
    return found.model_dump(mode="json", by_alias=True) if found else None


def _certificate_of(table: Table, user_id: str, course_id: str) -> Item | None:
    # Stored items, not entities: they hold what the entities leave out (the runs that touched them).
    listing = table.get(keys.user_certificate(user_id, course_id), consistent=True)
    return table.get(keys.certificate(str(listing["certificateId"])), consistent=True) if listing else None


def _issuance(key: str) -> dict[str, Any] | None:
    """``<userId>-<courseId>``: the enrollment (which notes every issuance run) and its certificate."""
    user_id, _, course_id = key.partition("-")
    table = Table()
    enrollment = table.get(keys.enrollment(user_id, course_id), consistent=True) if course_id else None
    if enrollment is None:
        return None
    return {"enrollment": enrollment, "certificate": _certificate_of(table, user_id, course_id)}


def _revocation(key: str) -> dict[str, Any] | None:
    """``<transactionId>``: the refunded transaction and the certificate the run revoked (if any)."""
    transaction = _transaction(key)
    if transaction is None:
        return None
    certificate = _certificate_of(Table(), transaction["userId"], transaction["courseId"])
    return {"transaction": transaction, "certificate": certificate}


_ISSUANCE_RUN = ("certificate.executionName", "certificate.executionArn")
_REVOCATION_RUN = ("certificate.revokedByExecutionName", "certificate.revokedByExecutionArn")

# Workflow name -> its record; a test holds every workflow of the catalog to having one.
RECORDS: dict[str, BusinessRecord] = {
    "purchase": BusinessRecord("transaction", _transaction),
    "publish": BusinessRecord("publication", _publication),
    "video": BusinessRecord("lesson video", _lesson_video),
    "certificate": BusinessRecord(
        "enrollment and certificate",
        _issuance,
        ("enrollment.certificateExecutionName", "enrollment.certificateExecutionArn", *_REVOCATION_RUN),
    ),
    "certificate-revocation": BusinessRecord(
        "transaction and certificate",
        _revocation,
        ("transaction.executionName", *_REVOCATION_RUN, *_ISSUANCE_RUN),
    ),
}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class ConsoleApp:
    """WSGI app for every path under ``/console``."""

    open_to_all: bool  # True when bound to loopback

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self._respond(request)
        return response(environ, start_response)

    def _respond(self, request: Request) -> Response:
        path = request.path.removeprefix(PREFIX).rstrip("/")
        if path == "/login":
            return self._login(request)
        if not self.open_to_all and (refusal := self._refuse(request)) is not None:
            return refusal
        if request.method == "POST" and not _same_origin(request):
            return _page("Refused", "<p>Cross-site requests are refused.</p>", status=403)
        operations = ops.Operations(ops.deployed_state_machines())
        try:
            if path == "" and request.method == "GET":
                return _page("Executions", _list_page(operations, request))
            if path == "/compare" and request.method == "GET":
                return _page("Compare", _compare_page(operations, request))
            if path.startswith("/executions/"):
                name, _, action = path.removeprefix("/executions/").partition("/")
                if action == "" and request.method == "GET":
                    return _page(name, _execution_page(operations, name))
                if action == "redrive" and request.method == "POST":
                    return _page(name, _redrive(operations, name, request.form.get("rerun") == "1"))
        except LmsError as error:
            return _page("Not here", f"<p class=error>{_e(error.message)}</p>", status=error.status)
        return _page("Not found", "<p>No such console page.</p>", status=404)

    def _refuse(self, request: Request) -> Response | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return _redirect(f"{PREFIX}/login")
        try:
            caller = identity.authenticate(Table(), token)
        except LmsError:
            return _redirect(f"{PREFIX}/login")
        if not caller.principal.has_role(Role.ADMIN):
            return _page("Forbidden", "<p>The console is for administrators.</p>", status=403)
        return None

    def _login(self, request: Request) -> Response:
        form = (
            f"<form method=post action='{PREFIX}/login'><label>Email <input name=email type=email></label> "
            "<label>Password <input name=password type=password></label> <button>Log in</button></form>"
        )
        if request.method != "POST":
            return _page("Log in", form)
        if not _same_origin(request):
            return _page("Refused", "<p>Cross-site requests are refused.</p>", status=403)
        try:
            result = identity.login(
                Table(),
                email=request.form.get("email", ""),
                password=request.form.get("password", ""),
                source=request.remote_addr or "unknown",
            )
        except LmsError as error:
            return _page("Log in", f"<p class=error>{_e(error.message)}</p>{form}", status=error.status)
        if result.user.role != Role.ADMIN:
            return _page("Forbidden", "<p>The console is for administrators.</p>", status=403)
        response = _redirect(PREFIX)
        response.set_cookie(
            COOKIE,
            result.access_token,
            max_age=result.expires_in,
            path=PREFIX,
            httponly=True,
            samesite="Strict",
            secure=request.scheme == "https",
        )
        return response


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin == "null" or urlparse(origin).netloc == request.host


def _redirect(location: str) -> Response:
    return Response(status=303, headers={"Location": location})


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _link(name: str) -> str:
    return f"<a href='{PREFIX}/executions/{quote(name)}'>{_e(name)}</a>"


def _json(value: Any) -> str:
    return f"<pre>{_e(json.dumps(value, indent=2, default=str))}</pre>"


def _when(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def _took(start: Any, stop: Any) -> str:
    return f"{(stop - start).total_seconds():.1f} s" if start and stop else "running"


def _status(status: str) -> str:
    return f"<span class='status {_e(status)}'>{_e(status)}</span>"


# --- pages ----------------------------------------------------------------------------------------


def _list_page(operations: ops.Operations, request: Request) -> str:
    workflow = request.args.get("workflow") or None
    status_arg = request.args.get("status") or None
    key = (request.args.get("key") or "").strip() or None
    if status_arg not in (None, *[s.value for s in ops.ExecutionStatus]):
        raise NotFoundError(f"No status {status_arg!r}.")
    status = ops.ExecutionStatus(status_arg) if status_arg else None
    found = operations.list_executions(workflow=workflow, status=status, business_key=key, limit=200)

    def option(value: str, chosen: str | None) -> str:
        return f"<option{' selected' if value == chosen else ''}>{_e(value)}</option>"

    workflows = "".join(option(w, workflow) for w in operations.state_machines)
    statuses = "".join(option(s.value, status_arg) for s in ops.ExecutionStatus)
    filters = (
        f"<form method=get action='{PREFIX}' class=filters>"
        f"<label>Workflow <select name=workflow><option value=''>all</option>{workflows}</select></label> "
        f"<label>Status <select name=status><option value=''>any</option>{statuses}</select></label> "
        f"<label>Business key <input name=key value='{_e(key or '')}' "
        "placeholder='transaction, course, lesson or user id'></label> <button>Filter</button></form>"
    )
    rows = "".join(
        f"<tr data-name='{_e(s.name)}'><td><input type=checkbox name=pick value='{_e(s.name)}'></td>"
        f"<td>{_status(s.status.value)}</td><td>{_e(s.workflow)}</td><td>{_link(s.name)}</td>"
        f"<td>{_e(s.business_key)}</td><td>{_when(s.start_date)}</td>"
        f"<td>{_took(s.start_date, s.stop_date)}</td></tr>"
        for s in found
    )
    table = (
        f"<form method=get action='{PREFIX}/compare' id=compare>"
        "<table id=executions><thead><tr><th></th><th>Status</th><th>Workflow</th><th>Execution</th>"
        "<th>Business key</th><th>Started (UTC)</th><th>Took</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        "<p><button>Compare the two ticked executions</button></p></form>"
        if found
        else "<p id=executions>No executions match.</p>"
    )
    record = _record_panel(found[0].workflow, found[0].business_key) if key and found else ""
    return filters + record + table


def _record_panel(workflow: str, key: str) -> str:
    source = RECORDS.get(workflow)
    record = source.lookup(key) if source else None
    if source is None or record is None:
        return ""
    executions = "".join(
        f"<li>{_e(path)}: {_link(str(value).rsplit(':', 1)[-1])}</li>"
        for path in source.links
        if (value := _at(record, path))
    )
    return (
        f"<section class=record id=record><h2>Business record: {_e(source.kind)} {_e(key)}</h2>"
        f"<ul>{executions}</ul>{_json(redact(record))}</section>"
    )


def _at(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _execution_page(operations: ops.Operations, name: str) -> str:
    detail = operations.describe(name)
    facts = [
        ("Status", _status(detail.status.value)),
        ("Workflow", _e(detail.workflow)),
        (
            "Business key",
            f"<a href='{PREFIX}?{urlencode({'key': detail.business_key})}'>{_e(detail.business_key)}</a>"
            " (every execution of it, in every workflow)",
        ),
        ("Started (UTC)", _when(detail.start_date)),
        ("Took", _took(detail.start_date, detail.stop_date)),
        ("ARN", _e(detail.execution_arn)),
    ]
    if detail.rerun_of:
        facts.append(("Re-run of", _link(detail.rerun_of)))
    if detail.reruns:
        facts.append(("Re-runs", ", ".join(_link(r) for r in detail.reruns)))
    summary = "".join(f"<tr><th>{label}</th><td>{value}</td></tr>" for label, value in facts)
    failure = (
        f"<section class=failure id=failure><h2>Failed in {_e(detail.failure.state)}</h2>"
        f"<p><b>{_e(detail.failure.error)}</b></p>{_json(detail.failure.cause)}</section>"
        if detail.failure
        else ""
    )
    redrive = (
        f"<form method=post action='{PREFIX}/executions/{quote(name)}/redrive'>"
        "<button id=redrive>Redrive</button></form>"
        if detail.status in ops.ENDED_BADLY
        else ""
    )
    compare = (
        f"<form method=get action='{PREFIX}/compare'><input type=hidden name=a value='{_e(name)}'>"
        f"<label>Compare with <input name=b placeholder='{_e(detail.workflow)}-…'></label> "
        "<button>Compare</button></form>"
    )
    record_html = _record_panel(detail.workflow, detail.business_key)
    return (
        f"<table class=facts>{summary}</table>{failure}{redrive}"
        f"<h2>State machine</h2>{graph(detail.definition, detail)}"
        f"<h2>Timeline</h2>{_timeline(detail)}"
        f"<h2>Input</h2>{_json(detail.input)}<h2>Output</h2>{_json(detail.output)}"
        f"{record_html}<h2>Event history</h2>{_history(detail)}{compare}"
    )


def _timeline(detail: ops.ExecutionDetail) -> str:
    rows = "".join(
        f"<tr class='step {_e(step.status)}'><td>{_e(step.name)}</td><td>{_e(step.type)}</td>"
        f"<td>{_status(step.status)}</td><td>{_when(step.entered_at)}</td>"
        f"<td>{'' if step.duration_ms is None else f'{step.duration_ms} ms'}</td>"
        f"<td>{_e(step.error or '')}{_json(step.cause) if step.cause else ''}</td>"
        "<td><details><summary>input / output</summary>"
        f"{_json(step.input)}{_json(step.output)}</details></td></tr>"
        for step in detail.steps
    )
    return (
        "<table id=timeline><thead><tr><th>State</th><th>Type</th><th>Status</th><th>Entered (UTC)</th>"
        f"<th>Took</th><th>Error</th><th>Data</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _history(detail: ops.ExecutionDetail) -> str:
    rows = "".join(
        f"<tr><td>{event.id}</td><td>{_e(event.type)}</td><td>{_when(event.timestamp)}</td>"
        f"<td><details><summary>details</summary>{_json(event.details)}</details></td></tr>"
        for event in detail.events
    )
    return f"<table id=history><tbody>{rows}</tbody></table>"


def _redrive(operations: ops.Operations, name: str, rerun: bool) -> str:
    try:
        result = operations.redrive(name, rerun_if_unsupported=rerun)
    except ops.RedriveUnsupportedError as error:
        return (
            f"<p class=notice>{_e(error.message)}</p>"
            f"<form method=post action='{PREFIX}/executions/{quote(name)}/redrive'>"
            "<input type=hidden name=rerun value=1>"
            f"<button id=rerun>Re-run with the original input as {_e(error.details['rerunName'])}</button>"
            f"</form><p>{_link(name)}</p>"
        )
    if result.mode == "redrive":
        return f"<p class=notice>Redriven: {_link(result.name)} resumes from its failed state.</p>"
    return f"<p class=notice>Re-run started: {_link(result.name)} (a re-run of {_link(name)}).</p>"


def _compare_page(operations: ops.Operations, request: Request) -> str:
    picked = request.args.getlist("pick")
    a, b = (picked + ["", ""])[:2] if picked else (request.args.get("a", ""), request.args.get("b", ""))
    if not a or not b:
        raise NotFoundError("Pick two executions to compare.")
    left, right = operations.describe(a), operations.describe(b)
    if left.workflow != right.workflow:
        raise ConflictError(f"{a} is a {left.workflow} execution and {b} a {right.workflow} one.")

    def column(detail: ops.ExecutionDetail, other: ops.ExecutionDetail) -> str:
        steps = "".join(
            f"<li class='{'differs' if step.name not in other.path else 'same'}'>"
            f"{_e(step.name)} {_status(step.status)} "
            f"{'' if step.duration_ms is None else f'{step.duration_ms} ms'}"
            f"{' ' + _e(step.error) if step.error else ''}</li>"
            for step in detail.steps
        )
        return (
            f"<div class=side><h2>{_link(detail.name)}</h2><p>{_status(detail.status.value)} "
            f"{_took(detail.start_date, detail.stop_date)}</p>{graph(detail.definition, detail)}"
            f"<ol>{steps}</ol><h3>Input</h3>{_json(detail.input)}<h3>Output</h3>{_json(detail.output)}</div>"
        )

    return f"<div class=compare id=comparison>{column(left, right)}{column(right, left)}</div>"


# --- the state machine, drawn from its ASL -----------------------------------------------------------

BOX_W, BOX_H, GAP_X, GAP_Y = 180, 34, 24, 46


def transitions(state: dict[str, Any]) -> list[tuple[str, bool]]:
    """(target, is_error_path) for every way out of a state."""
    found = [(state["Next"], False)] if "Next" in state else []
    found += [(choice["Next"], False) for choice in state.get("Choices", []) if "Next" in choice]
    if "Default" in state:
        found.append((state["Default"], False))
    found += [(catch["Next"], True) for catch in state.get("Catch", [])]
    return found


def graph(definition: dict[str, Any], detail: ops.ExecutionDetail) -> str:
    """An SVG of the top-level states, laid out in rows by distance from ``StartAt``."""
    states: dict[str, Any] = definition.get("States", {})
    levels: dict[str, int] = {}
    frontier = [definition.get("StartAt", "")]
    depth = 0
    while frontier:
        next_frontier = []
        for name in frontier:
            if name in states and name not in levels:
                levels[name] = depth
                next_frontier += [target for target, _ in transitions(states[name])]
        frontier, depth = next_frontier, depth + 1
    for name in states:  # unreachable states still get drawn, at the bottom
        levels.setdefault(name, depth)
    rows: dict[int, list[str]] = {}
    for name, level in levels.items():
        rows.setdefault(level, []).append(name)
    width = max(len(r) for r in rows.values()) * (BOX_W + GAP_X) + GAP_X
    position: dict[str, tuple[float, float]] = {}
    for level, names in rows.items():
        offset = (width - len(names) * (BOX_W + GAP_X) + GAP_X) / 2
        for index, name in enumerate(names):
            position[name] = (offset + index * (BOX_W + GAP_X), GAP_Y / 2 + level * (BOX_H + GAP_Y))
    height = (max(rows) + 1) * (BOX_H + GAP_Y)

    visited = set(detail.path)
    status_of = {step.name: step.status for step in detail.steps}
    failed = detail.failure.state if detail.failure else None
    taken = set(zip(detail.path, detail.path[1:], strict=False))
    edges, boxes = [], []
    for name, state in states.items():
        x, y = position[name]
        for target, is_error in transitions(state):
            if target not in position:
                continue
            tx, ty = position[target]
            css = "edge" + (" error" if is_error else "") + (" taken" if (name, target) in taken else "")
            edges.append(
                f"<line class='{css}' x1='{x + BOX_W / 2:.0f}' y1='{y + BOX_H:.0f}' "
                f"x2='{tx + BOX_W / 2:.0f}' y2='{ty:.0f}' marker-end='url(#arrow)'/>"
            )
        css = "state"
        if name in visited:
            css += " visited"
        if status_of.get(name) == "CAUGHT":
            css += " caught"
        if name == failed or status_of.get(name) == "FAILED":
            css += " failed"
        boxes.append(
            f"<g class='{css}' data-state='{_e(name)}'><title>{_e(name)} ({_e(state.get('Type'))})</title>"
            f"<rect x='{x:.0f}' y='{y:.0f}' width='{BOX_W}' height='{BOX_H}' rx='6'/>"
            f"<text x='{x + BOX_W / 2:.0f}' y='{y + BOX_H / 2 + 4:.0f}'>{_e(name)}</text></g>"
        )
    return (
        f"<svg class=graph xmlns='http://www.w3.org/2000/svg' width='{width:.0f}' height='{height:.0f}' "
        f"viewBox='0 0 {width:.0f} {height:.0f}'><defs><marker id='arrow' viewBox='0 0 10 10' refX='10' "
        "refY='5' markerWidth='6' markerHeight='6' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10 z'/>"
        f"</marker></defs>{''.join(edges)}{''.join(boxes)}</svg>"
        "<p class=legend><span class='key visited'>path taken</span> <span class='key caught'>error caught"
        "</span> <span class='key failed'>failed</span> <span class='key'>not visited</span></p>"
    )


STYLE = """
body{font:14px system-ui,sans-serif;margin:0;color:#1d2733}
header{background:#1d2733;color:#fff;padding:10px 20px}header a{color:#fff;text-decoration:none}
main{padding:16px 20px}table{border-collapse:collapse;margin:8px 0}
td,th{border-bottom:1px solid #dde;padding:4px 8px;text-align:left;vertical-align:top}
pre{background:#f4f6f8;padding:6px;max-width:720px;overflow:auto;margin:2px 0}
.status{padding:1px 6px;border-radius:8px;background:#e8eaed;font-size:12px}
.SUCCEEDED{background:#d7f5dd}.FAILED,.TIMED_OUT,.ABORTED{background:#fbd9d7}.RUNNING{background:#dbe8fb}
.CAUGHT{background:#fde9c8}.failure{border-left:4px solid #c62828;padding-left:10px}
.error{color:#c62828}.notice{background:#fff7d6;padding:8px}.filters label{margin-right:10px}
svg.graph{background:#fafbfc;border:1px solid #dde;max-width:100%;height:auto}
.state rect{fill:#eef0f3;stroke:#9aa4b1}.state text{font-size:11px;text-anchor:middle;fill:#1d2733}
.state.visited rect{fill:#c8ecd0;stroke:#2e7d32;stroke-width:2}
.state.caught rect{fill:#fde2b5;stroke:#e08a00;stroke-width:2}
.state.failed rect{fill:#f8c4c0;stroke:#c62828;stroke-width:3}
.edge{stroke:#b5bdc7;stroke-width:1}.edge.error{stroke-dasharray:4 3}
.edge.taken{stroke:#2e7d32;stroke-width:2.5}
.key{padding:1px 6px;border:1px solid #9aa4b1;background:#eef0f3}.key.visited{background:#c8ecd0}
.key.caught{background:#fde2b5}.key.failed{background:#f8c4c0}
.compare{display:flex;gap:20px}.side{flex:1;min-width:0}.differs{background:#fde2b5}
"""


def _page(title: str, body: str, status: int = 200) -> Response:
    document = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_e(title)} · LMS ops console"
        f"</title><style>{STYLE}</style></head><body><header><a href='{PREFIX}'><b>LMS ops console</b></a>"
        f" · {_e(title)}</header><main>{body}</main></body></html>"
    )
    return Response(
        document,
        status=status,
        content_type="text/html; charset=utf-8",
        headers={
            # Nothing loads from elsewhere and nothing runs: the pages are plain HTML and inline CSS.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            "X-Frame-Options": "DENY",
            "Cache-Control": "no-store",
        },
    )
