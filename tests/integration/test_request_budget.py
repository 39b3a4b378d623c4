"""Read routes make at most two DynamoDB calls (a sharded list: one parallel round), never a Scan."""

from __future__ import annotations

import pytest

from lms import keys
from tests.conftest import ApiClient


@pytest.mark.parametrize("who", ["anonymous", "student", "instructor", "admin"])
def test_read_routes_make_at_most_two_dynamodb_calls(request, who: str, demo, dynamodb_calls) -> None:
    client: ApiClient = request.getfixturevalue(who)
    published = demo.data.courses["Python for Beginners"].course_id
    draft = demo.data.courses["Django Deep Dive (draft)"].course_id
    category = demo.data.categories["Python"].category_id
    paths = [
        "/health",
        "/categories",
        "/courses",
        f"/courses?categoryId={category}",
        f"/courses/{published}",
        f"/courses/{draft}",
        f"/lessons/{published}",
        f"/lessons/{draft}",
    ]
    if who != "anonymous":
        paths.append("/auth/profile")
    if who == "admin":
        paths.append("/admin/users")
    # The user list is sharded (lms/keys.py): its shards are queried in parallel, one round trip.
    budget = {"/admin/users": 1 + keys.USER_LIST_SHARDS}
    for path in paths:
        dynamodb_calls.reset()
        response = client.get(path)
        assert response.status_code in (200, 404), (path, response.text)
        assert len(dynamodb_calls.operations) <= budget.get(path, 2), (path, dynamodb_calls.operations)
        if path != "/health":
            assert dynamodb_calls.operations, f"{path}: the hook saw no call, so it is not measuring"
        assert "Scan" not in dynamodb_calls.operations
