"""The ops API (GET /ops/executions, GET /ops/executions/{name}, POST .../redrive) and the local console.

Executions come from the throwaway workflows (declared only through the catalog), so these tests hold
for whichever product workflows exist.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from werkzeug.test import Client

from infra.local.console import COOKIE, ConsoleApp
from tests.conftest import ApiClient
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


def test_the_console_on_loopback_lists_and_draws_an_execution(deployed, api_url: str) -> None:
    import requests

    started = greet("Grace")
    listing = requests.get(f"{api_url}/console", params={"key": started.name}, timeout=30)
    assert listing.status_code == 200 and started.name in listing.text

    page = requests.get(f"{api_url}/console/executions/{started.name}", timeout=30)
    assert page.status_code == 200
    assert "<svg" in page.text and "class='state visited' data-state='Greet'" in page.text
    assert "hello Grace" in page.text  # the output
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_the_console_off_loopback_is_for_admins_only(deployed, demo, new_user) -> None:
    console = Client(ConsoleApp(open_to_all=False))
    assert console.get("/console").status_code == 303  # to the login form

    student = new_user()
    refused = console.post("/console/login", data={"email": student.email, "password": student.password})
    assert refused.status_code == 403 and COOKIE not in refused.headers.get("Set-Cookie", "")
    forged = Client(ConsoleApp(open_to_all=False))
    forged.set_cookie(COOKIE, student.client.token or "", path="/console")
    assert forged.get("/console").status_code == 403

    cross_site = console.post(
        "/console/login",
        data={"email": "admin@example.com", "password": demo.password},
        headers={"Origin": "https://evil.example"},
    )
    assert cross_site.status_code == 403
    logged_in = console.post("/console/login", data={"email": "admin@example.com", "password": demo.password})
    assert logged_in.status_code == 303
    cookie = logged_in.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert console.get("/console").status_code == 200


def test_the_console_redrive_button_says_it_cannot_and_offers_the_rerun(deployed) -> None:
    failed = executions.start(DAWDLE, uuid.uuid4().hex, {"seconds": 5})
    execution(failed.arn, timeout=30)
    console = Client(ConsoleApp(open_to_all=True))
    page = console.get(f"/console/executions/{failed.name}").get_data(as_text=True)
    assert "id=redrive" in page and "class='state visited failed' data-state='Dawdle'" in page

    offered = console.post(f"/console/executions/{failed.name}/redrive").get_data(as_text=True)
    assert "cannot redrive" in offered and f"as {failed.name}-rerun-1" in offered
    assert (
        console.post(
            f"/console/executions/{failed.name}/redrive", headers={"Origin": "https://evil.example"}
        ).status_code
        == 403
    )

    started = console.post(f"/console/executions/{failed.name}/redrive", data={"rerun": "1"})
    assert "Re-run started" in started.get_data(as_text=True)
    rerun = console.get(f"/console/executions/{failed.name}-rerun-1").get_data(as_text=True)
    assert f"Re-run of</th><td><a href='/console/executions/{failed.name}'" in rerun
