"""Reminder mail: a HumanTaskReminder on the real bus starts the real workflow, which mails the
people who can decide the task through the local SES, once each, whatever is delivered twice."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from botocore.exceptions import ClientError

from infra.local import mailbox
from lms import aws, events, human_tasks, reminder_mail
from lms.table import Table
from tests.conftest import ApiClient, NewUser
from tests.publishing import create_course
from tests.purchases import execution, states_entered
from workflows import executions
from workflows.reminder_mail import REMINDER_MAIL

FUNCTION = "lms-reminder-mail-mail-deciders"


def pending_task(role: str, course_id: str | None = None) -> human_tasks.HumanTask:
    """A task waiting for ``role`` (as a workflow's waiting state records it)."""
    task = human_tasks.new_task(
        kind=f"mail-test-{uuid.uuid4().hex[:6]}",
        task_id=uuid.uuid4().hex[:12],
        role=role,
        course_id=course_id,
        execution_name="waiting-run",
        details={"courseTitle": "Sorting algorithms"},
    )
    return human_tasks.open_task(Table(), task, token="token-of-the-waiting-run")


def remind(task: human_tasks.HumanTask, times: int = 1) -> str:
    """Publish the task's reminder (``times`` deliveries of the one event); the run's ARN."""
    reminder = human_tasks.reminder(task)
    for _ in range(times):
        events.publish(reminder)
    return executions.execution_arn(REMINDER_MAIL, REMINDER_MAIL.execution_name(reminder.event_id))


def finished(arn: str, timeout: float = 60) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    deadline = time.monotonic() + timeout
    while True:  # the rule's starter starts it shortly after the event
        try:
            return execution(arn, timeout=timeout)
        except ClientError as error:
            if error.response["Error"]["Code"] != "ExecutionDoesNotExist" or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def mails(local_cloud: Any, address: str, kind: str) -> list[mailbox.SentMail]:
    return [m for m in mailbox.fetch(local_cloud.endpoint) if address in m.to and kind in m.subject]


def output(described: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(described["output"])["result"])


def test_an_admin_task_reminder_mails_every_active_admin_once_even_delivered_twice(
    local_cloud: Any, new_user: Any, admin: ApiClient
) -> None:
    fresh_admin: NewUser = new_user("admin")
    gone_admin: NewUser = new_user("admin")
    assert admin.patch(f"/admin/users/{gone_admin.user_id}", json={"isActive": False}).status_code == 200
    task = pending_task("admin")

    described, history = finished(remind(task, times=2))

    assert described["status"] == "SUCCEEDED"
    assert states_entered(history)[-1] == "Mailed"
    result = output(described)
    assert result["outcome"] == "Mailed" and fresh_admin.user_id in result["recipients"]
    assert gone_admin.user_id not in result["recipients"]
    time.sleep(2)  # room for a second mail, were one coming
    [received] = mails(local_cloud, fresh_admin.email, task.kind)
    assert received.subject == f"Waiting for your decision: {task.kind} (Sorting algorithms)"
    assert task.task_id in received.text
    assert received.list_unsubscribe_post == "List-Unsubscribe=One-Click"
    assert len(mails(local_cloud, "admin@example.com", task.kind)) == 1  # the demo admin too
    assert mails(local_cloud, gone_admin.email, task.kind) == []


def test_a_course_task_reminder_mails_the_course_owner_and_not_the_admins(
    local_cloud: Any, new_user: Any, demo: Any
) -> None:
    owner: NewUser = new_user("instructor")
    bystander: NewUser = new_user("admin")
    course_id = create_course(owner.client, next(iter(demo.data.categories.values())).category_id, lessons=[])
    task = pending_task("instructor", course_id=course_id)

    described, _ = finished(remind(task))

    assert described["status"] == "SUCCEEDED" and output(described)["recipients"] == [owner.user_id]
    assert len(mails(local_cloud, owner.email, task.kind)) == 1
    assert mails(local_cloud, bystander.email, task.kind) == []


def test_a_task_decided_before_its_reminder_is_mailed_to_nobody(local_cloud: Any, new_user: Any) -> None:
    fresh_admin: NewUser = new_user("admin")
    task = pending_task("admin")
    assert human_tasks.expire(Table(), task.kind, task.task_id, reason="decided elsewhere")

    described, history = finished(remind(task))

    assert described["status"] == "SUCCEEDED" and states_entered(history)[-1] == "NothingToMail"
    assert output(described)["outcome"] == "TaskClosed"
    assert mails(local_cloud, fresh_admin.email, task.kind) == []


def test_an_unsubscribed_admin_is_skipped(local_cloud: Any, new_user: Any) -> None:
    fresh_admin: NewUser = new_user("admin")
    task = pending_task("admin")
    reminder_mail.unsubscribe_from_reminders(Table(), fresh_admin.user_id, task.kind)

    described, _ = finished(remind(task))

    assert fresh_admin.user_id in output(described)["skipped"]
    assert mails(local_cloud, fresh_admin.email, task.kind) == []


def test_a_fault_after_mailing_is_retried_without_mailing_twice(local_cloud: Any, new_user: Any) -> None:
    fresh_admin: NewUser = new_user("admin")
    task = pending_task("admin")
    name = REMINDER_MAIL.execution_name(human_tasks.reminder(task).event_id)
    # The first attempt mails everyone, then SES throttles (as a burst of reminders would meet).
    local_cloud.runtime.inject_fault(
        FUNCTION, "MailThrottledError", "throttled", count=1, match={"executionName": name}, after_work=True
    )

    described, history = finished(remind(task))

    assert described["status"] == "SUCCEEDED"
    assert states_entered(history).count("MailDeciders") == 1
    assert len(mails(local_cloud, fresh_admin.email, task.kind)) == 1


def test_ses_refusing_fails_the_run_and_a_rerun_mails_each_decider_once(
    local_cloud: Any, new_user: Any
) -> None:
    fresh_admin: NewUser = new_user("admin")
    task = pending_task("admin")
    name = REMINDER_MAIL.execution_name(human_tasks.reminder(task).event_id)
    local_cloud.runtime.inject_fault(
        FUNCTION, "MailRejectedError", "SES refused the message", count=1, match={"executionName": name}
    )

    described, history = finished(remind(task))

    assert described["status"] == "FAILED" and described["error"] == "ReminderMailFailed"
    assert states_entered(history)[-1] == "ReminderMailFailed"
    assert mails(local_cloud, fresh_admin.email, task.kind) == []
    # The operator fixes SES and re-runs it (ops re-runs with the same input).
    rerun = aws.client("stepfunctions").start_execution(
        stateMachineArn=executions.state_machine_arn(REMINDER_MAIL),
        name=f"{name}-rerun-1"[:80],
        input=described["input"],
    )
    rerun_described, _ = finished(rerun["executionArn"])
    assert rerun_described["status"] == "SUCCEEDED"
    assert len(mails(local_cloud, fresh_admin.email, task.kind)) == 1
    again = aws.client("stepfunctions").start_execution(
        stateMachineArn=executions.state_machine_arn(REMINDER_MAIL),
        name=f"{name}-rerun-2"[:80],
        input=described["input"],
    )
    again_described, _ = finished(again["executionArn"])
    assert output(again_described)["outcome"] == "NothingSent"
    assert len(mails(local_cloud, fresh_admin.email, task.kind)) == 1
