"""Course publishing: the real ASL on the local engine, the real task handlers, driven over HTTP.

Every test builds its own courses as a fresh instructor, so tests never share a publication.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
from datetime import datetime
from typing import Any

import pytest

from lms import aws, keys
from lms.clock import isoformat
from lms.events import CoursePublished
from lms.table import Table
from tests.conftest import ApiClient, NewUser
from tests.publishing import (
    create_course,
    decide,
    publication_until,
    publish,
    publish_with_approval,
    stop_execution,
    text_lesson,
    throttled_sends,
    transitions_outside_map,
)
from tests.purchases import buy, execution

FINISHED = ("PUBLISHED", "CHECKLIST_FAILED", "REJECTED", "FAILED")


def category(demo: Any) -> str:
    return str(demo.data.categories["Python"].category_id)


def outcome(execution_arn: str) -> tuple[str, str | None]:
    described, _ = execution(execution_arn)
    output = json.loads(described.get("output") or "{}")
    return described["status"], output.get("result", {}).get("outcome")


def listed(anonymous: ApiClient, category_id: str, course_id: str) -> bool:
    page = anonymous.get(f"/courses?categoryId={category_id}&limit=100").json()
    return course_id in {c["courseId"] for c in page["items"]}


@pytest.fixture
def trusted(new_user, admin: ApiClient, demo) -> NewUser:
    """An instructor whose first publication an admin approved: later ones publish without review."""
    instructor = new_user("instructor")
    first = create_course(instructor.client, category(demo))
    publish_with_approval(instructor.client, admin, first)
    return instructor


@pytest.fixture
def published_events(local_cloud) -> Any:
    """The CoursePublished details delivered on the product's bus (tests/events.py)."""
    from lms.events import CoursePublished
    from tests.events import subscribe

    return subscribe(CoursePublished)


def test_each_checklist_failure_is_reported_with_its_code(new_user, demo, anonymous) -> None:
    instructor = new_user("instructor").client
    lessons = [
        text_lesson("Empty", content="<p>  </p>", orderIndex=0),
        text_lesson("Scripted", content="<p>Hi</p><script>steal()</script>", orderIndex=1),
        text_lesson("Handler", content='<img src="x.png" onerror="steal()"><p>Hi</p>', orderIndex=2),
        {"title": "Clip", "type": "video", "orderIndex": 3},
        {"title": "Quiz", "type": "quiz", "content": '{"questions": [{"question": "?"}]}', "orderIndex": 5},
    ]
    course = create_course(instructor, category(demo), lessons=lessons, description="")

    started = publish(instructor, course)
    assert started["executionName"] == f"publish-{course}-v1"
    result = publication_until(instructor, course, *FINISHED)

    assert result["status"] == "CHECKLIST_FAILED" and result["checklistPassed"] is False
    by_lesson = {(f.get("lessonTitle"), f["code"]) for f in result["checklist"]}
    assert by_lesson == {
        (None, "DESCRIPTION_MISSING"),
        (None, "ORDER_NOT_CONTIGUOUS"),
        ("Empty", "TEXT_EMPTY"),
        ("Scripted", "UNSAFE_HTML"),
        ("Handler", "UNSAFE_HTML"),
        ("Clip", "VIDEO_NOT_READY"),
        ("Quiz", "QUIZ_NOT_SET_UP"),
    }
    assert all(f["message"] for f in result["checklist"]) and "problem" in result["reason"]
    assert outcome(started["executionArn"]) == ("SUCCEEDED", "ChecklistFailed")
    assert not listed(anonymous, category(demo), course)


def test_a_course_without_lessons_fails_the_checklist(new_user, demo) -> None:
    instructor = new_user("instructor").client
    course = create_course(instructor, category(demo), lessons=[])
    publish(instructor, course)
    result = publication_until(instructor, course, *FINISHED)
    assert result["status"] == "CHECKLIST_FAILED"
    assert [f["code"] for f in result["checklist"]] == ["NO_LESSONS"]


def test_first_publication_waits_for_an_admin_who_approves_it(
    new_user, admin, demo, anonymous, published_events
) -> None:
    instructor = new_user("instructor")
    lessons = [text_lesson("Intro"), text_lesson("Check")]
    course = create_course(instructor.client, category(demo), lessons=lessons)

    started = publish(instructor.client, course)
    waiting = publication_until(instructor.client, course, "AWAITING_APPROVAL")
    pending = admin.get("/admin/approvals?limit=100").json()["items"]
    mine = next(a for a in pending if a["approvalId"] == waiting["approvalId"])
    assert mine["courseId"] == course and mine["instructorId"] == instructor.user_id
    assert (mine["executionName"], mine["executionArn"]) == (
        started["executionName"],
        started["executionArn"],
    )
    assert not listed(anonymous, category(demo), course)

    assert decide(admin, waiting["approvalId"], "approve").status_code == 200
    published = publication_until(instructor.client, course, *FINISHED)

    assert published["status"] == "PUBLISHED" and published["version"] == 1 and published["publishedAt"]
    assert outcome(started["executionArn"]) == ("SUCCEEDED", "Published")
    assert transitions_outside_map(execution(started["executionArn"])[1]) <= 10  # the budget
    assert listed(anonymous, category(demo), course)
    seen = anonymous.get(f"/courses/{course}").json()
    assert seen["status"] == "PUBLISHED" and seen["publishedVersion"] == 1
    assert waiting["approvalId"] not in {
        a["approvalId"] for a in admin.get("/admin/approvals").json()["items"]
    }
    pointer = Table().get(keys.published_pointer(course), consistent=True)
    assert pointer is not None
    (event,) = published_events(courseId=course)
    assert event == {
        "eventId": CoursePublished.id_for(course, "1"),  # one per published version, whatever retries
        "occurredAt": isoformat(datetime.fromisoformat(pointer["publishedAt"])),
        "schemaVersion": 1,
        "actor": {"type": "user", "id": instructor.user_id},  # who asked for the publication
        "verb": "published",
        "object": {"type": "course", "id": course},
        "result": "published",
        "courseId": course,
        "version": 1,
        "title": pointer["title"],
        "categoryId": category(demo),
        "instructorId": instructor.user_id,
        "publishedAt": isoformat(datetime.fromisoformat(pointer["publishedAt"])),
    }
    assert decide(admin, waiting["approvalId"], "approve").status_code == 409  # decided once


def test_a_trusted_instructor_publishes_without_review(trusted: NewUser, demo, anonymous) -> None:
    course = create_course(trusted.client, category(demo))
    started = publish(trusted.client, course)
    result = publication_until(trusted.client, course, *FINISHED)
    assert result["status"] == "PUBLISHED" and result["approvalId"] is None
    assert outcome(started["executionArn"]) == ("SUCCEEDED", "Published")
    assert listed(anonymous, category(demo), course)


def test_an_admin_flag_sends_a_trusted_instructor_back_to_review(trusted: NewUser, admin, demo) -> None:
    flagged = admin.put(f"/admin/instructors/{trusted.user_id}/review", json={"required": True})
    assert flagged.status_code == 200, flagged.text
    course = create_course(trusted.client, category(demo))
    publish(trusted.client, course)
    assert publication_until(trusted.client, course, "AWAITING_APPROVAL", *FINISHED)["status"] == (
        "AWAITING_APPROVAL"
    )


def test_a_rejection_ends_the_run_with_the_admins_reason(new_user, admin, demo, anonymous) -> None:
    instructor = new_user("instructor").client
    course = create_course(instructor, category(demo))
    started = publish(instructor, course)
    waiting = publication_until(instructor, course, "AWAITING_APPROVAL")

    assert decide(admin, waiting["approvalId"], "reject").status_code == 422  # a reason is required
    assert decide(admin, waiting["approvalId"], "reject", "Lesson two copies a book.").status_code == 200
    result = publication_until(instructor, course, *FINISHED)

    assert result["status"] == "REJECTED" and result["reason"] == "Lesson two copies a book."
    assert outcome(started["executionArn"]) == ("SUCCEEDED", "Rejected")
    assert not listed(anonymous, category(demo), course)
    assert instructor.get(f"/courses/{course}").json()["status"] == "DRAFT"


def test_an_approval_nobody_decides_times_out(new_user, admin, demo) -> None:
    from lms.settings import reset_settings

    instructor = new_user("instructor").client
    course = create_course(instructor, category(demo))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LMS_APPROVAL_TIMEOUT_SECONDS", "4")
        reset_settings()
        try:
            started = publish(instructor, course)
        finally:
            patch.delenv("LMS_APPROVAL_TIMEOUT_SECONDS")
            reset_settings()
    waiting = publication_until(instructor, course, "AWAITING_APPROVAL", *FINISHED)
    result = publication_until(instructor, course, *FINISHED)

    assert result["status"] == "FAILED" and result["reason"] == "approval timed out"
    assert outcome(started["executionArn"]) == ("SUCCEEDED", "ApprovalTimedOut")
    assert waiting["approvalId"] not in {
        a["approvalId"] for a in admin.get("/admin/approvals").json()["items"]
    }
    late = decide(admin, waiting["approvalId"], "approve")
    assert late.status_code == 409, late.text
    # The instructor can try again: the next run is v2.
    assert publish(instructor, course)["executionName"] == f"publish-{course}-v2"


def test_concurrent_publish_requests_start_one_run(trusted: NewUser, demo) -> None:
    course = create_course(trusted.client, category(demo))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: publish(trusted.client, course), range(4)))

    assert {a["executionName"] for a in answers} == {f"publish-{course}-v1"}
    publication_until(trusted.client, course, *FINISHED)
    runs = aws.client("stepfunctions").list_executions(
        stateMachineArn=answers[0]["executionArn"].rsplit(":", 1)[0].replace(":execution:", ":stateMachine:")
    )["executions"]
    assert [r["name"] for r in runs if r["name"].startswith(f"publish-{course}-")] == [f"publish-{course}-v1"]


def test_students_read_the_published_version_while_the_draft_changes(trusted: NewUser, demo, student) -> None:
    owner = trusted.client
    course = create_course(owner, category(demo), title="Version one title")
    publish(owner, course)
    publication_until(owner, course, "PUBLISHED")

    assert owner.put(f"/courses/{course}", json={"title": "Version two title"}).status_code == 200
    lesson_id = owner.get(f"/lessons/{course}").json()["items"][0]["lessonId"]
    assert owner.put(f"/lessons/{lesson_id}", json={"title": "Rewritten"}).status_code == 200

    seen = student.get(f"/courses/{course}").json()
    assert (seen["title"], seen["publishedVersion"]) == ("Version one title", 1)
    assert [lesson["title"] for lesson in student.get(f"/lessons/{course}").json()["items"]] == ["One", "Two"]
    assert owner.get(f"/courses/{course}").json()["title"] == "Version two title"  # the owner edits the draft

    republished = publish(owner, course)
    assert republished["executionName"] == f"publish-{course}-v2"
    assert publication_until(owner, course, *FINISHED)["status"] == "PUBLISHED"
    seen = student.get(f"/courses/{course}").json()
    assert (seen["title"], seen["publishedVersion"]) == ("Version two title", 2)
    assert [lesson["title"] for lesson in student.get(f"/lessons/{course}").json()["items"]] == [
        "Rewritten",
        "Two",
    ]


def test_only_the_owner_or_an_admin_publishes(new_user, demo, student) -> None:
    owner = new_user("instructor").client
    other = new_user("instructor").client
    course = create_course(owner, category(demo))
    for caller in (other, student):
        assert caller.post(f"/courses/{course}/publish").status_code == 403
        assert caller.get(f"/courses/{course}/publication").status_code == 403
        assert caller.post(f"/courses/{course}/unpublish").status_code == 403
    assert owner.get(f"/courses/{course}/publication").status_code == 404  # never submitted


# A lesson check failing inside the Map (after CaptureSnapshot wrote the snapshot), and the publish
# itself failing (after the checklist and review passed): both end in RecordFault -> PublishFailed.
@pytest.mark.parametrize("function", ["lms-publish-check-lesson", "lms-publish-publish"])
def test_a_fault_while_publishing_fails_the_run_and_publishes_nothing(
    function: str, trusted: NewUser, demo, local_cloud, anonymous
) -> None:
    course = create_course(trusted.client, category(demo))
    local_cloud.runtime.inject_fault(
        function, "TableOnFireError", "disk on fire", count=1, match={"courseId": course}
    )
    started = publish(trusted.client, course)
    result = publication_until(trusted.client, course, *FINISHED)

    assert result["status"] == "FAILED" and "internal fault" in result["reason"]
    described, _ = execution(started["executionArn"])
    assert described["status"] == "FAILED" and described.get("error") == "PublishFailed"
    assert not listed(anonymous, category(demo), course)
    assert anonymous.get(f"/courses/{course}").status_code == 404
    # Nothing half-written holds the course: the next request publishes it.
    publish(trusted.client, course)
    assert publication_until(trusted.client, course, *FINISHED)["status"] == "PUBLISHED"
    assert listed(anonymous, category(demo), course)


def test_unpublish_takes_a_course_off_the_catalog_but_enrolled_students_keep_it(
    trusted: NewUser, new_user, demo, anonymous
) -> None:
    course = create_course(trusted.client, category(demo))
    publish(trusted.client, course)
    publication_until(trusted.client, course, "PUBLISHED")
    enrolled = new_user().client
    bought = buy(enrolled, course)  # free: enrolled without payment
    deadline = time.monotonic() + 20
    while not enrolled.get(f"/lessons/{course}").json()["fullContent"]:
        assert time.monotonic() < deadline, bought
        time.sleep(0.1)

    response = trusted.client.post(f"/courses/{course}/unpublish")
    assert response.status_code == 200 and response.json()["status"] == "DRAFT"

    assert not listed(anonymous, category(demo), course)
    assert anonymous.get(f"/courses/{course}").status_code == 404
    assert enrolled.get(f"/courses/{course}").status_code == 200
    assert enrolled.get(f"/lessons/{course}").json()["fullContent"] is True
    newcomer = new_user().client
    refused = newcomer.post("/transactions", json={"courseId": course})
    assert refused.status_code in (404, 422), refused.text
    assert trusted.client.post(f"/courses/{course}/unpublish").status_code == 409


def test_students_pay_the_published_price_not_the_draft_one(trusted: NewUser, demo, new_user) -> None:
    course = create_course(trusted.client, category(demo), price_cents=4900)
    publish(trusted.client, course)
    publication_until(trusted.client, course, "PUBLISHED")
    assert trusted.client.put(f"/courses/{course}", json={"priceCents": 9900}).status_code == 200

    buyer = new_user()
    started = buy(buyer.client, course)
    seen = buyer.client.get(f"/transactions/{buyer.user_id}/{started['transactionId']}").json()
    assert seen["amount"] == {"amount": 4900, "currency": "usd"}


def test_a_deleted_published_course_leaves_the_catalog(trusted: NewUser, demo, anonymous) -> None:
    course = create_course(trusted.client, category(demo))
    publish(trusted.client, course)
    publication_until(trusted.client, course, "PUBLISHED")
    assert trusted.client.delete(f"/courses/{course}").status_code == 204
    assert not listed(anonymous, category(demo), course)
    assert anonymous.get(f"/courses/{course}").status_code == 404


def test_a_run_claimed_by_a_request_that_died_before_starting_it_is_started_by_the_next(
    trusted: NewUser, demo
) -> None:
    from lms.publishing import publications
    from lms.table import Table
    from workflows import executions
    from workflows.publish import PUBLISH

    course = create_course(trusted.client, category(demo))
    name = f"publish-{course}-v1"
    # What the first request wrote before it died: its claim on run 1, and no execution.
    claim = publications.Publication(
        course_id=course,
        version=1,
        execution_name=name,
        execution_arn=executions.execution_arn(PUBLISH, name),
        requested_by=trusted.user_id,
    )
    Table().put(publications.publication_item(claim))

    again = publish(trusted.client, course)
    assert again["executionName"] == name
    assert publication_until(trusted.client, course, *FINISHED)["status"] == "PUBLISHED"


def pending_approvals(admin: ApiClient) -> set[str]:
    return {a["approvalId"] for a in admin.get("/admin/approvals?limit=100").json()["items"]}


def test_a_throttled_decision_changes_nothing_and_its_retry_publishes(new_user, admin, demo) -> None:
    """Issue 15: the approval used to be settled before the send, so a throttled send lost it."""
    instructor = new_user("instructor").client
    course = create_course(instructor, category(demo))
    started = publish(instructor, course)
    waiting = publication_until(instructor, course, "AWAITING_APPROVAL")

    with throttled_sends(times=1) as refused:
        answer = decide(admin, waiting["approvalId"], "approve")

    assert refused and answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "DECISION_NOT_DELIVERED"
    assert waiting["approvalId"] in pending_approvals(admin)  # still pending, still decidable
    assert instructor.get(f"/courses/{course}/publication").json()["status"] == "AWAITING_APPROVAL"

    retried = decide(admin, waiting["approvalId"], "approve")
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "APPROVED"
    assert publication_until(instructor, course, *FINISHED)["status"] == "PUBLISHED"
    assert outcome(started["executionArn"]) == ("SUCCEEDED", "Published")


def test_a_publication_whose_run_was_stopped_is_closed_and_the_course_publishes_again(
    new_user, admin, demo
) -> None:
    """Issue 15: a run that ended outside its Catch (here: stopped) used to hold the course for ever."""
    from lms import human_tasks
    from lms.publishing import approvals
    from lms.table import Table

    instructor = new_user("instructor").client
    course = create_course(instructor, category(demo))
    first = publish(instructor, course)
    waiting = publication_until(instructor, course, "AWAITING_APPROVAL")
    task = human_tasks.get_task(Table(), approvals.KIND, waiting["approvalId"])
    assert task is not None and task.task_token
    stopped = stop_execution(first["executionArn"], task.task_token)
    assert instructor.get(f"/courses/{course}/publication").json()["status"] == "AWAITING_APPROVAL"  # stuck

    again = publish(instructor, course)

    assert again["executionName"] == f"publish-{course}-v2" and again["version"] == 2
    closed = human_tasks.get_task(Table(), approvals.KIND, waiting["approvalId"])
    assert closed is not None and closed.status == human_tasks.HumanTaskStatus.EXPIRED
    assert f"ended ({stopped['status']})" in str(closed.reason)
    assert waiting["approvalId"] not in pending_approvals(admin)
    assert decide(admin, waiting["approvalId"], "approve").status_code == 409
    second = publication_until(instructor, course, "AWAITING_APPROVAL")
    assert second["version"] == 2 and decide(admin, second["approvalId"], "approve").status_code == 200
    assert publication_until(instructor, course, *FINISHED)["status"] == "PUBLISHED"


def test_the_record_of_a_stopped_run_says_failed_with_the_runs_cause(new_user, admin, demo) -> None:
    """Through the adapter: the stuck record is closed FAILED, with what the orchestrator reports."""
    from lms import human_tasks
    from lms.publishing import approvals, publications
    from lms.table import Table
    from workflows.publish import StepFunctionsRuns

    instructor = new_user("instructor").client
    course = create_course(instructor, category(demo))
    started = publish(instructor, course)
    waiting = publication_until(instructor, course, "AWAITING_APPROVAL")
    runs = StepFunctionsRuns()
    assert runs.ended(started["executionArn"]) is None  # running: nothing to close
    task = human_tasks.get_task(Table(), approvals.KIND, waiting["approvalId"])
    assert task is not None and task.task_token
    stopped = stop_execution(started["executionArn"], task.task_token)

    ended = runs.ended(started["executionArn"])
    assert ended is not None and ended.status == stopped["status"]
    record = publications.get_publication(Table(), course)
    assert record is not None
    closed = publications.close_ended_run(Table(), record, ended)

    seen = instructor.get(f"/courses/{course}/publication").json()
    assert closed.status == "FAILED" and seen["status"] == "FAILED" and seen["finishedAt"]
    assert seen["reason"].startswith(f"The publishing run ended ({stopped['status']})")
    assert waiting["approvalId"] not in pending_approvals(admin)


def test_three_huge_lessons_full_of_handlers_keep_the_run_state_small(new_user, demo) -> None:
    """Issue 15: three 50,000-character lessons of on* attributes made the checklist exceed 256 KB."""
    instructor = new_user("instructor").client
    handlers = " ".join(f"on{i}" for i in range(7000))
    huge = f"<p {handlers}>Hi</p>"[:49_990] + ">Hi</p>"
    assert len(huge) <= 50_000
    lessons = [text_lesson(f"Huge {i}", content=huge, orderIndex=i) for i in range(3)]
    # And more problems than the record holds (20): the API reads the rest from the table.
    lessons += [text_lesson(f"Empty {i}", content="<p> </p>", orderIndex=3 + i) for i in range(22)]
    course = create_course(instructor, category(demo), lessons=lessons)

    started = publish(instructor, course)
    result = publication_until(instructor, course, *FINISHED, timeout=120)

    assert outcome(started["executionArn"]) == ("SUCCEEDED", "ChecklistFailed")
    _, history = execution(started["executionArn"])
    largest = max(len(json.dumps(event, default=str)) for event in history)
    assert largest < 256 * 1024 // 4, f"an event of {largest} characters"  # far below the limit
    assert result["status"] == "CHECKLIST_FAILED" and result["checklistCount"] == 25
    assert len(result["checklist"]) == 25
    unsafe = [f for f in result["checklist"] if f["code"] == "UNSAFE_HTML"]
    assert sorted(f["lessonTitle"] for f in unsafe) == ["Huge 0", "Huge 1", "Huge 2"]
    assert all("more" in f["message"] and len(f["message"]) < 2000 for f in unsafe)
    assert {f["lessonTitle"] for f in result["checklist"] if f["code"] == "TEXT_EMPTY"} == {
        f"Empty {i}" for i in range(22)
    }


def test_a_publish_step_retried_after_its_write_announces_the_same_event(
    trusted: NewUser, demo, local_cloud, published_events
) -> None:
    course = create_course(trusted.client, category(demo))
    # Publish commits, then its answer is lost: Step Functions runs the step again.
    local_cloud.runtime.inject_fault(
        "lms-publish-publish",
        "Lambda.ServiceException",
        "the answer was lost",
        count=1,
        match={"courseId": course},
        after_work=True,
    )
    started = publish(trusted.client, course)
    assert publication_until(trusted.client, course, *FINISHED)["status"] == "PUBLISHED"
    described, history = execution(started["executionArn"])
    assert described["status"] == "SUCCEEDED" and "eventError" not in json.loads(described["output"])
    failures = [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]
    assert failures == ["Lambda.ServiceException"], "the step ran twice"

    pointer = Table().get(keys.published_pointer(course), consistent=True)
    assert pointer is not None
    # The retry read the publication back and announced what the first attempt built.
    (event,) = published_events(courseId=course)
    assert event["eventId"] == CoursePublished.id_for(course, "1")
    published_at = isoformat(datetime.fromisoformat(pointer["publishedAt"]))
    assert event["occurredAt"] == event["publishedAt"] == published_at
    assert CoursePublished.from_detail(event).actor.id == trusted.user_id
