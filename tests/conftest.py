"""Shared fixtures: the embedded local cloud, the local API, demo data and an HTTP client.

Each pytest-xdist worker starts its own local cloud on free ports, so workers never share state.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

# Configuration every test process needs before any product module reads settings.
os.environ.setdefault("LMS_JWT_SECRET", secrets.token_urlsafe(48))
os.environ.setdefault("LMS_MAIL_SECRET", secrets.token_urlsafe(48))  # signs unsubscribe links
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

TESTS_DIR = Path(__file__).parent
SUITE_MARKERS = {
    "unit": "unit",
    "integration": "integration",
    "workflow": "workflow",
    "infra": "infra",
    "e2e": "slow",
    "fuzz": "slow",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its suite (the folder it lives in), so `-m` can pick suites."""
    for item in items:
        suite = Path(str(item.fspath)).relative_to(TESTS_DIR).parts[0]
        if suite in SUITE_MARKERS:
            item.add_marker(getattr(pytest.mark, SUITE_MARKERS[suite]))


@pytest.fixture(scope="session")
def local_cloud() -> Iterator[Any]:
    from infra.local.cloud import LocalCloud

    cloud = LocalCloud(port=0).start()
    cloud.bootstrap()
    yield cloud
    cloud.stop()


def free_port() -> int:
    """A port free on every interface: localstripe binds ``::``, and after thousands of test
    connections a port free on 127.0.0.1 can still be in TIME-WAIT there (seen: 6 % of probes)."""
    family, address = (socket.AF_INET6, "::") if socket.has_ipv6 else (socket.AF_INET, "0.0.0.0")  # noqa: S104
    with socket.socket(family) as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def local_stripe() -> Iterator[Any]:
    from infra.local.stripe import LocalStripe

    stripe = LocalStripe(port=free_port()).start()
    stripe.configure_environment()
    yield stripe
    stripe.stop()


@pytest.fixture(scope="session")
def api_url(local_cloud: Any, local_stripe: Any) -> Iterator[str]:
    from infra.local.api_gateway import LocalApi
    from lms.settings import reset_settings

    api = LocalApi(port=0).start()
    local_stripe.register_webhook(f"{api.url}/webhooks/stripe")
    reset_settings()
    yield api.url
    api.stop()


@dataclass
class Demo:
    password: str
    data: Any


@pytest.fixture(scope="session")
def demo(local_cloud: Any) -> Demo:
    from infra.local.seed import seed_demo_data
    from lms.table import Table

    password = secrets.token_urlsafe(12)
    return Demo(password=password, data=seed_demo_data(Table(), password))


@dataclass
class ApiClient:
    """requests against the local API, with the caller's token when given one."""

    base_url: str
    token: str | None = None
    session: requests.Session = field(default_factory=requests.Session)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.session.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def as_token(self, token: str | None) -> ApiClient:
        return ApiClient(self.base_url, token, self.session)

    def login(self, email: str, password: str) -> ApiClient:
        response = self.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        return self.as_token(response.json()["accessToken"])


@pytest.fixture(scope="session")
def anonymous(api_url: str) -> ApiClient:
    return ApiClient(api_url)


@pytest.fixture(scope="session")
def admin(anonymous: ApiClient, demo: Demo) -> ApiClient:
    return anonymous.login("admin@example.com", demo.password)


@pytest.fixture(scope="session")
def instructor(anonymous: ApiClient, demo: Demo) -> ApiClient:
    return anonymous.login("instructor@example.com", demo.password)


@pytest.fixture(scope="session")
def student(anonymous: ApiClient, demo: Demo) -> ApiClient:
    return anonymous.login("student@example.com", demo.password)


@dataclass
class NewUser:
    client: ApiClient
    user_id: str
    email: str
    password: str


def register_user(anonymous: ApiClient, admin: ApiClient, role: str = "student") -> NewUser:
    """Register a fresh account over HTTP (promoted by the admin if a role is asked for) and log in."""
    email = f"user-{uuid.uuid4().hex[:10]}@example.org"
    password = secrets.token_urlsafe(12)
    response = anonymous.post(
        "/auth/register",
        json={"email": email, "password": password, "firstName": "Test", "lastName": role},
    )
    assert response.status_code == 201, response.text
    user_id = response.json()["userId"]
    if role != "student":
        promoted = admin.patch(f"/admin/users/{user_id}", json={"role": role})
        assert promoted.status_code == 200, promoted.text
    return NewUser(anonymous.login(email, password), user_id, email, password)


@pytest.fixture
def new_user(anonymous: ApiClient, admin: ApiClient) -> Any:
    """Factory fixture: ``new_user(role="student")`` -> a fresh, logged-in account."""
    return lambda role="student": register_user(anonymous, admin, role)


class DynamoDbCalls:
    """Records the DynamoDB operations of the API handler and of the test's own thread; a Scan fails
    the request outright. Calls the local cloud makes on its own threads (the engine's DynamoDB
    service integrations, event routing, schedules) belong to other tests' workflows, not counted."""

    def __init__(self) -> None:
        self.operations: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)
        if model.name == "Scan":
            raise AssertionError("Scan on a request path: every access pattern must be a Query or GetItem")

    def from_main_thread(self, model: Any, **kwargs: Any) -> None:
        if threading.current_thread() is threading.main_thread():
            self(model, **kwargs)

    def reset(self) -> None:
        self.operations.clear()


def api_client(service: str) -> Any:
    """The client of ``service`` the local API's handler uses in this process: the product's cached
    client signed with the API role's credentials (the harness's own calls use the administrator's)."""
    from infra.local.iam import local_api_credentials
    from lms import aws

    with aws.acting_as(local_api_credentials()):
        return aws.client(service)


def api_dynamodb() -> Any:
    return api_client("dynamodb")


@pytest.fixture(scope="session")
def dynamodb_calls(api_url: str) -> DynamoDbCalls:
    """Hooks the product's cached DynamoDB clients: the API handler's, and this process's own (domain
    code a test calls directly)."""
    from lms import aws

    recorder = DynamoDbCalls()
    api, own = api_dynamodb(), aws.dynamodb()
    assert api is not own, "the API must sign with its own role's client"
    api.meta.events.register("before-call.dynamodb", recorder)
    own.meta.events.register("before-call.dynamodb", recorder.from_main_thread)
    return recorder
