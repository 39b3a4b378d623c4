"""Ops on a running `lms dev`, as the issue's "Done when" reads.

After a purchase and a declined purchase: `lms executions list` shows both, `show` explains why the
declined one was declined, the console the API serves at `/console` renders both in headless Chromium
after an admin login (screenshots kept under ``test-artifacts/``), reads at 1,400 px (labels of at
least 11 px on screen, failure causes wrapped in full, its own compare colour) and refuses cross-site
use, and no secret, token, password or hash appears anywhere in the process's log output (the API's
and every task worker's, captured at DEBUG).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.test_lms_dev import LMS, _environment, _start, _stop

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "demo-password-123"  # _environment's LMS_DEMO_PASSWORD
JWT_SECRET = "an-e2e-jwt-signing-secret-0123456789abcdef"
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def dev() -> Iterator[dict[str, Any]]:
    env = {**_environment(), "POWERTOOLS_LOG_LEVEL": "DEBUG", "LMS_JWT_SECRET": JWT_SECRET}
    process, output = _start(env)
    try:
        output.wait_for("Press Ctrl-C", timeout=90)
        yield {"env": env, "output": output, "api": f"http://127.0.0.1:{env['LMS_API_PORT']}"}
    finally:
        _stop(process)


def lms(dev: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LMS), *args], env=dev["env"], capture_output=True, text=True, timeout=120, check=False
    )


def login(api: str, email: str, password: str) -> str:
    response = requests.post(f"{api}/auth/login", json={"email": email, "password": password}, timeout=30)
    assert response.status_code == 200, response.text
    return str(response.json()["accessToken"])


@pytest.fixture(scope="module")
def purchases(dev: dict[str, Any]) -> dict[str, Any]:
    """A paid purchase and a declined one, each paid with `lms pay` as docs/workflows/purchase.md shows."""
    api = dev["api"]
    registered = requests.post(
        f"{api}/auth/register",
        json={
            "email": "ops-e2e@example.org",
            "password": "a long password 42",
            "firstName": "O",
            "lastName": "P",
        },
        timeout=30,
    )
    assert registered.status_code == 201, registered.text
    token = login(api, "ops-e2e@example.org", "a long password 42")
    headers = {"Authorization": f"Bearer {token}"}
    paid = [
        c["courseId"] for c in requests.get(f"{api}/courses", timeout=30).json()["items"] if c["priceCents"]
    ]
    assert len(paid) >= 2, "the demo data has two paid courses"
    started = []
    for course, card in ((paid[0], "4242424242424242"), (paid[1], "4000000000000341")):
        response = requests.post(
            f"{api}/transactions", json={"courseId": course}, headers=headers, timeout=60
        )
        assert response.status_code == 202, response.text
        started.append(response.json())
        paying = lms(dev, "pay", response.json()["transactionId"], "--card", card, "--wait", "30")
        assert ("COMPLETED" if card.startswith("4242") else "FAILED") in paying.stdout, paying
    return {
        "completed": started[0],
        "declined": started[1],
        "token": token,
        "admin": login(api, "admin@example.com", PASSWORD),
    }


def test_lms_executions_list_shows_both_and_show_explains_the_decline(dev, purchases) -> None:
    listed = lms(dev, "executions", "list", "--workflow", "purchase")
    assert listed.returncode == 0, listed.stderr
    for started in (purchases["completed"], purchases["declined"]):
        (line,) = [line for line in listed.stdout.splitlines() if started["executionName"] in line]
        assert "SUCCEEDED" in line and "purchase" in line  # both ended in a business outcome

    shown = lms(dev, "executions", "show", purchases["declined"]["executionName"])
    assert shown.returncode == 0, shown.stderr
    assert "outcome       PaymentDeclined:" in shown.stdout
    assert re.search(r"AwaitPayment\s+Task\s+CAUGHT\s+.*PaymentFailed", shown.stdout), shown.stdout
    assert "DeclinePayment" in shown.stdout and "declined" in shown.stdout.lower()

    as_json = json.loads(
        lms(dev, "executions", "show", purchases["declined"]["executionName"], "--json").stdout
    )
    assert as_json["output"]["result"]["outcome"] == "PaymentDeclined"

    refused = lms(dev, "executions", "redrive", purchases["declined"]["executionName"])
    assert refused.returncode == 2 and "only a failed" in refused.stderr


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("Chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1800"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def navigate(browser: Any, control: Any) -> None:
    """Click a link or submit button and wait for the page it loads (a click returns before that)."""
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    page = browser.find_element("tag name", "html")
    control.click()
    WebDriverWait(browser, 30).until(expected_conditions.staleness_of(page))
    WebDriverWait(browser, 30).until(lambda b: b.execute_script("return document.readyState") == "complete")


def log_in(browser: Any, api: str) -> None:
    """The console asks for an admin login first; the login form leads back to the console."""
    from selenium.webdriver.common.by import By

    browser.get(f"{api}/console")
    assert browser.current_url.endswith("/console/login"), browser.current_url
    browser.find_element(By.NAME, "email").send_keys("admin@example.com")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "#login button"))
    assert browser.current_url.rstrip("/").endswith("/console"), browser.current_url
    session = browser.get_cookie("lms_console")
    assert session and session["httpOnly"] and session["sameSite"] == "Strict"


@pytest.fixture(scope="module")
def console(dev: dict[str, Any], browser: Any) -> Any:
    """The browser, logged in to the console as admin (once per module and worker: xdist may run
    this module's tests on different workers, each with its own `lms dev`)."""
    ARTIFACTS.mkdir(exist_ok=True)
    log_in(browser, dev["api"])
    return browser


def test_the_console_renders_both_executions_in_chromium(dev, purchases, console) -> None:
    from selenium.webdriver.common.by import By

    browser = console
    browser.get(f"{dev['api']}/console?workflow=purchase")
    names = {
        row.get_attribute("data-name")
        for row in browser.find_elements(By.CSS_SELECTOR, "#executions tr[data-name]")
    }
    assert {purchases["completed"]["executionName"], purchases["declined"]["executionName"]} <= names
    browser.save_screenshot(str(ARTIFACTS / "console-executions.png"))

    for kind, path_state, skipped in (
        ("completed", "Enrolled", "DeclinePayment"),
        ("declined", "DeclinePayment", "Enrolled"),
    ):
        name = purchases[kind]["executionName"]
        navigate(browser, browser.find_element(By.LINK_TEXT, name))
        assert name in browser.title
        visited = {
            g.get_attribute("data-state")
            for g in browser.find_elements(By.CSS_SELECTOR, "svg g.state.visited")
        }
        assert {"ValidateOrder", "AwaitPayment", path_state} <= visited and skipped not in visited
        caught = {
            g.get_attribute("data-state") for g in browser.find_elements(By.CSS_SELECTOR, "svg g.caught")
        }
        assert caught == ({"AwaitPayment"} if kind == "declined" else set())
        assert browser.find_element(By.ID, "timeline").is_displayed()
        assert browser.find_elements(By.CSS_SELECTOR, "#history tr")
        browser.save_screenshot(str(ARTIFACTS / f"console-{kind}-purchase.png"))
        browser.get(f"{dev['api']}/console?workflow=purchase")

    # Side by side: tick both, compare; the declined one's own states are marked as differing.
    for kind in ("completed", "declined"):
        name = purchases[kind]["executionName"]
        browser.find_element(By.CSS_SELECTOR, f"input[name=pick][value='{name}']").click()
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "#compare button"))
    sides = browser.find_elements(By.CSS_SELECTOR, "#comparison .side")
    assert len(sides) == 2 and len(browser.find_elements(By.CSS_SELECTOR, "#comparison svg")) == 2
    differing = {
        li.text.split()[0] for li in browser.find_elements(By.CSS_SELECTOR, "#comparison li.differs")
    }
    assert {"DeclinePayment", "EnrollStudent"} <= differing
    browser.save_screenshot(str(ARTIFACTS / "console-compare.png"))

    # Business record -> executions: a key search finds the transaction and links its execution.
    transaction_id = purchases["declined"]["transactionId"]
    browser.get(f"{dev['api']}/console?key={transaction_id}")
    assert "Business record: transaction" in browser.page_source
    assert browser.find_elements(By.LINK_TEXT, purchases["declined"]["executionName"])


def test_a_purchase_failed_by_a_fault_is_rerun_from_the_cli_and_charged_once(dev, purchases, console) -> None:
    from lms.purchases import transaction_id_for

    api, headers = dev["api"], {"Authorization": f"Bearer {purchases['token']}"}
    user_id = requests.get(f"{api}/auth/profile", headers=headers, timeout=30).json()["userId"]
    declined = f"{api}/transactions/{user_id}/{purchases['declined']['transactionId']}"
    course = requests.get(declined, headers=headers, timeout=30).json()["courseId"]  # free to buy again
    transaction_id = transaction_id_for(user_id, course, "e2e-rerun")
    fault = {
        "function": "lms-purchase-create-payment-intent",
        "errorType": "RuntimeError",
        # A long cause with a long unbroken word, as SDK errors have: the console wraps it in full.
        "errorMessage": "the SDK blew up: " + "request-id-0123456789abcdef" * 12 + " END-OF-CAUSE",
        "match": {"transactionId": transaction_id},
    }
    cloud = f"http://127.0.0.1:{dev['env']['LMS_CLOUD_PORT']}"
    assert requests.post(f"{cloud}/_local/faults", json=fault, timeout=30).status_code == 204
    started = requests.post(
        f"{api}/transactions",
        json={"courseId": course},
        headers={**headers, "Idempotency-Key": "e2e-rerun"},
        timeout=60,
    ).json()
    assert started["transactionId"] == transaction_id and started["status"] == "FAILED", started
    name = started["executionName"]
    shown = lms(dev, "executions", "show", name)
    assert "FAILED in     PurchaseFailed" in shown.stdout and "RuntimeError" in shown.stdout, shown.stdout

    offered = lms(dev, "executions", "redrive", name)
    assert offered.returncode == 2 and f"{name} --rerun" in offered.stderr, offered
    rerun = lms(dev, "executions", "redrive", name, "--rerun")
    assert rerun.returncode == 0 and f"{name}-rerun-1" in rerun.stdout, rerun
    reopened = f"{api}/transactions/{user_id}/{transaction_id}"
    deadline = time.monotonic() + 30
    while not requests.get(reopened, headers=headers, timeout=30).json().get("paymentIntentId"):
        assert time.monotonic() < deadline, "the re-run never created its PaymentIntent"
        time.sleep(0.2)
    paying = lms(dev, "pay", transaction_id, "--wait", "30")
    assert "COMPLETED" in paying.stdout, paying
    listed = lms(dev, "executions", "list", "--key", transaction_id).stdout
    assert "FAILED     purchase" in listed and "SUCCEEDED  purchase" in listed, listed
    mine = requests.get(f"{api}/transactions/{user_id}", headers=headers, timeout=30).json()["items"]
    assert [t["status"] for t in mine if t["transactionId"] == transaction_id] == ["COMPLETED"]

    # The transaction is COMPLETED: the CLI refuses another re-run and says why; `show` says it too.
    again = lms(dev, "executions", "redrive", name, "--rerun")
    assert again.returncode == 2 and "needs no re-run: its status is COMPLETED" in again.stderr, again
    shown = lms(dev, "executions", "show", name).stdout
    assert f"Business record: transaction {transaction_id}" in shown and '"status": "COMPLETED"' in shown
    assert f"executionName -> {name}-rerun-1" in shown and "needs no re-run" in shown

    from selenium.webdriver.common.by import By

    # The failed run: labels readable, the cause wrapped in full (no scrolling box), no Redrive.
    browser = console
    browser.get(f"{api}/console/executions/{name}")  # the run the fault failed
    sizes = on_screen_label_sizes(browser)
    assert sizes and min(sizes) >= 11, sizes
    causes = browser.find_elements(By.CSS_SELECTOR, "pre.cause")
    assert any("END-OF-CAUSE" in cause.text for cause in causes)  # the step's error, in full
    for cause in causes:
        assert browser.execute_script("return arguments[0].scrollWidth <= arguments[0].clientWidth", cause)
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    refused = browser.find_element(By.ID, "redrive-refused").text
    assert "COMPLETED" in refused and not browser.find_elements(By.ID, "redrive")
    browser.save_screenshot(str(ARTIFACTS / "console-failed-purchase.png"))


def on_screen_label_sizes(browser: Any) -> list[float]:
    """The size each graph label is drawn at on screen: its font size times the SVG's scale."""
    return [
        float(size)
        for size in browser.execute_script(
            "return [...document.querySelectorAll('svg.graph text')].map(t =>"
            " parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);"
        )
    ]


def test_the_console_reads_at_1400_px_and_refuses_cross_site_use(dev, purchases, console) -> None:
    browser, api = console, dev["api"]
    assert browser.execute_script("return window.innerWidth") <= 1400
    # Compare: both graphs readable side by side, differences in their own colour.
    a, b = purchases["completed"]["executionName"], purchases["declined"]["executionName"]
    browser.get(f"{api}/console/compare?a={a}&b={b}")
    sizes = on_screen_label_sizes(browser)
    assert len(sizes) > 20 and min(sizes) >= 11, sizes
    style = "return getComputedStyle(document.querySelector(arguments[0]))[arguments[1]]"
    differs = browser.execute_script(style, "g.state.differs rect", "stroke")
    caught = {
        browser.execute_script(style, "g.state.caught rect", "fill"),
        browser.execute_script(style, "g.state.caught rect", "stroke"),
        browser.execute_script(style, ".legend .key.caught", "backgroundColor"),
    }
    assert differs not in caught, (differs, caught)
    assert browser.execute_script(style, ".legend .key.differs", "backgroundColor") not in caught
    browser.save_screenshot(str(ARTIFACTS / "console-compare-readable.png"))

    # Cross-site use: a sandboxed page (Origin null), DNS rebinding (a foreign Host), no CSRF token.
    cookies = {"lms_console": browser.get_cookie("lms_console")["value"]}
    page = requests.get(f"{api}/console", cookies=cookies, timeout=30)
    assert page.status_code == 200
    assert (
        requests.get(f"{api}/console", cookies=cookies, headers={"Origin": "null"}, timeout=30).status_code
        == 403
    )
    port = api.rsplit(":", 1)[1]
    foreign = requests.get(
        f"{api}/console", cookies=cookies, headers={"Host": f"rebind.example:{port}"}, timeout=30
    )
    assert foreign.status_code == 403
    declined = purchases["declined"]["executionName"]
    forged = requests.post(
        f"{api}/console/executions/{declined}/redrive", cookies=cookies, data={}, timeout=30
    )
    assert forged.status_code == 403


def test_no_secret_token_password_or_hash_appears_in_the_logs(dev, purchases) -> None:
    api = dev["api"]
    # Auth traffic too: a failed login, a profile read, a password change and a logout.
    requests.post(
        f"{api}/auth/login", json={"email": "admin@example.com", "password": "wrong " + PASSWORD}, timeout=30
    )
    headers = {"Authorization": f"Bearer {purchases['token']}"}
    assert requests.get(f"{api}/auth/profile", headers=headers, timeout=30).status_code == 200
    changed = requests.patch(
        f"{api}/auth/profile", json={"password": "another long password 7"}, headers=headers, timeout=30
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.json()["accessToken"]
    assert (
        requests.post(
            f"{api}/auth/logout", headers={"Authorization": f"Bearer {fresh}"}, timeout=30
        ).status_code
        == 204
    )
    admin = {"Authorization": f"Bearer {purchases['admin']}"}
    detail = requests.get(
        f"{api}/ops/executions/{purchases['completed']['executionName']}", headers=admin, timeout=30
    )
    assert detail.status_code == 200
    task_tokens = _task_tokens(dev, purchases)
    assert task_tokens, "the history names AwaitPayment's task token"

    output = dev["output"]
    # Everything up to the last request is in: its access-log line comes after its own log lines.
    output.wait_for(f"GET /ops/executions/{purchases['completed']['executionName']} -> 200", timeout=30)
    # The start-up banner prints the demo logins on purpose; the logs are what comes after it.
    logs = "".join(output.lines).split("Press Ctrl-C to stop.", 1)[1]
    assert '"PurchasesCompleted"' in logs and '"PaymentFailures"' in logs  # the workers' EMF metrics
    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    correlated = {(r.get("service"), r.get("correlation_id")) for r in records}
    # Task logs carry the execution name, API logs the request id, as correlation id.
    assert ("lms-purchase", purchases["completed"]["executionName"]) in correlated
    assert any(
        service == "lms-api" and re.fullmatch(r"[0-9a-f-]{36}", str(correlation))
        for service, correlation in correlated
    ), correlated
    secrets = {
        "demo password": PASSWORD,
        "new password": "another long password 7",
        "registered password": "a long password 42",
        "access token": purchases["token"],
        "fresh access token": fresh,
        "admin token": purchases["admin"],
        "JWT signing secret": JWT_SECRET,
        "client secret": purchases["completed"]["clientSecret"],
        "declined client secret": purchases["declined"]["clientSecret"],
        **{f"task token {i}": token for i, token in enumerate(task_tokens)},
    }
    leaked = [what for what, secret in secrets.items() if secret and secret in logs]
    assert not leaked, leaked
    for pattern in (
        r"\$argon2",
        r"sk_test_\w+",
        r"whsec_\w+",
        r"pi_\w+_secret_\w+",
        r"eyJ[\w-]+\.[\w-]+\.[\w-]+",
    ):
        assert not re.search(pattern, logs), pattern


def _task_tokens(dev: dict[str, Any], purchases: dict[str, Any]) -> list[str]:
    import boto3

    client = boto3.client(
        "stepfunctions",
        endpoint_url=f"http://127.0.0.1:{dev['env']['LMS_CLOUD_PORT']}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    tokens = []
    for kind in ("completed", "declined"):
        events = client.get_execution_history(executionArn=purchases[kind]["executionArn"], maxResults=1000)[
            "events"
        ]
        for event in events:
            parameters = event.get("taskScheduledEventDetails", {}).get("parameters")
            token = json.loads(parameters).get("Payload", {}).get("taskToken") if parameters else None
            if token:
                tokens.append(token)
    return tokens
