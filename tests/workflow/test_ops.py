"""Operations over real executions: purchases and throwaway workflows on the local engine.

What ops must answer in seconds: from a business id to its execution and back, why it ended as it
did (the failing state, its error, the declined payment's reason), and a safe re-run of a failed one.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from lms import keys
from lms.entities import TransactionStatus
from lms.errors import ConflictError, NotFoundError
from lms.redaction import REDACTED
from lms.table import Table
from tests.console import execution_link, record_panel
from tests.publishing import create_course, decide, publication_until, publish, publish_with_approval
from tests.purchases import DECLINED_CARD, buy, execution, pay, transaction, wait_for
from tests.throwaway import DAWDLE, GREET
from tests.workflow.test_certificate import complete, enroll, issued, published_course
from workflows import executions
from workflows import operations as ops
from workflows.certificate import CERTIFICATE

PAID = "Python for Beginners"


@pytest.fixture(scope="module")
def operations(local_cloud: Any) -> ops.Operations:
    for workflow in (GREET, DAWDLE):
        if workflow.name not in local_cloud.state_machine_arns:
            local_cloud.deploy(workflow)
    return ops.Operations(ops.deployed_state_machines())


def course_id(demo: Any) -> str:
    return str(demo.data.courses[PAID].course_id)


def enrollment_count(course: str) -> int:
    counters = Table().get(keys.course_counters(course), consistent=True) or {}
    return int(counters.get("enrollmentCount", 0))


def test_a_paid_purchase_links_its_transaction_and_execution_both_ways(operations, new_user, demo) -> None:
    student = new_user()
    started = buy(student.client, course_id(demo))
    assert pay(started["transactionId"]) == "succeeded"
    completed = wait_for(started["transactionId"], TransactionStatus.COMPLETED)
    execution(started["executionArn"])

    # business record -> execution
    assert completed.execution_name == started["executionName"]
    assert completed.execution_arn == started["executionArn"]
    detail = operations.describe(completed.execution_name)
    # execution -> business record
    assert detail.workflow == "purchase" and detail.business_key == started["transactionId"]
    assert detail.status == ops.ExecutionStatus.SUCCEEDED and detail.failure is None
    # ...and the record it drove, with the link back, as the API, the CLI and the console show it
    assert detail.record is not None and detail.record.kind == "transaction"
    assert detail.record.key == started["transactionId"] and detail.record.data["status"] == "COMPLETED"
    assert ops.RecordLink(field="executionName", execution=completed.execution_name) in detail.record.links
    assert detail.path[0] == "ValidateOrder" and detail.path[-1] == "Enrolled"
    assert "AwaitPayment" in detail.path and "DeclinePayment" not in detail.path
    timed = [s for s in detail.steps if s.type != "Succeed"]
    assert all(s.duration_ms is not None and s.duration_ms >= 0 for s in timed)
    assert set(detail.definition["States"]) >= set(detail.path)
    # The client secret and the task token passed through the history; neither is shown.
    shown = detail.model_dump_json()
    assert started["clientSecret"] not in shown and "_secret_" not in shown
    assert REDACTED in shown


def test_a_declined_purchase_shows_why_it_was_declined(operations, new_user, demo) -> None:
    student = new_user()
    started = buy(student.client, course_id(demo))
    pay(started["transactionId"], DECLINED_CARD)
    failed = wait_for(started["transactionId"], TransactionStatus.FAILED)
    execution(started["executionArn"])

    detail = operations.describe(started["executionName"])

    assert detail.status == ops.ExecutionStatus.SUCCEEDED  # a business outcome, not a fault
    assert detail.output["result"]["outcome"] == "PaymentDeclined"
    assert failed.reason and detail.output["result"]["reason"] == failed.reason
    awaited = next(s for s in detail.steps if s.name == "AwaitPayment")
    assert awaited.status == "CAUGHT" and awaited.error == "PaymentFailed"
    assert "DeclinePayment" in detail.path


def test_a_task_that_outlives_its_timeout_is_the_marked_failing_state(operations) -> None:
    started = executions.start(DAWDLE, uuid.uuid4().hex, {"seconds": 5})
    execution(started.arn, timeout=30)

    detail = operations.describe(started.name)

    assert detail.status == ops.ExecutionStatus.FAILED
    assert detail.failure is not None and detail.failure.state == "Dawdle"
    assert detail.failure.error == "Sandbox.Timedout"
    assert [s.status for s in detail.steps if s.name == "Dawdle"] == ["FAILED"]


def test_list_filters_by_workflow_status_and_business_key_across_workflows(operations) -> None:
    key = uuid.uuid4().hex
    greeted = executions.start(GREET, key, {"name": "Ada"})
    other = executions.start(GREET, uuid.uuid4().hex, {"name": "Bob"})
    execution(greeted.arn)
    execution(other.arn)

    by_key = operations.list_executions(business_key=key[:12].upper())  # a search, case-insensitive
    assert [s.name for s in by_key] == [greeted.name]
    assert by_key[0].workflow == GREET.name and by_key[0].business_key == key

    greets = operations.list_executions(workflow=GREET.name, status=ops.ExecutionStatus.SUCCEEDED, limit=1000)
    assert {greeted.name, other.name} <= {s.name for s in greets}
    assert all(s.workflow == GREET.name and s.status == "SUCCEEDED" for s in greets)
    assert not operations.list_executions(
        workflow=GREET.name, status=ops.ExecutionStatus.FAILED, business_key=key
    )

    with pytest.raises(NotFoundError):
        operations.list_executions(workflow="no-such-workflow")
    with pytest.raises(NotFoundError):
        operations.describe(f"{GREET.name}-{uuid.uuid4().hex}")
    with pytest.raises(ConflictError):
        operations.redrive(greeted.name, rerun_if_unsupported=True)  # it succeeded: nothing to redrive


def test_a_failed_purchase_is_rerun_with_its_input_and_charges_and_enrolls_once(
    operations, new_user, demo, local_cloud, local_stripe
) -> None:
    from lms.purchases import transaction_id_for

    student = new_user()
    course = course_id(demo)
    transaction_id = transaction_id_for(student.user_id, course, "rerun")
    # Given a purchase that failed on a fault before any money moved (Stripe's SDK blew up)...
    local_cloud.runtime.inject_fault(
        "lms-purchase-create-payment-intent",
        "RuntimeError",
        "the SDK blew up",
        count=1,
        match={"transactionId": transaction_id},
    )
    started = buy(student.client, course, **{"Idempotency-Key": "rerun"})
    described, _ = execution(started["executionArn"])
    assert described["status"] == "FAILED"
    first = operations.describe(started["executionName"])
    assert first.failure is not None and first.failure.state == "PurchaseFailed"
    broken = next(s for s in first.steps if s.name == "CreatePaymentIntent")
    assert broken.status == "CAUGHT" and broken.error == "RuntimeError"
    assert wait_for(transaction_id, TransactionStatus.FAILED).payment_intent_id is None
    enrolled_before = enrollment_count(course)

    # ...the local engine cannot redrive, says so and names the re-run it offers...
    with pytest.raises(ops.RedriveUnsupportedError) as refused:
        operations.redrive(started["executionName"])
    rerun_name = f"{started['executionName']}-rerun-1"
    assert refused.value.details == {"rerunName": rerun_name}

    # ...and the re-run, with the original input, completes the purchase.
    rerun = operations.redrive(started["executionName"], rerun_if_unsupported=True)
    assert (rerun.mode, rerun.name) == ("rerun", rerun_name)
    reopened = wait_for(transaction_id, TransactionStatus.PENDING)
    assert reopened.execution_name == rerun_name and reopened.execution_arn == rerun.execution_arn
    waiting = operations.describe(rerun_name)
    assert waiting.input == json.loads(described["input"])
    assert waiting.rerun_of == started["executionName"] and waiting.business_key == transaction_id
    assert operations.describe(started["executionName"]).reruns == [rerun_name]
    assert wait_for_payment_intent(transaction_id)
    assert pay(transaction_id) == "succeeded"
    wait_for(transaction_id, TransactionStatus.COMPLETED)
    assert execution(rerun.execution_arn)[0]["status"] == "SUCCEEDED"

    assert enrollment_count(course) == enrolled_before + 1

    # The transaction is COMPLETED: another re-run is refused with the reason, and none starts.
    with pytest.raises(
        ops.RedriveRefusedError, match="transaction .* needs no re-run: its status is COMPLETED"
    ):
        operations.redrive(started["executionName"], rerun_if_unsupported=True)
    with pytest.raises(ops.RedriveRefusedError):
        operations.rerun(started["executionName"])
    shown = operations.describe(started["executionName"])
    assert shown.reruns == [rerun_name] and "COMPLETED" in (shown.redrive_refusal or "")
    import stripe

    client = stripe.StripeClient(local_stripe.secret_key, base_addresses={"api": local_stripe.url})
    intents = client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter()
    charged = [
        i
        for i in intents
        if (i.metadata.to_dict() or {}).get("transactionId") == transaction_id and i.status == "succeeded"
    ]
    assert len(charged) == 1


def wait_for_payment_intent(transaction_id: str, timeout: float = 20) -> str:
    import time

    deadline = time.monotonic() + timeout
    while not (intent := transaction(transaction_id).payment_intent_id):
        assert time.monotonic() < deadline, "no PaymentIntent for the re-run"
        time.sleep(0.1)
    return intent


def test_a_failed_publish_run_is_not_rerun_once_a_newer_run_published_the_course(
    operations, new_user, admin, demo, local_cloud
) -> None:
    instructor = new_user("instructor")
    python = str(demo.data.categories["Python"].category_id)
    publish_with_approval(instructor.client, admin, create_course(instructor.client, python))  # trusted now
    course = create_course(instructor.client, python)
    # Given a run that failed on a fault after its checklist passed...
    local_cloud.runtime.inject_fault(
        "lms-publish-publish", "TableOnFireError", "disk on fire", count=1, match={"courseId": course}
    )
    started = publish(instructor.client, course)
    assert publication_until(instructor.client, course, "FAILED")["status"] == "FAILED"
    assert execution(started["executionArn"])[0]["status"] == "FAILED"
    name = started["executionName"]
    failed = operations.describe(name)
    assert failed.record is not None and failed.record.kind == "publication"
    assert failed.record.data["status"] == "FAILED" and failed.redrive_refusal is None  # it could be re-run

    # ...once the next request has published the course, that run is refused a re-run, with the reason.
    publish(instructor.client, course)
    assert publication_until(instructor.client, course, "PUBLISHED", "FAILED")["status"] == "PUBLISHED"
    with pytest.raises(ops.RedriveRefusedError) as refused:
        operations.redrive(name, rerun_if_unsupported=True)
    assert refused.value.message == (
        f"The publication {course}-v1 needs no re-run: version 2 of the course has been requested since."
    )
    assert operations.describe(name).reruns == []


def test_the_console_shows_a_publish_runs_publication_and_links_it_back(new_user, admin, demo) -> None:
    instructor = new_user("instructor")
    course = create_course(instructor.client, str(demo.data.categories["Python"].category_id))
    started = publish(instructor.client, course)
    waiting = publication_until(instructor.client, course, "AWAITING_APPROVAL")
    assert decide(admin, waiting["approvalId"], "approve").status_code == 200
    publication_until(instructor.client, course, "PUBLISHED")
    name = started["executionName"]
    assert name == f"publish-{course}-v1"
    execution(started["executionArn"])

    # execution -> business record
    panel = record_panel(f"/executions/{name}")
    assert f"Business record: publication {course}-v1" in panel
    assert '"status": "PUBLISHED"' in panel and f'"approvalId": "{waiting["approvalId"]}"' in panel
    # business record -> execution, also from a search by the course id alone
    for shown in (panel, record_panel("", key=course)):
        assert execution_link("executionName", name) in shown
        assert execution_link("executionArn", name) in shown


def test_the_console_shows_a_certificate_runs_enrollment_and_certificate(new_user, demo) -> None:
    course, lessons = published_course(demo, lessons=1)
    student = new_user()
    enroll(student, course)
    complete(student.client, lessons[0])
    listing = issued(student, course)
    name = f"certificate-{student.user_id}-{course.course_id}"
    execution(executions.execution_arn(CERTIFICATE, name))

    panel = record_panel(f"/executions/{name}")
    assert f"Business record: enrollment and certificate {student.user_id}-{course.course_id}" in panel
    assert execution_link("enrollment.certificateExecutionName", name) in panel
    assert execution_link("enrollment.certificateExecutionArn", name) in panel
    assert f'"certificateId": "{listing["certificateId"]}"' in panel  # on the enrollment and the certificate
    assert '"status": "VALID"' in panel and f'"courseTitle": "{course.title}"' in panel
