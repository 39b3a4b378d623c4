"""Catalog over HTTP (docs/api.md, "Catalog"): categories, courses and lessons, with their permissions."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import ApiClient


def _category(admin: ApiClient, **extra: object) -> dict:
    response = admin.post(
        "/categories", json={"name": f"Cat {uuid.uuid4().hex[:8]}", "description": "d", **extra}
    )
    assert response.status_code == 201, response.text
    return response.json()


def _course(client: ApiClient, category_id: str, **extra: object) -> dict:
    body = {
        "title": "Testing Step Functions",
        "description": "d",
        "categoryId": category_id,
        "priceCents": 1999,
    }
    response = client.post("/courses", json={**body, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def _all_categories(client: ApiClient, limit: int = 100) -> list[dict]:
    """Every top-level category, walking the pages as a client would."""
    listed: list[dict] = []
    cursor = None
    while True:
        page = client.get("/categories", params={"limit": limit, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        listed += page.json()["items"]
        cursor = page.json()["nextCursor"]
        if not cursor:
            return listed


def test_admin_creates_category_and_subcategory_listed_together(
    admin: ApiClient, anonymous: ApiClient
) -> None:
    parent = _category(admin)
    child = _category(admin, parentCategoryId=parent["categoryId"])
    listed = {c["categoryId"]: c for c in _all_categories(anonymous)}
    assert [s["categoryId"] for s in listed[parent["categoryId"]]["subcategories"]] == [child["categoryId"]]
    assert child["categoryId"] not in listed, "subcategories are nested, not top-level"


def test_category_rules(admin: ApiClient, student: ApiClient, instructor: ApiClient) -> None:
    parent = _category(admin)
    duplicate = admin.post("/categories", json={"name": parent["name"].upper(), "description": ""})
    assert duplicate.status_code == 409
    child = _category(admin, parentCategoryId=parent["categoryId"])
    grandchild = admin.post("/categories", json={"name": "Too deep", "parentCategoryId": child["categoryId"]})
    assert grandchild.status_code == 422
    orphan = admin.post("/categories", json={"name": "Orphan", "parentCategoryId": "nope"})
    assert orphan.status_code == 404
    for caller in (student, instructor):
        assert caller.post("/categories", json={"name": "Not allowed"}).status_code == 403
    names = [c["name"] for c in _all_categories(admin)]
    assert "Not allowed" not in names and "Orphan" not in names


def test_instructor_creates_draft_with_lessons_and_reads_it_back(
    admin, instructor, student, anonymous
) -> None:
    category = _category(admin)
    course = _course(instructor, category["categoryId"])
    assert course["status"] == "DRAFT" and course["priceCents"] == 1999 and course["currency"] == "usd"
    me = instructor.get("/auth/profile").json()
    assert course["instructorId"] == me["userId"]

    for title, kind in (("Second", "text"), ("First", "video")):
        lesson = instructor.post(
            "/lessons",
            json={
                "courseId": course["courseId"],
                "title": title,
                "type": kind,
                "content": f"{title} body",
                "orderIndex": 1 if title == "Second" else 0,
            },
        )
        assert lesson.status_code == 201, lesson.text

    read = instructor.get(f"/courses/{course['courseId']}")
    assert read.status_code == 200 and read.json()["title"] == course["title"]
    lessons = instructor.get(f"/lessons/{course['courseId']}").json()
    assert [lesson["title"] for lesson in lessons["items"]] == ["First", "Second"]
    assert lessons["fullContent"] is True and lessons["items"][0]["content"] == "First body"

    # A draft is invisible to students and anonymous callers (404: drafts cannot be probed).
    for outsider in (student, anonymous):
        assert outsider.get(f"/courses/{course['courseId']}").status_code == 404
        assert outsider.get(f"/lessons/{course['courseId']}").status_code == 404
    # ... and not in the public listing.
    listed = anonymous.get("/courses", params={"categoryId": category["categoryId"]}).json()["items"]
    assert course["courseId"] not in [c["courseId"] for c in listed]
    assert admin.get(f"/courses/{course['courseId']}").status_code == 200


def test_published_courses_listed_by_category(anonymous: ApiClient, demo) -> None:
    python = demo.data.categories["Python"]
    response = anonymous.get("/courses", params={"categoryId": python.category_id})
    assert response.status_code == 200
    titles = {c["title"] for c in response.json()["items"]}
    # The demo's published Python courses, not its draft; other tests publish into the same category.
    assert {"Python for Beginners", "Async Python in Practice"} <= titles
    assert all(c["status"] == "PUBLISHED" for c in response.json()["items"])
    assert all(c["categoryId"] == python.category_id for c in response.json()["items"])
    web = anonymous.get(
        "/courses", params={"categoryId": demo.data.categories["Web Development"].category_id}
    )
    web_titles = {c["title"] for c in web.json()["items"]}
    assert "HTML & CSS Foundations" in web_titles and "Django Deep Dive (draft)" not in web_titles


def test_course_list_paginates_without_duplicates(anonymous: ApiClient) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = anonymous.get("/courses", params=params).json()
        seen += [c["courseId"] for c in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) >= 4


def test_unknown_category_and_course_are_404(anonymous: ApiClient) -> None:
    assert anonymous.get("/courses", params={"categoryId": "unknown"}).status_code == 404
    assert anonymous.get("/courses/unknown").json()["error"]["code"] == "NOT_FOUND"
    assert anonymous.get("/lessons/unknown").status_code == 404


def test_lesson_outline_hides_content_from_the_public(anonymous: ApiClient, student: ApiClient, demo) -> None:
    course = demo.data.courses["Python for Beginners"]
    for caller in (anonymous, student):  # the demo student is not enrolled
        outline = caller.get(f"/lessons/{course.course_id}").json()
        assert outline["fullContent"] is False
        assert [lesson["title"] for lesson in outline["items"]] == [
            "Installing Python",
            "Variables",
            "Functions",
        ]
        assert all(lesson["content"] is None for lesson in outline["items"])


def test_student_cannot_create_courses_or_lessons(student: ApiClient, admin: ApiClient, demo) -> None:
    category = _category(admin)
    refused = student.post(
        "/courses", json={"title": "Mine", "categoryId": category["categoryId"], "priceCents": 0}
    )
    assert refused.status_code == 403
    course = demo.data.courses["Python for Beginners"]
    lesson = student.post("/lessons", json={"courseId": course.course_id, "title": "Sneaky", "type": "text"})
    assert lesson.status_code == 403
    assert "Sneaky" not in str(student.get(f"/lessons/{course.course_id}").json())


def test_instructor_cannot_edit_another_instructors_course(admin, new_user, demo) -> None:
    other = new_user("instructor").client
    course = demo.data.courses["Python for Beginners"]
    before = admin.get(f"/courses/{course.course_id}").json()
    assert other.put(f"/courses/{course.course_id}", json={"title": "Hijacked"}).status_code == 403
    assert other.delete(f"/courses/{course.course_id}").status_code == 403
    lessons = admin.get(f"/lessons/{course.course_id}").json()["items"]
    assert other.put(f"/lessons/{lessons[0]['lessonId']}", json={"title": "Hijacked"}).status_code == 403
    assert other.delete(f"/lessons/{lessons[0]['lessonId']}").status_code == 403
    assert (
        other.post(
            "/lessons", json={"courseId": course.course_id, "title": "Extra", "type": "text"}
        ).status_code
        == 403
    )
    assert admin.get(f"/courses/{course.course_id}").json() == before
    assert admin.get(f"/lessons/{course.course_id}").json()["items"] == lessons


def test_owner_updates_and_deletes_course_and_lessons(admin, instructor) -> None:
    category = _category(admin)
    course = _course(instructor, category["categoryId"])
    course_id = course["courseId"]
    updated = instructor.put(f"/courses/{course_id}", json={"title": "Renamed course", "priceCents": 2500})
    assert updated.status_code == 200
    assert updated.json()["title"] == "Renamed course" and updated.json()["priceCents"] == 2500
    assert updated.json()["status"] == "DRAFT"
    lesson = instructor.post(
        "/lessons", json={"courseId": course_id, "title": "Only lesson", "type": "text"}
    ).json()
    assert lesson["orderIndex"] == 0
    edited = instructor.put(f"/lessons/{lesson['lessonId']}", json={"content": "new text"})
    assert edited.status_code == 200 and edited.json()["content"] == "new text"
    assert instructor.delete(f"/lessons/{lesson['lessonId']}").status_code == 204
    assert instructor.get(f"/lessons/{course_id}").json()["items"] == []
    assert instructor.delete(f"/courses/{course_id}").status_code == 204
    assert instructor.get(f"/courses/{course_id}").status_code == 404


@pytest.mark.parametrize(
    "body",
    [{"status": "PUBLISHED"}, {"enrollmentCount": 0}, {"priceCents": -1}, {"priceCents": 19.99}, {}],
)
def test_course_update_refuses_forbidden_or_invalid_fields(admin, instructor, body) -> None:
    course = _course(instructor, _category(admin)["categoryId"])
    response = instructor.put(f"/courses/{course['courseId']}", json=body)
    assert response.status_code == 400
    assert instructor.get(f"/courses/{course['courseId']}").json() == course


def test_course_with_enrollments_cannot_be_deleted(admin, instructor, local_cloud) -> None:
    from lms import keys
    from lms.expressions import Update
    from lms.table import Table

    course = _course(instructor, _category(admin)["categoryId"])
    # Enrollment counters are written by the purchase workflow; set one directly here.
    Table().update(keys.course_counters(course["courseId"]), Update().set(enrollmentCount=1))
    refused = instructor.delete(f"/courses/{course['courseId']}")
    assert refused.status_code == 409
    assert instructor.get(f"/courses/{course['courseId']}").status_code == 200


def test_course_needs_an_existing_category(instructor: ApiClient) -> None:
    response = instructor.post(
        "/courses", json={"title": "Nowhere", "categoryId": "missing", "priceCents": 0}
    )
    assert response.status_code == 404


def test_categories_page_like_every_other_list(admin: ApiClient, anonymous: ApiClient) -> None:
    for _ in range(3):
        _category(admin)
    one_by_one = _all_categories(anonymous, limit=1)
    ids = [c["categoryId"] for c in one_by_one]
    assert len(ids) == len(set(ids)) >= 6, "every top-level category once, the demo's three included"
    assert ids == [c["categoryId"] for c in _all_categories(anonymous)], "pages add up to the whole list"
    first = anonymous.get("/categories", params={"limit": 2}).json()
    assert len(first["items"]) == 2 and first["nextCursor"]
    courses_cursor = anonymous.get("/courses", params={"limit": 1}).json()["nextCursor"]
    foreign = anonymous.get("/categories", params={"cursor": courses_cursor})
    assert foreign.status_code == 400 and foreign.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_course_reads_back_with_the_seed_fields(admin: ApiClient, instructor: ApiClient) -> None:
    category = _category(admin)
    course = _course(instructor, category["categoryId"], difficulty="advanced", duration=90)
    assert course["difficulty"] == "advanced" and course["duration"] == 90
    read = instructor.get(f"/courses/{course['courseId']}").json()
    assert read["difficulty"] == "advanced" and read["duration"] == 90
    assert "level" not in read
    refused = instructor.post(
        "/courses",
        json={
            "title": "Old names",
            "categoryId": category["categoryId"],
            "priceCents": 0,
            "level": "advanced",
        },
    )
    assert refused.status_code == 400, "level is not the seed's name"


def test_course_duration_follows_its_lessons_durations(admin: ApiClient, instructor: ApiClient) -> None:
    category = _category(admin)
    course = _course(instructor, category["categoryId"], duration=5)
    course_id = course["courseId"]
    first = instructor.post(
        "/lessons", json={"courseId": course_id, "title": "Intro", "type": "video", "duration": 600}
    ).json()
    assert first["duration"] == 600 and first["videoUrl"] is None
    second = instructor.post(
        "/lessons", json={"courseId": course_id, "title": "More", "type": "text", "duration": 630}
    ).json()
    assert instructor.get(f"/courses/{course_id}").json()["duration"] == 21  # 1230 s, in whole minutes
    changed = instructor.put(f"/lessons/{second['lessonId']}", json={"duration": 300})
    assert changed.status_code == 200 and changed.json()["duration"] == 300
    assert instructor.get(f"/courses/{course_id}").json()["duration"] == 15
    derived = instructor.put(f"/courses/{course_id}", json={"duration": 3})
    assert derived.status_code == 422, "derived from the lessons, so not settable"
    for lesson in (first, second):
        assert instructor.delete(f"/lessons/{lesson['lessonId']}").status_code == 204
    assert instructor.get(f"/courses/{course_id}").json()["duration"] == 5, "back to the one set"
    outline = instructor.get(f"/lessons/{course_id}").json()
    assert outline["items"] == []


def test_put_clears_an_optional_field_with_null_and_leaves_absent_ones(
    admin: ApiClient, instructor: ApiClient
) -> None:
    category = _category(admin)
    course = _course(instructor, category["categoryId"], duration=40, description="A long story")
    cleared = instructor.put(f"/courses/{course['courseId']}", json={"duration": None})
    assert cleared.status_code == 200, cleared.text
    read = instructor.get(f"/courses/{course['courseId']}").json()
    assert (
        read["duration"] is None
        and read["description"] == "A long story"
        and read["title"] == course["title"]
    )
    required = instructor.put(f"/courses/{course['courseId']}", json={"title": None})
    assert required.status_code == 400 and instructor.get(f"/courses/{course['courseId']}").json()["title"]

    lesson = instructor.post(
        "/lessons",
        json={
            "courseId": course["courseId"],
            "title": "Words",
            "type": "text",
            "content": "c",
            "duration": 60,
        },
    ).json()
    cleared_lesson = instructor.put(
        f"/lessons/{lesson['lessonId']}", json={"content": None, "duration": None}
    )
    assert cleared_lesson.status_code == 200, cleared_lesson.text
    body = cleared_lesson.json()
    assert body["content"] is None and body["duration"] is None and body["title"] == "Words"
    assert instructor.get(f"/courses/{course['courseId']}").json()["duration"] is None


@pytest.mark.parametrize(
    ("price", "currency", "code"),
    [
        (49, "usd", "PRICE_BELOW_MINIMUM"),
        (1, "usd", "PRICE_BELOW_MINIMUM"),
        (4900, "xyz", "UNSUPPORTED_CURRENCY"),
    ],
)
def test_prices_stripe_cannot_charge_are_refused(
    admin: ApiClient, instructor: ApiClient, price: int, currency: str, code: str
) -> None:
    category = _category(admin)
    body = {"title": "Cheap", "categoryId": category["categoryId"], "priceCents": price, "currency": currency}
    refused = instructor.post("/courses", json=body)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == code
    course = _course(instructor, category["categoryId"])
    update = instructor.put(
        f"/courses/{course['courseId']}", json={"priceCents": price, "currency": currency}
    )
    assert update.status_code == 422 and update.json()["error"]["code"] == code
    assert instructor.get(f"/courses/{course['courseId']}").json()["priceCents"] == course["priceCents"]


def test_free_and_minimum_prices_are_allowed(admin: ApiClient, instructor: ApiClient) -> None:
    category = _category(admin)
    assert _course(instructor, category["categoryId"], priceCents=0)["priceCents"] == 0
    assert _course(instructor, category["categoryId"], priceCents=50)["priceCents"] == 50


def test_demo_courses_carry_the_seed_fields(anonymous: ApiClient, demo) -> None:
    course = anonymous.get(f"/courses/{demo.data.courses['Python for Beginners'].course_id}").json()
    assert course["difficulty"] == "beginner" and course["duration"] == 32  # 1920 s of lessons
    free = anonymous.get(f"/courses/{demo.data.courses['HTML & CSS Foundations'].course_id}").json()
    assert free["duration"] == 45  # its lessons have no durations: the one set
    lessons = anonymous.get(f"/lessons/{course['courseId']}").json()["items"]
    assert [lesson["duration"] for lesson in lessons] == [420, 600, 900]
    assert all(lesson["videoUrl"] is None for lesson in lessons)
