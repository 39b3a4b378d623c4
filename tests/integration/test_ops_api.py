"""The ops API (GET /ops/executions, GET /ops/executions/{name}, POST .../redrive) and the console the
API serves at /console: its admin login, CSRF, Host and Origin checks, and its pages.

Executions come from the throwaway workflows (declared only through the catalog), so these tests hold
for whichever product workflows exist.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import requests

from api.console.session import SESSION_COOKIE
from tests.conftest import ApiClient
from tests.console import console_login, csrf_of
from tests.purchases import execution
from tests.throwaway import DAWDLE, GREET
from workflows import executions


@pytest.fixture(scope="module")
def deployed(local_cloud: Any) -> Any:
    for workflow in (GREET, DAWDLE):
        if workflow.name not in local_cloud.state_machine_arns:
            local_cloud.deploy(workflow)
    return local_cloud


def greet(name: str = "Ada") -> executions.StartedExecution:
    started = executions.start(GREET, uuid.uuid4().hex, {"name": name})
    execution(started.arn)
    return started


def test_admin_finds_an_execution_by_business_key_and_reads_its_timeline(deployed, admin: ApiClient) -> None:
    started = greet()
    key = started.name.removeprefix(f"{GREET.name}-")

    found = admin.get("/ops/executions", params={"businessKey": key})
    assert found.status_code == 200, found.text
    (item,) = found.json()["items"]
    assert item["name"] == started.name and item["workflow"] == GREET.name
    assert item["status"] == "SUCCEEDED" and item["businessKey"] == key

    detail = admin.get(f"/ops/executions/{started.name}")
    assert detail.status_code == 200, detail.text
    body = detail.json()
    assert body["input"] == {"name": "Ada"} and body["output"]["greeting"] == "hello Ada"
    assert body["path"] == ["Greet", "Greeted"] and body["failure"] is None
    assert [s["name"] for s in body["steps"]] == ["Greet", "Greeted"]
    assert body["steps"][0]["durationMs"] is not None
    assert body["events"][0]["type"] == "ExecutionStarted"
    assert body["definition"]["StartAt"] == "Greet"


def test_list_pages_with_a_cursor(deployed, admin: ApiClient) -> None:
    for _ in range(3):
        greet()
    first = admin.get("/ops/executions", params={"workflow": GREET.name, "limit": 2}).json()
    assert len(first["items"]) == 2 and first["nextCursor"]
    second = admin.get(
        "/ops/executions", params={"workflow": GREET.name, "limit": 2, "cursor": first["nextCursor"]}
    ).json()
    assert second["items"] and not {i["name"] for i in first["items"]} & {i["name"] for i in second["items"]}


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/ops/executions", {"status": "BROKEN"}, 400),
        ("/ops/executions", {"workflow": "Not A Workflow"}, 400),
        ("/ops/executions", {"workflow": "no-such-workflow"}, 404),
        ("/ops/executions", {"cursor": "not-a-cursor"}, 400),
        ("/ops/executions/throwaway-greet-nothing-like-this", {}, 404),
        ("/ops/executions/not a name", {}, 400),
    ],
)
def test_bad_requests_are_clear_errors(deployed, admin: ApiClient, path, params, status) -> None:
    response = admin.get(path, params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"]


def test_redrive_locally_says_it_cannot_and_reruns_on_request(deployed, admin: ApiClient) -> None:
    succeeded = greet()
    refused = admin.post(f"/ops/executions/{succeeded.name}/redrive")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "CONFLICT"

    failed = executions.start(DAWDLE, uuid.uuid4().hex, {"seconds": 5})
    execution(failed.arn, timeout=30)
    unsupported = admin.post(f"/ops/executions/{failed.name}/redrive", json={})
    assert unsupported.status_code == 409, unsupported.text
    error = unsupported.json()["error"]
    assert error["code"] == "REDRIVE_UNSUPPORTED"
    assert error["details"]["rerunName"] == f"{failed.name}-rerun-1"

    rerun = admin.post(f"/ops/executions/{failed.name}/redrive", json={"rerun": True})
    assert rerun.status_code == 202, rerun.text
    assert rerun.json()["mode"] == "rerun" and rerun.json()["name"] == f"{failed.name}-rerun-1"
    detail = admin.get(f"/ops/executions/{failed.name}-rerun-1").json()
    assert detail["rerunOf"] == failed.name and detail["input"] == {"seconds": 5}
    assert admin.get(f"/ops/executions/{failed.name}").json()["reruns"] == [f"{failed.name}-rerun-1"]


def test_a_second_rerun_is_refused_while_the_first_is_in_flight(deployed, admin: ApiClient) -> None:
    # Given a failed run re-run once, the re-run still running (it dawdles for two seconds)...
    failed = executions.start(DAWDLE, uuid.uuid4().hex, {"seconds": 5})
    execution(failed.arn, timeout=30)
    first = admin.post(f"/ops/executions/{failed.name}/redrive", json={"rerun": True})
    assert first.status_code == 202, first.text

    # ...another re-run is refused with the reason, and nothing starts.
    second = admin.post(f"/ops/executions/{failed.name}/redrive", json={"rerun": True})
    assert second.status_code == 409, second.text
    error = second.json()["error"]
    assert error["code"] == "REDRIVE_REFUSED"
    assert f"{failed.name}-rerun-1" in error["message"] and "still running" in error["message"]
    detail = admin.get(f"/ops/executions/{failed.name}").json()
    assert detail["reruns"] == [f"{failed.name}-rerun-1"]
    assert "still running" in detail["redriveRefusal"]


def greet_console(api_url: str, demo) -> tuple[requests.Session, executions.StartedExecution]:
    return console_login(api_url, "admin@example.com", demo.password), greet("Grace")


def test_the_console_asks_for_an_admin_login_with_a_strict_session_cookie(
    deployed, api_url: str, demo, new_user
) -> None:
    browser = requests.Session()
    first = browser.get(f"{api_url}/console", allow_redirects=False, timeout=30)
    assert first.status_code == 303 and first.headers["Location"] == "/console/login"

    student = new_user()
    refused = requests.Session()
    with pytest.raises(AssertionError, match="403"):
        console_login(api_url, student.email, student.password, session=refused)
    assert SESSION_COOKIE not in refused.cookies

    admin = console_login(api_url, "admin@example.com", demo.password)
    cookie = admin.last_login.headers["Set-Cookie"]  # type: ignore[attr-defined]
    assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Path=/console" in cookie and "Secure" not in cookie  # plain http on loopback only
    listing = admin.get(f"{api_url}/console", timeout=30)
    assert listing.status_code == 200 and 'id="executions"' in listing.text
    csp = listing.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp

    # A student's token in the cookie is not a console session.
    forged = requests.Session()
    forged.cookies.set(SESSION_COOKIE, student.client.token or "", path="/console")
    assert forged.get(f"{api_url}/console", timeout=30).status_code == 403

    # Logging out ends the session (the token is revoked).
    token = admin.cookies[SESSION_COOKIE]
    out = admin.post(
        f"{api_url}/console/logout",
        data={"csrf": csrf_of(listing.text)},
        allow_redirects=False,
        headers={"Origin": api_url},
        timeout=30,
    )
    assert out.status_code == 303
    stale = requests.Session()
    stale.cookies.set(SESSION_COOKIE, token, path="/console")
    assert stale.get(f"{api_url}/console", allow_redirects=False, timeout=30).status_code == 303


def test_the_console_cookies_are_secure_when_it_is_reached_over_https(deployed, api_url: str, demo) -> None:
    # API Gateway says https with X-Forwarded-Proto; only plain http on loopback goes without Secure.
    form = requests.get(f"{api_url}/console/login", headers={"X-Forwarded-Proto": "https"}, timeout=30)
    nonce = re.search(r'name="nonce" value="([^"]+)"', form.text)
    assert nonce and "Secure" in form.headers["Set-Cookie"]
    answer = requests.post(
        f"{api_url}/console/login",
        data={"nonce": nonce[1], "email": "admin@example.com", "password": demo.password},
        headers={"X-Forwarded-Proto": "https", "Origin": api_url, "Cookie": f"lms_console_login={nonce[1]}"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303, answer.text
    assert f"{SESSION_COOKIE}=" in answer.headers["Set-Cookie"] and "Secure" in answer.headers["Set-Cookie"]


def test_the_console_refuses_null_origins_foreign_hosts_and_posts_without_its_csrf_token(
    deployed, api_url: str, demo, admin: ApiClient
) -> None:
    api = admin
    admin, _ = greet_console(api_url, demo)
    failed = executions.start(DAWDLE, uuid.uuid4().hex, {"seconds": 5})
    execution(failed.arn, timeout=30)
    page = admin.get(f"{api_url}/console/executions/{failed.name}", timeout=30)
    assert page.status_code == 200 and 'id="redrive"' in page.text
    redrive = f"{api_url}/console/executions/{failed.name}/redrive"
    port = api_url.rsplit(":", 1)[1]

    # A sandboxed page (Origin: null), a DNS-rebinding page (a foreign Host), a cross-site form.
    assert admin.get(f"{api_url}/console", headers={"Origin": "null"}, timeout=30).status_code == 403
    assert (
        admin.get(f"{api_url}/console", headers={"Host": f"rebind.example:{port}"}, timeout=30).status_code
        == 403
    )
    assert (
        requests.get(
            f"{api_url}/console/login", headers={"Host": f"rebind.example:{port}"}, timeout=30
        ).status_code
        == 403
    )
    csrf = csrf_of(page.text)
    for headers in (
        {"Origin": "null"},
        {"Origin": "https://evil.example"},
        {"Host": f"rebind.example:{port}"},
    ):
        refused = admin.post(redrive, data={"csrf": csrf, "rerun": "1"}, headers=headers, timeout=30)
        assert refused.status_code == 403, headers
    # The admin's own session, but no (or another session's) CSRF token.
    assert admin.post(redrive, data={"rerun": "1"}, timeout=30).status_code == 403
    assert admin.post(redrive, data={"rerun": "1", "csrf": "0" * 64}, timeout=30).status_code == 403
    # The cookie is no bearer token for the API itself, and nothing was re-run.
    assert admin.get(f"{api_url}/ops/executions/{failed.name}", timeout=30).status_code == 401
    assert api.get(f"/ops/executions/{failed.name}").json()["reruns"] == []

    # A loopback name for the loopback address it is bound to is the same console.
    assert admin.get(f"http://localhost:{port}/console", timeout=30).status_code in (200, 303)


def test_the_console_lists_draws_and_reruns_an_execution(deployed, api_url: str, demo) -> None:
    admin, started = greet_console(api_url, demo)
    listing = admin.get(f"{api_url}/console", params={"key": started.name}, timeout=30)
    assert listing.status_code == 200 and f'data-name="{started.name}"' in listing.text

    page = admin.get(f"{api_url}/console/executions/{started.name}", timeout=30)
    assert page.status_code == 200
    assert "<svg" in page.text and '<g class="state visited" data-state="Greet">' in page.text
    assert "hello Grace" in page.text  # the output
    assert 'id="redrive"' not in page.text  # it succeeded

    failed = executions.start(DAWDLE, uuid.uuid4().hex, {"seconds": 5})
    execution(failed.arn, timeout=30)
    page = admin.get(f"{api_url}/console/executions/{failed.name}", timeout=30)
    assert '<g class="state visited failed" data-state="Dawdle">' in page.text
    redrive = f"{api_url}/console/executions/{failed.name}/redrive"
    offered = admin.post(redrive, data={"csrf": csrf_of(page.text)}, timeout=30)
    assert "cannot redrive" in offered.text and f"as {failed.name}-rerun-1" in offered.text
    started_rerun = admin.post(redrive, data={"csrf": csrf_of(offered.text), "rerun": "1"}, timeout=30)
    assert "Re-run started" in started_rerun.text
    again = admin.post(redrive, data={"csrf": csrf_of(offered.text), "rerun": "1"}, timeout=30)
    assert again.status_code == 409 and "still running" in again.text  # -rerun-2 never starts beside it
    rerun = admin.get(f"{api_url}/console/executions/{failed.name}-rerun-1", timeout=30).text
    assert f'<th>Re-run of</th><td><a href="/console/executions/{failed.name}">' in rerun


def test_the_console_serves_its_own_assets_and_loads_nothing_from_elsewhere(
    deployed, api_url: str, demo
) -> None:
    admin, started = greet_console(api_url, demo)
    page = admin.get(f"{api_url}/console/executions/{started.name}", timeout=30).text
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page)  # no CDN, nothing off-site
    assert "<script>" not in page and " style=" not in page and " on" + "click=" not in page
    for asset, kind in (("console.css", "text/css"), ("console.js", "text/javascript")):
        served = requests.get(f"{api_url}/console/static/{asset}", timeout=30)
        assert served.status_code == 200 and served.headers["Content-Type"].startswith(kind)
    assert requests.get(f"{api_url}/console/static/../app.py", timeout=30).status_code == 404
