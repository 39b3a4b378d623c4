"""Concurrent requests to the local API never see each other's state (as separate Lambda invocations)."""

from __future__ import annotations

import concurrent.futures

from tests.conftest import ApiClient


def test_concurrent_callers_each_see_only_their_own_account(admin, instructor, student) -> None:
    callers: list[tuple[ApiClient, str]] = [
        (admin, "admin@example.com"),
        (instructor, "instructor@example.com"),
        (student, "student@example.com"),
    ]

    def profile(index: int) -> tuple[str, int, str | None]:
        client, email = callers[index % len(callers)]
        response = client.get("/auth/profile")
        return email, response.status_code, response.json().get("email")

    with concurrent.futures.ThreadPoolExecutor(max_workers=9) as pool:
        answers = list(pool.map(profile, range(90)))
    wrong = [answer for answer in answers if answer[1] != 200 or answer[0] != answer[2]]
    assert wrong == [], f"{len(wrong)} of {len(answers)} answers were for someone else or failed: {wrong[:3]}"
