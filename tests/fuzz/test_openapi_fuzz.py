"""Property-based fuzz of the whole OpenAPI document: no request, valid or not, is ever answered 5xx.

Schemathesis reads the document /openapi.json serves and generates, for every operation, bodies,
path and query parameters that follow the schema and that break it, and sends them to the local API.
Each case is sent by an anonymous caller and by a fresh student, instructor and admin (fresh, so a
generated password or role change never touches the accounts other tests share).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from requests.adapters import HTTPAdapter
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from api.app import openapi_json
from tests.conftest import ApiClient, register_user

# Enough to find the classes of 500 an outside fuzzer found, in a couple of minutes on two cores.
EXAMPLES_PER_OPERATION = 20
ROLES = ("student", "instructor", "admin")
# Generated logins fail by the hundred, and failed logins are throttled per source address: the fuzz
# calls from its own loopback address so that it never locks the other tests' logins out.
FUZZ_SOURCE_ADDRESS = "127.0.0.2"

# The same document the API serves (test_api_docs holds the two equal), read without a server so
# that every operation is its own test and xdist can spread them.
schema = schemathesis.openapi.from_dict(json.loads(openapi_json()))
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES_PER_OPERATION
)
# Logging out would revoke the fuzzing caller's own token, and the rest of its run would be 401s.
schema = schema.exclude(path="/auth/logout")


@pytest.fixture(scope="module")
def callers(anonymous: ApiClient, admin: ApiClient) -> list[dict[str, str]]:
    tokens = [register_user(anonymous, admin, role).client.token for role in ROLES]
    return [{}, *({"Authorization": f"Bearer {token}"} for token in tokens)]


class _FromFuzzAddress(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (FUZZ_SOURCE_ADDRESS, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture(scope="module")
def fuzz_session() -> requests.Session:
    session = requests.Session()
    session.mount("http://", _FromFuzzAddress())
    return session


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
def test_no_request_is_answered_with_a_server_error(
    case: Any, api_url: str, callers: list[dict[str, str]], fuzz_session: requests.Session
) -> None:
    for headers in callers:
        case.call_and_validate(
            base_url=api_url, session=fuzz_session, headers=headers, checks=[not_a_server_error], timeout=30
        )
