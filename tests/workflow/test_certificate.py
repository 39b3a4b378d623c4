"""Progress and certificate issuance: the API over HTTP, the real ASL on the local engine, the real
task handlers (the PDF rendered by ReportLab, stored in the local S3), the refund's EnrollmentRevoked
event routed by the local EventBridge rule to the revocation workflow.

Every test uses its own freshly published course and fresh students, so tests never share progress.
"""

from __future__ import annotations

import concurrent.futures
import io
import json
import uuid
from typing import Any

import pytest
import requests
from pypdf import PdfReader

from lms import aws, keys
from lms.clock import utcnow
from lms.courses.courses import course_item
from lms.courses.lessons import lesson_item
from lms.entities import Course, CourseStatus, Lesson, LessonType, TransactionStatus
from lms.expressions import Update
from lms.table import Table, serialize_key
from tests.conftest import ApiClient
from tests.console import execution_link, record_panel
from tests.events import subscribe
from tests.publishing import publish_directly
from tests.purchases import buy, execution, pay, states_entered, transaction, wait_for
from tests.workflow.test_purchase import outcome, until
from workflows.operations import Operations, deployed_state_machines


def published_course(demo, *, lessons: int = 2, price_cents: int = 0) -> tuple[Course, list[Lesson]]:
    """A published course (version 1) of the demo instructor, written directly, not by the workflow."""
    course = Course(
        title=f"Certified course {uuid.uuid4().hex[:6]}",
        instructor_id=demo.data.users["instructor"].user_id,
        category_id=demo.data.categories["Python"].category_id,
        price_cents=price_cents,
        status=CourseStatus.PUBLISHED,
        published_at=utcnow(),
    )
    table = Table()
    table.put(course_item(course))
    made = []
    for index in range(lessons):
        lesson = Lesson(
            course_id=course.course_id, title=f"Lesson {index}", type=LessonType.TEXT, order_index=index
        )
        table.put(lesson_item(lesson))
        made.append(lesson)
    publish_directly(course.course_id)
    return course, made


def enroll(student, course: Course) -> str:
    started = buy(student.client, course.course_id)
    if course.price_cents:
        pay(started["transactionId"])
    wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    return str(started["transactionId"])


def complete(client: ApiClient, lesson: Lesson, seconds: int = 60) -> dict[str, Any]:
    response = client.post(
        f"/lessons/{lesson.lesson_id}/progress", json={"isCompleted": True, "timeSpent": seconds}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def execution_arn(name: str) -> str:
    from workflows.certificate import CERTIFICATE
    from workflows.executions import execution_arn as arn

    return arn(CERTIFICATE, name)


def issued(student, course: Course) -> dict[str, Any]:
    """Wait for the student's certificate of the course; returns its listing entry."""

    def listed() -> dict[str, Any] | None:
        items = student.client.get("/certificates").json()["items"]
        return next((c for c in items if c["courseId"] == course.course_id), None)

    return dict(until(listed))


def test_completing_every_lesson_issues_a_certificate_whose_pdf_downloads_and_whose_code_verifies(
    new_user, demo, anonymous: ApiClient, admin: ApiClient
) -> None:
    course, lessons = published_course(demo, lessons=3)
    student = new_user()
    enroll(student, course)

    first = complete(student.client, lessons[0], seconds=90)
    assert first["progressPercentage"] == 33 and first["isCompleted"] is False
    assert first["certificateExecutionName"] is None
    complete(student.client, lessons[1])
    last = complete(student.client, lessons[2])
    assert last["progressPercentage"] == 100 and last["isCompleted"] is True and last["completedAt"]
    name = f"certificate-{student.user_id}-{course.course_id}"
    assert last["certificateExecutionName"] == name

    described, history = execution(execution_arn(name), timeout=30)
    assert described["status"] == "SUCCEEDED" and outcome(described) == "Issued"
    assert states_entered(history) == [
        "VerifyCompletion",
        "IsEligible",
        "RenderCertificate",
        "RecordCertificate",
        "WasRecorded",
        "Notify",
        "Issued",
    ]

    listing = issued(student, course)
    assert listing["status"] == "VALID" and listing["courseTitle"] == course.title
    detail = student.client.get(f"/certificates/{listing['certificateId']}").json()
    code = detail["verificationCode"]
    assert len(code) >= 26 and detail["executionName"] == name and detail["expiresIn"] <= 900
    assert detail["instructorName"] == "Ivan Instructor" and detail["holderName"] == "Test student"

    someone_else = new_user().client.get(f"/certificates/{listing['certificateId']}")
    assert someone_else.status_code == 404, "another student's certificate is not even confirmed to exist"
    assert admin.get(f"/certificates/{listing['certificateId']}").json()["verificationCode"] == code

    pdf = requests.get(detail["downloadUrl"], timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    for printed in ("Test student", course.title, code, "Ivan Instructor"):
        assert printed in text, printed
    head = aws.client("s3").head_object(
        Bucket="lms-media", Key=f"certificates/{listing['certificateId']}.pdf"
    )
    assert head["ServerSideEncryption"] == "AES256" and head["ContentType"] == "application/pdf"

    verified = anonymous.get(f"/certificates/verify/{code}")
    assert verified.status_code == 200, verified.text
    assert verified.json() == {
        "certificateId": listing["certificateId"],
        "holderName": "Test student",
        "courseTitle": course.title,
        "issuedAt": listing["issuedAt"],
        "status": "VALID",
        "valid": True,
        "credentialUrl": f"{anonymous.base_url}/certificates/{listing['certificateId']}/credential",
    }

    enrollments = student.client.get("/enrollments").json()["items"]
    (mine,) = [e for e in enrollments if e["courseId"] == course.course_id]
    assert mine["progressPercentage"] == 100 and mine["isCompleted"] and mine["completedAt"]
    assert mine["status"] == "ACTIVE" and mine["lastAccessed"] > mine["enrolledAt"], (
        "posts touch lastAccessed"
    )
    record = Table().get(keys.enrollment(student.user_id, course.course_id), consistent=True)
    assert record is not None and record["certificateExecutionName"] == name
    assert record["certificateExecutionArn"] == described["executionArn"]
    assert record["certificateId"] == listing["certificateId"]
    progress = student.client.get(f"/courses/{course.course_id}/progress").json()
    assert [(p["isCompleted"], p["timeSpent"]) for p in progress["lessons"]] == [
        (True, 90),
        (True, 60),
        (True, 60),
    ]


def test_completing_again_never_issues_a_second_certificate(new_user, demo) -> None:
    course, lessons = published_course(demo, lessons=1)
    student = new_user()
    enroll(student, course)
    complete(student.client, lessons[0])
    first = issued(student, course)

    again = complete(student.client, lessons[0])
    name = f"certificate-{student.user_id}-{course.course_id}"
    assert again["progressPercentage"] == 100 and again["certificateExecutionName"] == name
    # A second run of the workflow all the same (as a redelivered start would be): no second certificate.
    from workflows.certificate import CERTIFICATE, CertificateInput
    from workflows.executions import state_machine_arn

    payload = CertificateInput(
        user_id=student.user_id,
        course_id=course.course_id,
        enrollment_key=serialize_key(keys.enrollment(student.user_id, course.course_id)),
        verify_url_base="http://example.org/certificates/verify/",
    ).model_dump(by_alias=True)
    sfn = aws.client("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=state_machine_arn(CERTIFICATE),
        name=f"certificate-again-{uuid.uuid4().hex[:8]}",
        input=json.dumps(payload),
    )["executionArn"]
    described, _ = execution(arn, timeout=30)
    assert described["status"] == "SUCCEEDED" and outcome(described) == "AlreadyIssued"
    from workflows import certificate

    assert certificate.start_issuance(
        user_id=student.user_id, course_id=course.course_id, verify_url_base="http://x/"
    ).already_started
    items = [
        c for c in student.client.get("/certificates").json()["items"] if c["courseId"] == course.course_id
    ]
    assert [c["certificateId"] for c in items] == [first["certificateId"]]


def test_progress_from_someone_not_enrolled_is_refused_and_records_nothing(
    new_user, demo, instructor
) -> None:
    course, lessons = published_course(demo, lessons=2)
    outsider = new_user()
    for caller in (outsider.client, instructor):
        response = caller.post(f"/lessons/{lessons[0].lesson_id}/progress", json={"isCompleted": True})
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "NOT_ENROLLED"
        assert caller.get(f"/courses/{course.course_id}/progress").status_code == 403
    assert Table().get(keys.lesson_progress(outsider.user_id, course.course_id, lessons[0].lesson_id)) is None
    assert outsider.client.post("/lessons/no-such-lesson/progress", json={}).status_code == 404
    bad = outsider.client.post(f"/lessons/{lessons[0].lesson_id}/progress", json={"timeSpent": -5})
    assert bad.status_code == 400


def test_concurrent_progress_posts_lose_no_lesson_and_no_second(new_user, demo) -> None:
    course, lessons = published_course(demo, lessons=4)
    student = new_user()
    enroll(student, course)
    posts = [lesson for lesson in lessons for _ in range(3)]  # every lesson, three times, all at once
    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda lesson: complete(student.client, lesson, seconds=10), posts))
    assert max(a["progressPercentage"] for a in answers) == 100
    progress = student.client.get(f"/courses/{course.course_id}/progress").json()
    assert progress["progressPercentage"] == 100 and progress["isCompleted"] is True
    assert [p["timeSpent"] for p in progress["lessons"]] == [30, 30, 30, 30]
    issued(student, course)
    certificates = [
        c for c in student.client.get("/certificates").json()["items"] if c["courseId"] == course.course_id
    ]
    assert len(certificates) == 1


def test_progress_counts_current_lessons_and_never_falls(new_user, demo, instructor: ApiClient) -> None:
    """Progress counts the published version's lessons: a lesson added and published later counts; a
    deleted lesson never takes away an earned percentage (docs/workflows/certificate.md)."""
    course, lessons = published_course(demo, lessons=2)
    student = new_user()
    enroll(student, course)
    assert complete(student.client, lessons[0])["progressPercentage"] == 50

    added = instructor.post("/lessons", json={"courseId": course.course_id, "title": "Bonus", "type": "text"})
    assert added.status_code == 201, added.text
    publish_directly(course.course_id, 2)
    assert complete(student.client, lessons[0])["progressPercentage"] == 50, "1 of 3 now, but 50 was earned"
    assert complete(student.client, lessons[1])["progressPercentage"] == 66

    assert instructor.delete(f"/lessons/{lessons[0].lesson_id}").status_code == 204
    publish_directly(course.course_id, 3)
    after_delete = student.client.post(
        f"/lessons/{lessons[1].lesson_id}/progress", json={"timeSpent": 5}
    ).json()
    assert after_delete["progressPercentage"] == 66, "1 of 2 left, but 66 was earned"

    finished = complete(student.client, Lesson.model_validate(added.json()))
    assert finished["progressPercentage"] == 100 and finished["isCompleted"] is True
    issued(student, course)


def test_a_refund_revokes_the_certificate(
    new_user, demo, admin: ApiClient, anonymous: ApiClient, local_stripe
) -> None:
    course, lessons = published_course(demo, lessons=1, price_cents=2500)
    student = new_user()
    transaction_id = enroll(student, course)
    complete(student.client, lessons[0])
    listing = issued(student, course)
    code = student.client.get(f"/certificates/{listing['certificateId']}").json()["verificationCode"]
    assert anonymous.get(f"/certificates/verify/{code}").json()["valid"] is True

    refunded = admin.post(f"/transactions/{transaction_id}/refund", json={"reason": "Customer asked"})
    assert refunded.status_code == 200, refunded.text

    def revoked() -> list[str] | None:
        # Polled on the student's own list: the public route is throttled per source address.
        listed = student.client.get("/certificates").json()["items"]
        statuses = [c["status"] for c in listed if c["courseId"] == course.course_id]
        return statuses if statuses != ["VALID"] else None

    assert until(revoked, timeout=30) == ["REVOKED"]
    answer = anonymous.get(f"/certificates/verify/{code}").json()
    assert (
        answer["status"] == "REVOKED" and answer["valid"] is False and answer["holderName"] == "Test student"
    )
    from workflows.certificate import CERTIFICATE_REVOCATION
    from workflows.executions import execution_arn as arn

    described, _ = execution(arn(CERTIFICATE_REVOCATION, f"revoke-certificate-{transaction_id}"), timeout=30)
    assert described["status"] == "SUCCEEDED" and outcome(described) == "Revoked"
    detail = student.client.get(f"/certificates/{listing['certificateId']}").json()
    assert detail["status"] == "REVOKED" and "refunded" in detail["revokedReason"]
    stored = Table().get(keys.certificate(listing["certificateId"]), consistent=True)
    assert stored is not None and stored["revokedByExecutionArn"] == described["executionArn"]
    # Ops see the run's transaction and the certificate it revoked, linked both ways.
    name = f"revoke-certificate-{transaction_id}"
    (run,) = Operations(deployed_state_machines()).list_executions(
        business_key=transaction_id, workflow=CERTIFICATE_REVOCATION.name
    )
    assert run.name == name and run.business_key == transaction_id  # its own prefix, not the workflow's name
    panel = record_panel(f"/executions/{name}")
    assert f'"transactionId": "{transaction_id}"' in panel and '"status": "REFUNDED"' in panel
    assert '"status": "REVOKED"' in panel and '"revokedReason": "Revoked: transaction' in panel
    assert execution_link("certificate.revokedByExecutionArn", name) in panel
    assert execution_link("transaction.executionName", f"purchase-{transaction_id}") in panel
    issuance = record_panel(f"/executions/certificate-{student.user_id}-{course.course_id}")
    assert execution_link("certificate.revokedByExecutionName", name) in issuance
    assert student.client.post(f"/lessons/{lessons[0].lesson_id}/progress", json={}).status_code == 403


def test_a_fault_after_rendering_fails_the_run_and_says_so_on_the_enrollment(
    new_user, demo, local_cloud, anonymous: ApiClient
) -> None:
    course, lessons = published_course(demo, lessons=1)
    student = new_user()
    enroll(student, course)
    name = f"certificate-{student.user_id}-{course.course_id}"
    local_cloud.runtime.inject_fault(
        "lms-certificate-record-certificate",
        "KeyError",
        "'certificateId'",
        count=1,
        match={"executionName": name},
    )
    complete(student.client, lessons[0])

    described, history = execution(execution_arn(name), timeout=30)
    assert described["status"] == "FAILED" and described["error"] == "CertificateIssuanceFailed"
    assert states_entered(history)[-3:] == [
        "RecordCertificate",
        "RecordIssuanceFailed",
        "CertificateIssuanceFailed",
    ]
    record = Table().get(keys.enrollment(student.user_id, course.course_id), consistent=True)
    assert record is not None
    assert record["certificateOutcome"] == "IssuanceFailed" and record["certificateFault"] == "KeyError"
    assert record["certificateExecutionArn"] == described["executionArn"]
    assert [
        c for c in student.client.get("/certificates").json()["items"] if c["courseId"] == course.course_id
    ] == []


def test_an_unknown_code_is_a_404_that_does_the_same_work_as_a_hit(
    new_user, demo, anonymous: ApiClient, dynamodb_calls
) -> None:
    course, lessons = published_course(demo, lessons=1)
    student = new_user()
    enroll(student, course)
    complete(student.client, lessons[0])
    listing = issued(student, course)
    code = student.client.get(f"/certificates/{listing['certificateId']}").json()["verificationCode"]

    work = {}
    for case, probe in (("hit", code), ("miss", "A" * len(code)), ("junk", "nope")):
        dynamodb_calls.reset()
        response = anonymous.get(f"/certificates/verify/{probe}")
        assert response.status_code == (200 if case == "hit" else 404), response.text
        work[case] = list(dynamodb_calls.operations)
    assert work["hit"] == work["miss"] == work["junk"] == ["UpdateItem", "GetItem"]  # throttle, lookup
    assert anonymous.get(f"/certificates/verify/{code}x").json()["error"]["code"] == "NOT_FOUND"


def test_the_public_verify_route_is_throttled_per_source(anonymous: ApiClient) -> None:
    from lms.settings import reset_settings

    with pytest.MonkeyPatch.context() as patch:
        # A window length no other test uses, so this test's counter starts at zero.
        patch.setenv("LMS_VERIFY_WINDOW_SECONDS", "7919")
        patch.setenv("LMS_VERIFY_MAX_PER_SOURCE", "3")
        reset_settings()
        try:
            answers = [anonymous.get(f"/certificates/verify/{'B' * 32}") for _ in range(4)]
        finally:
            patch.delenv("LMS_VERIFY_WINDOW_SECONDS")
            patch.delenv("LMS_VERIFY_MAX_PER_SOURCE")
            reset_settings()
    assert [a.status_code for a in answers] == [404, 404, 404, 429]
    assert int(answers[-1].headers["Retry-After"]) > 0


def test_a_revocation_event_lost_after_the_refund_is_published_by_the_admins_retry(
    new_user, demo, admin: ApiClient, monkeypatch, local_stripe
) -> None:
    """EventBridge failing right after the refund committed: the refund stands, the event is owed."""
    from lms import events

    course, lessons = published_course(demo, lessons=1, price_cents=2500)
    student = new_user()
    transaction_id = enroll(student, course)
    complete(student.client, lessons[0])
    issued(student, course)

    def outage(*_: Any) -> None:
        raise events.EventNotPublishedError("EnrollmentRevoked: InternalFailure")

    with monkeypatch.context() as patch:  # the API runs in this process: its PutEvents fails once
        patch.setattr(events, "publish", outage)
        failed = admin.post(f"/transactions/{transaction_id}/refund", json={})
    assert failed.status_code == 500 and "InternalFailure" not in failed.text
    stored = Table().get(keys.transaction(transaction_id), consistent=True)
    assert stored is not None and stored["status"] == "REFUNDED" and stored["revocationEventPending"] is True

    retried = admin.post(f"/transactions/{transaction_id}/refund", json={})
    assert retried.status_code == 200, retried.text

    def revoked() -> bool:
        listed = student.client.get("/certificates").json()["items"]
        return [c["status"] for c in listed if c["courseId"] == course.course_id] == ["REVOKED"]

    until(revoked, timeout=30)
    assert "revocationEventPending" not in (
        Table().get(keys.transaction(transaction_id), consistent=True) or {}
    )
    again = admin.post(f"/transactions/{transaction_id}/refund", json={})
    assert again.status_code == 409, "once the event is out, a refund is a refund: no second one"


def test_a_refund_between_verification_and_recording_wins(
    new_user, demo, admin: ApiClient, anonymous: ApiClient, local_stripe
) -> None:
    """The steps' own rules against the local table: RecordCertificate after a refund issues nothing."""
    from lms import certificates

    course, _ = published_course(demo, lessons=1, price_cents=2500)
    student = new_user()
    transaction_id = enroll(student, course)
    table = Table()
    # Completed without a progress post, so no run starts: this test plays the steps itself.
    table.update(keys.enrollment(student.user_id, course.course_id), Update().set(isCompleted=True))
    verified = certificates.verify_completion(
        table,
        user_id=student.user_id,
        course_id=course.course_id,
        execution_name="by-hand",
        execution_arn="arn:by-hand",
    )
    assert verified.eligible and verified.certificate is not None

    assert admin.post(f"/transactions/{transaction_id}/refund", json={}).status_code == 200
    outcome_ = certificates.record_certificate(table, verified.certificate, pdf_bytes=1000)

    assert outcome_ == certificates.Outcome.ENROLLMENT_NOT_ACTIVE
    assert table.get(keys.user_certificate(student.user_id, course.course_id), consistent=True) is None
    assert table.get(keys.certificate(verified.certificate.certificate_id), consistent=True) is None
    code = verified.certificate.verification_code
    assert anonymous.get(f"/certificates/verify/{code}").status_code == 404


def test_progress_posts_in_parallel_environments_lose_no_update(new_user, demo) -> None:
    """The local API serves one request at a time (one Lambda environment); in AWS many environments
    post at once, which these threads play against the same table."""
    from lms import learning

    course, lessons = published_course(demo, lessons=6)
    student = new_user()
    enroll(student, course)
    posts = [lesson for lesson in lessons for _ in range(2)]

    def post(lesson: Lesson) -> int:
        update = learning.record_progress(
            Table(), user_id=student.user_id, lesson=lesson, is_completed=True, time_spent=7
        )
        return update.enrollment.progress_percentage

    with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(post, posts))
    enrollment = Table().get(keys.enrollment(student.user_id, course.course_id), consistent=True)
    assert enrollment is not None
    assert set(enrollment["completedLessons"]) == {lesson.lesson_id for lesson in lessons}
    assert enrollment["progressPercentage"] == 100 and enrollment["isCompleted"] is True
    times = [
        Table().get(
            keys.lesson_progress(student.user_id, course.course_id, lesson.lesson_id), consistent=True
        )
        for lesson in lessons
    ]
    assert [t and t["timeSpentSeconds"] for t in times] == [14] * 6


def test_issuing_and_revoking_are_announced_as_typed_events(
    new_user, demo, admin: ApiClient, local_stripe
) -> None:
    from lms.events import CertificateIssued, CertificateRevoked, LessonProgressRecorded

    progressed, issuance, revocation = (
        subscribe(LessonProgressRecorded),
        subscribe(CertificateIssued),
        subscribe(CertificateRevoked),
    )
    course, lessons = published_course(demo, lessons=1, price_cents=2500)
    student = new_user()
    # Bought like enroll() does, waiting for the PaymentIntent however slow a busy machine makes it.
    transaction_id = str(buy(student.client, course.course_id)["transactionId"])
    until(lambda: transaction(transaction_id).payment_intent_id, timeout=30)
    pay(transaction_id)
    wait_for(transaction_id, TransactionStatus.COMPLETED)
    complete(student.client, lessons[0], seconds=42)
    certificate_id = issued(student, course)["certificateId"]

    (progress,) = progressed(userId=student.user_id)
    assert (progress["verb"], progress["object"]["id"], progress["result"]) == (
        "progressed",
        lessons[0].lesson_id,
        "completed",
    )
    assert progress["courseId"] == course.course_id and progress["timeSpentSeconds"] == 42
    assert progress["progressPercentage"] == 100
    run, _ = execution(execution_arn(f"certificate-{student.user_id}-{course.course_id}"))
    assert "eventError" not in json.loads(run["output"]), run["output"]
    (announced,) = issuance(certificateId=certificate_id)
    assert CertificateIssued.from_detail(announced).actor.id == "certificate"
    assert announced["eventId"] == CertificateIssued.id_for(certificate_id)  # a re-run repeats the id

    refunded = admin.post(f"/transactions/{transaction_id}/refund", json={"reason": "Customer asked"})
    assert refunded.status_code == 200, refunded.text

    (withdrawn,) = revocation(timeout=30, certificateId=certificate_id)
    assert (withdrawn["verb"], withdrawn["object"], withdrawn["result"]) == (
        "revoked",
        {"type": "certificate", "id": certificate_id},
        "revoked",
    )
    assert withdrawn["transactionId"] == transaction_id and withdrawn["courseId"] == course.course_id
